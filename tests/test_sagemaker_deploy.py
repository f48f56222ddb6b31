"""Upsert, start and describe the pipeline against moto's server on 127.0.0.1.

moto accepts the pipeline and model-package calls but does not run steps: an execution is reported Succeeded at
once. What is tested here is what we send and what comes back, not a pipeline run.
"""

from __future__ import annotations

import json

import boto3
import pytest

from pipeline.sagemaker.config import PipelineSettings, env_name

SAGEMAKER_SDK = pytest.importorskip("sagemaker", reason="needs the [sagemaker] extra: pip install -e '.[sagemaker]'")

pytestmark = pytest.mark.servers

SETTINGS = PipelineSettings(
    region="us-east-1",
    role_arn="arn:aws:iam::123456789012:role/quickloan-pipeline",
    bucket="quickloan-artefacts-123456789012",
    kms_key_id="alias/quickloan-artefacts",
    signing_key_id="alias/quickloan-model-signing",
    image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/quickloan-governance:0.1.0",
)


def sagemaker():
    return boto3.client("sagemaker", region_name="us-east-1")


def test_upsert_start_and_describe(aws):
    from pipeline.sagemaker.deploy import deploy, describe

    first = deploy(SETTINGS)
    assert first.pipeline_arn.endswith(":pipeline/QuickLoanCreditDefault")
    assert first.model_package_group_created and first.execution_arn is None
    stored = sagemaker().describe_pipeline(PipelineName=SETTINGS.pipeline_name)
    assert stored["RoleArn"] == SETTINGS.role_arn
    definition = json.loads(stored["PipelineDefinition"])
    assert [s["Name"] for s in definition["Steps"]][-1] == "RegistrationGate"
    tags = sagemaker().list_tags(ResourceArn=first.pipeline_arn)["Tags"]
    assert {"Key": "definition-sha256", "Value": first.definition_sha256} in tags
    group = sagemaker().describe_model_package_group(ModelPackageGroupName=SETTINGS.model_package_group)
    assert group["ModelPackageGroupArn"] == first.model_package_group_arn

    second = deploy(SETTINGS, start=True, parameters={"AucThreshold": 0.8})
    assert second.pipeline_arn == first.pipeline_arn and not second.model_package_group_created
    assert second.definition_sha256 == first.definition_sha256
    assert second.execution_arn.startswith(first.pipeline_arn + "/execution/")
    assert second.execution_status == "Succeeded"  # moto: executions never run, they just succeed

    seen = describe(SETTINGS)
    assert seen["pipeline_arn"] == first.pipeline_arn
    assert seen["definition_sha256"] == first.definition_sha256  # what runs is what `definition` printed
    assert [e["arn"] for e in seen["executions"]] == [second.execution_arn]


def test_deploy_command(aws, tmp_path, monkeypatch, capsys):
    from governance.cli import main

    monkeypatch.chdir(tmp_path)
    for key in ("region", "role_arn", "bucket", "kms_key_id", "signing_key_id", "image_uri"):
        monkeypatch.setenv(env_name(key), str(getattr(SETTINGS, key)))
    monkeypatch.setenv(env_name("pipeline_name"), "QuickLoanCli")
    assert main(["pipeline", "deploy", "--start", "--parameter", "NumRound=50", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["pipeline_name"] == "QuickLoanCli" and result["execution_status"] == "Succeeded"
    assert "execution" in captured.err
    executions = sagemaker().list_pipeline_executions(PipelineName="QuickLoanCli")["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in executions] == [result["execution_arn"]]


def test_deploy_command_refuses_incomplete_settings(tmp_path, monkeypatch, capsys):
    from governance.cli import main

    monkeypatch.chdir(tmp_path)
    for key in ("region", "role_arn", "bucket", "kms_key_id", "signing_key_id", "image_uri", "config"):
        monkeypatch.delenv(env_name(key), raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv(env_name("role_arn"), SETTINGS.role_arn)
    assert main(["pipeline", "deploy"]) == 2
    err = capsys.readouterr().err
    assert "CONFIG_MISSING" in err and env_name("signing_key_id") in err and env_name("role_arn") not in err
    assert main(["pipeline", "deploy", "--parameter", "AucThreshold=0.8"]) == 2
    assert "--start" in capsys.readouterr().err


def test_unknown_parameters_are_refused_before_anything_is_sent(tmp_path, monkeypatch, capsys):
    from governance.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: any AWS call would fail with 3
    for key in ("region", "role_arn", "bucket", "kms_key_id", "signing_key_id", "image_uri"):
        monkeypatch.setenv(env_name(key), str(getattr(SETTINGS, key)))
    assert main(["pipeline", "deploy", "--start", "--parameter", "AucTreshold=0.8"]) == 2
    err = capsys.readouterr().err
    assert "BAD_PARAMETER" in err and "AucThreshold" in err


def test_unreachable_endpoint_is_incomplete(tmp_path, monkeypatch, capsys):
    """No AWS to talk to: exit 3 with one line, never a traceback and never a pass."""
    from governance.cli import main
    from tests.servers import free_port

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for key in ("region", "role_arn", "bucket", "kms_key_id", "signing_key_id", "image_uri"):
        monkeypatch.setenv(env_name(key), str(getattr(SETTINGS, key)))
    assert main(["pipeline", "deploy"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
