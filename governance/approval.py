"""The deployment gate: approve a registered model package only after it verifies, with a named person on record.

A model package is approved only after, in this order:

1. the artefact verifies against the trusted signers (:class:`Trust`) and its sha256 is the one the package was
   registered with;
2. the package's governance verdict (``governance.json``) is signed by that same trusted key, names that same
   artefact, and says PASS — every blocking check (integrity, lineage, fairness, explainability, policy, evidence)
   passed;
3. the evidence still matches: the evidence folder's signed index verifies (an S3 folder is copied to a temporary
   folder to check it), and its evaluation, bias and explainability reports are the ones the verdict names;
4. the independent validation is what the validation policy (``policies/validation.yaml``, ``approval:``) asks:
   by default a ``validation.json`` about this artefact, signed by a key other than the model signer's (and, with
   :attr:`Trust.validator_key`, by that key), with no blocking check failed. The validator re-seals the evidence
   index with its own key, so the index may be sealed by the model signer or by that validator.

Then the approval — who, when, what was checked — is appended to the ledger and the package is set to
``Approved`` (SageMaker ``UpdateModelPackage``, or the local registry). Anything else is refused with
:class:`~governance.errors.CheckFailed` and a reason code, and the refusal is recorded in the ledger too (human
oversight, EU AI Act Art. 14)::

    result = approve("local:model-package/quickloan/1", "Jane Doe", Trust(key="keys/signing-key.pub.pem"))
    result.ledger["seq"]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from governance import hashing, storage
from governance.errors import CheckFailed, GovernanceError, InputError, NotFound
from governance.verdict import EVIDENCE_REPORTS, PASS, REQUIRED_CHECKS, VERDICT_FILE, read_verdict

LOCAL_PREFIX = "local:model-package/"
META_APPROVED_BY = "approved_by"
META_APPROVED_AT = "approved_at"
# A package in one of these statuses has been decided by a person; the gate never decides it again.
DECIDED = ("Approved", "Rejected")


@dataclass
class ApprovalResult:
    """What an approval did: the package, who and when, what was checked, and the ledger record."""

    package: str
    approved_by: str
    approved_at: str
    artefact: dict
    status_before: str
    checks: dict[str, str]
    ledger: dict
    approved: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Candidate:
    """The package under review, from either registry, with the fields the gate reads."""

    arn: str
    kind: str  # "local" | "sagemaker"
    artefact_uri: str
    approval_status: str
    metadata: dict[str, str]
    metrics: dict = field(default_factory=dict)
    source: object = None  # the registry's own record (ModelPackage / SageMakerPackage)
    registry_path: Path | None = None


@dataclass
class Trust:
    """What the gate trusts: exactly one of a public key, a KMS key or a trusted-signers file.

    ``evidence_key`` is the public key that sealed the evidence and signed the verdict, when that duty has its own
    key; without it the artefact's signer must have sealed them too.
    """

    key: str | None = None
    kms_key_id: str | None = None
    trusted: str | None = None
    evidence_key: str | None = None
    validator_key: str | None = None  # pin the independent validator's public key (PEM path)

    def evidence_verifier(self, key_hint: str | None = None):
        if self.evidence_key:
            from governance.signing import load_verifier

            return load_verifier(self.evidence_key)
        return self.verifier(key_hint)

    def verify_arguments(self) -> dict:
        if self.trusted:
            return {"trusted": self.trusted}
        return {"verifier": self.verifier()}

    def verifier(self, key_hint: str | None = None):
        """The verifier for the key that signed the artefact (the verdict must carry the same signer)."""
        if self.key:
            from governance.signing import load_verifier

            return load_verifier(self.key)
        if self.kms_key_id:
            from governance.signing.kms import KmsVerifier

            return KmsVerifier(self.kms_key_id)
        from governance.integrity import TrustPolicy

        candidates = TrustPolicy.load(self.trusted).candidates(key_hint)
        if not candidates:
            raise CheckFailed("UNTRUSTED_SIGNER", f"no key in {self.trusted} has hint {key_hint}")
        return candidates[0].verifier


def _resolve_local_registry(target: str, registry: str | None) -> Path:
    if registry:
        return Path(registry)
    if Path("registry.db").is_file() or target.startswith(LOCAL_PREFIX):
        return Path("registry.db")
    beside = Path(target).resolve().parent.parent / "registry.db"  # the runner's layout: WORKDIR/model/model.tar.gz
    return beside if beside.is_file() else Path("registry.db")


def find_candidate(target: str, registry: str | None = None) -> Candidate:
    """The package ``target`` names: a SageMaker ARN, a local ARN, or an artefact registered locally."""
    from governance.sagemaker_registry import describe_package, is_package_arn

    if is_package_arn(target):
        package = describe_package(target)
        return Candidate(package.arn, "sagemaker", package.artefact_uri, package.approval_status,
                         package.customer_metadata, package.model_metrics, package)
    if target.startswith("arn:"):
        raise InputError("BAD_ARN", f"{target}: not a SageMaker model package version ARN "
                                    "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)")
    from governance.registry import LocalRegistry

    path = _resolve_local_registry(target, registry)
    if not path.is_file():
        raise InputError("REGISTRY_NOT_FOUND", f"{path}: no local model registry (give --registry)")
    local = LocalRegistry(path)
    package = local.get_by_arn(target) if target.startswith(LOCAL_PREFIX) else _package_for_artefact(local, target)
    return Candidate(package.arn, "local", package.artefact_uri, package.approval_status,
                     dict(package.customer_metadata), {"summary": package.metrics}, package, path)


def _package_for_artefact(local, target: str):
    def same(uri: str) -> bool:
        if storage.is_s3_uri(uri) or storage.is_s3_uri(target):
            return uri == target
        return Path(uri).resolve() == Path(target).resolve()

    packages = [p for p in local.list() if same(p.artefact_uri)]
    if not packages and not storage.is_s3_uri(target) and Path(target).is_file():
        from governance.hashing import sha256_file

        digest = sha256_file(target)
        packages = [p for p in local.list() if p.customer_metadata.get("artefact_sha256") == digest]
    if not packages:
        raise InputError("NOT_REGISTERED", f"{target}: no package in {local.path} registers this artefact")
    return max(packages, key=lambda p: (p.created_at, p.version))


def _sibling(uri: str, name: str) -> str:
    return uri.rsplit("/", 1)[0] + "/" + name if "/" in uri else name


def check_verdict(candidate: Candidate, sha256: str, verifier, governance: str | None) -> dict:
    """The signed verdict for this artefact, which must say PASS."""
    location = governance or candidate.metadata.get("governance_uri")
    if not location and candidate.metadata.get("signature_uri"):
        location = _sibling(candidate.metadata["signature_uri"], VERDICT_FILE)
    if not location:
        raise CheckFailed("NO_GOVERNANCE_VERDICT", f"{candidate.arn}: no governance verdict is recorded for it "
                                                   "(governance_uri); it did not go through the govern step")
    try:
        verdict = read_verdict(location, verifier)
    except NotFound:
        raise CheckFailed("NO_GOVERNANCE_VERDICT", f"{location}: the governance verdict is missing") from None
    if verdict.get("artefact", {}).get("sha256") != sha256:
        raise CheckFailed("DIGEST_MISMATCH", f"{location}: the verdict is about another artefact "
                                             f"({str(verdict.get('artefact', {}).get('sha256'))[:16]}…)")
    if verdict.get("status") != PASS:
        raise CheckFailed("GOVERNANCE_FAILED", f"the governance verdict is {verdict.get('status')}: "
                                               f"{verdict.get('summary', '')}")
    statuses = {c.get("name"): c.get("status") for c in verdict.get("checks", []) if isinstance(c, dict)}
    not_passed = [f"{name} {statuses.get(name) or 'absent'}" for name in REQUIRED_CHECKS if statuses.get(name) != PASS]
    if not_passed:
        raise CheckFailed("CHECKS_NOT_RUN", f"{location}: the verdict says PASS but not every blocking check ran and "
                                            f"passed: {', '.join(not_passed)}")
    return verdict


def check_segregation(ledger: str, sha256: str, by: str, allowed: bool = False) -> str:
    """Refuse an approver who also signed the model (by the ledger's ``sign`` records), unless allowed."""
    from governance.ledger import read_records

    try:
        records = read_records(ledger)
    except InputError as err:
        if err.reason != "FILE_NOT_FOUND":
            raise
        records = []
    signers = sorted({str(r.get("actor")) for r in records if r.get("event") == "sign"
                      and (r.get("digests") or {}).get("model.tar.gz") == sha256})
    if not signers:
        return "the model's signer is not on record in the ledger: not checked"
    if by.casefold() in (s.casefold() for s in signers):
        if allowed:
            return f"{by} also signed the model; allowed by the model governance file"
        raise CheckFailed("SELF_APPROVAL", f"{by} signed this model and cannot also approve it (segregation of "
                                           "duties); the model governance file may allow it "
                                           "(oversight.allow_self_approval)")
    return f"approver is not the model's signer ({', '.join(signers)})"


def _verify_sealed_index(folder: Path, verifier, sha256: str | None) -> dict[str, str]:
    """The index sealed by the model signer, or re-sealed by the validator whose signed validation is there."""
    from governance.evidence import verify_index
    from governance.validation_record import validator_verifier

    try:
        return verify_index(folder, verifier)
    except CheckFailed as by_signer:
        validator = validator_verifier(folder, sha256)  # a bad validation is refused for what it is
        if validator is None:
            raise by_signer from None
        return verify_index(folder, validator)


def check_validation(folder: Path, sha256: str, model_signer_hint: str | None, trust: Trust,
                     policy: str | None = None) -> str:
    """The independent validation the policy requires (see the module docstring, step 4)."""
    from governance.signing import load_verifier
    from governance.validation import load_validation_policy, read_validation

    rule = load_validation_policy(policy).approval
    if not rule.require_validation and not (folder / "validation.json").is_file():
        return "no independent validation (not required by the validation policy)"
    document = read_validation(folder, sha256)
    hint = document.get("validator", {}).get("key_hint")
    if rule.independent_signer and (not model_signer_hint or hint == model_signer_hint):
        raise CheckFailed("VALIDATION_NOT_INDEPENDENT", "the validation is signed by the model signer's own key; "
                                                        "the policy requires an independent validator's key")
    if trust.validator_key and hint != load_verifier(trust.validator_key).key_hint:
        raise CheckFailed("UNTRUSTED_VALIDATOR", f"the validation is signed by key {str(hint)[:16]}…, not by the "
                                                 f"validator key given ({trust.validator_key})")
    failed = [c["id"] for c in document.get("checks", []) if c.get("blocking") and c.get("status") != "PASS"]
    if rule.block_on_failed and (document.get("status") != "PASS" or failed):
        raise CheckFailed("VALIDATION_FAILED", f"the independent validation is {document.get('status')}: "
                                               f"{', '.join(failed) or document.get('summary', '')}")
    return (f"independent validation {document.get('status')} by {document.get('validator', {}).get('identity')} "
            f"({document.get('summary', '')})")


def check_evidence(candidate: Candidate, verdict: dict, verifier,
                   on_folder: Callable[[Path], None] | None = None) -> str:
    """The evidence folder's signed index verifies, and the reports are the ones the verdict names.

    An S3 evidence folder is copied to a temporary folder first (plain files, a few MB) and checked the same way;
    ``on_folder`` is then called with the checked folder (the validation check reads it there).
    """
    evidence = candidate.metadata.get("evidence_uri") or verdict.get("customer_metadata", {}).get("evidence_uri")
    if not evidence:
        raise CheckFailed("NO_EVIDENCE", f"{candidate.arn}: no evidence folder is recorded for it")
    with tempfile.TemporaryDirectory(prefix="approve-evidence-") as scratch:
        folder = Path(evidence)
        if storage.is_s3_uri(evidence):
            folder = Path(scratch)
            _copy_s3_folder(evidence, folder)
        files = _verify_sealed_index(folder, verifier, candidate.metadata.get("artefact_sha256"))
        digests = verdict.get("digests", {})
        for key, name in EVIDENCE_REPORTS.items():
            expected = digests.get(key)
            if not expected:
                raise CheckFailed("NO_EVIDENCE", f"the verdict records no digest for {name}")
            actual = f"sha256:{hashing.sha256_file(folder / name)}" if (folder / name).is_file() else None
            if actual != expected:
                raise CheckFailed("DIGEST_MISMATCH", f"{evidence.rstrip('/')}/{name}: not the report the governance "
                                                     f"verdict names ({expected[:23]}…)")
        if on_folder is not None:
            on_folder(folder)
    for kind, report, key in (("ModelQuality", "Statistics", "evaluation"), ("Bias", "Report", "fairness"),
                              ("Explainability", "Report", "explain")):
        registered = candidate.metrics.get(kind, {}).get(report, {}).get("ContentDigest")
        if registered and registered.lower() != digests[key].lower():
            raise CheckFailed("DIGEST_MISMATCH", f"{candidate.arn}: the registered {kind} digest differs from the "
                                                 "verdict's")
    return f"evidence index verified ({len(files)} files); reports match the verdict"


def _copy_s3_folder(uri: str, target: Path) -> None:
    """Copy the ``s3://`` evidence folder into ``target`` (bounded; a key outside it is refused)."""
    try:
        storage.download_folder(uri, target)
    except NotFound:
        raise CheckFailed("NO_EVIDENCE", f"{uri}: the evidence folder is empty or missing") from None
    except InputError as err:
        if err.reason != "UNSAFE_NAME":
            raise
        raise CheckFailed("EVIDENCE_UNSAFE_NAME", err.message) from None


def ledger_location(candidate: Candidate, requested: str | None,
                    fallback: str | Callable[[], str | None] | None = None) -> str:
    """Where the decision is recorded: ``requested``, else the local evidence folder's ledger, else ``fallback``
    (for SageMaker packages, the deployment's ``s3://BUCKET/PREFIX/ledger/``; a callable is asked only then)."""
    if requested:
        return requested
    evidence = candidate.metadata.get("evidence_uri")
    if evidence and not storage.is_s3_uri(evidence):
        return str(Path(evidence) / "ledger.jsonl")
    if callable(fallback):
        fallback = fallback()
    if fallback:
        return fallback
    raise InputError("NO_LEDGER", "where should the approval be recorded? give --ledger (a ledger file or "
                                  "s3://bucket/prefix/ledger/), or set the pipeline settings' bucket")


def _record(location: str, signer, by: str, subject: str, sha256: str | None, details: dict) -> dict:
    from governance.ledger import Ledger

    digests = {"model.tar.gz": sha256} if sha256 else {}
    return Ledger(location, signer).append("approve", actor=by, subject=subject, digests=digests, details=details)


def _record_refusal(location: str | None, signer, by: str, subject: str, sha256: str | None,
                    refusal: GovernanceError, details: dict) -> None:
    """Append a refusal to the ledger; if it cannot be written, the refusal's message says so (it still refuses)."""
    if location is None:
        return
    details = {"outcome": "refused", "reason": refusal.reason, "message": refusal.message[:500], **details}
    try:
        _record(location, signer, by, subject, sha256, details)
    except GovernanceError as err:
        refusal.message += f" (the refusal could not be recorded in {location}: {err.message})"


def _verify(candidate: Candidate, sha256: str | None, trust: Trust, signature: str | None, governance: str | None,
            checks: dict[str, str], progress, segregation=lambda: "not checked",
            validation_policy: str | None = None) -> None:
    """Steps 1–4 of the gate, filling ``checks``; raises on the first that does not hold."""
    if candidate.approval_status in DECIDED:
        raise CheckFailed("ALREADY_DECIDED", f"{candidate.arn} is already {candidate.approval_status}; a decided "
                                             "package is not decided again (register a new version)")
    if not sha256:
        raise CheckFailed("NO_ARTEFACT_DIGEST", f"{candidate.arn}: the package records no artefact_sha256")
    from governance.integrity import verify_artefact

    progress(f"verifying {candidate.artefact_uri}")
    verified = verify_artefact(candidate.artefact_uri, signature or candidate.metadata.get("signature_uri"),
                               **trust.verify_arguments())
    if verified.sha256 != sha256:
        raise CheckFailed("DIGEST_MISMATCH", f"{candidate.artefact_uri} hashes to {str(verified.sha256)[:16]}…, "
                                             f"the package registered {sha256[:16]}…")
    checks["integrity"] = verified.message or "verified"
    checks["segregation"] = segregation()
    verifier = trust.evidence_verifier(verified.key_hint)
    progress("checking the governance verdict")
    verdict = check_verdict(candidate, sha256, verifier, governance)
    checks["governance"] = f"verdict PASS ({verdict.get('summary', '')})"
    progress("checking the evidence and the independent validation")

    def validation(folder: Path) -> None:
        checks["validation"] = check_validation(folder, sha256, verified.key_hint, trust, validation_policy)

    checks["evidence"] = check_evidence(candidate, verdict, verifier, on_folder=validation)


def approve(
    target: str,
    by: str,
    trust: Trust,
    *,
    reason: str = "",
    registry: str | None = None,
    signature: str | None = None,
    governance: str | None = None,
    ledger: str | None = None,
    ledger_signer=None,
    default_ledger: str | Callable[[], str | None] | None = None,
    allow_self_approval: bool = False,
    validation_policy: str | None = None,
    progress=lambda message: None,
) -> ApprovalResult:
    """Verify, check the verdict and the evidence, record, approve.

    Every refusal — a check that does not hold, a malformed verdict, an unreachable store, a package already decided
    — raises its :class:`~governance.errors.GovernanceError` after being appended to the ledger (once the ledger's
    location is known: ``ledger``, or the one the package leads to).
    """
    by = by.strip()
    if len(by) < 2:
        raise InputError("BAD_APPROVER", "--by must name the person who approves (at least two characters)")
    if not (trust.key or trust.kms_key_id or trust.trusted):
        raise InputError("NO_TRUST", "give what to trust: --key PUB, --kms-key-id ID or --trusted FILE")
    try:
        candidate = find_candidate(target, registry)
    except GovernanceError as refusal:
        _record_refusal(ledger, ledger_signer, by, target, None, refusal, {})
        raise
    location = ledger_location(candidate, ledger, default_ledger)
    checks: dict[str, str] = {}
    sha256 = candidate.metadata.get("artefact_sha256")
    try:
        _verify(candidate, sha256, trust, signature, governance, checks, progress,
                segregation=lambda: check_segregation(location, sha256, by, allow_self_approval),
                validation_policy=validation_policy)
    except GovernanceError as refusal:
        _record_refusal(location, ledger_signer, by, candidate.arn, sha256, refusal,
                        {"checks": checks, "status_before": candidate.approval_status})
        raise
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    details = {"outcome": "approved", "reason": reason, "checks": checks, "status_before": candidate.approval_status,
               "approved_at": now}
    record = _record(location, ledger_signer, by, candidate.arn, sha256, details)
    description = f"Approved by {by} at {now} after governance checks passed" + (f": {reason}" if reason else "")
    metadata = {META_APPROVED_BY: by, META_APPROVED_AT: now}
    try:
        _set_approved(candidate, description, metadata)
    except GovernanceError as err:
        try:
            _record(location, ledger_signer, by, candidate.arn, sha256,
                    {"outcome": "not-applied", "reason": err.reason, "message": err.message[:500]})
        except GovernanceError as unrecorded:
            err.message += f" (could not be recorded in {location}: {unrecorded.message})"
        raise
    return ApprovalResult(candidate.arn, by, now, {"uri": candidate.artefact_uri, "sha256": sha256},
                          candidate.approval_status, checks,
                          {"location": location, "seq": record.get("seq"), "hash": record.get("hash")})


def _set_approved(candidate: Candidate, description: str, metadata: dict[str, str]) -> None:
    if candidate.kind == "sagemaker":
        from governance.sagemaker_registry import set_approval

        set_approval(candidate.source, "Approved", description=description, metadata=metadata,
                     expected_status=candidate.approval_status)
        return
    from governance.registry import LocalRegistry

    LocalRegistry(candidate.registry_path).update(
        candidate.source, approval_status="Approved", approved_by=metadata[META_APPROVED_BY],
        approval_description=description, customer_metadata=metadata, expected_status=candidate.approval_status,
    )


__all__ = ["LOCAL_PREFIX", "ApprovalResult", "Candidate", "Trust", "approve", "check_evidence", "check_segregation",
           "check_validation", "check_verdict", "find_candidate", "ledger_location"]
