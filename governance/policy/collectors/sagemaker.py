"""SageMaker training jobs, models and model packages (Describe* calls), and the resources they point at.

Each names related resources so one target covers the chain: a model package brings its artefact's S3 object
and bucket, a training job its output bucket and KMS keys. A package marked Approved has its artefact verified
against the trusted signers, so "approved only if it verifies" is a checkable fact.
"""

from __future__ import annotations

from typing import Any, ClassVar

from governance.policy.aws import AwsCallError
from governance.policy.collectors.base import Collector, Evidence, ResourceRef, ScanContext, register
from governance.policy.collectors.kms_key import key_ref, key_summary
from governance.policy.collectors.s3_bucket import bucket_ref
from governance.policy.collectors.s3_object import object_ref
from governance.storage import is_s3_uri, parse_s3_uri

_VPC = {"subnets": [str], "security_group_ids": [str]}


def resource_name(ref_id: str, kind: str) -> str:
    """``arn:...:training-job/NAME`` or ``NAME`` -> ``NAME`` (model package ARNs are used whole)."""
    marker = f":{kind}/"
    return ref_id.split(marker, 1)[1] if marker in ref_id else ref_id


def _vpc(config: dict | None) -> dict:
    config = config or {}
    return {"subnets": list(config.get("Subnets") or []),
            "security_group_ids": list(config.get("SecurityGroupIds") or [])}


def _s3_related(uri: str | None) -> list[ResourceRef]:
    if not uri or not is_s3_uri(uri):
        return []
    location = parse_s3_uri(uri)
    refs = [bucket_ref(location.bucket)]
    if location.key and not location.key.endswith("/"):
        refs.append(object_ref(location.bucket, location.key))
    return refs


def _object_encryption(ctx: ScanContext, uri: str | None, calls: list[str]) -> dict:
    """How the package's artefact is encrypted at rest (the package is its metadata and this object)."""
    if not uri or not is_s3_uri(uri):
        return {"uri": uri, "algorithm": None, "kms_key": None}
    location = parse_s3_uri(uri)
    head = ctx.aws.call("s3", "head_object", calls, Bucket=location.bucket, Key=location.key)
    return {"uri": uri, "algorithm": head.get("ServerSideEncryption"), "kms_key": head.get("SSEKMSKeyId")}


def _key(ctx: ScanContext, key: str | None, evidence: Evidence, field: str) -> dict:
    summary, error = key_summary(ctx, key, evidence.calls)
    if error:
        evidence.transient = True
        evidence.errors[field] = error
    elif summary["kms_key_arn"]:
        evidence.related.append(key_ref(summary["kms_key_arn"]))
    return {"kms_key": key, **summary}


@register
class TrainingJobCollector(Collector):
    resource_type = "sagemaker_training_job"
    description = "A SageMaker training job (DescribeTrainingJob): output and volume encryption, isolation, VPC."
    shape: ClassVar[dict[str, Any]] = {
        "name": str,
        "arn": str,
        "status": str,
        "instance_type": str,
        "instance_count": int,
        "output_path": str,
        "output_encryption": {"kms_key": str, "kms_key_arn": str, "kms_key_manager": str},
        "volume_encryption": {"kms_key": str, "kms_key_arn": str, "kms_key_manager": str},
        "inter_container_encryption": bool,
        "network_isolation": bool,
        "vpc": _VPC,
        "model_artifacts": str,
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        evidence = Evidence()
        try:
            job = ctx.aws.call("sagemaker", "describe_training_job", evidence.calls,
                               TrainingJobName=resource_name(ref.id, "training-job"))
        except AwsCallError as err:
            return Evidence.failed(str(err), evidence.calls)
        output = job.get("OutputDataConfig") or {}
        resources = job.get("ResourceConfig") or {}
        groups = resources.get("InstanceGroups") or []
        count = resources.get("InstanceCount")
        if count is None and groups:
            count = sum(int(g.get("InstanceCount") or 0) for g in groups)
        artifacts = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        evidence.data.update(
            name=job.get("TrainingJobName"),
            arn=job.get("TrainingJobArn"),
            status=job.get("TrainingJobStatus"),
            instance_type=resources.get("InstanceType") or (groups[0].get("InstanceType") if groups else None),
            instance_count=count,
            output_path=output.get("S3OutputPath"),
            output_encryption=_key(ctx, output.get("KmsKeyId"), evidence, "output_encryption"),
            volume_encryption=_key(ctx, resources.get("VolumeKmsKeyId"), evidence, "volume_encryption"),
            inter_container_encryption=bool(job.get("EnableInterContainerTrafficEncryption")),
            network_isolation=bool(job.get("EnableNetworkIsolation")),
            vpc=_vpc(job.get("VpcConfig")),
            model_artifacts=artifacts,
        )
        if output.get("S3OutputPath") and is_s3_uri(output["S3OutputPath"]):
            evidence.related.append(bucket_ref(parse_s3_uri(output["S3OutputPath"]).bucket))
        return evidence


@register
class ModelCollector(Collector):
    resource_type = "sagemaker_model"
    description = "A SageMaker model (DescribeModel): network isolation, VPC, the artefacts its containers load."
    shape: ClassVar[dict[str, Any]] = {
        "name": str,
        "arn": str,
        "execution_role": str,
        "network_isolation": bool,
        "vpc": _VPC,
        "model_data_urls": [str],
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        evidence = Evidence()
        try:
            model = ctx.aws.call("sagemaker", "describe_model", evidence.calls,
                                 ModelName=resource_name(ref.id, "model"))
        except AwsCallError as err:
            return Evidence.failed(str(err), evidence.calls)
        containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else []
        containers += model.get("Containers") or []
        urls = sorted({c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")})
        evidence.data.update(
            name=model.get("ModelName"),
            arn=model.get("ModelArn"),
            execution_role=model.get("ExecutionRoleArn"),
            network_isolation=bool(model.get("EnableNetworkIsolation")),
            vpc=_vpc(model.get("VpcConfig")),
            model_data_urls=urls,
        )
        for url in urls:
            evidence.related.extend(_s3_related(url))
        return evidence


@register
class ModelPackageCollector(Collector):
    resource_type = "sagemaker_model_package"
    description = ("A SageMaker model package version (DescribeModelPackage): approval, encryption, the registered "
                   "artefact and, once approved, whether that artefact verifies.")
    shape: ClassVar[dict[str, Any]] = {
        "arn": str,
        "group": str,
        "version": int,
        "status": str,
        "approval_status": str,
        "encryption": {"kms_key": str, "kms_key_arn": str, "kms_key_manager": str},
        "artefact_encryption": {"uri": str, "algorithm": str, "kms_key": str},
        "model_data_urls": [str],
        "customer_metadata": dict,
        "artefact": {"uri": str, "sha256": str, "signature_uri": str, "evidence_uri": str, "verified": bool,
                     "checked": bool, "reason": str, "signer": str},
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        from governance.policy.collectors.artefact import verify_registered

        evidence = Evidence()
        try:
            package = ctx.aws.call("sagemaker", "describe_model_package", evidence.calls, ModelPackageName=ref.id)
        except AwsCallError as err:
            return Evidence.failed(str(err), evidence.calls)
        containers = (package.get("InferenceSpecification") or {}).get("Containers") or []
        urls = sorted({c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")})
        metadata = dict(package.get("CustomerMetadataProperties") or {})
        approval = package.get("ModelApprovalStatus")
        security = package.get("SecurityConfig") or {}
        evidence.data.update(
            arn=package.get("ModelPackageArn"),
            group=package.get("ModelPackageGroupName"),
            version=package.get("ModelPackageVersion"),
            status=package.get("ModelPackageStatus"),
            approval_status=approval,
            encryption=_key(ctx, security.get("KmsKeyId"), evidence, "encryption"),
            model_data_urls=urls,
            customer_metadata=metadata,
        )
        artefact_uri = urls[0] if urls else None
        evidence.section("artefact_encryption", lambda: _object_encryption(ctx, artefact_uri, evidence.calls))
        base = {"uri": artefact_uri, "sha256": metadata.get("artefact_sha256"),
                "signature_uri": metadata.get("signature_uri"), "evidence_uri": metadata.get("evidence_uri"),
                "verified": None, "checked": False, "reason": None, "signer": None}
        if approval == "Approved":
            # Only an approved package must prove its artefact: reading the artefact costs a download.
            evidence.section("artefact", lambda: {**base, **verify_registered(
                artefact_uri, base["signature_uri"], base["sha256"], ctx.parameters)})
        else:
            evidence.data["artefact"] = {**base, "reason": f"not approved ({approval}); not verified"}
        for url in urls:
            evidence.related.extend(_s3_related(url))
        return evidence


def _capture_retention(ctx: ScanContext, destination: str | None, calls: list[str]) -> dict:
    """How long captured requests are kept: the earliest lifecycle expiry covering the capture prefix, and the
    bucket's Object Lock default retention (which guarantees a floor)."""
    if not destination or not is_s3_uri(destination):
        return {"expires": None, "min_expiration_days": None, "object_lock_days": None}
    location = parse_s3_uri(destination)
    prefix = location.key.rstrip("/") + "/" if location.key else ""
    from governance.policy.collectors.s3_bucket import _absent

    def s3(operation: str) -> dict | None:
        return ctx.aws.call("s3", operation, calls, Bucket=location.bucket)

    lifecycle = _absent(lambda: s3("get_bucket_lifecycle_configuration"), "NoSuchLifecycleConfiguration")
    days = []
    for rule in (lifecycle or {}).get("Rules") or []:
        rule_filter = rule.get("Filter") or {}
        rule_prefix = rule_filter.get("Prefix", (rule_filter.get("And") or {}).get("Prefix", rule.get("Prefix", "")))
        rule_prefix = rule_prefix or ""
        covers = prefix.startswith(rule_prefix) or rule_prefix.startswith(prefix)
        expiry = (rule.get("Expiration") or {}).get("Days")
        if rule.get("Status") == "Enabled" and covers and expiry is not None:
            days.append(int(expiry))
    lock = _absent(lambda: s3("get_object_lock_configuration"), "ObjectLockConfigurationNotFoundError")
    retention = (((lock or {}).get("ObjectLockConfiguration") or {}).get("Rule") or {}).get("DefaultRetention") or {}
    lock_days = retention.get("Days") or (int(retention["Years"]) * 365 if retention.get("Years") else None)
    return {"expires": bool(days), "min_expiration_days": min(days) if days else None, "object_lock_days": lock_days}


@register
class EndpointCollector(Collector):
    resource_type = "sagemaker_endpoint"
    description = ("A SageMaker endpoint (DescribeEndpoint, its configuration and models): which model packages it "
                   "serves, Data Capture (inputs and outputs, KMS key) and how long the captured data is kept.")
    shape: ClassVar[dict[str, Any]] = {
        "name": str,
        "arn": str,
        "status": str,
        "endpoint_config": str,
        "governed": bool,
        "model_packages": [str],
        "data_capture": {"enabled": bool, "sampling_percentage": int, "destination": str, "kms_key": str,
                         "capture_modes": [str], "input_and_output": bool},
        "capture_retention": {"expires": bool, "min_expiration_days": int, "object_lock_days": int},
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        evidence = Evidence()
        calls = evidence.calls
        try:
            endpoint = ctx.aws.call("sagemaker", "describe_endpoint", calls,
                                    EndpointName=resource_name(ref.id, "endpoint"))
            config = ctx.aws.call("sagemaker", "describe_endpoint_config", calls,
                                  EndpointConfigName=endpoint["EndpointConfigName"])
            packages = set()
            for variant in config.get("ProductionVariants") or []:
                model = ctx.aws.call("sagemaker", "describe_model", calls, ModelName=variant["ModelName"])
                containers = ([model["PrimaryContainer"]] if model.get("PrimaryContainer") else []) + (
                    model.get("Containers") or [])
                packages |= {c["ModelPackageName"] for c in containers if c.get("ModelPackageName")}
        except AwsCallError as err:
            return Evidence.failed(str(err), calls)
        capture = config.get("DataCaptureConfig") or {}
        modes = sorted({o.get("CaptureMode") for o in capture.get("CaptureOptions") or [] if o.get("CaptureMode")})
        evidence.data.update(
            name=endpoint.get("EndpointName"),
            arn=endpoint.get("EndpointArn"),
            status=endpoint.get("EndpointStatus"),
            endpoint_config=endpoint.get("EndpointConfigName"),
            # A model built from a registered package is governed: the registry is where governance attaches.
            governed=bool(packages),
            model_packages=sorted(packages),
            data_capture={
                "enabled": bool(capture.get("EnableCapture")),
                "sampling_percentage": capture.get("InitialSamplingPercentage"),
                "destination": capture.get("DestinationS3Uri"),
                "kms_key": capture.get("KmsKeyId"),
                "capture_modes": modes,
                "input_and_output": {"Input", "Output"} <= set(modes),
            },
        )
        evidence.section("capture_retention",
                         lambda: _capture_retention(ctx, capture.get("DestinationS3Uri"), calls))
        return evidence
