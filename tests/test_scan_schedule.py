"""Scheduled scans: the CloudFormation schedule is valid and wired to the real handler, and a scheduled run keeps
its reports, logs itself to the ledger and fails loudly."""

from __future__ import annotations

import importlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from governance.errors import GovernanceError
from governance.policy import lambda_handler
from governance.policy.scheduled import ScheduledScanFailed, main, run_scheduled_scan

TEMPLATE = Path(__file__).resolve().parent.parent / "pipeline" / "infra" / "scan-schedule.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(str(TEMPLATE))


def test_template_passes_cfn_lint():
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(TEMPLATE, config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    assert [str(m) for m in matches] == []


def test_template_runs_the_real_handler_with_the_settings_it_reads(template):
    function = template["Resources"]["ScanFunction"]["Properties"]
    module, _, name = function["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    variables = set(function["Environment"]["Variables"])
    read_by_handler = set(re.findall(r'"(SCAN_[A-Z_]+)"', Path(lambda_handler.__file__).read_text()))
    assert variables - {"GOVERNANCE_ACTOR"} <= read_by_handler
    assert {"SCAN_TARGETS", "SCAN_OUTPUT_URI"} <= variables


def test_template_fails_loudly_and_keeps_logs(template):
    resources = template["Resources"]
    assert resources["ScanInvokeConfig"]["Properties"]["MaximumRetryAttempts"] == 0
    alarm = resources["ScanFailedAlarm"]["Properties"]
    assert alarm["MetricName"] == "Errors" and alarm["Threshold"] == 1
    schedule = resources["ScanScheduleRule"]["Properties"]
    assert "DeadLetterConfig" in schedule["Target"]
    assert resources["ScanLogGroup"]["Properties"]["RetentionInDays"] >= 183  # EU AI Act Art. 19
    # the parameters the main infrastructure template passes to this one when it nests it
    assert {"ScanTargets", "ResultsBucket", "ResultsPrefix", "KmsKeyArn", "ScheduleExpression"} <= set(
        template["Parameters"])


def test_scheduled_run_writes_reports_and_ledger_then_raises(tmp_path):
    target = tmp_path / "shared.txt"
    target.write_text("x")
    os.chmod(target, 0o666)
    out = tmp_path / "scans"
    ledger = tmp_path / "ledger.jsonl"
    when = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    with pytest.raises(ScheduledScanFailed) as failed:
        run_scheduled_scan([str(target)], str(out), ledger_uri=str(ledger), now=when)
    summary = failed.value.summary
    assert summary["verdict"] == "fail" and summary["exit_code"] == 1
    run_dir = out / "runs" / "2026-11-29T020000Z"
    for name in ("policy.json", "policy.sarif", "policy.junit.xml"):
        assert (run_dir / name).is_file() and (out / "latest" / name).read_bytes() == (run_dir / name).read_bytes()
    record = json.loads(ledger.read_text().splitlines()[-1])
    assert record["event"] == "scan" and record["details"]["verdict"] == "fail"
    assert "failed" in str(failed.value)


def test_scheduled_run_appends_to_a_signed_ledger(tmp_path):
    from governance.ledger import Ledger
    from governance.signing.signer import load_signer, write_key_pair

    private, _ = write_key_pair(tmp_path / "keys")
    ledger = tmp_path / "ledger.jsonl"
    Ledger(ledger, load_signer(private)).append("sign", "release", subject="model.tar.gz")
    target = tmp_path / "ok.txt"
    target.write_text("fine")
    os.chmod(target, 0o644)
    with pytest.raises(GovernanceError) as refused:
        run_scheduled_scan([str(target)], str(tmp_path / "out"), ledger_uri=str(ledger))
    assert refused.value.reason == "LEDGER_SIGNED"
    assert not (tmp_path / "out").exists()  # refused before any report was written
    assert main([str(target), "--output-uri", str(tmp_path / "out"), "--ledger", str(ledger),
                 "--ledger-key", str(private)]) == 0
    record = json.loads(ledger.read_text().splitlines()[-1])
    assert record["event"] == "scan" and record["details"]["verdict"] == "pass"


def test_lambda_reads_the_ledger_kms_key(monkeypatch):
    monkeypatch.setenv("SCAN_TARGETS", "s3://b/")
    monkeypatch.setenv("SCAN_OUTPUT_URI", "s3://out/")
    monkeypatch.setenv("SCAN_LEDGER_KMS_KEY_ID", "alias/ledger")
    assert lambda_handler.configuration({})["ledger_kms_key_id"] == "alias/ledger"


def test_scheduled_module_is_a_command_for_cron_and_pipeline_steps(tmp_path, capsys):
    target = tmp_path / "ok.txt"
    target.write_text("fine")
    os.chmod(target, 0o644)
    state = tmp_path / "state.json"
    assert main([str(target), "--output-uri", str(tmp_path / "out"), "--state-uri", str(state)]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "pass"
    os.chmod(target, 0o666)
    assert main([str(target), "--output-uri", str(tmp_path / "out")]) == 1
    assert "FAIL" in capsys.readouterr().err
    assert main([str(target), "--output-uri", str(tmp_path / "out"), "--parameters", "{not json"]) == 2


# --- day-one defects: each test fails on the template as it was before its fix ----------------------------------------

def test_no_reserved_concurrency(template):
    """Defect: ReservedConcurrentExecutions rolls the stack back on accounts at the default quota of 10."""
    assert "ReservedConcurrentExecutions" not in template["Resources"]["ScanFunction"]["Properties"]


def test_names_fit_when_nested_under_a_long_parent_name(template):
    """Defect: names built from the stack name passed 64 characters once the parent's name passed 25."""
    from tests.stack_support import offline_stack

    stack = offline_stack(template, f"{'p' * 60}-ScanSchedule-1A2B3C4D5E6F7", ScanTargets="s3://b/",
                          ResultsBucket="results", KmsKeyArn="arn:aws:kms:eu-west-1:1:key/k")
    for logical, field, limit in (("ScanFunction", "FunctionName", 64), ("ScanScheduleRule", "Name", 64),
                                  ("ScanLogGroup", "LogGroupName", 512)):
        value = stack.resolve(template["Resources"][logical]["Properties"][field])
        assert len(value) <= limit, (logical, value)
    condition = stack.resolve(template["Resources"]["FailureQueuePolicy"]["Properties"]["PolicyDocument"])
    scheduler = condition["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert scheduler.endswith("/" + stack.resolve(template["Resources"]["ScanScheduleRule"]["Properties"]["Name"]))


def test_the_function_can_write_its_encrypted_logs(template):
    """Defect: the role had no logs:CreateLogStream/PutLogEvents (the alarm pointed at logs never written), and
    the log group was not KMS-encrypted."""
    statements = {s["Sid"]: s for s in template["Resources"]["ScanRole"]["Properties"]["Policies"][0]
                  ["PolicyDocument"]["Statement"]}
    logs = statements["WriteItsLogs"]
    assert set(logs["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert "ScanLogGroup.Arn" in str(logs["Resource"])
    assert template["Resources"]["ScanLogGroup"]["Properties"]["KmsKeyId"] == {"Ref": "KmsKeyArn"}


def test_the_function_may_read_the_trusted_signing_key(template):
    """Defect: with the KMS signing key as the trusted signer, the scan must be allowed kms:GetPublicKey on it."""
    grant = template["Resources"]["TrustedSignerPolicy"]
    assert grant["Condition"] == "HasSigningKey" and grant["Properties"]["RoleName"] == {"Ref": "ScanRole"}
    text = json.dumps(grant["Properties"]["PolicyDocument"])
    assert "kms:GetPublicKey" in text and '"Ref": "SigningKeyArn"' in text
