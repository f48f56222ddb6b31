"""The evidence folder's signed index: every file with its sha256 and size, sealed by one DSSE signature.

This is the contract with every consumer of an evidence folder (the audit pack, an auditor's script): check
the index once, then trust a file only if its bytes still hash to what the index says.

>>> index = write_index("evidence", signer)
>>> digest = verify_index("evidence", verifier)["evaluation.json"]
>>> len(digest), all(c in "0123456789abcdef" for c in digest)
(64, True)

``index.json`` lists ``files: [{path, sha256, size, mode}]`` in path order. ``mode`` is ``"fixed"`` for
ordinary files. An append-only ledger (``*.jsonl``) is ``"append"``: it may grow after sealing, and what is
checked is that its first ``size`` bytes still hash to ``sha256`` — records can be added, never rewritten.
The ledger's head file (``*.jsonl.head``) is ``"state"``: it moves with every append and is checked by
:func:`governance.ledger.verify_ledger` through its own signature, so here only its presence is checked.

``index.json.sig`` is a DSSE envelope over an in-toto Statement v1 whose one subject is ``index.json`` and its
sha256, signed by the evidence signer (:mod:`governance.signing`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from governance import __version__
from governance.errors import CheckFailed, Incomplete, InputError
from governance.hashing import CHUNK_SIZE, sha256_bytes, sha256_file
from governance.jsonio import MAX_BYTES, dumps, loads, read_json
from governance.signing import Signer, Verifier, dsse
from governance.storage import read_bytes, write_bytes_atomic

INDEX = "index.json"
INDEX_SIGNATURE = "index.json.sig"
INDEX_FORMAT = "quickloan-governance/evidence-index/v1"
INDEX_PREDICATE_TYPE = "https://quickloan-governance.dev/evidence-index/v1"
MODE_FIXED, MODE_APPEND, MODE_STATE = "fixed", "append", "state"


def file_mode(relative: str) -> str:
    """How a file may change after sealing: ledgers grow (append), their head moves (state), the rest is fixed."""
    name = PurePosixPath(relative).name
    if name.endswith(".jsonl"):
        return MODE_APPEND
    if name.endswith(".jsonl.head"):
        return MODE_STATE
    return MODE_FIXED


def _is_temporary(name: str) -> bool:
    # The storage module's atomic writes leave ".<name>.<random>.tmp" only while a write is in flight.
    return name.startswith(".") and name.endswith(".tmp")


def evidence_files(evidence_dir: str | os.PathLike) -> list[str]:
    """Relative POSIX paths of every file under the folder, except the index and its signature."""
    root = Path(evidence_dir)
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            # A link could point anywhere (including outside the folder); evidence is plain files only.
            raise InputError("EVIDENCE_SYMLINK", f"{path}: evidence must be regular files, not symbolic links")
        if not path.is_file() or relative in (INDEX, INDEX_SIGNATURE) or _is_temporary(path.name):
            continue
        found.append(relative)
    return found


def build_index(evidence_dir: str | os.PathLike, signer: Signer | None = None) -> dict:
    """The index document for the folder as it is now (nothing written)."""
    root = Path(evidence_dir)
    if not root.is_dir():
        raise InputError("NOT_A_DIRECTORY", f"{root}: no such evidence folder")
    entries = []
    for relative in evidence_files(root):
        path = root / relative
        mode = file_mode(relative)
        try:
            size = path.stat().st_size
            # A ledger may be appended to while the index is built: seal exactly the bytes counted.
            digest = prefix_sha256(path, size) if mode == MODE_APPEND else sha256_file(path)
            entries.append({"path": relative, "sha256": digest, "size": size, "mode": mode})
        except PermissionError:
            raise Incomplete("PERMISSION_DENIED", f"{path}: cannot read") from None
    return {
        "format": INDEX_FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "generator": f"quickloan-governance {__version__}",
        "signer": {"identity": signer.identity, "key_hint": signer.key_hint} if signer is not None else None,
        "files": entries,
        "totals": {"files": len(entries), "bytes": sum(e["size"] for e in entries)},
    }


def index_statement(index_bytes: bytes, index: dict) -> dict:
    return dsse.statement(
        [{"name": INDEX, "digest": {"sha256": sha256_bytes(index_bytes)}}],
        INDEX_PREDICATE_TYPE,
        {"format": INDEX_FORMAT, "files": index["totals"]["files"], "bytes": index["totals"]["bytes"]},
    )


def write_index(evidence_dir: str | os.PathLike, signer: Signer) -> Path:
    """Seal the folder: write ``index.json`` then ``index.json.sig``. Call it last, after every evidence file exists.

    Each file is written through a temporary file and a rename; if the process dies between the two, the old
    signature no longer matches the new index and verification fails closed.
    """
    root = Path(evidence_dir)
    index = build_index(root, signer)
    index_bytes = dumps(index)
    envelope = dsse.sign_statement(index_statement(index_bytes, index), signer, keyid=signer.key_hint)
    write_bytes_atomic(root / INDEX, index_bytes)
    write_bytes_atomic(root / INDEX_SIGNATURE, dumps(envelope))
    return root / INDEX


def unseal(evidence_dir: str | os.PathLike) -> None:
    """Remove the seal (index and signature) before a new run writes into the folder.

    A seal vouches for one run's evidence; left in place while new files are written, it would make checks that
    run before the new seal compare fresh evidence with a stale index.
    """
    for name in (INDEX_SIGNATURE, INDEX):  # the signature first: an index never stands unsigned
        Path(evidence_dir, name).unlink(missing_ok=True)


def open_statement(envelope: dict, verifier: Verifier, what: str) -> dict:
    """Verify a DSSE envelope and return its statement; failures name ``what`` and tell a wrong key from a bad one."""
    try:
        return dsse.verify_envelope(envelope, verifier)
    except CheckFailed:
        keyids = {s.get("keyid") for s in envelope.get("signatures", []) if isinstance(s, dict)} - {"", None}
        if keyids and verifier.key_hint not in keyids:
            signer = sorted(keyids)[0]
            raise CheckFailed(
                "UNTRUSTED_SIGNER",
                f"{what}: signed by key sha256:{signer[:16]}…, not by the trusted key sha256:{verifier.key_hint[:16]}…",
            ) from None
        raise CheckFailed("SIGNATURE_INVALID",
                          f"{what}: the signature does not verify (content or signature changed)") from None


def prefix_sha256(path: Path, size: int) -> str:
    digest, left = hashlib.sha256(), size
    with open(path, "rb") as handle:
        while left and (chunk := handle.read(min(CHUNK_SIZE, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


@dataclass
class Problem:
    """One thing that failed, with the reason code a script can act on and a message naming the file."""

    reason: str
    message: str
    path: str = ""

    def to_dict(self) -> dict:
        return {"reason": self.reason, "message": self.message, **({"path": self.path} if self.path else {})}


@dataclass
class IndexCheck:
    """What :func:`check_index` found: the trusted digests and every problem (empty when the folder verifies)."""

    root: Path
    digests: dict[str, str] = field(default_factory=dict)
    entries: dict[str, dict] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    signature_checked: bool = False
    signer: dict | None = None

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {
            "files": len(self.entries),
            "signature_checked": self.signature_checked,
            "signer": self.signer,
            "problems": [p.to_dict() for p in self.problems],
        }


def _parse_index(data: bytes) -> dict | None:
    try:
        index = loads(data, what=INDEX)
    except InputError:
        return None
    return index if isinstance(index, dict) and isinstance(index.get("files"), list) else None


def check_index(evidence_dir: str | os.PathLike, verifier: Verifier | None) -> IndexCheck:
    """Check the index signature and every listed file; collect all problems rather than stopping at the first.

    Without a ``verifier`` only the digests are checked (``signature_checked`` is then false).
    """
    root = Path(evidence_dir)
    if not root.is_dir():
        raise InputError("NOT_A_DIRECTORY", f"{root}: no such evidence folder")
    path = root / INDEX
    if not path.is_file():
        raise CheckFailed("INDEX_MISSING", f"{path}: the evidence folder has no index.json; it cannot be verified")
    data = read_bytes(path, max_bytes=MAX_BYTES)
    check = IndexCheck(root)
    if verifier is not None:
        _check_signature(root, data, verifier, check)
    index = _parse_index(data)
    if index is None:
        if check.problems:  # a signed index that no longer parses was tampered with: a failed check, not bad input
            raise CheckFailed(check.problems[0].reason, check.problems[0].message,
                              details={"problems": [p.to_dict() for p in check.problems]})
        raise InputError("MALFORMED_INDEX", f"{path}: not an evidence index (not JSON, or no files list)")
    check.signer = index.get("signer")
    for entry in index["files"]:
        relative = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(relative, str) or PurePosixPath(relative).is_absolute() or ".." in PurePosixPath(
                relative).parts:
            check.problems.append(Problem("MALFORMED_INDEX", f"{INDEX}: bad entry {entry!r}", INDEX))
            continue
        if not isinstance(entry.get("size"), int) or not isinstance(entry.get("sha256"), str):
            check.problems.append(Problem("MALFORMED_INDEX", f"{INDEX}: {relative}: no sha256 or size", INDEX))
            continue
        check.entries[relative] = entry
        check.digests[relative] = entry.get("sha256", "")
        problem = _check_entry(root, relative, entry)
        if problem:
            check.problems.append(problem)
    try:
        present = evidence_files(root)
    except InputError as err:
        check.problems.append(Problem(err.reason, err.message))
        present = []
    for relative in present:
        if relative not in check.entries:
            check.problems.append(Problem("EVIDENCE_UNLISTED", f"{relative}: in the folder but not in the index",
                                          relative))
    return check


def _check_signature(root: Path, data: bytes, verifier: Verifier, check: IndexCheck) -> None:
    sig_path = root / INDEX_SIGNATURE
    if not sig_path.is_file():
        check.problems.append(Problem("SIGNATURE_MISSING", f"{INDEX_SIGNATURE}: missing; the index is unsigned",
                                      INDEX_SIGNATURE))
        return
    try:
        statement = open_statement(read_json(sig_path), verifier, INDEX_SIGNATURE)
    except (CheckFailed, InputError) as err:
        check.problems.append(Problem(err.reason, err.message, INDEX_SIGNATURE))
        return
    subject = (statement.get("subject") or [{}])[0]
    if subject.get("name") != INDEX or subject.get("digest", {}).get("sha256") != sha256_bytes(data):
        check.problems.append(Problem(
            "DIGEST_MISMATCH", f"{INDEX}: changed after it was signed (its sha256 differs from the signed one)", INDEX))
    else:
        check.signature_checked = True


def _check_entry(root: Path, relative: str, entry: dict) -> Problem | None:
    path = root / PurePosixPath(relative)
    mode = entry.get("mode", MODE_FIXED)
    if path.is_symlink() or not path.is_file():
        return Problem("EVIDENCE_MISSING", f"{relative}: listed in the index but missing", relative)
    if mode == MODE_STATE:
        return None
    try:
        size = path.stat().st_size
        if mode == MODE_APPEND:
            if size < entry.get("size", 0):
                return Problem("DIGEST_MISMATCH", f"{relative}: shorter than when it was sealed (records removed)",
                               relative)
            if prefix_sha256(path, entry.get("size", 0)) != entry.get("sha256"):
                return Problem("DIGEST_MISMATCH", f"{relative}: records written before sealing were changed", relative)
            return None
        if size != entry.get("size") or sha256_file(path) != entry.get("sha256"):
            return Problem("DIGEST_MISMATCH", f"{relative}: sha256 differs from the evidence index", relative)
    except PermissionError:
        raise Incomplete("PERMISSION_DENIED", f"{path}: cannot read") from None
    return None


def verify_index(evidence_dir: str | os.PathLike, verifier: Verifier | None) -> dict[str, str]:
    """``{relative path: sha256}`` of every indexed file, or raise ``CheckFailed`` naming the first problem.

    For ``append`` entries the digest is that of the first ``size`` bytes (the file as sealed).
    """
    check = check_index(evidence_dir, verifier)
    if check.problems:
        first = check.problems[0]
        more = f" (and {len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
        raise CheckFailed(first.reason, first.message + more,
                          details={"problems": [p.to_dict() for p in check.problems]})
    return check.digests
