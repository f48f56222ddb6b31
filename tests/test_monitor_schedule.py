"""The scheduled monitoring job on AWS: the template is cfn-lint clean, its schedule's CreateProcessingJob request is
one SageMaker accepts, and the job's entry point, run in-process with exactly the environment that request sets,
judges the window's capture against the evidence on S3 (moto), writes its signed reports and ledger record, and
exits with the monitor's status.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest

from tests.capture_support import capture_records, drifted, layout, score
from tests.stack_support import load_template, offline_stack

TEMPLATE = Path(__file__).resolve().parent.parent / "pipeline" / "infra" / "monitor-schedule.yaml"
BUCKET = "quickloan-artefacts-123456789012"
SCHEDULED = "2026-12-01T00:15:00Z"  # the window: every capture hour of 2026-11-30 (capture_support.START's day)


def test_template_passes_cfn_lint():
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    assert [str(m) for m in matches] == []


def _request(**parameters) -> dict:
    """The schedule's CreateProcessingJob request as Scheduler sends it (context attributes filled in)."""
    stack = offline_stack(load_template(TEMPLATE), "quickloan-monitor", region="us-east-1", **parameters)
    text = stack.properties("MonitorSchedule")["Target"]["Input"]
    text = text.replace("<aws.scheduler.execution-id>", "d32c5kddcf5bb8c3")
    return json.loads(text.replace("<aws.scheduler.scheduled-time>", SCHEDULED))


@pytest.fixture
def placed(aws, synthetic_run):
    """Model, evidence and a day of capture (and an older, unreadable hour outside the window) in moto's S3."""
    from governance.credit_data import read_split

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)  # the ledger's records are locked
    s3.put_object_lock_configuration(Bucket=BUCKET, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    s3.put_object(Bucket=BUCKET, Key="quickloan/models/run-1/model.tar.gz", Body=synthetic_run.model_path.read_bytes())
    for path in sorted(synthetic_run.evidence_dir.rglob("*")):
        if path.is_file():
            key = f"quickloan/evidence/run-1/{path.relative_to(synthetic_run.evidence_dir).as_posix()}"
            s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes())
    frame = read_split(synthetic_run.test_path or synthetic_run.validation_path)
    streams = {"quickloan-prod": frame, "quickloan-drift": drifted(frame)}
    for endpoint, rows in streams.items():
        files = layout(capture_records(rows, score(synthetic_run.model_path, rows)))
        files["2026/11/29/23/outside-the-window.jsonl"] = b"{not a capture record\n"
        for relative, data in files.items():
            s3.put_object(Bucket=BUCKET, Key=f"quickloan/datacapture/{endpoint}/AllTraffic/{relative}", Body=data)
    key = boto3.client("kms", region_name="us-east-1").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    return {"s3": s3, "signing_key": key["KeyMetadata"]["Arn"],
            "bucket_key": "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"}


def _parameters(placed, endpoint: str) -> dict:
    return {"EndpointName": endpoint, "ModelUri": f"s3://{BUCKET}/quickloan/models/run-1/model.tar.gz",
            "EvidenceUri": f"s3://{BUCKET}/quickloan/evidence/run-1/", "ArtefactBucketName": BUCKET,
            "KmsKeyArn": placed["bucket_key"], "SigningKeyArn": placed["signing_key"],
            "LedgerUri": f"s3://{BUCKET}/quickloan/ledger/",
            "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/quickloan-governance:0.1.0"}


def _run_as_scheduled(request: dict, monkeypatch) -> int:
    """The container's entry point with exactly the request's environment (plus moto's endpoint and credentials)."""
    import os
    import runpy

    assert request["AppSpecification"]["ContainerEntrypoint"] == ["python3", "-m", "governance.monitoring.job"]
    for name in [n for n in os.environ if n.startswith("MONITOR_")]:
        monkeypatch.delenv(name)
    for name, value in request["Environment"].items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as ended:
        runpy.run_module("governance.monitoring.job", run_name="__main__")
    return ended.value.code


def test_the_scheduled_job_judges_the_window_and_records_it(placed, monkeypatch, capsys):
    request = _request(**_parameters(placed, "quickloan-prod"))
    assert re.fullmatch(r"monitor-[0-9a-z]{1,12}-d32c5kddcf5bb8c3", request["ProcessingJobName"])
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_processing_job(**request)  # botocore validates the request against SageMaker's API model
    described = sagemaker.describe_processing_job(ProcessingJobName=request["ProcessingJobName"])
    assert described["RoleArn"] == request["RoleArn"] and described["AppSpecification"] == request["AppSpecification"]
    assert _run_as_scheduled(request, monkeypatch) == 0, capsys.readouterr().err
    s3 = placed["s3"]
    prefix = "quickloan/monitoring/quickloan-prod"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]}
    for folder in ("runs/20261201T001500Z", "latest"):
        assert {f"{prefix}/{folder}/{name}" for name in ("monitoring.json", "monitoring.json.sig",
                                                          "monitoring.sarif")} <= keys
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}/latest/monitoring.json")["Body"].read())
    assert report["verdict"] in ("PASS", "WARN") and report["capture"]["window"][0].startswith("2026-11-30T00:00")
    assert not any("outside-the-window" in f["uri"] for f in report["capture"]["files"])
    from governance.ledger import read_records

    ledger = [r for r in read_records(f"s3://{BUCKET}/quickloan/ledger/") if r.get("event") == "monitor"]
    assert ledger and ledger[-1]["details"]["verdict"] == report["verdict"]


def test_a_drifted_window_fails_the_job(placed, monkeypatch, capsys):
    request = _request(**_parameters(placed, "quickloan-drift"))
    assert _run_as_scheduled(request, monkeypatch) == 1
    err = capsys.readouterr().err
    assert "FAIL" in err and "MonthlyIncome" in err


def test_a_window_without_capture_cannot_pass(placed, monkeypatch, capsys):
    request = _request(**_parameters(placed, "quickloan-prod"))
    request["Environment"]["MONITOR_SCHEDULED_TIME"] = "2027-01-01T00:15:00Z"
    assert _run_as_scheduled(request, monkeypatch) == 2
    assert "NO_CAPTURE" in capsys.readouterr().err
