"""A model artefact (``model.tar.gz``, local or on S3): signature, digest, archive safety, pickles, lineage.

The facts come from the integrity and lineage packages — the same code behind ``governance inspect``,
``governance verify`` and ``governance lineage verify`` — so a scan and those commands agree. This collector
only arranges their answers as evidence:

* ``archive``/``pickle``: one inspection of the bytes (nothing extracted, nothing unpickled);
* ``signature``/``digest``: verification against the trusted signers (policy parameter ``trusted_signer_keys``:
  PEM public keys, KMS key ARNs (their public key, read once through ``kms:GetPublicKey``), or a
  trusted-signers YAML file with validity windows and revocations). With no trusted
  signer configured the signature cannot be checked: ``signature.trusted`` is false and the digest is
  undecided (ERROR), never assumed;
* ``lineage``: the signed provenance statements of the run's evidence folder must hold every step and every
  link, and the trained model's digest must be this artefact's. The folder is the parameter ``evidence_dir``,
  else found where the pipeline writes it: ``../evidence`` beside a local artefact's folder; for an ``s3://``
  artefact the nearest ancestor prefix holding ``govern/evidence/provenance/`` (the SageMaker pipeline's
  ``executions/<id>/`` layout) or ``evidence/provenance/`` (read into a temporary folder, nothing executed).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from governance.errors import GovernanceError
from governance.policy.collectors.base import (
    Collector,
    Evidence,
    EvidenceUnavailable,
    ResourceRef,
    ScanContext,
    register,
)
from governance.policy.stack_parameters import is_kms_key_reference
from governance.storage import is_s3_uri

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".npy")
_TRUST_FILE_SUFFIXES = (".yaml", ".yml")
# verify_artefact's failure reasons that say the signature itself did not check out with any trusted key.
_INVALID = {"SIGNATURE_INVALID", "MALFORMED_SIGNATURE", "MALFORMED_BUNDLE", "MALFORMED_ENVELOPE"}
_UNTRUSTED = {"UNTRUSTED_SIGNER", "SIGNER_EXPIRED", "SIGNER_REVOKED", "SIGNER_NOT_ALLOWED"}


def _integrity():
    try:
        from governance import integrity

        integrity.inspect_artefact  # noqa: B018 - resolve the lazy names now, so a missing module is reported here
        integrity.verify_artefact  # noqa: B018
    except (ImportError, AttributeError) as err:
        raise EvidenceUnavailable(f"the integrity package is not available ({err})") from None
    return integrity


def _verifier_option(entry: str) -> dict[str, Any]:
    """How :func:`verify_artefact` takes one trusted signer: a trust file, a KMS key, or a PEM public key."""
    if entry.endswith(_TRUST_FILE_SUFFIXES):
        return {"trusted": entry}
    if is_kms_key_reference(entry):
        return {"verifier": _kms_verifier(entry)}
    return {"verifier": entry}


def _kms_verifier(key: str):
    from governance.signing.kms import KmsVerifier

    try:
        return KmsVerifier(key)
    except GovernanceError as err:
        raise EvidenceUnavailable(f"the public key of trusted signer {key} could not be read: {err.reason}: "
                                  f"{err.message}") from None


def _trusted(parameters: Mapping[str, Any]) -> list[str]:
    value = parameters.get("trusted_signer_keys") or []
    return [str(v) for v in ([value] if isinstance(value, str) else value)]


def _verify_with_trusted(uri: str, signature: str | None, trusted: Sequence[str]) -> tuple[Any, str | None]:
    """``(VerifyResult, key that verified it)`` trying each trusted signer; the most telling failure otherwise."""
    integrity = _integrity()
    results = []
    for entry in trusted:
        try:
            option = _verifier_option(entry)
            result = integrity.verify_artefact(uri, signature, raise_on_failure=False, **option)
        except GovernanceError as err:
            if err.reason == "SIGNATURE_NOT_FOUND":
                raise
            raise EvidenceUnavailable(f"verification could not run with {entry}: {err.reason}: {err.message}") \
                from None
        if result.passed:
            return result, entry
        results.append((result, entry))
    # A signature no trusted key opens says little; one that opened and then failed (digest, safety, validity
    # window) says exactly what is wrong, so prefer that one.
    results.sort(key=lambda pair: pair[0].reason in _INVALID)
    return results[0] if results else (None, None)


def verification_evidence(uri: str, signature: str | None, parameters: Mapping[str, Any]) -> tuple[dict, dict, Any]:
    """``(signature section, digest section, key that verified)`` for one artefact."""
    trusted = _trusted(parameters)
    signature_uri = signature or f"{uri}.sig"
    if not trusted:
        raise EvidenceUnavailable("no trusted signer configured (policy parameter trusted_signer_keys): the "
                                  "signature and the signed digest cannot be checked")
    try:
        result, key = _verify_with_trusted(uri, signature, trusted)
    except GovernanceError as err:  # SIGNATURE_NOT_FOUND
        return ({"present": False, "uri": signature_uri, "valid": False, "trusted": False, "signer": None,
                 "reason": err.reason},
                {"expected": None, "actual": None, "matches": False, "source": "no signature"}, None)
    reason = None if result.passed else result.reason
    opened = result.expected_sha256 is not None
    signature_section = {
        "present": True,
        "uri": result.signature,
        "valid": bool(opened and reason not in _INVALID),
        "trusted": bool(opened and reason not in _INVALID | _UNTRUSTED),
        "signer": result.trusted_as or result.identity,
        "reason": reason,
    }
    matches = None if not (opened and result.sha256) else result.sha256 == result.expected_sha256
    digest_section = {"expected": result.expected_sha256, "actual": result.sha256, "matches": matches,
                      "source": "signed digest (OMS bundle)"}
    return signature_section, digest_section, key


def verify_registered(uri: str | None, signature_uri: str | None, sha256: str | None,
                      parameters: Mapping[str, Any]) -> dict[str, Any]:
    """For a registered model package: does its artefact verify, and is it the digest that was registered?"""
    if not uri:
        return {"verified": False, "checked": True, "reason": "the package names no artefact", "signer": None}
    signature_section, digest_section, _ = verification_evidence(uri, signature_uri, parameters)
    registered_ok = sha256 is None or digest_section["actual"] in (None, sha256)
    verified = bool(signature_section["trusted"] and digest_section["matches"] and registered_ok)
    mismatch = None if registered_ok else f"artefact sha256 {digest_section['actual']} is not the registered {sha256}"
    reason = signature_section["reason"] or mismatch
    return {"verified": verified, "checked": True, "reason": reason, "signer": signature_section["signer"]}


def _inspection(uri: str) -> tuple[dict, dict, str]:
    report = _integrity().inspect_artefact(uri)
    codes = sorted({f.code for f in report.blocking})
    pickled = sorted({f.member or "?" for f in report.findings if f.code == "PICKLE_DATA"}
                     | {m.name for m in report.members if m.name.lower().endswith(PICKLE_SUFFIXES)})
    archive = {"safe": report.safe, "members": len(report.members), "blocking": codes}
    return archive, {"present": bool(pickled), "members": pickled}, report.sha256


# Where the pipeline publishes a run's evidence, relative to an ancestor of the artefact's key, nearest first.
S3_EVIDENCE_LAYOUTS = ("govern/evidence/", "evidence/")


def s3_evidence_prefix(uri: str) -> str | None:
    """The ``s3://`` evidence folder of an ``s3://`` artefact, found the way the pipeline laid it out, or None."""
    from botocore.exceptions import BotoCoreError, ClientError

    from governance.storage import aws_error, parse_s3_uri, s3_client

    location = parse_s3_uri(uri)
    client = s3_client()
    parts = location.key.split("/")[:-1]
    for depth in range(len(parts), -1, -1):
        base = "".join(f"{part}/" for part in parts[:depth])
        for layout in S3_EVIDENCE_LAYOUTS:
            prefix = f"{base}{layout}"
            try:
                listed = client.list_objects_v2(Bucket=location.bucket, Prefix=f"{prefix}provenance/", MaxKeys=1)
            except (BotoCoreError, ClientError) as err:
                raise EvidenceUnavailable(f"s3://{location.bucket}/{prefix}: {aws_error(err, 'ListObjectsV2')}") \
                    from None
            if listed.get("KeyCount", 0):
                return f"s3://{location.bucket}/{prefix}"
    return None


def _download_evidence(prefix_uri: str, into: Path) -> Path:
    """Copy an ``s3://`` evidence folder to ``into`` (bounded; keys must stay inside it)."""
    from governance.storage import download_folder

    try:
        download_folder(prefix_uri, into)
    except GovernanceError as err:
        raise EvidenceUnavailable(f"{prefix_uri}: {err.reason}: {err.message}") from None
    return into.resolve()


def _evidence_dir(uri: str, parameters: Mapping[str, Any], scratch: Path) -> tuple[Path, str]:
    """``(local folder to check, where the evidence is, as shown in findings)``."""
    configured = parameters.get("evidence_dir")
    if configured:
        return Path(configured), str(configured)
    if is_s3_uri(uri):
        prefix = s3_evidence_prefix(uri)
        if prefix is None:
            raise EvidenceUnavailable(f"no evidence folder found for {uri} (looked for govern/evidence/provenance/ "
                                      "and evidence/provenance/ under each parent prefix; set the policy parameter "
                                      "evidence_dir)")
        return _download_evidence(prefix, scratch), prefix
    beside = Path(uri).absolute().parent.parent / "evidence"
    if (beside / "provenance").is_dir():
        return beside, str(beside)
    raise EvidenceUnavailable(f"no lineage evidence found for {uri} (looked in {beside}/provenance; set the "
                              "policy parameter evidence_dir)")


_INDEX_FILES = ("index.json", "index.json.sig")


def _validator_anchor(root: Path, sha256: str | None):
    """The key of the validator whose signed validation of this artefact is in the folder, else None (a validation
    that does not verify anchors nothing: the index problem then stands)."""
    from governance.errors import CheckFailed
    from governance.validation_record import validator_verifier

    try:
        return validator_verifier(root, sha256)
    except CheckFailed:
        return None


def _lineage(uri: str, sha256: str | None, key: str | None, parameters: Mapping[str, Any]) -> dict:
    try:
        from governance.lineage import check_lineage
        from governance.lineage.chain import sha256_of
        from governance.signing import load_verifier
    except ImportError as err:
        raise EvidenceUnavailable(f"the lineage package is not available ({err})") from None
    pems = [k for k in _trusted(parameters) if not k.endswith(_TRUST_FILE_SUFFIXES)]
    key = key if key and not key.endswith(_TRUST_FILE_SUFFIXES) else (pems[0] if pems else None)
    sealers = _trusted({"trusted_signer_keys": parameters.get("lineage_signer_keys")})
    if sealers:  # provenance sealed by its own key (segregation of duties): check it with that key
        key = sealers[0]
    if key is None:
        raise EvidenceUnavailable("no trusted public key to check the lineage signatures with (trusted_signer_keys)")
    verifier = _kms_verifier(key) if is_kms_key_reference(key) else load_verifier(key)
    with tempfile.TemporaryDirectory(prefix="scan-evidence-") as scratch:
        root, shown = _evidence_dir(uri, parameters, Path(scratch))
        try:
            report = check_lineage(root, verifier, check_files=False)
            anchor = _validator_anchor(root, sha256) if any(p.path in _INDEX_FILES for p in report.problems) else None
            if anchor is not None:  # the independent validator re-sealed the index; the statements are still checked
                report = check_lineage(root, verifier, check_files=False, anchor_verifier=anchor)
        except GovernanceError as err:
            raise EvidenceUnavailable(f"lineage could not be read from {shown}: {err.reason}: {err.message}") \
                from None
        unsealed = not (root / "index.json").exists()
    # The scan runs before the evidence folder is sealed: an index that does not exist yet is not a gap.
    missing = [f"{p.reason}: {p.message}" for p in report.problems
               if not (unsealed and p.path in _INDEX_FILES)]
    trainer = report.chain.producer_of("model")
    model_digest = sha256_of(trainer.subject("model")) if trainer else None
    if trainer is not None and sha256 and model_digest != sha256:
        missing.append(f"MODEL_NOT_IN_CHAIN: the trained model's digest {model_digest} is not this artefact's")
    return {"complete": not missing, "missing": missing,
            "reason": None if not missing else missing[0], "evidence_dir": shown}


@register
class ArtefactCollector(Collector):
    resource_type = "artefact"
    description = "A model archive: signature by a trusted signer, digest, archive safety, pickles, lineage."
    shape: ClassVar[dict[str, Any]] = {
        "uri": str,
        "sha256": str,
        "signature": {"present": bool, "uri": str, "valid": bool, "trusted": bool, "signer": str, "reason": str},
        "digest": {"expected": str, "actual": str, "matches": bool, "source": str},
        "archive": {"safe": bool, "members": int, "blocking": [str]},
        "pickle": {"present": bool, "members": [str]},
        "lineage": {"complete": bool, "missing": [str], "reason": str, "evidence_dir": str},
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        uri = ref.id
        evidence = Evidence(data={"uri": uri, "sha256": None})
        inspected: dict[str, Any] = {}

        def inspect() -> dict:
            evidence.calls.append("integrity:inspect_artefact")
            archive, pickle, sha256 = _inspection(uri)
            inspected.update(pickle=pickle, sha256=sha256)
            evidence.data["sha256"] = sha256
            return archive

        evidence.section("archive", inspect)
        if "archive" in evidence.errors:
            evidence.data["pickle"] = None
            evidence.errors["pickle"] = evidence.errors["archive"]
        else:
            evidence.data["pickle"] = inspected["pickle"]
        verified: dict[str, Any] = {}

        def verify() -> dict:
            evidence.calls.append("integrity:verify_artefact")
            signature, digest, key = verification_evidence(uri, None, ctx.parameters)
            verified.update(digest=digest, key=key)
            return signature

        evidence.section("signature", verify)
        if "signature" in evidence.errors:
            evidence.data["digest"] = None
            evidence.errors["digest"] = evidence.errors["signature"]
        elif verified["digest"]["matches"] is None:
            evidence.data["digest"] = verified["digest"]
            evidence.errors["digest"] = ("the signed digest is unknown: no trusted signer opened the signature "
                                         f"({evidence.data['signature']['reason']})")
        else:
            evidence.data["digest"] = verified["digest"]
        evidence.section("lineage", lambda: _lineage(uri, inspected.get("sha256"), verified.get("key"),
                                                     ctx.parameters))
        return evidence
