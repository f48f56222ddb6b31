"""The embedded default: a ledger in one local JSON-lines file, appended under an exclusive ``flock``.

Beside ``ledger.jsonl`` sits ``ledger.jsonl.head`` — the last record's sequence number, hash and the file's size
after it, signed when the ledger has a signer — because a hash chain alone cannot tell a ledger whose last
records were cut off from one that simply ended there.

A crash (``kill -9``, a full disk) can leave a cut final line, or — between writing a record and moving the
head — a complete record after the signed head. Appends refuse both; :meth:`FileStore.repair` moves them into
a ``ledger.jsonl.repair-*`` file beside the ledger and appends a ``repair`` record naming that file, its size
and sha256, so the recovery is itself on the record.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from governance.errors import CheckFailed, Incomplete, InputError, reading
from governance.hashing import sha256_bytes
from governance.jsonio import dumps, loads
from governance.ledger._record import encode, now, record_hash, sign_head, signed_head
from governance.signing import Signer
from governance.storage import write_bytes_atomic

_TAIL_BLOCK = 64 << 10
_MAX_RECORD_BYTES = 64 << 20
REPAIR = "repair"


class Entry:
    """One stored record as read back: where it is (for messages), its raw bytes, and whether it ended cleanly."""

    __slots__ = ("complete", "position", "raw")

    def __init__(self, position: str, raw: bytes, complete: bool = True) -> None:
        self.position, self.raw, self.complete = position, raw, complete


def parse_record(raw: bytes) -> dict | None:
    """A stored record, or ``None`` when the bytes are not one (malformed, duplicate keys, too deep)."""
    try:
        record = loads(raw, what="ledger record", max_depth=32)
    except InputError:
        return None
    return record if isinstance(record, dict) else None


def _line_start(fd: int, end: int) -> int:
    """Offset just after the last newline before ``end`` (0 if none): a backwards scan, nothing copied."""
    pos = end
    while pos > 0:
        start = max(0, pos - _TAIL_BLOCK)
        found = os.pread(fd, pos - start, start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        pos = start
    return 0


def _head_verifier(signer: Signer):
    from governance.signing import PublicKeyVerifier

    return PublicKeyVerifier(signer.public_key_pem())


class FileStore:
    has_head = True

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.location = str(self.path)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK, 0o644)
        except PermissionError:
            raise Incomplete("PERMISSION_DENIED", f"{self.path}: cannot open the ledger for writing") from None
        except IsADirectoryError:
            raise InputError("NOT_A_FILE", f"{self.path}: is a directory, expected a ledger file") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError("NOT_A_REGULAR_FILE", f"{self.path}: is not a regular file")
            os.set_blocking(fd, True)
            # One writer at a time, across processes: the lock is on the ledger file itself, so every tool
            # that appends through this class serialises on the same inode.
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def _tail(self, fd: int, size: int) -> tuple[dict, int]:
        """The last complete record and where it starts; refuses a cut final line or a record that is not one."""
        if os.pread(fd, 1, size - 1) != b"\n":
            raise CheckFailed("LEDGER_INCOMPLETE", f"{self.path}: the last record is incomplete (cut off by a crash "
                                                   "or a full disk); nothing appended — run `governance ledger "
                                                   "repair` to move it aside")
        start = _line_start(fd, size - 1)
        if size - start > _MAX_RECORD_BYTES:
            raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: the last record is over {_MAX_RECORD_BYTES:,} bytes")
        record = parse_record(os.pread(fd, size - start, start))
        if record is None or record.get("hash") != record_hash(record) or not isinstance(record.get("seq"), int):
            raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: the last record does not match its hash; "
                                                 "nothing appended — run `governance ledger verify`")
        return record, start

    def _checked_head(self, signer: Signer | None) -> dict | None:
        """The head file, its signature checked against the appending key; refuses what that key cannot vouch for."""
        head = self.head()
        if head is None:
            return None
        if head.get("malformed") or not isinstance(head.get("seq"), int) or not isinstance(head.get("hash"), str):
            raise CheckFailed("LEDGER_TAMPERED", f"{self.head_path}: the ledger's head is not readable; nothing "
                                                 "appended")
        if head.get("envelope") and signer is None:
            # An unsigned head would replace the signed one, and a keyed verify could no longer vouch for it.
            raise InputError("LEDGER_SIGNED", f"{self.path}: this ledger's head is signed; appending to it needs "
                                              "the ledger's signing key (nothing appended)")
        if signer is not None and head.get("envelope"):
            from governance.evidence import open_statement

            envelope = head["envelope"] if isinstance(head["envelope"], dict) else {}
            signed_by = {entry.get("keyid") for entry in envelope.get("signatures") or [] if isinstance(entry, dict)}
            if signed_by and signer.key_hint not in signed_by:
                # A key hint only names a key (it proves nothing): a mismatch is a wrong key, not yet a tamper.
                raise InputError("LEDGER_KEY_MISMATCH", f"{self.path}: its head is signed by another key than the "
                                                        "one appending; give the ledger's own signing key "
                                                        "(nothing appended)")
            try:
                statement = open_statement(head["envelope"], _head_verifier(signer), "the ledger's head")
            except (CheckFailed, InputError) as err:
                raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: {err.message}; nothing appended") from None
            if signed_head(statement) != (head["seq"], head["hash"], head.get("size")):
                raise CheckFailed("LEDGER_TAMPERED", f"{self.head_path}: edited after it was signed; nothing "
                                                     "appended")
        return head

    def check_appendable(self, signer: Signer | None) -> None:
        """Refuse now what :meth:`append` would refuse for this signer, before the caller does any work."""
        if self.head_path.is_file():
            self._checked_head(signer)

    def _last(self, fd: int, signer: Signer | None) -> dict | None:
        """The record to chain onto, after checking the tail against the head (see :meth:`append`)."""
        size = os.fstat(fd).st_size
        head = self._checked_head(signer)
        if signer is not None and size > 0 and (head is None or not head.get("envelope")):
            raise CheckFailed("LEDGER_UNSIGNED_RECORDS", f"{self.path}: its records are not signed; a signed append "
                                                         "would vouch for records nobody signed (nothing appended)")
        if head is not None and head.get("size") == size and size > 0:
            # The head (signed, when there is a key) says the file ends exactly here: nothing to re-read.
            return {"seq": head["seq"], "hash": head["hash"]}
        if size == 0:
            if head is not None and head["seq"] > 0:
                raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: is empty but its head is record {head['seq']}: "
                                                     "records were removed; nothing appended")
            return None
        last, _ = self._tail(fd, size)
        if head is None:
            return last
        if head["seq"] > last["seq"]:
            # Appending would renumber over the missing records and hide that they were removed.
            raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: ends before its head (record {head['seq']}): "
                                                 "records were removed; nothing appended")
        if head["seq"] == last["seq"] and head["hash"] != last["hash"]:
            raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: record {last['seq']} is not the one its head "
                                                 "recorded; nothing appended")
        if signer is not None and head["seq"] < last["seq"]:
            raise CheckFailed("LEDGER_UNSIGNED_RECORDS", f"{self.path}: record(s) {head['seq'] + 1}–{last['seq']} "
                                                         "follow the signed head; signing over them would vouch for "
                                                         "records nobody signed (nothing appended; see `governance "
                                                         "ledger repair`)")
        return last

    def _write(self, fd: int, records: list[dict], signer: Signer | None) -> None:
        data = b"".join(encode(r) for r in records)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
        last = records[-1]
        size = os.fstat(fd).st_size
        head = {"seq": last["seq"], "hash": last["hash"], "size": size, "time": now()}
        if signer is not None:
            head["envelope"] = sign_head(last["seq"], last["hash"], signer, size=size)
        write_bytes_atomic(self.head_path, dumps(head))

    def append(self, build: Callable[[dict | None], list[dict]], signer: Signer | None) -> list[dict]:
        """Append what ``build(last record)`` returns, in one write, then move the head — all under the lock.

        Before writing, the tail is checked against the head: a cut final line, records removed, a head that
        does not verify with the appending key, or (with a key) records after the signed head all refuse the
        append. When the head records the file's size and it still matches, the tail is not re-read at all,
        so an append costs the same however large the previous record is.
        """
        with self._locked() as fd:
            records = build(self._last(fd, signer))
            self._write(fd, records, signer)
        return records

    def repair(self, build: Callable[[dict | None, dict], list[dict]], signer: Signer | None) -> dict | None:
        """Move a cut final line (and, with a key, unsigned records after the signed head) into a side file,
        then append a record that says so. ``None`` when there is nothing to repair.

        Anything else — an edited record, a head that does not verify — is tampering, not a crash: refused.
        """
        with self._locked() as fd:
            size = os.fstat(fd).st_size
            head = self._checked_head(signer)
            keep = _line_start(fd, size) if size and os.pread(fd, 1, size - 1) != b"\n" else size
            fragment = size - keep
            moved_records = 0
            if signer is not None and head is not None and head.get("envelope"):
                keep, moved_records = self._signed_end(fd, keep, head)
            elif signer is not None and keep:
                raise CheckFailed("LEDGER_UNSIGNED_RECORDS", f"{self.path}: its head is not signed; a signed repair "
                                                             "would vouch for records nobody signed (nothing changed)")
            if keep == size:
                return None
            last = self._tail(fd, keep)[0] if keep else None
            if head is not None and (last is None or head["seq"] > last["seq"]):
                raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: ends before its head: not a crash; run "
                                                     "`governance ledger verify` (nothing changed)")
            moved = os.pread(fd, size - keep, keep)
            side = self._side_file(moved)
            os.ftruncate(fd, keep)
            os.fsync(fd)
            summary = {"moved_to": side.name, "moved_bytes": len(moved), "moved_sha256": sha256_bytes(moved),
                       "records_moved": moved_records, "cut_line_bytes": fragment}
            records = build(last, summary)
            self._write(fd, records, signer)
        return {**summary, "record": records[0]}

    def _signed_end(self, fd: int, end: int, head: dict) -> tuple[int, int]:
        """Where the signed head's record ends, walking back over the complete records after it."""
        moved = 0
        while end > 0:
            start = _line_start(fd, end - 1)
            record = parse_record(os.pread(fd, end - start, start))
            if record is None or record.get("hash") != record_hash(record) or not isinstance(record.get("seq"), int):
                raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: a damaged record before the end: not a crash; "
                                                     "run `governance ledger verify` (nothing changed)")
            if record["seq"] == head["seq"] and record["hash"] == head["hash"]:
                if head.get("size") not in (None, end):
                    break  # the signed head said the file ended elsewhere: not what a crash leaves
                return end, moved
            if record["seq"] <= head["seq"]:
                break
            end, moved = start, moved + 1
        raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: the signed head's record is not in the ledger: not a "
                                             "crash; run `governance ledger verify` (nothing changed)")

    def _side_file(self, moved: bytes) -> Path:
        stamp = now().replace(":", "").replace("-", "").replace(".", "")
        for attempt in range(100):
            side = self.path.with_name(f"{self.path.name}.repair-{stamp}{f'-{attempt}' if attempt else ''}")
            try:
                fd = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as handle:
                handle.write(moved)
                handle.flush()
                os.fsync(handle.fileno())
            return side
        raise Incomplete("IO_ERROR", f"{self.path}: could not create a repair file beside it")

    def entries(self) -> Iterator[Entry]:
        with reading(self.path, "ledger file"), open(self.path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                yield Entry(f"line {number}", line.rstrip(b"\n"), line.endswith(b"\n"))

    def head(self) -> dict | None:
        try:
            data = self.head_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            head = loads(data, what="ledger head", max_depth=16)
        except InputError:
            return {"malformed": True}
        return head if isinstance(head, dict) else {"malformed": True}

    def storage_problems(self) -> list[tuple[str, str, str]]:
        return []
