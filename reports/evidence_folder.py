"""Read-only access to one evidence folder, after its signed index has been verified.

The pack prints nothing that did not come from here: every read re-hashes the bytes it returns and compares
them with the verified index, so a file changed after the check (or never indexed) cannot reach a page.

>>> folder = open_evidence("evidence", verifier)
>>> 0.5 < folder.json("evaluation.json")["binary_classification_metrics"]["auc"]["value"] <= 1
True
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from governance.errors import CheckFailed, Incomplete, InputError
from governance.hashing import sha256_bytes
from governance.jsonio import loads
from governance.signing import Verifier

INDEX = "index.json"
INDEX_SIGNATURE = "index.json.sig"


@dataclass
class EvidenceFolder:
    """A verified evidence folder: ``digests`` maps each indexed relative path to its sha256."""

    root: Path
    digests: dict[str, str]
    index_bytes: bytes
    index_signature_bytes: bytes | None
    signature_checked_by: str | None
    sealed_sizes: dict[str, int] = field(default_factory=dict)
    unverifiable: list[str] = field(default_factory=list)
    used: dict[str, str] = field(default_factory=dict)
    parsed: dict[str, Any] = field(default_factory=dict)  # typed readers' cache (reports.evidence_models)

    @property
    def index_sha256(self) -> str:
        return sha256_bytes(self.index_bytes)

    @cached_property
    def index(self) -> dict:
        try:
            value = loads(self.index_bytes, what="index.json")
        except InputError:
            return {}
        return value if isinstance(value, dict) else {}

    def has(self, relative: str) -> bool:
        return relative in self.digests

    def paths(self, pattern: str = "*") -> list[str]:
        """Indexed relative paths matching a glob, in a stable order."""
        return sorted(path for path in self.digests if fnmatch.fnmatchcase(path, pattern))

    def read_bytes(self, relative: str) -> bytes | None:
        """The file's bytes if it is indexed, checked again against its digest; ``None`` if not indexed."""
        expected = self.digests.get(relative)
        if expected is None:
            return None
        sealed = self.sealed_sizes.get(relative)
        try:
            with open(self.root / PurePosixPath(relative), "rb") as handle:
                # An append-only ledger may have grown since sealing: the pack shows it as it was sealed.
                data = handle.read(sealed) if sealed is not None else handle.read()
        except FileNotFoundError:
            raise CheckFailed("EVIDENCE_MISSING", f"{relative}: listed in the evidence index but missing") from None
        except OSError as err:
            raise Incomplete("IO_ERROR", f"{relative}: cannot read ({err.strerror})") from None
        if sha256_bytes(data) != expected:
            raise CheckFailed("DIGEST_MISMATCH", f"{relative}: changed after the evidence index was verified")
        self.used[relative] = expected
        return data

    def json(self, relative: str) -> Any | None:
        data = self.read_bytes(relative)
        if data is None:
            return None
        try:
            return loads(data, what=relative)
        except InputError:
            raise InputError("MALFORMED_JSON", f"{relative}: indexed evidence is not valid JSON") from None

    def jsonl(self, relative: str) -> list[Any] | None:
        data = self.read_bytes(relative)
        if data is None:
            return None
        records = []
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if line.strip():
                try:
                    records.append(loads(line, what=f"{relative}: line {number}"))
                except InputError:
                    raise InputError("MALFORMED_JSON", f"{relative}: line {number} is not JSON") from None
        return records

    def digest(self, relative: str) -> str | None:
        return self.digests.get(relative)

    def indexed_at(self) -> str | None:
        """When the index was written, as recorded in it (used as the pack's date: never the clock)."""
        index = self.index
        for key in ("created_at", "generated_at", "indexed_at", "timestamp", "written_at"):
            if isinstance(index.get(key), str):
                return index[key]
        return None

    def entries(self) -> dict[str, dict]:
        """Index entries by path (``{path, sha256, size, mode}``), as the index lists them."""
        files = self.index.get("files")
        if not isinstance(files, list):
            return {}
        return {e["path"]: e for e in files if isinstance(e, dict) and isinstance(e.get("path"), str)}

    def size(self, relative: str) -> int | None:
        size = self.entries().get(relative, {}).get("size")
        return size if isinstance(size, int) else None

    def mode(self, relative: str) -> str:
        return str(self.entries().get(relative, {}).get("mode", "fixed"))


def open_evidence(evidence_dir: str | os.PathLike, verifier: Verifier | None) -> EvidenceFolder:
    """Verify the evidence index (signature and every digest) and return the folder; raise if it does not verify.

    Without a ``verifier`` only the digests are checked; the pack then says so on its cover.
    """
    root = Path(evidence_dir)
    if not root.is_dir():
        raise InputError("NOT_A_DIRECTORY", f"{root}: no such evidence folder")
    index_path = root / INDEX
    if not index_path.is_file():
        raise CheckFailed("INDEX_MISSING",
                          f"{index_path}: the evidence folder has no index.json; it cannot be verified")
    from governance.evidence import verify_index

    index_bytes = index_path.read_bytes()
    digests = dict(verify_index(root, verifier))
    if index_path.read_bytes() != index_bytes:
        raise CheckFailed("DIGEST_MISMATCH", f"{index_path}: changed while it was being verified")
    signature_path = root / INDEX_SIGNATURE
    folder = EvidenceFolder(
        root=root,
        digests={},
        index_bytes=index_bytes,
        index_signature_bytes=signature_path.read_bytes() if signature_path.is_file() else None,
        signature_checked_by=verifier.key_hint if verifier is not None else None,
    )
    entries = folder.entries()
    for path, digest in sorted(digests.items()):
        path = str(PurePosixPath(path))
        entry = entries.get(path, {})
        mode = entry.get("mode", "fixed")
        if path in (INDEX, INDEX_SIGNATURE):
            continue
        if mode == "state":  # moves after sealing; its own signature vouches for it, the index cannot
            folder.unverifiable.append(path)
            continue
        if mode == "append" and isinstance(entry.get("size"), int):
            folder.sealed_sizes[path] = entry["size"]
        folder.digests[path] = digest
    return folder


def pack_date(folder: EvidenceFolder) -> str | None:
    """The date printed on the pack: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else the index's own date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).isoformat(timespec="seconds")
    return folder.indexed_at()
