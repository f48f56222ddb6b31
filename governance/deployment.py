"""The deploy gate: a SageMaker endpoint serves a model package only when it is approved, verified and on record.

    from governance.approval import Trust
    from governance.deployment import CaptureSettings, deploy
    result = deploy("arn:aws:sagemaker:eu-west-1:123456789012:model-package/quickloan/3", "quickloan-prod",
                    Trust(key="keys/signing-key.pub.pem"),
                    CaptureSettings("s3://quickloan-artefacts/quickloan/datacapture", "alias/quickloan-artefacts"),
                    role_arn="arn:aws:iam::123456789012:role/quickloan-endpoint", ledger="s3://…/ledger/")

Refused (:class:`~governance.errors.CheckFailed`, and the refusal recorded in the ledger) unless, in order:

1. the package's status is ``Approved``;
2. its artefact verifies against the trusted signers and hashes to the sha256 it was registered with;
3. the ledger — whose whole chain must verify — holds the approval of this package for this artefact.

Then the SageMaker model is created from the package itself (``Containers=[{"ModelPackageName": ARN}]``, so the
endpoint runs the inference container the package was registered with), an endpoint configuration with Data
Capture of inputs and outputs into the governed bucket under the KMS key, and the endpoint (updated when it
exists). The deployment — package, artefact digest, endpoint, capture settings — is appended to the ledger. When a
SageMaker call fails, what this run created is deleted again and nothing is recorded (exit 3).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from governance import storage
from governance.approval import Candidate, Trust, find_candidate, ledger_location
from governance.errors import CheckFailed, GovernanceError, InputError

DEPLOY_EVENT = "deploy"
DEPLOYMENT_FILE = "deployment.json"
PREDICATE_TYPE = "https://quickloan-governance.dev/deployment/v1"
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's endpoint and model names


@dataclass(frozen=True)
class CaptureSettings:
    """Data Capture of every request and response (sampled) into the governed bucket, encrypted with KMS."""

    destination: str
    kms_key_id: str
    sampling_percentage: int = 100

    def validate(self) -> None:
        if not storage.is_s3_uri(self.destination):
            raise InputError("BAD_CAPTURE_URI", f"{self.destination}: Data Capture needs an s3:// destination")
        if not self.kms_key_id:
            raise InputError("NO_KMS_KEY", "Data Capture must be encrypted: give the KMS key (--kms-key-id)")
        if not 1 <= self.sampling_percentage <= 100:
            raise InputError("BAD_PARAMETER", f"--sampling-percentage must be 1..100, got {self.sampling_percentage}")

    def config(self) -> dict:
        return {
            "EnableCapture": True,
            "InitialSamplingPercentage": self.sampling_percentage,
            "DestinationS3Uri": self.destination,
            "KmsKeyId": self.kms_key_id,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            # CSV in, CSV out: what `governance monitor` reads back (JSON payloads would be base64'd opaquely).
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        }


@dataclass
class DeployResult:
    package: str
    endpoint: str
    endpoint_config: str
    model: str
    artefact: dict
    data_capture: dict
    checks: dict
    ledger: dict
    policy: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def approval_on_record(location: str, candidate: Candidate, sha256: str, verifier=None) -> dict:
    """The last approval of this package for this artefact in a ledger whose chain verifies; else ``CheckFailed``."""
    from governance.ledger import read_verified_records

    records = read_verified_records(location, verifier)
    approvals = [r for r in records if r.get("event") == "approve" and r.get("subject") == candidate.arn]
    if not approvals or (approvals[-1].get("details") or {}).get("outcome") != "approved":
        raise CheckFailed("NO_APPROVAL_RECORD", f"{location}: no approval of {candidate.arn} on record"
                          + (" (its last decision there is a refusal)" if approvals else ""))
    record = approvals[-1]
    if (record.get("digests") or {}).get("model.tar.gz") != sha256:
        raise CheckFailed("NO_APPROVAL_RECORD", f"{location}: the approval on record (seq {record.get('seq')}) is "
                                                "for another artefact")
    return record


def _names(endpoint: str, candidate: Candidate, sha256: str) -> tuple[str, str]:
    version = candidate.arn.rsplit("/", 1)[-1]
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    model = f"{endpoint[:30]}-v{version}-{sha256[:8]}-{stamp}"
    return model[:63], f"{model[:55]}-config"[:63]


def _create(candidate: Candidate, endpoint: str, capture: CaptureSettings, role_arn: str, instance_type: str,
            instance_count: int, sha256: str) -> tuple[str, str, str]:
    """Model, endpoint configuration, then the endpoint (created, or updated when it exists). On any failure what
    this run created is deleted again, newest first, so a failed deploy leaves no half-made version behind; what
    existed before (the endpoint being updated, the configuration it serves) is never touched."""
    from botocore.exceptions import BotoCoreError, ClientError

    from governance.sagemaker_registry import sagemaker_client

    client = sagemaker_client(candidate.arn.split(":")[3] or None)
    model, config = _names(endpoint, candidate, sha256)
    tags = [{"Key": "governance:model-package", "Value": candidate.arn[:256]},
            {"Key": "governance:artefact-sha256", "Value": sha256}]
    created: list[tuple[str, str]] = []  # (kind, name) in creation order
    try:
        client.create_model(ModelName=model, ExecutionRoleArn=role_arn,
                            Containers=[{"ModelPackageName": candidate.arn}], Tags=tags)
        created.append(("model", model))
        client.create_endpoint_config(
            EndpointConfigName=config, KmsKeyId=capture.kms_key_id, DataCaptureConfig=capture.config(), Tags=tags,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": model, "InstanceType": instance_type,
                                 "InitialInstanceCount": instance_count}])
        created.append(("endpoint config", config))
        existing = {e["EndpointName"] for e in client.list_endpoints(NameContains=endpoint).get("Endpoints", [])}
        if endpoint in existing:
            client.update_endpoint(EndpointName=endpoint, EndpointConfigName=config)
        else:
            client.create_endpoint(EndpointName=endpoint, EndpointConfigName=config, Tags=tags)
            created.append(("endpoint", endpoint))
        return model, config, client.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    except (ClientError, BotoCoreError) as err:
        error = storage.aws_error(err, f"deploying {candidate.arn} to {endpoint}")
        raise type(error)(error.reason, error.message + _undo(client, created)) from None


_DELETE = {"model": ("delete_model", "ModelName"), "endpoint config": ("delete_endpoint_config", "EndpointConfigName"),
           "endpoint": ("delete_endpoint", "EndpointName")}


def _undo(client, created: list[tuple[str, str]]) -> str:
    """Delete what a failed deploy created (newest first); the sentence that says what was removed and what, if a
    delete failed too, is left for the operator to remove."""
    from botocore.exceptions import BotoCoreError, ClientError

    removed, gone, left = [], [], []
    for kind, name in reversed(created):
        method, key = _DELETE[kind]
        try:
            getattr(client, method)(**{key: name})
            removed.append(f"{kind} {name}")
        except ClientError as err:
            message = err.response.get("Error", {}).get("Message", "")
            if "could not find" in message.lower():  # SageMaker's not-found is a ValidationException
                gone.append(f"{kind} {name}")
            else:
                left.append(f"{kind} {name} ({' '.join(str(err).split())[:200]})")
        except BotoCoreError as err:
            left.append(f"{kind} {name} ({' '.join(str(err).split())[:200]})")
    text = f"; removed what this run created: {', '.join(removed)}" if removed else ""
    text += f"; already gone: {', '.join(gone)}" if gone else ""
    return text + (f"; could NOT remove, delete by hand: {', '.join(left)}" if left else "")


def deploy(
    target: str,
    endpoint: str,
    trust: Trust,
    capture: CaptureSettings,
    *,
    role_arn: str,
    instance_type: str = "ml.m5.large",
    instance_count: int = 1,
    registry: str | None = None,
    ledger: str | None = None,
    ledger_signer=None,
    default_ledger: str | None = None,
    actor: str = "governance deploy",
    progress=lambda message: None,
) -> DeployResult:
    """Gate, then create model, endpoint configuration and endpoint; raises ``CheckFailed`` when it refuses."""
    if not _NAME.match(endpoint):
        raise InputError("BAD_ENDPOINT_NAME", f"{endpoint!r}: 1-63 letters, digits and hyphens")
    if not (trust.key or trust.kms_key_id or trust.trusted):
        raise InputError("NO_TRUST", "give what to trust: --key PUB or --trusted FILE")
    if not role_arn:
        raise InputError("NO_ROLE", "the endpoint needs an execution role (--role-arn)")
    capture.validate()
    candidate = find_candidate(target, registry)
    if candidate.kind != "sagemaker":
        raise InputError("NOT_DEPLOYABLE", f"{candidate.arn}: a local package cannot be served by SageMaker; "
                                           "register it in a SageMaker model package group first")
    location = ledger_location(candidate, ledger, default_ledger)
    sha256 = candidate.metadata.get("artefact_sha256")
    checks: dict[str, str] = {}
    from governance.ledger import Ledger

    Ledger(location, ledger_signer).check_appendable()  # a ledger that would refuse the record stops us here

    try:
        if candidate.approval_status != "Approved":
            raise CheckFailed("NOT_APPROVED", f"{candidate.arn} is {candidate.approval_status}, not Approved")
        checks["status"] = "Approved"
        if not sha256:
            raise CheckFailed("NO_ARTEFACT_DIGEST", f"{candidate.arn}: the package records no artefact_sha256")
        from governance.integrity import verify_artefact

        progress(f"verifying {candidate.artefact_uri}")
        verified = verify_artefact(candidate.artefact_uri, candidate.metadata.get("signature_uri"),
                                   **trust.verify_arguments())
        if verified.sha256 != sha256:
            raise CheckFailed("DIGEST_MISMATCH", f"{candidate.artefact_uri} hashes to {str(verified.sha256)[:16]}…, "
                                                 f"the package registered {sha256[:16]}…")
        checks["integrity"] = verified.message or "verified"
        progress(f"reading the approval in {location}")
        record = approval_on_record(location, candidate, sha256)
        checks["approval"] = f"approved by {record.get('actor')} (ledger seq {record.get('seq')})"
    except CheckFailed as refusal:
        details = {"outcome": "refused", "reason": refusal.reason, "message": refusal.message[:500],
                   "endpoint": endpoint, "checks": checks}
        try:
            Ledger(location, ledger_signer).append(DEPLOY_EVENT, actor=actor, subject=candidate.arn,
                                                   digests={"model.tar.gz": sha256} if sha256 else {},
                                                   details=details)
        except GovernanceError as err:
            refusal.message += f" (the refusal could not be recorded in {location}: {err.message})"
        raise
    progress(f"creating endpoint {endpoint}")
    model, config, endpoint_arn = _create(candidate, endpoint, capture, role_arn, instance_type, instance_count,
                                          sha256)
    progress(f"checking endpoint {endpoint} against the deployment policy")
    policy = endpoint_policy(endpoint)
    details = {"outcome": "deployed", "endpoint": endpoint, "endpoint_arn": endpoint_arn, "endpoint_config": config,
               "model": model, "data_capture": capture.config(), "checks": checks, "policy": policy}
    entry = Ledger(location, ledger_signer).append(DEPLOY_EVENT, actor=actor, subject=candidate.arn,
                                                   digests={"model.tar.gz": sha256}, details=details)
    return DeployResult(candidate.arn, endpoint, config, model, {"uri": candidate.artefact_uri, "sha256": sha256},
                        capture.config(), checks, {"location": location, "seq": entry.get("seq")}, policy)


def endpoint_policy(endpoint: str) -> dict:
    """The deployment policy (DEP-SM-001..003: capture on, encrypted, kept ≥ 6 months) on the endpoint just made.

    ``{check id: {"status", "message"}}``; a scan that cannot run is recorded as such (``{"error": …}``), never as a
    pass — the pack's log-retention rows then stay open.
    """
    from governance.policy import scan

    try:
        result = scan([f"sagemaker:endpoint/{endpoint}"])
    except GovernanceError as err:
        return {"error": f"{err.reason}: {err.message}"[:500]}
    return {f.check.id: {"status": str(f.status), "message": f.message[:300]}
            for f in result.findings if f.check.id.startswith("DEP-")}


def record_in_evidence(result: DeployResult, evidence_dir, signer, ledger_signer=None) -> dict:
    """The deployment into the model's evidence folder: ``deployment.json`` (+ ``.sig``, the operator's key), a
    ``deploy`` record in its ledger, the index re-sealed — so the pack's decision-logging rows read it as evidence."""
    from pathlib import Path

    from governance.evidence_records import LEDGER_FILE, add_to_evidence, write_signed_json

    document = {"format": "quickloan-governance/deployment/v1", "deployed_at": datetime.now(UTC).isoformat(
        timespec="seconds").replace("+00:00", "Z"), **result.to_dict()}
    predicate = {"endpoint": result.endpoint, "package": result.package, "data_capture": result.data_capture}
    model = [{"name": "model.tar.gz", "digest": {"sha256": result.artefact["sha256"]}}]
    details = {"outcome": "deployed", "endpoint": result.endpoint, "endpoint_config": result.endpoint_config,
               "model": result.model, "data_capture": result.data_capture, "checks": result.checks,
               "policy": result.policy, "deployment_ledger": result.ledger}

    def write(root: Path) -> dict[str, str]:
        return write_signed_json(root, DEPLOYMENT_FILE, document, PREDICATE_TYPE, predicate, signer, model)

    recorded = add_to_evidence(
        evidence_dir, signer, DEPLOY_EVENT, actor="governance deploy", subject=result.package,
        digests={"model.tar.gz": result.artefact["sha256"]}, details=details, ledger_signer=ledger_signer,
        append=not _same_file(result.ledger["location"], Path(evidence_dir) / LEDGER_FILE), write=write)
    return recorded or result.ledger


def _same_file(location: str, path) -> bool:
    from pathlib import Path

    return not storage.is_s3_uri(location) and Path(location).resolve() == Path(path).resolve()
