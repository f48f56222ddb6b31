"""Mirror a verified chain into SageMaker: ML Lineage entities, and the model package's metadata.

Optional, for accounts that run the pipeline on SageMaker. The evidence folder stays the record of truth; the
mirror makes the same facts visible where SageMaker users look (it needs an AWS account, so this is not a doctest)::

    mirror_evidence("evidence", model_package_arn=arn, evidence_uri="s3://b/evidence/")
    # {'lineage': {'status': 'created', ...}, 'model_package': {...}}

What it writes:

* one lineage **artifact** per file in the chain, with a ``Custom`` source id ``sha256:<hex>`` (so Studio's
  lineage view and ``QueryLineage`` can be searched by digest), one **action** per step, and associations
  ``file --ContributedTo--> step --Produced--> file``;
* the model package's ``CustomerMetadataProperties`` get ``artefact_sha256``, ``signature_uri``,
  ``evidence_uri`` (and ``audit_pack_uri``), merged into what is already there.

The plan of entities is built offline, from the verified chain alone:

>>> from governance.lineage import load_chain
>>> plan = lineage_plan(load_chain("evidence", verifier)[0])
>>> sorted(plan["actions"])
['step:evaluate', 'step:process', 'step:register', 'step:train']

Lineage calls that an endpoint does not implement (moto's server, for one) are reported as ``unsupported``
and do not stop the metadata update. It does not replace SageMaker's own automatic lineage of pipeline jobs.
"""

from __future__ import annotations

import os
import re

from governance.errors import CheckFailed, Incomplete, InputError
from governance.hashing import sha256_bytes
from governance.lineage.chain import Chain, load_chain, role, sha256_of
from governance.registry import META_ARTEFACT_SHA256, META_AUDIT_PACK_URI, META_EVIDENCE_URI, META_SIGNATURE_URI
from governance.signing import Verifier
from governance.storage import aws_error

ARTIFACT_TYPES = {"dataset": "DataSet", "train": "DataSet", "validation": "DataSet",
                  "test": "DataSet", "profile": "DataSetProfile",
                  "model": "Model", "training_metadata": "Report", "evaluation": "Report",
                  "model_package": "ModelPackage"}
ACTION_TYPES = {"process": "DataProcessing", "train": "Training", "evaluate": "ModelEvaluation",
                "register": "ModelRegistration"}
_NAME = re.compile(r"[^a-zA-Z0-9]+")
_METADATA_VALUE_LIMIT = 256  # SageMaker's limit on one CustomerMetadataProperties value


def _entity_name(*parts: str) -> str:
    name = "-".join(_NAME.sub("-", p).strip("-") for p in parts if p)
    return name[:120].strip("-")


def lineage_plan(chain: Chain, name_prefix: str = "qlg") -> dict:
    """The SageMaker calls that mirror ``chain``: ``{"artifacts", "actions", "associations"}``, nothing sent."""
    artifacts: dict[str, dict] = {}
    actions: dict[str, dict] = {}
    associations: list[tuple[str, str, str]] = []

    def artifact(descriptor: dict) -> str:
        digest, kind = sha256_of(descriptor), role(descriptor)
        key = f"{kind}:{digest}"
        if key not in artifacts:
            artifacts[key] = {
                "ArtifactName": _entity_name(name_prefix, kind, digest[:16]),
                "Source": {"SourceUri": descriptor.get("uri") or descriptor.get("name"),
                           "SourceTypes": [{"SourceIdType": "Custom", "Value": f"sha256:{digest}"}]},
                "ArtifactType": ARTIFACT_TYPES.get(kind, "Data"),
                "Properties": {"sha256": digest, "role": kind, "name": str(descriptor.get("name", ""))[:256]},
            }
        return key

    for hop in chain.hops:
        metadata = hop.run_details.get("metadata", {})
        invocation = metadata.get("invocationId", hop.step)
        code = hop.code or {}
        key = f"step:{hop.step}"
        source = invocation if invocation.startswith("arn:") else code.get("uri") or hop.step
        actions[key] = {
            "ActionName": _entity_name(name_prefix, hop.step, sha256_bytes(invocation.encode())[:16]),
            "Source": {"SourceUri": source, "SourceType": "SageMakerJob" if source.startswith("arn:") else "Code",
                       "SourceId": f"sha256:{sha256_of(code) or ''}"},
            "ActionType": ACTION_TYPES.get(hop.step, "Step"),
            "Status": "Completed",
            "Properties": {"statement": hop.path, "code": str(code.get("name", ""))[:256],
                           "code_sha256": sha256_of(code) or ""},
        }
        for dependency in hop.data_dependencies:
            associations.append((artifact(dependency), key, "ContributedTo"))
        for subject in hop.subjects:
            associations.append((key, artifact(subject), "Produced"))
    return {"artifacts": artifacts, "actions": actions, "associations": associations}


def sagemaker_client():
    import boto3
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client("sagemaker", region_name=region, config=Config(retries={"max_attempts": 3,
                                                                                 "mode": "standard"}))


class _Unsupported(Exception):
    pass


def _send(client, operation: str, params: dict) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client, operation)(**params)
    except ClientError as err:
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = err.response.get("Error", {}).get("Code", "")
        if status >= 500 or code in {"UnknownOperationException", "NotImplemented", "InvalidAction"}:
            raise _Unsupported(f"{operation}: {code or status}") from None
        raise
    except BotoCoreError as err:
        raise aws_error(err, f"SageMaker {operation}") from None


def _existing_artifact(client, params: dict) -> str | None:
    wanted = params["Source"]["SourceTypes"][0]["Value"]
    found = _send(client, "list_artifacts", {"SourceUri": params["Source"]["SourceUri"]})
    for summary in found.get("ArtifactSummaries", []):
        values = {t.get("Value") for t in summary.get("Source", {}).get("SourceTypes", [])}
        if wanted in values:
            return summary["ArtifactArn"]
    return None


def _create_lineage(client, plan: dict) -> dict:
    from botocore.exceptions import ClientError

    arns: dict[str, str] = {}
    result = {"status": "created", "artifacts": [], "actions": [], "associations": []}
    for key, params in plan["artifacts"].items():
        arn = _existing_artifact(client, params) or _send(client, "create_artifact", params)["ArtifactArn"]
        arns[key] = arn
        result["artifacts"].append({"role": params["Properties"]["role"], "arn": arn})
    for key, params in plan["actions"].items():
        try:
            arn = _send(client, "create_action", params)["ActionArn"]
        except ClientError as err:  # the same step mirrored before: reuse it
            if err.response.get("Error", {}).get("Code") not in {"ValidationException", "ResourceInUse"}:
                raise
            arn = _send(client, "describe_action", {"ActionName": params["ActionName"]})["ActionArn"]
        arns[key] = arn
        result["actions"].append({"step": key.split(":", 1)[1], "arn": arn})
    for source, destination, kind in plan["associations"]:
        try:
            _send(client, "add_association", {"SourceArn": arns[source], "DestinationArn": arns[destination],
                                              "AssociationType": kind})
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in {"ValidationException", "ResourceInUse"}:
                raise
        result["associations"].append({"source": arns[source], "destination": arns[destination], "type": kind})
    return result


def annotate_model_package(client, arn: str, properties: dict[str, str]) -> dict:
    """Merge ``properties`` into the package's ``CustomerMetadataProperties`` and return the merged set."""
    for key, value in properties.items():
        if len(value) > _METADATA_VALUE_LIMIT:
            raise InputError("VALUE_TOO_LONG", f"{key}: {len(value)} characters; SageMaker keeps at most "
                                               f"{_METADATA_VALUE_LIMIT} per metadata value")
    current = _send(client, "describe_model_package", {"ModelPackageName": arn})
    merged = {**(current.get("CustomerMetadataProperties") or {}), **properties}
    _send(client, "update_model_package", {"ModelPackageArn": arn, "CustomerMetadataProperties": merged})
    return merged


def mirror_evidence(
    evidence_dir: str | os.PathLike,
    *,
    verifier: Verifier | None = None,
    model_package_arn: str | None = None,
    signature_uri: str | None = None,
    evidence_uri: str | None = None,
    audit_pack_uri: str | None = None,
    client=None,
    lineage: bool = True,
) -> dict:
    """Mirror the evidence folder's chain; with a ``verifier`` the statements must verify first."""
    from botocore.exceptions import ClientError

    chain, problems = load_chain(evidence_dir, verifier)
    if problems:
        raise CheckFailed(problems[0].reason, f"not mirroring: {problems[0].message}")
    if not chain.hops:
        raise InputError("NO_LINEAGE", f"{evidence_dir}: no provenance statements to mirror")
    client = client or sagemaker_client()
    result: dict = {"lineage": {"status": "skipped", "artifacts": [], "actions": [], "associations": []}}
    if lineage:
        try:
            result["lineage"] = _create_lineage(client, lineage_plan(chain))
        except _Unsupported as err:
            result["lineage"] = {"status": "unsupported", "reason": f"the endpoint does not implement {err}",
                                 "artifacts": [], "actions": [], "associations": []}
        except ClientError as err:
            raise aws_error(err, "SageMaker lineage") from None
    registration = chain.producer_of("model_package")
    arn = model_package_arn
    if arn is None and registration is not None:
        arn = (registration.subject("model_package") or {}).get("name")
    if arn and arn.startswith("arn:"):
        trainer = chain.producer_of("model")
        properties = {META_ARTEFACT_SHA256: sha256_of(trainer.subject("model")) if trainer else ""}
        for key, value in ((META_SIGNATURE_URI, signature_uri), (META_EVIDENCE_URI, evidence_uri),
                           (META_AUDIT_PACK_URI, audit_pack_uri)):
            if value:
                properties[key] = value
        try:
            merged = annotate_model_package(client, arn, properties)
        except ClientError as err:
            raise aws_error(err, arn) from None
        except _Unsupported as err:
            raise Incomplete("AWS_ERROR", f"{arn}: the endpoint failed on {err}") from None
        result["model_package"] = {"arn": arn, "customer_metadata": merged}
    return result
