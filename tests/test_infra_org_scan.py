"""The scheduled organisation scan: its template (cfn-lint clean, a Distributed Map bounded by a parameter) and
the three functions the state machine runs, on moto's server."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "pipeline" / "infra" / "org-scan.yaml"


@pytest.fixture(scope="module")
def template() -> dict:
    from cfnlint.decode import decode_str

    parsed, problems = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    assert not problems
    return parsed


def test_cfn_lint_passes_and_catches_a_broken_template():
    from cfnlint.api import lint, lint_file

    assert lint_file(TEMPLATE) == []
    broken = TEMPLATE.read_text(encoding="utf-8").replace("StateMachineType: STANDARD", "StateMachineTyp: STANDARD")
    assert any("StateMachineTyp" in str(problem) for problem in lint(broken))


def test_distributed_map_is_bounded_and_tolerates_one_account(template):
    machine = template["Resources"]["StateMachine"]["Properties"]
    states = machine["Definition"]["States"]
    scan = states["ScanAccounts"]
    assert scan["Type"] == "Map" and scan["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert scan["MaxConcurrency"] == "${MaxConcurrency}"
    assert machine["DefinitionSubstitutions"]["MaxConcurrency"] == {"Ref": "MaxAccountsInFlight"}
    assert scan["ToleratedFailurePercentage"] == 100
    assert "Catch" in scan["ItemProcessor"]["States"]["ScanAccount"]
    assert states["Merge"]["End"] is True


def test_functions_name_real_handlers_and_assume_only_the_scan_role(template):
    for name in ("ListAccountsFunction", "ScanAccountFunction", "MergeFunction"):
        module, _, function = template["Resources"][name]["Properties"]["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), function))
    statements = template["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assume = next(s for s in statements if s["Action"] == "sts:AssumeRole")
    assert assume["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${ScanRoleName}"}


@pytest.mark.servers
def test_handlers_list_scan_and_merge(aws, monkeypatch, tmp_path):
    from governance.policy import fanout_handler
    from tests.test_scan_accounts import POLICY, ROLE, StsRelay, in_account, organisation

    ids = organisation(3)
    for account in ids:
        in_account(account).create_bucket(Bucket=f"gov-{account}")
        in_account(account).put_bucket_versioning(Bucket=f"gov-{account}",
                                                  VersioningConfiguration={"Status": "Enabled"})
    boto3.client("s3").create_bucket(Bucket="org-results")
    relay = StsRelay(aws.endpoint)
    relay.denied.add(f"arn:aws:iam::{ids[2]}:role/{ROLE}")
    (tmp_path / "org.yaml").write_text(POLICY)
    for name, value in {"AWS_ENDPOINT_URL_STS": relay.endpoint, "SCAN_TARGETS": "s3://gov-{account}",
                        "SCAN_ROLE_NAME": ROLE, "SCAN_OUTPUT_URI": "s3://org-results/org-scans",
                        "SCAN_POLICIES_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    try:
        items = fanout_handler.accounts({})["accounts"]
        assert sorted(i["account"] for i in items) == sorted(ids)
        results = [fanout_handler.scan_account({**item, "execution": "arn:x:execution:sm:run-1"}) for item in items]
    finally:
        relay.close()
    by_account = {r["account"]: r for r in results}
    assert by_account[ids[0]]["verdict"] == "pass" and by_account[ids[2]]["unreachable"]
    written = json.loads(boto3.client("s3").get_object(
        Bucket="org-results", Key=f"org-scans/runs/run-1/accounts/{ids[0]}.json")["Body"].read())
    assert written["summary"]["PASS"] == 1
    reached = [by_account[ids[0]], by_account[ids[1]]]
    assert fanout_handler.merge({"results": reached, "execution": "run-1"})["verdict"] == "pass"
    with pytest.raises(fanout_handler.OrganisationScanFailed) as failed:
        fanout_handler.merge({"results": [*results, {"account": "999999999999", "Error": "States.Timeout"}],
                              "execution": "run-1"})
    assert sorted(failed.value.summary["unreachable"]) == sorted([ids[2], "999999999999"])
    latest = json.loads(boto3.client("s3").get_object(Bucket="org-results",
                                                      Key="org-scans/latest/summary.json")["Body"].read())
    assert latest["verdict"] == "error" and latest["exit_code"] == 3
