"""The deployment guide (pipeline/infra/deploy.py, docs/deployment.md) tried top to bottom against moto, as a new user
would run it: every AWS call it makes is sent to moto's server here.

* ``stack``: the guide's own CreateStack (packaged template, parameters, capabilities, tags) goes to moto's
  CloudFormation, which creates the main and the nested stack. What moto's CloudFormation leaves out (bucket and
  role policies, the model package group, most bucket properties; see tests/stack_support.py) is then created from
  the templates' own properties, the one stand-in.
* ``image``: the ECR login token comes from moto; there is no container engine here, so ``docker`` is a recorder
  on PATH that keeps the commands and the password it was given on stdin: nothing is built or pushed.
"""

from __future__ import annotations

import gzip
import json
import os
import zipfile

import boto3
import pytest
import yaml

from pipeline.infra import deploy as guide
from tests.stack_support import (
    MAIN_TEMPLATE,
    SCAN_TEMPLATE,
    created_through_cloudformation,
    kms_cloudformation_key_specs,
    kms_digest_signing,
    outputs,
    s3_inventory_fields,
    tls_requests,
)
from tests.test_aws_rehearsal import REGION

pytestmark = [pytest.mark.servers, pytest.mark.filterwarnings("ignore:Tried to parse AWS::")]
CODE_BUCKET = "quickloan-deploy-123456789012"
DOCKER_RECORDER = """#!/bin/sh
printf '%s\n' "$*" >> "$DOCKER_LOG"
if [ "$1" = login ]; then printf 'password:%s\n' "$(cat)" >> "$DOCKER_LOG"; fi
"""


def clients(service: str):
    return boto3.client(service, region_name=REGION)


def complete_stacks(name: str) -> dict:
    """The main and the nested stack as moto's CloudFormation created them, completed from the templates."""
    main = created_through_cloudformation(name, MAIN_TEMPLATE, REGION, clients)
    nested_parameters = main.resolve(main.template["Resources"]["ScanSchedule"]["Properties"]["Parameters"])
    nested = created_through_cloudformation(main.physical["ScanSchedule"], SCAN_TEMPLATE, REGION, clients,
                                            nested_parameters)
    return {"main": main, "nested": nested}


@pytest.fixture
def account(aws, monkeypatch, tmp_path):
    """An empty account (moto), a ``docker`` recorder on PATH, and the stack step followed by the completion."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.chdir(tmp_path)
    tls_requests(monkeypatch)
    kms_digest_signing(monkeypatch)
    s3_inventory_fields(monkeypatch)
    kms_cloudformation_key_specs(monkeypatch)
    build = tmp_path / "build"
    build.mkdir()
    # A placeholder zip: building the real one is tests/test_lambda_zip.py's (it downloads wheels).
    with zipfile.ZipFile(build / "governance-scan.zip", "w") as archive:
        archive.writestr("governance/__init__.py", "")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "docker").write_text(DOCKER_RECORDER)
    (tools / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_LOG", str(tmp_path / "docker.log"))
    stacks: dict = {}
    real_stack_step = guide.Deployment.stack_step

    def stack_step(self) -> None:
        real_stack_step(self)
        if not self.dry_run and not stacks:
            stacks.update(complete_stacks(self.stack_name))

    monkeypatch.setattr(guide.Deployment, "stack_step", stack_step)
    return stacks


def run_guide(aws, data, *extra: str) -> int:
    return guide.main(["--stack-name", "quickloan", "--region", REGION, "--code-bucket", CODE_BUCKET,
                       "--image-tag", "0.1.0", "--data", str(data), "--endpoint-url", aws.endpoint, *extra])


def test_the_guide_from_an_empty_account_to_a_registered_model(aws, account, synthetic_csv, tmp_path, capsys):
    data = tmp_path / "cs-training.csv.gz"
    data.write_bytes(gzip.compress(synthetic_csv.read_bytes()))
    engineer = "arn:aws:iam::123456789012:role/ml-engineer"
    assert run_guide(aws, data, "--rehearse", "--pipeline-parameter", "NumRound=60",
                     "--parameter", f"RehearsalPrincipalArn={engineer}") == 0, capsys.readouterr().err
    s3 = clients("s3")
    # code-bucket + lambda-zip: the zip under a content-addressed key, in a bucket that existed before the stack.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=CODE_BUCKET)["Contents"]]
    code_key = next(k for k in keys if k.startswith("lambda/governance-scan-"))
    # package: the nested template uploaded and named by URL in the packaged main template.
    packaged = (tmp_path / "build" / "quickloan-governance.packaged.yaml").read_text()
    template_key = next(k for k in keys if k.startswith("templates/scan-schedule-"))
    assert f"TemplateURL: https://{CODE_BUCKET}.s3.{REGION}.amazonaws.com/{template_key}" in packaged
    assert s3.get_object(Bucket=CODE_BUCKET, Key=template_key)["Body"].read() == guide.SCAN_TEMPLATE.read_bytes()
    # stack: created by CloudFormation from the packaged template, with the guide's parameters, and the nested
    # stack from the uploaded template, its function's code from the code bucket.
    cfn = clients("cloudformation")
    described = cfn.describe_stacks(StackName="quickloan")["Stacks"][0]
    assert described["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    given = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert (given["EnableScanSchedule"], given["ScanCodeS3Bucket"], given["ScanCodeS3Key"]) == (
        "true", CODE_BUCKET, code_key)
    assert {"Key": "project", "Value": "quickloan"} in described["Tags"]
    main, nested = account["main"], account["nested"]
    function = clients("lambda").get_function_configuration(FunctionName=nested.physical["ScanFunction"])
    assert function["Environment"]["Variables"] == nested.properties("ScanFunction")["Environment"]["Variables"]
    assert clients("kms").describe_key(KeyId=main.physical["SigningKey"])["KeyMetadata"]["KeySpec"] == "ECC_NIST_P256"
    # --parameter reaches the stack: the engineer may assume the pipeline role (rehearse --as-role).
    trust = clients("iam").get_role(RoleName=main.physical["PipelineRole"])["Role"]["AssumeRolePolicyDocument"]
    assert {"AWS": engineer} in [statement["Principal"] for statement in trust["Statement"]]
    # settings: from the stack's own outputs.
    stack_outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    settings = yaml.safe_load((tmp_path / "sagemaker.yaml").read_text())
    assert stack_outputs == {k: str(v) for k, v in outputs(main).items()}
    assert settings["bucket"] == stack_outputs["ArtefactBucketName"]
    assert settings["image_uri"] == f"{stack_outputs['ImageRepositoryUri']}:0.1.0"
    # image: logged in with the token ECR gave (on stdin), built for linux/amd64, pushed.
    docker = (tmp_path / "docker.log").read_text().splitlines()
    registry = settings["image_uri"].split("/", 1)[0]
    assert docker[:2] == [f"login --username AWS --password-stdin {registry}", "password:123456789012-auth-token"]
    assert docker[2].startswith("build --platform linux/amd64 -f pipeline/sagemaker/Dockerfile -t "
                                + settings["image_uri"])
    assert docker[3:] == [f"push {settings['image_uri']}"]
    # data: under the default InputData prefix, with the stack's key.
    head = s3.head_object(Bucket=settings["bucket"], Key=f"{settings['prefix']}/data/cs-training.csv.gz")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == settings["kms_key_id"]
    # pipeline: rehearsed to a registered package.
    packages = clients("sagemaker").list_model_packages(
        ModelPackageGroupName=settings["model_package_group"])["ModelPackageSummaryList"]
    assert [p["ModelApprovalStatus"] for p in packages] == ["PendingManualApproval"]

    # Idempotent: a second run changes nothing it already did (the stack is updated in place), and without
    # --rehearse it deploys the pipeline and starts it (moto records the execution; it runs no step).
    # (The push the recorder stood in for, made in moto's registry: the image step then finds the tag.)
    repository = settings["image_uri"].split("/", 1)[1].rsplit(":", 1)[0]
    clients("ecr").put_image(repositoryName=repository, imageTag="0.1.0", imageManifest=json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}))
    capsys.readouterr()
    assert run_guide(aws, data, "--parameter", f"RehearsalPrincipalArn={engineer}") == 0
    said = capsys.readouterr().err
    assert f"s3://{CODE_BUCKET} exists" in said and "already uploaded" in said and "already holds this file" in said
    assert f"image: {settings['image_uri']} already pushed" in said and len(docker) == len(
        (tmp_path / "docker.log").read_text().splitlines())
    assert "stack: quickloan ready" in said or "stack: quickloan is up to date" in said
    assert cfn.describe_stacks(StackName="quickloan")["Stacks"][0]["StackId"] == described["StackId"]
    pipeline = clients("sagemaker").describe_pipeline(PipelineName=settings["pipeline_name"])
    assert pipeline["RoleArn"] == settings["role_arn"]
    assert f"started {pipeline['PipelineArn']}/execution/" in said


def test_image_commands_log_in_and_build_for_the_instances_platform(aws, account):
    deployment = guide.Deployment("quickloan", REGION, CODE_BUCKET, "0.1.0")
    deployment.state["outputs"] = {"ImageRepositoryUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/quickloan"}
    login, build, push = deployment.image_commands()
    uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/quickloan:0.1.0"
    assert login == ["docker", "login", "--username", "AWS", "--password-stdin", uri.split("/", 1)[0]]
    assert build[:4] == ["docker", "build", "--platform", "linux/amd64"] and uri in build
    assert push == ["docker", "push", uri]


def test_the_stack_step_says_what_it_would_do(aws, account):
    said: list[str] = []
    guide.Deployment("other", REGION, CODE_BUCKET, "0.1.0", dry_run=True, say=said.append).stack_step()
    assert said == ["stack: would create other"]


def test_bad_calls(aws, tmp_path, capsys):
    assert guide.main(["--code-bucket", "b", "--image-tag", "t", "--region", REGION, "--data",
                       str(tmp_path / "missing.csv"), "--skip", "code-bucket", "--skip", "lambda-zip", "--skip",
                       "package", "--skip", "stack", "--skip", "settings", "--skip", "image",
                       "--parameter", "oops"]) == 2
    assert "BAD_PARAMETER" in capsys.readouterr().err
