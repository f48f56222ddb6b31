"""Walk a ledger's records and say exactly where the chain breaks: edited, deleted, reordered or cut off."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from governance.errors import CheckFailed, InputError
from governance.ledger._file import parse_record
from governance.ledger._record import CHECKPOINT, GENESIS, record_hash, signed_head
from governance.signing import Verifier

_REQUIRED = {"seq": int, "prev": str, "hash": str, "event": str, "actor": str, "time": str}


@dataclass
class LedgerProblem:
    """One break in the ledger. ``seq`` is the first bad record's sequence number when it can be known."""

    kind: str  # edited | deleted | reordered | truncated | signature | unsigned | rolled-back | anchor | unlocked …
    seq: int | None
    position: str
    message: str
    reason: str = "LEDGER_TAMPERED"
    order: float = field(default=float("inf"), repr=False, compare=False)  # where it sits in the ledger

    def to_dict(self) -> dict:
        return {"kind": self.kind, "seq": self.seq, "position": self.position, "message": self.message,
                "reason": self.reason}


@dataclass
class LedgerReport:
    location: str
    records: int = 0
    checkpoints: int = 0
    checkpoints_verified: int = 0
    signatures_checked: bool = False
    last_seq: int = 0
    last_hash: str = GENESIS
    head: str = "absent"
    problems: list[LedgerProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> LedgerProblem | None:
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict:
        return {
            "ledger": self.location,
            "passed": self.passed,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "checkpoints_verified": self.checkpoints_verified,
            "signatures_checked": self.signatures_checked,
            "last": {"seq": self.last_seq, "hash": self.last_hash},
            "head": self.head,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": self.warnings,
        }

    def raise_for_problems(self) -> LedgerReport:
        first = self.first_problem
        if first is not None:
            more = f" ({len(self.problems) - 1} more problem(s) after it)" if len(self.problems) > 1 else ""
            raise CheckFailed(first.reason, f"{self.location}: {first.message}{more}", details=self.to_dict())
        return self


def _parse(raw: bytes) -> dict | None:
    # Duplicate keys make a record say two things (first-wins readers see one actor, we another): tampering.
    record = parse_record(raw)
    if record is None or any(not isinstance(record.get(k), t) for k, t in _REQUIRED.items()):
        return None
    return record


def _open_signed_head(envelope: object, verifier: Verifier, what: str) -> tuple[dict | None, LedgerProblem | None]:
    from governance.evidence import open_statement

    if not isinstance(envelope, dict):
        return None, LedgerProblem("signature", None, what, f"{what}: carries no signature", "SIGNATURE_INVALID")
    try:
        return open_statement(envelope, verifier, what), None
    except (CheckFailed, InputError) as err:
        return None, LedgerProblem("signature", None, what, err.message, err.reason)


def check_chain(store, verifier: Verifier | None, anchor=None, anchored: bool = True,
                anchor_verifier: Verifier | None = None) -> LedgerReport:
    """Check every record's hash and link, every checkpoint's signature and the head; collect every problem.

    The anchoring index is checked with ``anchor_verifier`` (the key that sealed it), else with ``verifier``.
    """
    report = LedgerReport(store.location, signatures_checked=verifier is not None)
    entries = [(entry, _parse(entry.raw)) for entry in store.entries()]
    remaining = Counter(record["seq"] for _, record in entries if record)
    state = _Walk()
    for number, (entry, record) in enumerate(entries, start=1):
        before = len(report.problems)
        _check_record(entry, record, remaining, state, report, verifier)
        for problem in report.problems[before:]:
            problem.order = number
    _check_head(store, report, state.hashes, verifier)
    if anchored and getattr(store, "path", None) is not None:
        from governance.ledger._anchor import anchor_problems

        for kind, reason, message in anchor_problems(store.path, anchor, anchor_verifier or verifier):
            report.problems.append(LedgerProblem(kind, None, "anchor", message, reason, order=-1))
    for kind, seq, position, message in store.storage_problems():
        reason = "LEDGER_NOT_LOCKED" if kind == "unlocked" else "LEDGER_TAMPERED"
        report.problems.append(LedgerProblem(kind, seq, position, message, reason, order=seq or float("inf")))
    # The earliest place in the ledger comes first, whichever check found it.
    report.problems.sort(key=lambda p: p.order)
    if verifier is None and report.checkpoints:
        report.warnings.append(f"{report.checkpoints} checkpoint signature(s) not checked: no public key given")
    return report


@dataclass
class _Walk:
    expected: int = 1
    prev: str = GENESIS
    resync: bool = False  # after a break, the next record is not blamed for not linking to the broken one
    last_good_checkpoint: int = 0
    hashes: dict[int, str] = field(default_factory=dict)


def _check_record(entry, record: dict | None, remaining: Counter, state: _Walk, report: LedgerReport,
                  verifier: Verifier | None) -> None:
    problems = report.problems
    if record is None:
        kind = "truncated" if not entry.complete else "edited"
        what = "is cut off (an incomplete line)" if not entry.complete else "is not a ledger record (edited)"
        seq = getattr(entry, "key_seq", state.expected)
        problems.append(LedgerProblem(kind, seq, entry.position, f"record {seq} ({entry.position}) {what}"))
        state.expected, state.resync = seq + 1, True
        return
    seq = record["seq"]
    remaining[seq] -= 1
    report.records += 1
    where = f"record {seq} ({entry.position})"
    broken = False
    if record_hash(record) != record["hash"]:
        problems.append(LedgerProblem("edited", seq, entry.position,
                                      f"{where} was edited: its content no longer matches its hash"))
        broken = True
    elif getattr(entry, "key_seq", seq) != seq:
        problems.append(LedgerProblem("reordered", entry.key_seq, entry.position,
                                      f"{entry.position} holds record {seq}, not record {entry.key_seq}"))
        broken = True
    if seq > state.expected:
        if remaining[state.expected] > 0:
            problems.append(LedgerProblem("reordered", seq, entry.position,
                                          f"{where} is out of order: record {state.expected} comes after it"))
        else:
            first = state.expected
            gap = f"record {first}" if seq == first + 1 else f"records {first}–{seq - 1}"
            problems.append(LedgerProblem("deleted", first, entry.position,
                                          f"{gap} deleted: the ledger jumps from record {first - 1} to {seq}"))
        broken = True
    elif seq < state.expected:
        problems.append(LedgerProblem("reordered", seq, entry.position,
                                      f"{where} is out of order: it comes after record {state.expected - 1}"))
        broken = True
    elif not state.resync and not broken and record["prev"] != state.prev:
        problems.append(LedgerProblem(
            "edited", seq - 1, entry.position,
            f"record {seq - 1} was altered and re-hashed: record {seq} ({entry.position}) no longer links to it"))
    if record["event"] == CHECKPOINT:
        _check_checkpoint(entry, record, state, report, verifier, compare_head=not broken)
    state.hashes[seq] = record["hash"]
    state.expected, state.prev, state.resync = max(state.expected, seq + 1), record["hash"], broken
    report.last_seq, report.last_hash = seq, record["hash"]


def _check_checkpoint(entry, record: dict, state: _Walk, report: LedgerReport, verifier: Verifier | None,
                      compare_head: bool) -> None:
    report.checkpoints += 1
    if verifier is None:
        return
    seq = record["seq"]
    statement, problem = _open_signed_head(record.get("details", {}).get("envelope"), verifier,
                                           f"checkpoint record {seq}")
    if problem:
        problem.seq, problem.position = seq, entry.position
        report.problems.append(problem)
        return
    signed_seq, signed_hash, _ = signed_head(statement)
    if not compare_head:  # the record is already reported out of place: its neighbours say nothing more
        return
    if signed_seq != seq - 1 or signed_hash != record["prev"] or state.hashes.get(seq - 1) != signed_hash:
        first = state.last_good_checkpoint + 1
        report.problems.append(LedgerProblem(
            "edited", first, entry.position,
            f"records {first}–{seq - 1} were rewritten: checkpoint record {seq} signed a different head"))
        return
    report.checkpoints_verified += 1
    state.last_good_checkpoint = seq


def _check_head(store, report: LedgerReport, hashes: dict[int, str], verifier: Verifier | None) -> None:
    head = store.head()
    if head is None:
        # With a key, a local ledger must carry its signed head: without it, a chain rebuilt by someone who holds
        # no key (and so wrote no checkpoint) would pass as signed.
        if report.records and verifier is not None and store.has_head:
            report.problems.append(LedgerProblem(
                "truncated", report.last_seq + 1, "head", "the ledger's head file is missing: removal of its last "
                                                          "records cannot be ruled out"))
        elif store.has_head and report.records:
            report.warnings.append("no head file: the removal of records at the end cannot be detected")
        return
    if head.get("malformed") or not isinstance(head.get("seq"), int) or not isinstance(head.get("hash"), str):
        report.head = "malformed"
        report.problems.append(LedgerProblem("edited", None, "head", "the ledger's head file is not readable"))
        return
    seq, digest = head["seq"], head["hash"]
    if verifier is not None:
        if "envelope" not in head:
            if report.records:
                report.problems.append(LedgerProblem("signature", None, "head", "the head of a signed ledger is not "
                                                                                "signed", "SIGNATURE_INVALID"))
        else:
            statement, problem = _open_signed_head(head["envelope"], verifier, "the ledger's head")
            if problem:
                report.problems.append(problem)
                problem.position = "head"
            elif signed_head(statement) != (seq, digest, head.get("size")):
                report.problems.append(LedgerProblem("edited", None, "head", "the head file was edited after it was "
                                                                             "signed", "SIGNATURE_INVALID"))
    if seq > report.last_seq:
        report.head = "ahead"
        gap = f"record {report.last_seq + 1}" if seq == report.last_seq + 1 else f"records {report.last_seq + 1}–{seq}"
        report.problems.append(LedgerProblem(
            "truncated", report.last_seq + 1, "end", f"{gap} missing at the end: the ledger was truncated after "
                                                     f"record {report.last_seq} (its head is record {seq})"))
    elif hashes.get(seq) != digest:
        report.head = "mismatch"
        report.problems.append(LedgerProblem("edited", seq, "head", f"record {seq} differs from the one the head "
                                                                    "recorded"))
    elif seq < report.last_seq:
        report.head = "behind"
        if verifier is not None and "envelope" in head:
            # Nothing vouches for them: a forgery appended by someone without the key looks exactly like this.
            report.problems.append(LedgerProblem(
                "unsigned", seq + 1, "end", f"record(s) {seq + 1}–{report.last_seq} follow the signed head: nobody "
                                            "signed them (forged, or an append that crashed; see `governance "
                                            "ledger repair`)", "LEDGER_UNSIGNED_RECORDS", order=float("inf")))
        else:
            report.warnings.append(f"{report.last_seq - seq} record(s) after the head (an append was interrupted?)")
    else:
        report.head = "signed" if "envelope" in head and verifier is not None else "matches"
