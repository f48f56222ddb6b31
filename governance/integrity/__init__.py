"""Integrity of model artefacts: inspect, sign and verify a ``model.tar.gz`` (OpenSSF Model Signing format).

Three calls cover it — inspect (nothing extracted), sign (refuses unsafe archives), verify (the deploy gate)::

    from governance.integrity import inspect_artefact, sign_artefact, verify_artefact
    from governance.signing import load_signer, load_verifier

    report = inspect_artefact("model/model.tar.gz")          # or s3://bucket/key
    report.sha256, [f.code for f in report.blocking]

    sign_artefact("model/model.tar.gz", load_signer("keys/signing-key.pem"))
    # → model/model.tar.gz.sig (OMS bundle) + model/model.tar.gz.manifest.sig (per-member manifest)

    result = verify_artefact("model/model.tar.gz", verifier=load_verifier("keys/signing-key.pub.pem"))
    result = verify_artefact("model/model.tar.gz", trusted="trusted-signers.yaml")   # rotation, revocation
    write_manifest_evidence("evidence", result)               # evidence/manifest.json for the audit pack

Failures raise :class:`~governance.errors.CheckFailed` with a reason code: ``DIGEST_MISMATCH``,
``SIGNATURE_INVALID``, ``UNTRUSTED_SIGNER``, ``SIGNER_EXPIRED``, ``SIGNER_REVOKED`` or ``UNSAFE_ARCHIVE``.

Names are imported on first use, so the deploy gate does not pay for the inspector or the trust-file parser
when it needs neither.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ArchiveReport": "archive", "Member": "members", "inspect_artefact": "archive", "inspect_stream": "archive",
    "CODES": "findings", "ArchiveFinding": "findings", "Limits": "findings",
    "SignResult": "sign", "sign_artefact": "sign",
    "digest_artefact": "source",
    "TrustPolicy": "trust",
    "VerifyResult": "verify", "manifest_evidence": "verify", "verify_artefact": "verify",
    "write_manifest_evidence": "verify",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
