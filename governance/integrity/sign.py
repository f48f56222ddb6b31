"""Sign an artefact: inspect it (one pass), refuse it if unsafe, then write the OMS signature and the manifest.

>>> from governance.signing import load_signer
>>> result = sign_artefact("model/model.tar.gz", load_signer("keys/signing-key.pem"))
>>> str(result.signature), str(result.manifest)
('model/model.tar.gz.sig', 'model/model.tar.gz.manifest.sig')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from governance import storage
from governance.errors import CheckFailed, InputError
from governance.integrity import oms
from governance.integrity.archive import ArchiveReport, inspect_artefact
from governance.integrity.findings import Limits
from governance.integrity.manifest import PREDICATE_TYPE as MANIFEST_PREDICATE_TYPE
from governance.integrity.manifest import manifest_path, manifest_statement
from governance.integrity.source import Progress, check_readable
from governance.output_guard import guard_output
from governance.signing.signer import Signer


@dataclass
class SignResult:
    artefact: str
    signature: str
    manifest: str
    signed_at: str
    key_hint: str
    identity: str
    allow_unsafe: bool
    report: ArchiveReport

    @property
    def sha256(self) -> str:
        return self.report.sha256

    def registry_metadata(self) -> dict[str, str]:
        """``CustomerMetadataProperties`` for the model package (SageMaker's or the local registry's)."""
        return {"artefact_sha256": self.sha256, "signature_uri": self.signature,
                "manifest_signature_uri": self.manifest, "signer": self.identity,
                "signer_key_hint": self.key_hint, "signed_at": self.signed_at}

    def to_dict(self) -> dict:
        return {
            "artefact": {"uri": self.artefact, "name": self.report.name, "sha256": self.sha256,
                         "size": self.report.size, "oms_subject_digest": oms.subject_digest(self.sha256)},
            "signature": {"uri": self.signature, "format": oms.BUNDLE_MEDIA_TYPE, "predicate_type": oms.PREDICATE_TYPE},
            "manifest": {"uri": self.manifest, "predicate_type": MANIFEST_PREDICATE_TYPE,
                         "members": len(self.report.members)},
            "signer": {"key_hint": self.key_hint, "identity": self.identity, "signed_at": self.signed_at},
            "allow_unsafe": self.allow_unsafe,
            "findings": [f.to_dict() for f in self.report.findings],
            "blocking": [f.code for f in self.report.blocking],
        }


def unsafe_message(report: ArchiveReport) -> str:
    shown = "; ".join(f"{f.code}: {f.message}" for f in report.blocking[:5])
    more = f" (+{len(report.blocking) - 5} more)" if len(report.blocking) > 5 else ""
    return f"{report.uri} is unsafe — {shown}{more}"


def sign_artefact(uri: str | os.PathLike, signer: Signer, out: str | os.PathLike | None = None,
                  allow_unsafe: bool = False, *, limits: Limits | None = None,
                  on_progress: Progress | None = None, signed_at: datetime | None = None) -> SignResult:
    """Write ``out`` (default ``ARTEFACT.sig``, an OMS bundle) and its manifest bundle beside it.

    Raises ``CheckFailed(UNSAFE_ARCHIVE)`` with the blocking findings, writing nothing, unless ``allow_unsafe``;
    then the findings are signed into the manifest, where the deploy gate will see them.
    """
    uri = str(uri)
    check_readable(uri)
    signature = str(out) if out is not None else f"{uri}.sig"
    manifest = manifest_path(signature)
    for target in (signature, manifest):
        _check_output(target, uri)
    report = inspect_artefact(uri, limits=limits, on_progress=on_progress)
    if report.blocking and not allow_unsafe:
        raise CheckFailed("UNSAFE_ARCHIVE", unsafe_message(report) + "; not signed (use --allow-unsafe to sign anyway)",
                          details={"findings": [f.to_dict() for f in report.findings]})
    moment = (signed_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    oms_bundle = oms.sign_bundle(oms.oms_statement(report.name, report.sha256), signer)
    manifest_bundle = oms.sign_bundle(
        manifest_statement(report, signed_at=moment, signer_identity=signer.identity, allow_unsafe=allow_unsafe),
        signer,
    )
    # The manifest first: a signature without its manifest still verifies (by inspecting), never the reverse.
    storage.write_bytes_atomic(manifest, manifest_bundle.to_bytes())
    storage.write_bytes_atomic(signature, oms_bundle.to_bytes())
    return SignResult(uri, signature, manifest, moment, signer.key_hint, signer.identity, allow_unsafe, report)


def _check_output(target: str, artefact: str) -> None:
    """Refuse, before anything is written, a folder, the artefact itself (however spelled), evidence or a key."""
    if not storage.is_s3_uri(target) and Path(target).is_dir():
        raise InputError("BAD_OUTPUT", f"{target}: is a directory; give a file path for the signature")
    guard_output(target, inputs=[artefact], flag="--out")
