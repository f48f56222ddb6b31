"""``governance deploy`` against moto's SageMaker and S3: the gate refuses an unapproved package, a changed artefact
and an approval that is not on record; an approved one gets a model built from the package, an endpoint
configuration with KMS-encrypted Data Capture of inputs and outputs, and an endpoint — and the ledger records it.

moto 5.2.5 keeps CreateEndpointConfig's ``DataCaptureConfig`` and ``KmsKeyId`` as sent and returns them from
DescribeEndpointConfig (and the capture settings from DescribeEndpoint); it does not run containers or capture.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from governance.cli import main
from governance.ledger import Ledger, verify_ledger

BUCKET = "quickloan-artefacts-123456789012"
ROLE = "arn:aws:iam::123456789012:role/quickloan-endpoint"
KMS = "arn:aws:kms:us-east-1:123456789012:alias/quickloan-artefacts"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0"


@pytest.fixture
def setup(aws, synthetic_run, tmp_path):
    """A signed model in S3 registered as PendingManualApproval in a SageMaker model package group."""
    import hashlib

    assert main(["keygen", "--out", str(tmp_path / "keys")]) == 0
    model = tmp_path / "model.tar.gz"
    model.write_bytes(synthetic_run.model_path.read_bytes())
    assert main(["sign", str(model), "--key", str(tmp_path / "keys" / "signing-key.pem")]) == 0
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    key = "quickloan/models/run-1/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=model.read_bytes())
    s3.put_object(Bucket=BUCKET, Key=key + ".sig", Body=(tmp_path / "model.tar.gz.sig").read_bytes())
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_model_package_group(ModelPackageGroupName="quickloan-credit-default")
    sha256 = hashlib.sha256(model.read_bytes()).hexdigest()
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="quickloan-credit-default", ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={"Containers": [{"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/{key}"}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
        CustomerMetadataProperties={"artefact_sha256": sha256, "signature_uri": f"s3://{BUCKET}/{key}.sig"},
    )["ModelPackageArn"]
    return {"arn": arn, "sha256": sha256, "pub": tmp_path / "keys" / "signing-key.pub.pem", "s3": s3, "key": key,
            "sagemaker": sagemaker, "ledger": tmp_path / "ledger.jsonl", "model": model}


def _approve(setup) -> None:
    """An approval as ``governance approve`` leaves it: Approved in the registry and its record in the ledger."""
    from governance.sagemaker_registry import describe_package, set_approval

    Ledger(setup["ledger"]).append("approve", actor="Jane Doe", subject=setup["arn"],
                                   digests={"model.tar.gz": setup["sha256"]},
                                   details={"outcome": "approved", "checks": {}})
    set_approval(describe_package(setup["arn"]), "Approved", description="Approved by Jane Doe")


def deploy(setup, *extra: str) -> int:
    return main(["deploy", setup["arn"], "--endpoint", "quickloan-prod", "--key", str(setup["pub"]),
                 "--capture-uri", f"s3://{BUCKET}/quickloan/datacapture", "--kms-key-id", KMS, "--role-arn", ROLE,
                 "--ledger", str(setup["ledger"]), *extra])


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_refuses_a_package_pending_approval(setup, capsys):
    assert deploy(setup) == 1
    assert "NOT_APPROVED" in capsys.readouterr().err
    refused = _records(setup["ledger"])[-1]
    assert refused["event"] == "deploy" and refused["details"]["outcome"] == "refused"
    assert not setup["sagemaker"].list_endpoints()["Endpoints"]


def test_deploys_an_approved_package_with_data_capture(setup, capsys):
    _approve(setup)
    assert deploy(setup, "--sampling-percentage", "50", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    sagemaker = setup["sagemaker"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=result["endpoint_config"])
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and capture["InitialSamplingPercentage"] == 50
    assert capture["DestinationS3Uri"] == f"s3://{BUCKET}/quickloan/datacapture" and capture["KmsKeyId"] == KMS
    assert {o["CaptureMode"] for o in capture["CaptureOptions"]} == {"Input", "Output"}
    assert config["KmsKeyId"] == KMS
    model = sagemaker.describe_model(ModelName=result["model"])
    assert model["Containers"] == [{"ModelPackageName": setup["arn"]}]  # the package's own inference container
    endpoint = sagemaker.describe_endpoint(EndpointName="quickloan-prod")
    assert endpoint["EndpointConfigName"] == result["endpoint_config"]
    record = _records(setup["ledger"])[-1]
    assert record["event"] == "deploy" and record["details"]["outcome"] == "deployed"
    assert record["digests"]["model.tar.gz"] == setup["sha256"] and record["details"]["data_capture"] == capture
    verify_ledger(setup["ledger"])
    # A second deployment updates the existing endpoint; moto 5.2.5 has no UpdateEndpoint (HTTP 500), which must end
    # as "could not complete" (3), with no deployment recorded — never as a pass.
    capsys.readouterr()
    assert deploy(setup) == 3
    assert _records(setup["ledger"])[-1]["seq"] == record["seq"]


def test_refuses_an_artefact_changed_after_approval(setup, capsys):
    _approve(setup)
    tampered = setup["model"].read_bytes() + b"\0"
    setup["s3"].put_object(Bucket=BUCKET, Key=setup["key"], Body=tampered)
    assert deploy(setup) == 1
    err = capsys.readouterr().err
    assert any(reason in err for reason in ("DIGEST_MISMATCH", "SIGNATURE_INVALID", "CORRUPT_ARCHIVE"))
    assert not setup["sagemaker"].list_endpoints()["Endpoints"]
    assert _records(setup["ledger"])[-1]["details"]["outcome"] == "refused"


def test_refuses_an_approval_that_is_not_on_record(setup, capsys):
    from governance.sagemaker_registry import describe_package, set_approval

    set_approval(describe_package(setup["arn"]), "Approved", description="set by hand")
    Ledger(setup["ledger"]).append("approve", actor="Jane Doe", subject=setup["arn"],
                                   digests={"model.tar.gz": setup["sha256"]},
                                   details={"outcome": "refused", "reason": "GOVERNANCE_FAILED"})
    assert deploy(setup) == 1
    assert "NO_APPROVAL_RECORD" in capsys.readouterr().err
    assert not setup["sagemaker"].list_endpoints()["Endpoints"]


def test_bad_calls(setup, capsys):
    _approve(setup)
    assert deploy(setup, "--sampling-percentage", "0") == 2
    assert main(["deploy", setup["arn"], "--endpoint", "bad_name!", "--key", str(setup["pub"])]) == 2
    assert main(["deploy", setup["arn"], "--endpoint", "quickloan-prod", "--key", str(setup["pub"]),
                 "--capture-uri", "/tmp/capture", "--kms-key-id", KMS, "--role-arn", ROLE]) == 2
    assert "BAD_CAPTURE_URI" in capsys.readouterr().err


def test_the_deployment_policy_checks_the_endpoint(setup, capsys):
    from governance.policy import Status, scan

    _approve(setup)
    assert deploy(setup) == 0
    # The gate checked the endpoint it made and recorded the result with the deployment.
    recorded = _records(setup["ledger"])[-1]["details"]["policy"]
    assert {check: result["status"] for check, result in recorded.items()} == {
        "DEP-SM-001": "PASS", "DEP-SM-002": "PASS", "DEP-SM-003": "PASS"}
    policies = Path(__file__).resolve().parents[1] / "policies"
    sagemaker = setup["sagemaker"]

    def statuses() -> dict:
        result = scan(["sagemaker:endpoint/*"], policies_dir=policies)
        return {f.check.id: f.status for f in result.findings if f.check.id.startswith("DEP-")}

    assert statuses() == {"DEP-SM-001": Status.PASS, "DEP-SM-002": Status.PASS, "DEP-SM-003": Status.PASS}
    # Captured data expiring after 30 days breaks the six months.
    setup["s3"].put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [
        {"ID": "capture", "Status": "Enabled", "Filter": {"Prefix": "quickloan/datacapture/"},
         "Expiration": {"Days": 30}}]})
    assert statuses()["DEP-SM-003"] == Status.FAIL
    # An endpoint serving a package without capture, made by hand beside the gate.
    model = sagemaker.create_model(ModelName="by-hand", ExecutionRoleArn=ROLE,
                                   Containers=[{"ModelPackageName": setup["arn"]}])["ModelArn"]
    assert model
    sagemaker.create_endpoint_config(EndpointConfigName="by-hand-config", ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": "by-hand", "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName="by-hand", EndpointConfigName="by-hand-config")
    result = scan(["sagemaker:endpoint/by-hand"], policies_dir=policies)
    found = {f.check.id: f.status for f in result.findings if f.check.id.startswith("DEP-")}
    assert found == {"DEP-SM-001": Status.FAIL, "DEP-SM-002": Status.FAIL, "DEP-SM-003": Status.FAIL}


def test_a_second_version_replaces_the_first_on_the_same_endpoint(setup, capsys):
    """Version 2 of the package, approved, goes to the endpoint serving version 1: the gate passes, v2's model and
    endpoint configuration (with Data Capture) are created, and the existing endpoint is updated to them. moto 5.2.5
    has no UpdateEndpoint (HTTP 500): the run must end as "could not complete" (3), the endpoint still on v1's
    configuration, and no v2 deployment in the ledger — never a recorded success."""
    _approve(setup)
    assert deploy(setup, "--json") == 0
    first = json.loads(capsys.readouterr().out)
    sagemaker = setup["sagemaker"]
    package = sagemaker.describe_model_package(ModelPackageName=setup["arn"])
    second = sagemaker.create_model_package(
        ModelPackageGroupName="quickloan-credit-default", ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification=package["InferenceSpecification"],
        CustomerMetadataProperties=package["CustomerMetadataProperties"])["ModelPackageArn"]
    assert second.endswith("/2")
    _approve({**setup, "arn": second})
    before = _records(setup["ledger"])[-1]
    assert main(["deploy", second, "--endpoint", "quickloan-prod", "--key", str(setup["pub"]), "--capture-uri",
                 f"s3://{BUCKET}/quickloan/datacapture", "--kms-key-id", KMS, "--role-arn", ROLE,
                 "--ledger", str(setup["ledger"])]) == 3
    err = capsys.readouterr().err
    assert f"deploying {second} to quickloan-prod" in err and "removed what this run created" in err
    # What this run created (v2's model and configuration) is deleted again; v1's, which the endpoint still
    # serves, is untouched.
    assert _sagemaker_names(sagemaker) == ({first["model"]}, {first["endpoint_config"]}, {"quickloan-prod"})
    assert sagemaker.describe_endpoint(EndpointName="quickloan-prod")["EndpointConfigName"] == \
        first["endpoint_config"]
    assert _records(setup["ledger"])[-1] == before


def _sagemaker_names(sagemaker) -> tuple[set, set, set]:
    return ({m["ModelName"] for m in sagemaker.list_models()["Models"]},
            {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]},
            {e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]})


def test_a_first_deploy_whose_endpoint_cannot_be_created_leaves_nothing_behind(setup, capsys):
    """CreateEndpoint fails on a first deploy (here: another actor deletes the new configuration just before the
    call, so moto's CreateEndpoint really refuses it): exit 3, nothing recorded, the model this run created is
    deleted, and a model made by someone else beside the gate is left alone."""
    _approve(setup)
    sagemaker = setup["sagemaker"]
    sagemaker.create_model(ModelName="not-ours", ExecutionRoleArn=ROLE,
                           Containers=[{"ModelPackageName": setup["arn"]}])
    before = _records(setup["ledger"])[-1]

    def other_actor(params, **_):
        sagemaker.delete_endpoint_config(EndpointConfigName=params["EndpointConfigName"])

    boto3.setup_default_session()  # the deploy's client is made from it and inherits the handler
    boto3.DEFAULT_SESSION.events.register("provide-client-params.sagemaker.CreateEndpoint", other_actor)
    try:
        assert deploy(setup) == 3
    finally:
        boto3.DEFAULT_SESSION = None
    err = capsys.readouterr().err
    assert "deploying" in err and "ValidationException: Could not find endpoint" in err and "Traceback" not in err
    assert "removed what this run created: model quickloan-prod-v1-" in err
    assert "already gone: endpoint config quickloan-prod-v1-" in err
    assert _sagemaker_names(sagemaker) == ({"not-ours"}, set(), set())
    assert _records(setup["ledger"])[-1] == before
