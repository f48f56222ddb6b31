"""Verify an artefact — the deploy gate — and describe the result for the evidence folder.

An untouched artefact costs one pass over its bytes: the SHA-256 is computed (while the signatures are checked
on the other core) and compared with the signed one. Only when they differ is the archive walked member by
member, to name what changed. The safety findings come from the signed manifest; for signatures made by other
OMS tools, which carry no manifest, the archive is inspected in that same single pass instead.

>>> from governance.signing import load_verifier
>>> result = verify_artefact("model/model.tar.gz", verifier=load_verifier("keys/signing-key.pub.pem"))
>>> result.passed, result.signer["identity"].startswith("key:sha256:")
(True, True)
>>> data = bytearray(open("model/model.tar.gz", "rb").read())
>>> data[100] ^= 1  # one changed byte
>>> _ = open("model/model.tar.gz", "wb").write(data)
>>> verify_artefact("model/model.tar.gz", verifier=load_verifier("keys/signing-key.pub.pem"))
Traceback (most recent call last):
governance.errors.CheckFailed: model/model.tar.gz: ...
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from governance import storage
from governance.errors import CheckFailed, Incomplete, InputError, NotFound
from governance.integrity.paths import manifest_path, signature_path
from governance.integrity.source import (
    CONCURRENT_CHUNK_SIZE,
    ArtefactDigest,
    Progress,
    check_readable,
    digest_artefact,
    display_name,
)
from governance.jsonio import MAX_BYTES

# Only what the first moments of a verify need is imported here: the digest thread starts before the rest
# (cryptography, the inspector, pydantic) is imported, so their import time overlaps the hashing.
if TYPE_CHECKING:
    from governance.integrity.archive import ArchiveReport
    from governance.integrity.findings import ArchiveFinding, Limits
    from governance.integrity.manifest import SignedManifest
    from governance.integrity.members import Member
    from governance.integrity.oms import Bundle
    from governance.integrity.trust import TrustPolicy
    from governance.signing.signer import Verifier

OMS_BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
OMS_PREDICATE_TYPE = "https://model_signing/signature/v1.0"
EVIDENCE_SCHEMA = "governance.integrity.manifest/v1"
# A signing time this far ahead of the verifier's clock is not believed.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class VerifyResult:
    artefact: str
    signature: str
    manifest: str
    passed: bool = False
    reason: str | None = None
    message: str = ""
    sha256: str | None = None
    expected_sha256: str | None = None
    size: int | None = None
    key_hint: str | None = None
    identity: str | None = None
    trusted_as: str | None = None
    signed_at: str | None = None
    manifest_source: str | None = None  # "signed" | "inspected"
    members: list[Member] = field(default_factory=list)
    findings: list[ArchiveFinding] = field(default_factory=list)
    allow_unsafe: bool = False
    changes: list[dict] = field(default_factory=list)
    s3: dict | None = None
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def blocking(self) -> list[ArchiveFinding]:
        return [f for f in self.findings if f.blocking]

    @property
    def signer(self) -> dict:
        return {"key_hint": self.key_hint, "identity": self.identity, "trusted_as": self.trusted_as,
                "signed_at": self.signed_at}

    def to_dict(self) -> dict:
        return {
            "verified": self.passed,
            "reason": self.reason,
            "message": self.message,
            "artefact": {"uri": self.artefact, "name": display_name(self.artefact), "sha256": self.sha256,
                         "size": self.size, "signed_sha256": self.expected_sha256,
                         "oms_subject_digest": _subject_digest(self.expected_sha256)},
            "signature": {"uri": self.signature, "format": OMS_BUNDLE_MEDIA_TYPE, "predicate_type": OMS_PREDICATE_TYPE,
                          "manifest_uri": self.manifest if self.manifest_source == "signed" else None,
                          "manifest_predicate_type": _manifest_type() if self.manifest_source == "signed" else None},
            "signer": self.signer,
            "manifest": {"source": self.manifest_source, "allow_unsafe": self.allow_unsafe,
                         "blocking": [f.code for f in self.blocking], "findings": [f.to_dict() for f in self.findings],
                         "members": [m.to_dict() for m in self.members]},
            "changes": self.changes,
            **({"s3": self.s3} if self.s3 else {}),
            "checked_at": self.checked_at,
        }


def _subject_digest(sha256: str | None) -> str | None:
    import hashlib

    return hashlib.sha256(bytes.fromhex(sha256)).hexdigest() if sha256 else None


def _manifest_type() -> str:
    from governance.integrity.manifest import PREDICATE_TYPE

    return PREDICATE_TYPE


def _read(uri: str, *, required: bool) -> bytes | None:
    try:
        return storage.read_bytes(uri, max_bytes=MAX_BYTES)  # a bundle is a few KB; /dev/zero is refused
    except NotFound:
        if not required:
            return None
        raise NotFound("SIGNATURE_NOT_FOUND", f"{uri}: no signature (sign the artefact, or pass --signature)") \
            from None


class _Digest(threading.Thread):
    """The one pass over the artefact, run beside the signature checks (hashlib and reads release the GIL)."""

    def __init__(self, uri: str, on_progress: Progress | None) -> None:
        super().__init__(name="artefact-digest", daemon=True)
        self.uri, self.on_progress = uri, on_progress
        self.cancel = threading.Event()
        self.result: ArtefactDigest | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = digest_artefact(self.uri, on_progress=self.on_progress, cancel=self.cancel,
                                          chunk_size=CONCURRENT_CHUNK_SIZE)
        except BaseException as err:  # handed to the caller by value()
            self.error = err

    def value(self) -> ArtefactDigest:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def verify_artefact(
    uri: str | os.PathLike,
    signature: str | os.PathLike | None = None,
    *,
    verifier: Verifier | str | os.PathLike | None = None,
    trusted: TrustPolicy | str | os.PathLike | None = None,
    allow_unsafe: bool = False,
    at: datetime | None = None,
    raise_on_failure: bool = True,
    limits: Limits | None = None,
    on_progress: Progress | None = None,
) -> VerifyResult:
    """Check digest, signature, signer and signed safety findings; raise ``CheckFailed`` naming the reason.

    Give exactly one of ``verifier`` (a public key, or the path of a PEM public key) or ``trusted`` (a
    trusted-signers file or policy). With ``raise_on_failure=False`` a failed check comes back as a result
    with ``passed=False`` and its reason (bad input and incomplete checks still raise: they are not verdicts).
    """
    if (verifier is None) == (trusted is None):
        raise InputError("BAD_CALL", "give exactly one of a public key (--key) or a trusted-signers file (--trusted)")
    uri = str(uri)
    check_readable(uri)
    policy = None
    if trusted is not None:
        from governance.integrity.trust import TrustPolicy  # pydantic: imported only when a trust file is used

        policy = trusted if isinstance(trusted, TrustPolicy) else TrustPolicy.load(trusted)
    signature_uri = str(signature) if signature is not None else signature_path(uri)
    result = VerifyResult(uri, signature_uri, manifest_path(signature_uri), allow_unsafe=allow_unsafe)
    try:
        _verify(result, verifier, policy, at or datetime.now(UTC), limits, on_progress)
        result.passed, result.message = True, _passed_message(result)
    except CheckFailed as failure:
        result.passed, result.reason, result.message = False, failure.reason, failure.message
        if raise_on_failure:
            raise CheckFailed(failure.reason, failure.message, details=result.to_dict()) from None
    return result


def _passed_message(result: VerifyResult) -> str:
    who = result.trusted_as or result.identity
    note = f"; {len(result.blocking)} blocking finding(s) allowed" if result.blocking else ""
    return f"{display_name(result.artefact)} verified: sha256 {result.sha256} signed by {who}{note}"


def _verify(result: VerifyResult, verifier: Verifier | str | os.PathLike | None, policy: TrustPolicy | None,
            now: datetime, limits: Limits | None, on_progress: Progress | None) -> None:
    signature_bytes = _read(result.signature, required=True)
    manifest_bytes = _read(result.manifest, required=False)
    # Hash while the signatures are checked; with no signed manifest the archive is inspected in the pass instead.
    digest = _Digest(result.artefact, on_progress) if manifest_bytes is not None else None
    if digest is not None:
        digest.start()
    try:
        from governance.integrity import oms

        if verifier is not None and not hasattr(verifier, "verify"):
            from governance.signing.signer import load_verifier

            verifier = load_verifier(verifier)
        bundle = oms.parse_bundle(signature_bytes, result.signature)
        manifest_bundle = oms.parse_bundle(manifest_bytes, result.manifest) if manifest_bytes is not None else None
        key, statement, trusted_entry = _open(bundle, verifier, policy)
        result.key_hint, result.identity = key.key_hint, getattr(key, "identity", f"key:sha256:{key.key_hint}")
        result.expected_sha256 = oms.file_digest(statement)
        manifest = _open_manifest(manifest_bundle, bundle, key, result) if manifest_bundle is not None else None
        signed_at = _signing_time(manifest, now)
        if manifest is not None:
            # Signed by the same key: the key holder's own name for it (a KMS key ARN, say).
            result.signed_at, result.identity = manifest.signed_at, manifest.signer or result.identity
        if trusted_entry is not None and trusted_entry.kms_key_arn:
            result.identity = trusted_entry.kms_key_arn  # the trust file's name for the key is authoritative
        if policy is not None:
            result.trusted_as = policy.admit(key.key_hint, result.artefact, signed_at).name
    except BaseException:
        if digest is not None:
            digest.cancel.set()
            digest.join()
        raise
    if manifest is not None and digest is not None:
        measured = digest.value()
        result.sha256, result.size, result.s3 = measured.sha256, measured.size, measured.s3
        result.manifest_source, result.members, result.findings = "signed", manifest.members, manifest.findings
        if measured.sha256 != result.expected_sha256:
            from governance.integrity.archive import inspect_artefact

            current = inspect_artefact(result.artefact, limits=limits)
            result.changes = _changes(manifest.members, current)
    else:
        from governance.integrity.archive import inspect_artefact

        report = inspect_artefact(result.artefact, limits=limits, on_progress=on_progress)
        result.sha256, result.size, result.s3 = report.sha256, report.size, report.s3
        result.manifest_source, result.members, result.findings = "inspected", report.members, report.findings
    if result.sha256 != result.expected_sha256:
        named = ", ".join(_describe(c) for c in result.changes[:5]) or "no signed manifest to name members"
        raise CheckFailed("DIGEST_MISMATCH", f"{result.artefact}: sha256 {result.sha256} is not the signed "
                                             f"{result.expected_sha256} ({named})")
    if result.blocking and not result.allow_unsafe:
        codes = ", ".join(sorted({f.code for f in result.blocking}))
        source = "its signed manifest" if result.manifest_source == "signed" else "inspection"
        raise CheckFailed("UNSAFE_ARCHIVE", f"{result.artefact}: blocking safety findings in {source}: {codes}")


def _open(bundle: Bundle, verifier: Verifier | None, policy: TrustPolicy | None):
    """``(verifier that opened it, statement, trusted entry)``; raises with the right reason otherwise."""
    if verifier is not None:
        if bundle.key_hint and bundle.key_hint != verifier.key_hint:
            raise CheckFailed("SIGNATURE_INVALID", f"signed by another key (hint {bundle.key_hint[:16]}…), not the "
                                                   f"given key ({verifier.key_hint[:16]}…)")
        return verifier, bundle.open(verifier), None
    assert policy is not None
    candidates = policy.candidates(bundle.key_hint)
    if not candidates:
        revoked = policy.revoked().get(bundle.key_hint or "")
        if revoked:
            raise CheckFailed("SIGNER_REVOKED", f"the signing key ({', '.join(revoked)}) is revoked in {policy.source}")
        hint = (bundle.key_hint or "(none)")[:16]
        raise CheckFailed("UNTRUSTED_SIGNER", f"the signing key {hint}… is not in {policy.source}")
    failure: CheckFailed | None = None
    for candidate in candidates:
        try:
            return candidate.verifier, bundle.open(candidate.verifier), candidate.signer
        except CheckFailed as err:
            failure = err
    assert failure is not None
    raise failure


def _open_manifest(manifest_bundle: Bundle, bundle: Bundle, key: Verifier, result: VerifyResult) -> SignedManifest:
    from governance.integrity.manifest import parse_manifest

    if manifest_bundle.key_hint and manifest_bundle.key_hint != key.key_hint:
        raise CheckFailed("SIGNATURE_INVALID", f"{result.manifest} is signed by another key than the signature")
    try:
        manifest = parse_manifest(manifest_bundle.open(key))
    except CheckFailed as err:
        raise CheckFailed(err.reason, f"{result.manifest}: {err.message}") from None
    if manifest.sha256 != result.expected_sha256:
        raise CheckFailed("SIGNATURE_INVALID", f"{result.manifest} describes another artefact than {result.signature}")
    return manifest


def _signing_time(manifest: SignedManifest | None, now: datetime) -> datetime:
    """The signed time from the manifest, or — for OMS signatures that carry none — the time of verification."""
    if manifest is None or not manifest.signed_at:
        return now
    try:
        moment = datetime.fromisoformat(manifest.signed_at)
    except ValueError:
        raise CheckFailed("SIGNATURE_INVALID", f"the signed time {manifest.signed_at!r} is not a timestamp") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now + CLOCK_SKEW:
        raise CheckFailed("SIGNER_EXPIRED", f"signed at {moment.isoformat()}, which is in the future")
    return moment


def _changes(signed: list[Member], current: ArchiveReport) -> list[dict]:
    from governance.integrity.manifest import diff_members

    changes = diff_members(signed, current.members)
    if not current.complete:
        # Members after the point where the archive stops being readable were not seen, not removed.
        for change in changes:
            if change["change"] == "removed":
                change.update(change="unreadable", detail="not reached: the archive cannot be read up to it")
    broken = [f for f in current.findings if f.code in {"CORRUPT_ARCHIVE", "TRUNCATED_ARCHIVE", "TRAILING_DATA",
                                                        "TOO_LARGE", "COMPRESSION_RATIO", "TOO_MANY_MEMBERS"}]
    for finding in broken:
        changes.append({"change": "archive", "member": finding.member, "reason": finding.code,
                        "detail": finding.message})
    if not changes:
        changes.append({"change": "container", "member": None,
                        "detail": "every member is as signed; the gzip container bytes differ (header, trailer or "
                                  "padding)"})
    return changes


def _describe(change: dict) -> str:
    kind, member = change["change"], change.get("member")
    if kind == "renamed":
        return f"{member} renamed to {change['to']}"
    if kind == "modified":
        return f"{member} modified ({', '.join(change['fields'])})"
    if kind in {"archive", "container"}:
        return change["detail"]
    if kind == "unreadable":
        return f"{member} unreadable"
    if kind == "reordered":
        return "members reordered"
    return f"{member} {kind}"


def manifest_evidence(result: VerifyResult) -> dict:
    """The ``evidence/manifest.json`` document: what was signed, by whom, and what verifying it found.

    >>> evidence = manifest_evidence(VerifyResult("m.tar.gz", "m.tar.gz.sig", "m.tar.gz.manifest.sig"))
    >>> evidence["schema"], evidence["verification"]["verified"]
    ('governance.integrity.manifest/v1', False)
    """
    data = result.to_dict()
    return {
        "schema": EVIDENCE_SCHEMA,
        "artefact": {**data["artefact"], "code_members": [m.name for m in result.members
                                                          if m.name.lstrip("./").startswith("code/")]},
        "members": data["manifest"]["members"],
        "findings": data["manifest"]["findings"],
        "blocking": data["manifest"]["blocking"],
        "manifest_source": result.manifest_source,
        "signature": {**data["signature"], "signature_sha256": _sha256_of(result.signature),
                      "manifest_sha256": _sha256_of(result.manifest) if result.manifest_source == "signed" else None},
        "signer": data["signer"],
        "verification": {"verified": result.passed, "reason": result.reason, "message": result.message,
                         "changes": result.changes, "allow_unsafe": result.allow_unsafe,
                         "checked_at": result.checked_at, **({"s3": result.s3} if result.s3 else {})},
    }


def write_manifest_evidence(evidence_dir: str | os.PathLike, result: VerifyResult) -> Path:
    """Write :func:`manifest_evidence` to ``EVIDENCE_DIR/manifest.json`` (atomically)."""
    from governance.jsonio import write_json

    return Path(write_json(Path(evidence_dir) / "manifest.json", manifest_evidence(result)))


def _sha256_of(uri: str) -> str | None:
    from governance.hashing import sha256_bytes

    try:
        return sha256_bytes(storage.read_bytes(uri))
    except (InputError, Incomplete):
        return None
