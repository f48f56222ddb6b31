"""The signed per-member manifest: a second in-toto statement beside the OMS signature.

The OMS signature says *whether* the artefact changed; this statement says *what* was in it when it was signed
— every member's name, type, size, mode and SHA-256, and the safety findings — so a failed verify can name the
member that changed, and the deploy gate can refuse an archive whose signed findings block. It is a Sigstore
bundle of its own (same key, same shape) stored next to the signature, because the OMS bundle format admits no
extra fields (``model_signing`` rejects a bundle with one).

Its subject is the artefact by its plain file SHA-256, which binds it to the OMS signature's resource digest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from governance.errors import CheckFailed
from governance.integrity.findings import ArchiveFinding
from governance.integrity.members import Member
from governance.integrity.paths import manifest_path
from governance.signing import dsse

if TYPE_CHECKING:
    from governance.integrity.archive import ArchiveReport

__all__ = ["PREDICATE_TYPE", "SignedManifest", "diff_members", "manifest_path", "manifest_statement",
           "parse_manifest"]

PREDICATE_TYPE = "https://quickloan-governance.dev/archive-manifest/v1"


def manifest_statement(report: ArchiveReport, *, signed_at: str, signer_identity: str,
                       allow_unsafe: bool = False) -> dict:
    return dsse.statement(
        [{"name": report.name, "digest": {"sha256": report.sha256}}],
        PREDICATE_TYPE,
        {
            "artefact": {"name": report.name, "uri": report.uri, "sha256": report.sha256, "size": report.size},
            "archive": {"format": "tar+gzip", "uncompressed_size": report.uncompressed_size,
                        "read_to_end": report.complete},
            "members": [m.to_dict() for m in report.members],
            "findings": [f.to_dict() for f in report.findings],
            "limits": report.limits.to_dict(),
            "signed_at": signed_at,
            "signer": signer_identity,
            "allow_unsafe": allow_unsafe,
        },
    )


@dataclass
class SignedManifest:
    """What the manifest statement says, after its signature was verified."""

    sha256: str
    size: int
    members: list[Member]
    findings: list[ArchiveFinding]
    signed_at: str | None
    signer: str | None
    allow_unsafe: bool = False
    read_to_end: bool = True
    uri: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def blocking(self) -> list[ArchiveFinding]:
        return [f for f in self.findings if f.blocking]


def parse_manifest(statement: dict) -> SignedManifest:
    try:
        if statement.get("predicateType") != PREDICATE_TYPE:
            kind = statement.get("predicateType")
            raise CheckFailed("SIGNATURE_INVALID", f"the manifest's predicate type is {kind!r}")
        predicate = statement["predicate"]
        artefact = predicate["artefact"]
        subject_sha = statement["subject"][0]["digest"]["sha256"]
        manifest = SignedManifest(
            sha256=str(artefact["sha256"]),
            size=int(artefact["size"]),
            members=[Member.from_dict(m) for m in predicate["members"]],
            findings=[ArchiveFinding.from_dict(f) for f in predicate["findings"]],
            signed_at=predicate.get("signed_at"),
            signer=predicate.get("signer"),
            allow_unsafe=bool(predicate.get("allow_unsafe", False)),
            read_to_end=bool(predicate.get("archive", {}).get("read_to_end", True)),
            uri=artefact.get("uri"),
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        raise CheckFailed("SIGNATURE_INVALID", "the signed manifest is not a readable archive manifest") from None
    if subject_sha != manifest.sha256:
        raise CheckFailed("SIGNATURE_INVALID", "the manifest's subject and artefact digests disagree")
    return manifest


def diff_members(signed: list[Member], current: list[Member]) -> list[dict]:
    """Name what changed between the signed member list and the artefact's current one.

    >>> a = Member("xgboost-model", "file", 3, 0o644, "aa")
    >>> [c["change"] for c in diff_members([a], [Member("xgboost-model", "file", 3, 0o644, "bb")])]
    ['modified']
    >>> [c["change"] for c in diff_members([a], [Member("renamed", "file", 3, 0o644, "aa")])]
    ['renamed']
    """
    changes: list[dict] = []
    before = {m.name: m for m in signed}
    after = {m.name: m for m in current}
    removed = [m for m in signed if m.name not in after]
    added = [m for m in current if m.name not in before]
    for old in list(removed):
        twin = next((new for new in added if new.sha256 == old.sha256 and new.type == old.type), None)
        if twin is not None:
            changes.append({"change": "renamed", "member": old.name, "to": twin.name})
            removed.remove(old)
            added.remove(twin)
    changes += [{"change": "removed", "member": m.name} for m in removed]
    changes += [{"change": "added", "member": m.name} for m in added]
    for name, old in before.items():
        new = after.get(name)
        if new is None or new == old:
            continue
        fields = [f for f in ("type", "size", "mode", "sha256", "linkname") if getattr(old, f) != getattr(new, f)]
        changes.append({"change": "modified", "member": name, "fields": fields,
                        **({"signed_sha256": old.sha256, "sha256": new.sha256} if "sha256" in fields else {})})
    common_signed = [m.name for m in signed if m.name in after]
    common_now = [m.name for m in current if m.name in before]
    if common_signed != common_now:
        changes.append({"change": "reordered", "member": None, "order": common_now})
    signed_counts, current_counts = Counter(m.name for m in signed), Counter(m.name for m in current)
    for name, count in current_counts.items():
        if count != signed_counts.get(name, count):
            changes.append({"change": "duplicated" if count > signed_counts[name] else "deduplicated",
                            "member": name, "count": count, "signed_count": signed_counts[name]})
    return changes
