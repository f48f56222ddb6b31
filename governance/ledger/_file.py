"""The embedded default: a ledger in one local JSON-lines file, appended under an exclusive ``flock``.

Beside ``ledger.jsonl`` sits ``ledger.jsonl.head`` — the last record's sequence number and hash, signed when the
ledger has a signer — because a hash chain alone cannot tell a ledger whose last records were cut off from
one that simply ended there.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from governance.errors import CheckFailed, Incomplete, InputError, reading
from governance.jsonio import dumps
from governance.ledger._record import encode, now, record_hash
from governance.storage import write_bytes_atomic

_TAIL_BLOCK = 8192


class Entry:
    """One stored record as read back: where it is (for messages), its raw bytes, and whether it ended cleanly."""

    __slots__ = ("complete", "position", "raw")

    def __init__(self, position: str, raw: bytes, complete: bool = True) -> None:
        self.position, self.raw, self.complete = position, raw, complete


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
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except PermissionError:
            raise Incomplete("PERMISSION_DENIED", f"{self.path}: cannot open the ledger for writing") from None
        except IsADirectoryError:
            raise InputError("NOT_A_FILE", f"{self.path}: is a directory, expected a ledger file") from None
        try:
            # One writer at a time, across processes: the lock is on the ledger file itself, so every tool
            # that appends through this class serialises on the same inode.
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def _last(self, fd: int) -> dict | None:
        size = os.fstat(fd).st_size
        if size == 0:
            return None
        tail, end = b"", size
        while end > 0:
            start = max(0, end - _TAIL_BLOCK)
            tail = os.pread(fd, end - start, start) + tail
            end = start
            if tail.find(b"\n", 0, len(tail) - 1) >= 0:
                break
        if not tail.endswith(b"\n"):
            raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: the last record is incomplete (cut off or "
                                                 "interrupted); nothing appended — run `governance ledger verify`")
        line = tail[tail.rfind(b"\n", 0, len(tail) - 1) + 1:]
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            record = None
        if not isinstance(record, dict) or record.get("hash") != record_hash(record) or not isinstance(
                record.get("seq"), int):
            raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: the last record does not match its hash; "
                                                 "nothing appended — run `governance ledger verify`")
        return record

    def append(self, build: Callable[[dict | None], list[dict]],
               sign_head: Callable[[dict], dict | None], *, signed: bool = False) -> list[dict]:
        """Append what ``build(last record)`` returns, in one write, then move the head — all under the lock."""
        with self._locked() as fd:
            last = self._last(fd)
            head = self.head()
            if head and isinstance(head.get("seq"), int) and head["seq"] > (last["seq"] if last else 0):
                # Appending would renumber over the missing records and hide that they were removed.
                raise CheckFailed("LEDGER_TAMPERED", f"{self.path}: ends before its head (record {head['seq']}): "
                                                     "records were removed; nothing appended")
            if head and head.get("envelope") and not signed:
                # An unsigned head would replace the signed one, and a keyed verify could no longer vouch for it.
                raise InputError("LEDGER_SIGNED", f"{self.path}: this ledger's head is signed; appending to it needs "
                                                  "the ledger's signing key (nothing appended)")
            records = build(last)
            data = b"".join(encode(r) for r in records)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            last = records[-1]
            head = {"seq": last["seq"], "hash": last["hash"], "time": now()}
            envelope = sign_head(last)
            if envelope is not None:
                head["envelope"] = envelope
            write_bytes_atomic(self.head_path, dumps(head))
        return records

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
            head = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return {"malformed": True}
        return head if isinstance(head, dict) else {"malformed": True}

    def storage_problems(self) -> list[tuple[str, str, str]]:
        return []
