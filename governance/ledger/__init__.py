"""An append-only, hash-chained log of governance events, with signed checkpoints.

Every governance event — pipeline run, sign, verify (pass or fail), scan, approve, pack — is one record holding
the previous record's hash, a timestamp, the actor, the event and the digests involved::

    from governance.ledger import Ledger, verify_ledger
    ledger = Ledger("evidence/ledger.jsonl", signer)     # or "s3://bucket/ledger/" (Object Lock)
    ledger.append("sign", actor="ci@quickloan", subject="model/model.tar.gz", digests={"model.tar.gz": sha})
    verify_ledger("evidence/ledger.jsonl", verifier)      # raises CheckFailed naming the first bad record

With a signer, every ``checkpoint_every``-th record is followed by a signed checkpoint (a DSSE envelope over
"record N has hash H"), and a local ledger's head file is signed on every append. Those signatures are what
stop someone who can write the file from rewriting the whole chain after an edit, or cutting off its end.

Local ledgers take an exclusive ``flock`` for each append, so any number of processes can append at once. An
append first checks the tail against the (signed) head and refuses to sign over records nobody signed; a crash's
leftovers are moved aside, on the record, by :meth:`Ledger.repair` (``governance ledger repair``). Rollback to an
older signed head is caught by comparing the ledger with the evidence index that sealed it.
"""

from __future__ import annotations

import os
from pathlib import Path

from governance.errors import InputError
from governance.ledger._file import FileStore
from governance.ledger._record import CHECKPOINT, EVENTS, GENESIS, checkpoint_record, new_record
from governance.ledger._s3 import DEFAULT_LOCK_MODE, DEFAULT_RETENTION_DAYS, S3Store
from governance.ledger._verify import LedgerProblem, LedgerReport, check_chain
from governance.signing import Signer, Verifier
from governance.storage import is_s3_uri

DEFAULT_CHECKPOINT_EVERY = 100


def _store(location: str | os.PathLike, **s3_options):
    if is_s3_uri(location):
        return S3Store(str(location), **s3_options)
    return FileStore(location)


class Ledger:
    """Append records to a ledger file (local, locked) or an S3 prefix under Object Lock."""

    def __init__(
        self,
        location: str | os.PathLike,
        signer: Signer | None = None,
        *,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        lock_mode: str | None = DEFAULT_LOCK_MODE,
        retention_days: int | None = DEFAULT_RETENTION_DAYS,
    ) -> None:
        if checkpoint_every < 1:
            raise InputError("BAD_PARAMETER", "checkpoint_every must be at least 1")
        options = {"lock_mode": lock_mode, "retention_days": retention_days} if is_s3_uri(location) else {}
        self.store = _store(location, **options)
        self.signer = signer
        self.checkpoint_every = checkpoint_every

    @property
    def location(self) -> str:
        return self.store.location

    def append(
        self,
        event: str,
        actor: str,
        subject: str = "",
        digests: dict[str, str] | None = None,
        details: dict | None = None,
    ) -> dict:
        """Append one record and return it; a signed checkpoint follows every ``checkpoint_every``-th record."""

        def build(last: dict | None) -> list[dict]:
            record = new_record(last, event, actor, subject, digests, details)
            if self.signer is not None and record["seq"] % self.checkpoint_every == 0:
                return [record, checkpoint_record(record, self.signer)]
            return [record]

        return self.store.append(build, self.signer)[0]

    def check_appendable(self) -> None:
        """Raise what an append with this ledger's signer would raise (a signed head and no key), before any work.

        A command that writes a report and then records it must refuse before writing, not after.
        """
        self.store.check_appendable(self.signer)

    def checkpoint(self) -> dict:
        """Sign the current head now (e.g. at the end of a pipeline run)."""
        if self.signer is None:
            raise InputError("NO_SIGNER", "a checkpoint needs a signer")

        def build(last: dict | None) -> list[dict]:
            if last is None:
                raise InputError("EMPTY_LEDGER", f"{self.location}: nothing to checkpoint yet")
            return [checkpoint_record(last, self.signer)]

        return self.store.append(build, self.signer)[0]

    def repair(self, actor: str) -> dict | None:
        """Move a crash's leftovers aside and record that in the ledger; ``None`` when there is nothing to repair.

        Leftovers are a cut final line and, for a signed ledger, complete records after the signed head (an
        append that died before moving the head — or a forgery: the key's holder decides, reading the side file).
        """
        if not isinstance(self.store, FileStore):
            raise InputError("NOTHING_TO_REPAIR", f"{self.location}: an S3 ledger is written one locked object per "
                                                  "record; there is no cut line to repair")

        if not self.store.path.is_file():
            raise InputError("FILE_NOT_FOUND", f"{self.location}: no such ledger")

        def build(last: dict | None, summary: dict) -> list[dict]:
            return [new_record(last, "repair", actor, self.store.path.name, {"moved": summary["moved_sha256"]},
                               summary)]

        return self.store.repair(build, self.signer)


def read_verified_records(location: str | os.PathLike, verifier: Verifier | None = None) -> list[dict]:
    """Every record, in order, after the whole chain verified (``CheckFailed`` names the first bad record).

    For gates that decide from the ledger (a deployment needs its approval on record): a record is trusted only
    as part of a chain that verifies.
    """
    import json

    verify_ledger(location, verifier)
    return [json.loads(entry.raw) for entry in _store(location).entries()]


def check_ledger(location: str | os.PathLike, verifier: Verifier | None = None, *,
                 anchor: str | os.PathLike | None = None, anchored: bool = True,
                 anchor_verifier: Verifier | None = None) -> LedgerReport:
    """Walk the whole ledger and report every problem (``report.passed`` is true when there are none).

    A local ledger is also compared with the evidence index that sealed it (``anchor``, by default an
    ``index.json`` beside it), which is what detects a rollback to an older signed head. ``anchored=False``
    skips that, for callers that check the index themselves; ``anchor_verifier`` is the key that sealed the index
    when it is not the ledger's (an index re-sealed by an independent validator).
    """
    return check_chain(_store(location), verifier, Path(anchor) if anchor is not None else None, anchored,
                       anchor_verifier)


def read_records(location: str | os.PathLike) -> list[dict]:
    """Every complete record, in order, as stored (not verified: use :func:`verify_ledger` for that).

    Records are parsed strictly, so a line that readers could read two ways (a duplicate key) is left out.
    """
    from governance.errors import GovernanceError
    from governance.jsonio import loads

    records = []
    for entry in _store(location).entries():
        if entry.complete:
            try:
                record = loads(entry.raw, what="ledger record")
            except GovernanceError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def verify_ledger(location: str | os.PathLike, verifier: Verifier | None = None, *,
                  anchor: str | os.PathLike | None = None) -> LedgerReport:
    """Return the report, or raise ``CheckFailed`` whose message names the first bad record.

    Without a ``verifier`` only the hash chain is checked; checkpoint and head signatures are reported unchecked.
    """
    return check_ledger(location, verifier, anchor=anchor).raise_for_problems()


__all__ = [
    "CHECKPOINT",
    "DEFAULT_CHECKPOINT_EVERY",
    "EVENTS",
    "GENESIS",
    "Ledger",
    "LedgerProblem",
    "LedgerReport",
    "check_ledger",
    "read_records",
    "read_verified_records",
    "verify_ledger",
]
