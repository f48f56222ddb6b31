"""Bucket and key policies decided by their principals and conditions, on moto's server.

The scenario (``tests/policy_scenario.py``) holds one bucket per case a statement-by-statement reader gets wrong;
each must reach the verdict in ``EXPECTED``, every policy-analysis finding must name its engine, and
``--discover`` must find every bucket and key the scenario created.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import boto3
import pytest

from governance.policy import Status, scan
from governance.policy.targets import DISCOVER_TARGET
from tests import policy_scenario as scenario_data
from tests.servers import LOOPBACK, free_port

pytestmark = pytest.mark.servers
DECIDED = {"ENC-S3-002", "ACC-S3-002", "ACC-S3-005", "ACC-KMS-001", "ACC-KMS-002"}


@pytest.fixture(scope="module")
def policy_scan(moto_server):
    with pytest.MonkeyPatch.context() as patch:
        moto_server.reset()
        patch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_PROFILE", raising=False)
        built = scenario_data.build(boto3.client("s3"), boto3.client("kms"))
        targets = [f"s3://{b}" for b in built["buckets"].values()]
        built["result"] = scan(targets, parameters=built["parameters"])
        built["discovered"] = scan([DISCOVER_TARGET], parameters=built["parameters"])
        yield built


def _status(result, check: str, resource: str) -> tuple[str, str]:
    finding = next(f for f in result.findings if f.check.id == check and f.resource.id == resource)
    return str(finding.status), finding.message


def test_bucket_verdicts_follow_principals_and_conditions(policy_scan):
    for suffix, checks in scenario_data.EXPECTED.items():
        for check, want in checks.items():
            got, message = _status(policy_scan["result"], check, f"s3://{policy_scan['buckets'][suffix]}")
            assert got == want, (suffix, check, message)


def test_a_deny_outside_the_organisation_closes_an_open_allow(policy_scan):
    bucket = f"s3://{policy_scan['buckets']['guard-org']}"
    policy = policy_scan["result"].evidence[f"s3_bucket:{bucket}"][1].data["policy"]
    assert policy["allows_public"] is False and policy["principal_orgs"] == [scenario_data.TRUSTED_ORG]


def test_key_policy_verdicts(policy_scan):
    # Keys no bucket uses are reached by --discover only; the public key also through the bucket it encrypts.
    assert _status(policy_scan["result"], "ACC-KMS-001", policy_scan["keys"]["public"])[0] == "FAIL"
    for name, checks in scenario_data.EXPECTED_KEYS.items():
        for check, want in checks.items():
            got, message = _status(policy_scan["discovered"], check, policy_scan["keys"][name])
            assert got == want, (name, check, message)


def test_unsupported_condition_key_is_an_error_naming_the_key(policy_scan):
    bucket = f"s3://{policy_scan['buckets']['unsupported-key']}"
    for check in ("ACC-S3-002", "ACC-S3-005"):
        status, message = _status(policy_scan["result"], check, bucket)
        assert status == "ERROR" and "aws:SourceIdentity" in message, message


def test_foreign_key_arn_fails_the_allow_list_without_an_error(policy_scan):
    result = policy_scan["result"]
    bucket = f"s3://{policy_scan['buckets']['foreign-key']}"
    bucket_findings = [f for f in result.findings if f.resource.id == bucket]
    assert not [f for f in bucket_findings if f.status == Status.ERROR]
    encryption = result.evidence[f"s3_bucket:{bucket}"][1].data["encryption"]
    assert encryption["kms_key_arn"] == scenario_data.FOREIGN_KEY
    status, message = _status(result, "ENC-S3-001", bucket)
    assert status == "FAIL" and "encryption.kms_key_arn" in message


def test_years_with_days_zero_reads_as_years(policy_scan):
    bucket = f"s3://{policy_scan['buckets']['lock-years']}"
    lock = policy_scan["result"].evidence[f"s3_bucket:{bucket}"][1].data["object_lock"]
    assert lock["default_retention_days"] == 3650


def test_every_policy_finding_names_its_engine(policy_scan):
    findings = [f for f in policy_scan["result"].findings if f.check.id in DECIDED]
    assert findings
    for finding in findings:
        assert finding.engine, finding.to_dict()
        assert "policy analysed by" in finding.message and finding.to_dict()["decided_by"] == finding.engine
    # moto has no IAM Access Analyzer: the local analyser decides, and the evidence says why.
    _, evidence = policy_scan["result"].evidence[f"s3_bucket:s3://{policy_scan['buckets']['compliant']}"]
    assert evidence.data["policy"]["public_engine"].startswith("governance local policy analyser")
    assert any("Access Analyzer not used" in note for note in evidence.data["policy"]["notes"])
    assert policy_scan["result"].stats["api_calls"]["accessanalyzer:CheckNoPublicAccess"] == 1  # asked once
    # without Access Analyzer, its ValidatePolicy findings are unavailable evidence, never an empty list
    assert evidence.data["policy"]["validation_findings"] is None
    assert "ValidatePolicy not available" in evidence.errors["policy.validation_findings"]


def test_discover_finds_every_bucket_and_key(policy_scan):
    resources = {ref.id for ref, _ in policy_scan["discovered"].evidence.values()}
    assert {f"s3://{b}" for b in policy_scan["buckets"].values()} <= resources
    assert set(policy_scan["keys"].values()) <= resources
    objects = [r for r in resources if r.startswith("s3://") and r.count("/") > 2]
    assert len(objects) == 7


def test_cli_discover_and_no_target(policy_scan, tmp_path):
    out = tmp_path / "discover.json"
    run = subprocess.run([sys.executable, "-m", "governance", "scan", "--discover", "--quiet", "-o", str(out),
                          "--set", f"trusted_accounts={json.dumps(policy_scan['parameters']['trusted_accounts'])}"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert set(policy_scan["keys"].values()) <= {f["resource"] for f in json.loads(out.read_text())["findings"]}
    bare = subprocess.run([sys.executable, "-m", "governance", "scan"], capture_output=True, text=True, timeout=60)
    assert bare.returncode == 2 and "--discover" in bare.stderr and "Traceback" not in bare.stderr


class _AccessAnalyzerStub(BaseHTTPRequestHandler):
    """Answers CheckNoPublicAccess the way the service does (restJson); FAIL for a policy with a statement "Open".

    moto has no Access Analyzer, so this stands in for the service to test the wiring only: that its answer
    decides "public" and the finding names it. Its verdicts are the stub's, not an analysis.
    """

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, **body})
        open_statement = '"Open"' in body["policyDocument"]
        if self.path.startswith("/policy/validation"):
            answer = {"findings": [{"findingType": "SECURITY_WARNING", "issueCode": "STUB_WARNING",
                                    "findingDetails": "stub finding", "learnMoreLink": "https://example.invalid",
                                    "locations": []}] if open_statement else []}
        else:
            answer = {"result": "FAIL" if open_statement else "PASS", "message": "stub verdict",
                      "reasons": [{"description": "open", "statementIndex": 0, "statementId": "Open"}]
                      if open_statement else []}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def test_access_analyzer_decides_public_where_it_answers(aws, monkeypatch):
    server = ThreadingHTTPServer((LOOPBACK, free_port()), _AccessAnalyzerStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_ACCESSANALYZER", f"http://{LOOPBACK}:{server.server_port}")
    try:
        s3 = boto3.client("s3")
        statements = {
            # the local analyser cannot decide aws:SourceIdentity; Access Analyzer (the stub) says public
            "aa-open": {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::aa-open/*",
                        "Condition": {"StringEquals": {"aws:SourceIdentity": "x"}}},
            "aa-closed": {"Sid": "Vpce", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::aa-closed/*",
                          "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}},
        }
        for bucket, statement in statements.items():
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                                   "Statement": [statement]}))
        result = scan(["s3://aa-open", "s3://aa-closed"], parameters={"trusted_accounts": ["123456789012"]})
        found = {(f.check.id, f.resource.id): f for f in result.findings}
        opened, closed = found[("ACC-S3-002", "s3://aa-open")], found[("ACC-S3-002", "s3://aa-closed")]
        assert (str(opened.status), str(closed.status)) == ("FAIL", "PASS")
        assert opened.engine == closed.engine == "AWS IAM Access Analyzer (CheckNoPublicAccess)"
        assert opened.to_dict()["decided_by"] == opened.engine
        # the account question stays with the local analyser, which still cannot decide it: ERROR, named
        accounts = found[("ACC-S3-005", "s3://aa-open")]
        assert str(accounts.status) == "ERROR" and "aws:SourceIdentity" in accounts.message
        assert accounts.engine.startswith("governance local policy analyser")
        checked = [r for r in _AccessAnalyzerStub.requests if r["path"] == "/policy/check-no-public-access"]
        assert {r["resourceType"] for r in checked} == {"AWS::S3::Bucket"}
        # ValidatePolicy's findings are evidence too
        policies = {ref.id: ev.data["policy"] for ref, ev in result.evidence.values() if ref.type == "s3_bucket"}
        assert policies["s3://aa-open"]["validation_findings"] == [
            {"finding_type": "SECURITY_WARNING", "issue_code": "STUB_WARNING", "detail": "stub finding"}]
        assert policies["s3://aa-closed"]["validation_findings"] == []
        # switched off, the local analyser decides (and cannot, for aa-open: ERROR, never PASS)
        local = scan(["s3://aa-open"], parameters={"use_access_analyzer": False})
        status = next(f for f in local.findings if f.check.id == "ACC-S3-002")
        assert str(status.status) == "ERROR" and status.engine.startswith("governance local policy analyser")
    finally:
        server.shutdown()


def test_objects_are_read_and_their_key_is_the_buckets(policy_scan):
    bucket = policy_scan["buckets"]["no-bucket-key"]
    statuses = {str(f.status) for f in policy_scan["result"].findings
                if f.resource.id.startswith(f"s3://{bucket}/") and f.check.id == "ENC-S3-003"}
    assert statuses == {"PASS"}
