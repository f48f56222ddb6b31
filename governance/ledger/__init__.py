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

Local ledgers take an exclusive ``flock`` for each append, so any number of processes can append at once.
"""

from __future__ import annotations

import os

from governance.errors import InputError
from governance.ledger._file import FileStore
from governance.ledger._record import CHECKPOINT, EVENTS, GENESIS, checkpoint_record, new_record, sign_head
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

    def _sign_head(self, record: dict) -> dict | None:
        return sign_head(record["seq"], record["hash"], self.signer) if self.signer is not None else None

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

        return self.store.append(build, self._sign_head, signed=self.signer is not None)[0]

    def checkpoint(self) -> dict:
        """Sign the current head now (e.g. at the end of a pipeline run)."""
        if self.signer is None:
            raise InputError("NO_SIGNER", "a checkpoint needs a signer")

        def build(last: dict | None) -> list[dict]:
            if last is None:
                raise InputError("EMPTY_LEDGER", f"{self.location}: nothing to checkpoint yet")
            return [checkpoint_record(last, self.signer)]

        return self.store.append(build, self._sign_head, signed=True)[0]


def check_ledger(location: str | os.PathLike, verifier: Verifier | None = None) -> LedgerReport:
    """Walk the whole ledger and report every problem (``report.passed`` is true when there are none)."""
    return check_chain(_store(location), verifier)


def verify_ledger(location: str | os.PathLike, verifier: Verifier | None = None) -> LedgerReport:
    """Return the report, or raise ``CheckFailed`` whose message names the first bad record.

    Without a ``verifier`` only the hash chain is checked; checkpoint and head signatures are reported unchecked.
    """
    return check_ledger(location, verifier).raise_for_problems()


__all__ = [
    "CHECKPOINT",
    "DEFAULT_CHECKPOINT_EVERY",
    "EVENTS",
    "GENESIS",
    "Ledger",
    "LedgerProblem",
    "LedgerReport",
    "check_ledger",
    "verify_ledger",
]
