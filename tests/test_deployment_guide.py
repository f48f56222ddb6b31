"""The deployment guide (pipeline/infra/deploy.py, docs/deployment.md) tried top to bottom against moto, as a new user
would run it: every AWS call it makes is exercised here, except the two moto cannot take.

* ``stack``: moto's CloudFormation rejects the main template (it cannot resolve ``!GetAtt ArtefactKey.Arn``), so
  the stack's resources are created from the template's own properties (tests/stack_support.py) and a stand-in
  stack carries the real template's resolved outputs, which is all the later steps read.
* ``image``: there is no container engine here; the commands it runs are checked instead.
"""

from __future__ import annotations

import gzip
import json
import zipfile

import boto3
import pytest
import yaml

from pipeline.infra import deploy as guide
from tests.stack_support import (
    MAIN_TEMPLATE,
    create_stack,
    kms_digest_signing,
    outputs,
    s3_inventory_fields,
    tls_requests,
)
from tests.test_aws_rehearsal import MAIN_RESOURCES, REGION

pytestmark = pytest.mark.servers
CODE_BUCKET = "quickloan-deploy-123456789012"


@pytest.fixture
def account(aws, monkeypatch, tmp_path):
    """An account holding the stack's resources, and a stand-in stack that carries its outputs."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.chdir(tmp_path)
    tls_requests(monkeypatch)
    kms_digest_signing(monkeypatch)
    s3_inventory_fields(monkeypatch)
    stack = create_stack(MAIN_TEMPLATE, "quickloan", REGION, {}, lambda s: boto3.client(s, region_name=REGION),
                         only=MAIN_RESOURCES)
    stand_in = {"Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {name: {"Value": str(value)} for name, value in outputs(stack).items()}}
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName="quickloan",
                                                                    TemplateBody=json.dumps(stand_in))
    build = tmp_path / "build"
    build.mkdir()
    # A placeholder zip: building the real one is tests/test_lambda_zip.py's (it downloads wheels).
    with zipfile.ZipFile(build / "governance-scan.zip", "w") as archive:
        archive.writestr("governance/__init__.py", "")
    return stack


def run_guide(aws, data, *extra: str) -> int:
    return guide.main(["--stack-name", "quickloan", "--region", REGION, "--code-bucket", CODE_BUCKET,
                       "--image-tag", "0.1.0", "--data", str(data), "--endpoint-url", aws.endpoint,
                       "--skip", "stack", "--skip", "image", *extra])


def test_the_guide_from_an_empty_account_to_a_registered_model(aws, account, synthetic_csv, tmp_path, capsys):
    data = tmp_path / "cs-training.csv.gz"
    data.write_bytes(gzip.compress(synthetic_csv.read_bytes()))
    assert run_guide(aws, data, "--rehearse", "--pipeline-parameter", "NumRound=60") == 0, capsys.readouterr().err
    s3 = boto3.client("s3", region_name=REGION)
    # code-bucket + lambda-zip: the zip under a content-addressed key, in a bucket that existed before the stack.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=CODE_BUCKET)["Contents"]]
    assert any(k.startswith("lambda/governance-scan-") for k in keys)
    # package: the nested template uploaded and named by URL in the packaged main template.
    packaged = (tmp_path / "build" / "quickloan-governance.packaged.yaml").read_text()
    template_key = next(k for k in keys if k.startswith("templates/scan-schedule-"))
    assert f"TemplateURL: https://{CODE_BUCKET}.s3.{REGION}.amazonaws.com/{template_key}" in packaged
    assert s3.get_object(Bucket=CODE_BUCKET, Key=template_key)["Body"].read() == guide.SCAN_TEMPLATE.read_bytes()
    # settings: from the stack outputs.
    settings = yaml.safe_load((tmp_path / "sagemaker.yaml").read_text())
    assert settings["bucket"] == outputs(account)["ArtefactBucketName"]
    assert settings["image_uri"] == f"{outputs(account)['ImageRepositoryUri']}:0.1.0"
    # data: under the default InputData prefix, with the stack's key.
    head = s3.head_object(Bucket=settings["bucket"], Key=f"{settings['prefix']}/data/cs-training.csv.gz")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == settings["kms_key_id"]
    # pipeline: rehearsed to a registered package.
    packages = boto3.client("sagemaker", region_name=REGION).list_model_packages(
        ModelPackageGroupName=settings["model_package_group"])["ModelPackageSummaryList"]
    assert [p["ModelApprovalStatus"] for p in packages] == ["PendingManualApproval"]

    # Idempotent: a second run changes nothing it already did.
    capsys.readouterr()
    assert run_guide(aws, data, "--skip", "pipeline") == 0
    said = capsys.readouterr().err
    assert f"s3://{CODE_BUCKET} exists" in said and "already uploaded" in said and "already holds this file" in said


def test_image_commands_log_in_and_build_for_the_instances_platform(aws, account):
    deployment = guide.Deployment("quickloan", REGION, CODE_BUCKET, "0.1.0")
    login, build, push = deployment.image_commands()
    uri = f"{outputs(account)['ImageRepositoryUri']}:0.1.0"
    assert "aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin" in login[2]
    assert login[2].endswith(uri.split("/", 1)[0])
    assert build[:4] == ["docker", "build", "--platform", "linux/amd64"] and uri in build
    assert push == ["docker", "push", uri]
    said: list[str] = []
    guide.Deployment("quickloan", REGION, CODE_BUCKET, "0.1.0", dry_run=True, say=said.append).image_step()
    assert any("--platform linux/amd64" in line for line in said)  # not pushed yet: the commands are due


def test_the_stack_step_creates_then_updates(aws, account, monkeypatch):
    """Against the stand-in: an existing stack is updated, and "no updates" is not an error."""
    said: list[str] = []
    deployment = guide.Deployment("quickloan", REGION, CODE_BUCKET, "0.1.0", dry_run=True, say=said.append)
    deployment.stack_step()
    assert said == ["stack: would update quickloan"]
    said.clear()
    guide.Deployment("other", REGION, CODE_BUCKET, "0.1.0", dry_run=True, say=said.append).stack_step()
    assert said == ["stack: would create other"]


def test_bad_calls(aws, tmp_path, capsys):
    assert guide.main(["--code-bucket", "b", "--image-tag", "t", "--region", REGION, "--data",
                       str(tmp_path / "missing.csv"), "--skip", "code-bucket", "--skip", "lambda-zip", "--skip",
                       "package", "--skip", "stack", "--skip", "settings", "--skip", "image",
                       "--parameter", "oops"]) == 2
    assert "BAD_PARAMETER" in capsys.readouterr().err
