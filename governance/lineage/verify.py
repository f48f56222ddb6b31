"""Verify an evidence folder's lineage: the signed index, every statement's signature, every link, and the bytes.

>>> report = verify_lineage("evidence", verifier)
>>> [h.step for h in report.chain.hops], report.passed
(['process', 'train', 'evaluate', 'register'], True)

What is checked, in order (every problem is collected; the first one names what broke):

1. ``index.json``: its signature, and every listed file's sha256 (:func:`governance.evidence.check_index`);
2. each ``provenance/*.intoto.json``: DSSE signature, in-toto Statement v1, SLSA Provenance v1;
3. the chain: process, train and evaluate are present; every consumed file's digest equals the digest the
   producing step recorded; the registration binds the package to the trained model's digest;
4. the evidence copies: ``dataset.json`` is the process step's profile and names the dataset digest the chain
   starts from, ``evaluation.json`` and ``training.json`` are the files the chain recorded, ``lineage.json``
   says what the statements say;
5. referenced files (local, or ``s3://``) that are still reachable hash to their recorded digests — only for
   statements whose signature verified (or when no key is given): a forged statement's paths are never read;
6. ``ledger.jsonl``, when present, verifies (:func:`governance.ledger.check_ledger`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from governance import hashing, storage
from governance.errors import CheckFailed, Incomplete, InputError
from governance.evidence import IndexCheck, Problem, check_index
from governance.jsonio import MAX_BYTES, loads
from governance.lineage.chain import Chain, load_chain, role, sha256_of, summary
from governance.lineage.record import location_of
from governance.signing import Verifier

REQUIRED_STEPS = ("process", "train", "evaluate")
# Evidence files that are byte copies of a step's output: (step, role).
EVIDENCE_COPIES = {
    "dataset.json": ("process", "profile"),
    "training.json": ("train", "training_metadata"),
    "evaluation.json": ("evaluate", "evaluation"),
}
LINEAGE_SUMMARY = "lineage.json"
LEDGER = "ledger.jsonl"


@dataclass
class FileCheck:
    """A referenced file looked at again: ``match``, ``mismatch`` or ``unreachable`` (not counted as a pass)."""

    step: str
    role: str
    name: str
    location: str
    status: str
    detail: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class LineageReport:
    evidence_dir: Path
    signatures_checked: bool
    index: IndexCheck | None = None
    chain: Chain = field(default_factory=Chain)
    files: list[FileCheck] = field(default_factory=list)
    ledger: dict | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "evidence": str(self.evidence_dir),
            "passed": self.passed,
            "signatures_checked": self.signatures_checked,
            "index": self.index.to_dict() if self.index else None,
            "hops": [{"step": h.step, "statement": h.path, "signature": h.signature} for h in self.chain.hops],
            "links": [{**link.__dict__, "holds": link.holds} for link in self.chain.links],
            "files": [f.to_dict() for f in self.files],
            "ledger": self.ledger,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": self.warnings,
        }

    def raise_for_problems(self) -> LineageReport:
        if self.problems:
            first = self.problems[0]
            more = f" ({len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else ""
            raise CheckFailed(first.reason, first.message + more, details=self.to_dict())
        return self


def _check_chain(chain: Chain, report: LineageReport) -> None:
    problems = report.problems
    for step in REQUIRED_STEPS:
        if chain.hop(step) is None:
            problems.append(Problem("LINEAGE_INCOMPLETE", f"no signed statement for the {step} step", step))
    for link in chain.links:
        if not link.holds:
            problems.append(Problem(
                "CHAIN_BROKEN",
                f"{link.producer} → {link.consumer}: {link.name} ({link.role}) was consumed with sha256 "
                f"{(link.consumed or '?')[:16]}… but produced as {(link.produced or '?')[:16]}…",
                f"{link.producer}→{link.consumer}"))
    for step, dependency in chain.roots:
        if role(dependency) != "dataset":
            problems.append(Problem("CHAIN_BROKEN", f"{step}: input {dependency.get('name')} ({role(dependency)}) "
                                                    "comes from no step in this evidence", step))
    registration = chain.producer_of("model_package")
    trainer = chain.producer_of("model")
    if registration is not None and trainer is not None:
        package = registration.subject("model_package")
        if sha256_of(package) != sha256_of(trainer.subject("model")):
            problems.append(Problem("CHAIN_BROKEN", f"register: model package {package.get('name')} is bound to "
                                                    "a digest that is not the trained model's", "register"))


def _check_copies(root: Path, chain: Chain, report: LineageReport) -> None:
    for name, (step, wanted) in EVIDENCE_COPIES.items():
        path = root / name
        hop = chain.hop(step)
        if not path.is_file() or hop is None or hop.subject(wanted) is None:
            continue
        if hashing.sha256_file(path) != sha256_of(hop.subject(wanted)):
            report.problems.append(Problem("DIGEST_MISMATCH", f"{name}: is not the {wanted} the {step} step "
                                                              "produced (sha256 differs from its statement)", name))
    profile_path, process = root / "dataset.json", chain.hop("process")
    if profile_path.is_file() and process is not None and process.dependency("dataset") is not None:
        try:
            source = loads(storage.read_bytes(profile_path, max_bytes=MAX_BYTES), what="dataset.json").get("source", {})
        except (InputError, AttributeError):
            source = {}
        dataset = process.dependency("dataset")
        notes = dataset.get("annotations") or {}
        if source.get("sha256") != sha256_of(dataset) or (
                source.get("content_sha256") and source.get("content_sha256") != notes.get("content_sha256")):
            report.problems.append(Problem("CHAIN_BROKEN", "dataset.json: the dataset digest it records is not the "
                                                           "one the process step consumed", "dataset.json"))
    summary_path = root / LINEAGE_SUMMARY
    if summary_path.is_file() and chain.hops:
        try:
            recorded = loads(storage.read_bytes(summary_path, max_bytes=MAX_BYTES), what=LINEAGE_SUMMARY)
        except InputError:
            recorded = None
        if recorded != summary(chain):
            report.problems.append(Problem("DIGEST_MISMATCH", f"{LINEAGE_SUMMARY}: does not say what the signed "
                                                              "statements say", LINEAGE_SUMMARY))


def _candidates(descriptor: dict, root: Path) -> list[str]:
    uri = descriptor.get("uri") or ""
    if storage.is_s3_uri(uri):
        return [uri]
    relative = (descriptor.get("annotations") or {}).get("path") or ("" if "://" in uri else uri)
    if relative:
        # Inside the run folder: checked where the folder is now (the evidence sits in it, beside data/ and
        # model/), never at the path it had when it was recorded — that may be another machine's file.
        return [str(root.parent / relative)]
    return [location_of(uri)] if uri.startswith("file://") else []


def _look_again(step: str, descriptor: dict, root: Path) -> FileCheck:
    name, wanted = descriptor.get("name", ""), role(descriptor)
    for location in _candidates(descriptor, root):
        if not storage.is_s3_uri(location) and not Path(location).is_file():
            continue
        try:
            with storage.open_stream(location) as stream:
                digest = hashing.sha256_stream(stream)[0]
        except (InputError, Incomplete) as err:
            return FileCheck(step, wanted, name, location, "unreachable", err.message)
        status = "match" if digest == sha256_of(descriptor) else "mismatch"
        return FileCheck(step, wanted, name, location, status, "" if status == "match" else digest)
    return FileCheck(step, wanted, name, descriptor.get("uri", ""), "unreachable", "not found")


def _check_files(root: Path, chain: Chain, report: LineageReport) -> None:
    seen: set[tuple[str, str]] = set()
    for hop in chain.hops:
        if hop.signature == "invalid":
            # Whoever forged it chose the paths it names: they are neither read nor echoed back.
            report.warnings.append(f"{hop.path}: its signature does not verify, so the files it names were not read")
            continue
        for descriptor in [*hop.subjects, *hop.dependencies]:
            if role(descriptor) in ("package", "model_package"):
                continue
            key = (descriptor.get("uri", ""), sha256_of(descriptor) or "")
            if key in seen or not sha256_of(descriptor):
                continue
            seen.add(key)
            check = _look_again(hop.step, descriptor, root)
            report.files.append(check)
            if check.status != "mismatch":
                continue
            if role(descriptor) == "code":
                report.warnings.append(f"{check.name}: the code has changed since the {hop.step} step ran")
                continue
            producer = chain.producer_of(role(descriptor))
            by = f"the {producer.step} step produced" if producer else f"the {hop.step} step consumed"
            report.problems.append(Problem("DIGEST_MISMATCH", f"{check.name} ({check.location}): the bytes changed — "
                                                              f"sha256 differs from what {by}", check.location))
    unreachable = [f for f in report.files if f.status == "unreachable" and f.role != "code"]
    if unreachable:
        report.warnings.append(f"{len(unreachable)} referenced file(s) not reachable, so not re-hashed: "
                               + ", ".join(f.name for f in unreachable))


def _check_ledger(root: Path, verifier: Verifier | None, report: LineageReport) -> None:
    if not (root / LEDGER).is_file():
        return
    from governance.ledger import check_ledger

    ledger = check_ledger(root / LEDGER, verifier, anchored=False)  # the index is checked above
    report.ledger = ledger.to_dict()
    for problem in ledger.problems:
        report.problems.append(Problem(problem.reason, f"{LEDGER}: {problem.message}", LEDGER))


def check_lineage(evidence_dir: str | os.PathLike, verifier: Verifier | None, *, check_files: bool = True,
                  anchor_verifier: Verifier | None = None) -> LineageReport:
    """Run every check and collect every problem (``report.passed`` when there are none).

    ``anchor_verifier`` checks the index when another key re-sealed it (an independent validation re-seals the
    folder with the validator's key); the statements and the ledger are still checked with ``verifier``.
    """
    root = Path(evidence_dir)
    if not root.is_dir():
        raise InputError("NOT_A_DIRECTORY", f"{root}: no such evidence folder")
    report = LineageReport(root, signatures_checked=verifier is not None)
    try:
        report.index = check_index(root, anchor_verifier or verifier)
        report.problems.extend(report.index.problems)
    except (CheckFailed, InputError) as err:
        report.problems.append(Problem(err.reason, err.message, "index.json"))
    report.chain, statement_problems = load_chain(root, verifier)
    report.problems.extend(statement_problems)
    _check_chain(report.chain, report)
    _check_copies(root, report.chain, report)
    if check_files:
        _check_files(root, report.chain, report)
    try:
        _check_ledger(root, verifier, report)
    except InputError as err:  # an unreadable ledger in a signed folder is a failed check; I/O errors still raise
        report.problems.append(Problem(err.reason, f"{LEDGER}: {err.message}", LEDGER))
    if verifier is None:
        report.warnings.append("signatures not checked: no public key given")
    return report


def verify_lineage(evidence_dir: str | os.PathLike, verifier: Verifier | None, *, check_files: bool = True,
                   anchor_verifier: Verifier | None = None) -> LineageReport:
    """The report when everything verifies; otherwise ``CheckFailed`` naming the first thing that broke."""
    return check_lineage(evidence_dir, verifier, check_files=check_files,
                         anchor_verifier=anchor_verifier).raise_for_problems()
