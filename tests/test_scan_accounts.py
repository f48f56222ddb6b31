"""Organisation-wide scans on moto's server: Organizations ListAccounts, STS AssumeRole, S3 in twenty accounts.

moto keeps each account's resources apart when called with credentials of a role assumed in that account. Its
AssumeRole accepts any role (it has no trust policies), so the twentieth account's refusal comes from a loopback
relay in front of moto's STS that answers that one role with AWS's own AccessDenied response; every other call
goes through unchanged.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from governance.policy import Status
from governance.policy.fanout import list_accounts, scan_accounts
from governance.policy.schema import load_policies
from tests.servers import LOOPBACK, free_port

pytestmark = pytest.mark.servers
ROLE = "GovernanceReadOnly"
POLICY = """kind: policy
name: org
checks:
  - id: ORG-S3-001
    title: Versioning is enabled
    resource: s3_bucket
    severity: high
    regulations: ["EU AI Act Art. 18(1)"]
    assert: {eq: {path: versioning.status, value: Enabled}}
    remediation: aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled
"""
DENIED = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
<Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole on resource: {arn}</Message>
</Error><RequestId>0</RequestId></ErrorResponse>"""


class StsRelay:
    """Relays to moto; AssumeRole for ``denied`` role ARNs gets AWS's AccessDenied (HTTP 403)."""

    def __init__(self, upstream: str) -> None:
        self.denied: set[str] = set()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = urllib.parse.parse_qs(body.decode())
                arn = (form.get("RoleArn") or [""])[0]
                if form.get("Action") == ["AssumeRole"] and arn in relay.denied:
                    self._reply(403, DENIED.format(arn=arn).encode(), {"Content-Type": "text/xml"})
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(upstream + self.path, data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        self._reply(response.status, response.read(), dict(response.headers))
                except urllib.error.HTTPError as err:
                    self._reply(err.code, err.read(), dict(err.headers))

            def _reply(self, status: int, payload: bytes, headers: dict) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer((LOOPBACK, free_port()), Handler)
        self.endpoint = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def organisation(accounts: int) -> list[str]:
    """The management account (moto's own) and ``accounts - 1`` member accounts."""
    org = boto3.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = [boto3.client("sts").get_caller_identity()["Account"]]
    for n in range(accounts - 1):
        status = org.create_account(AccountName=f"team-{n}", Email=f"team-{n}@example.com")["CreateAccountStatus"]
        ids.append(status["AccountId"])
    return ids


def in_account(account: str):
    credentials = boto3.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                                                  RoleSessionName="setup")["Credentials"]
    return boto3.client("s3", aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


@pytest.fixture
def org(aws, monkeypatch, tmp_path):
    ids = organisation(20)
    for account in ids:
        s3 = in_account(account)
        s3.create_bucket(Bucket=f"gov-{account}")
        s3.put_bucket_versioning(Bucket=f"gov-{account}", VersioningConfiguration={"Status": "Enabled"})
    relay = StsRelay(aws.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", relay.endpoint)
    (tmp_path / "org.yaml").write_text(POLICY)
    yield ids, relay, load_policies(tmp_path)
    relay.close()


def test_twenty_accounts_one_denying_assume_role(org):
    ids, relay, bundle = org
    relay.denied.add(f"arn:aws:iam::{ids[-1]}:role/{ROLE}")
    result = scan_accounts(["s3://gov-{account}"], "ORG", ROLE, bundle=bundle, max_in_flight=5)
    assert list_accounts("ORG") == sorted(ids) and len(ids) == 20
    by_account = {a["account"]: a for a in result.stats["accounts"]}
    reached = [a for a in ids[:-1]]
    assert all(by_account[a]["status"] == "scanned" and by_account[a]["summary"]["PASS"] == 1 for a in reached)
    assert by_account[ids[-1]]["status"] == "unreachable" and "AccessDenied" in by_account[ids[-1]]["reason"]
    passed = {f.resource.id for f in result.findings if f.status is Status.PASS}
    assert passed == {f"s3://gov-{a}" for a in reached}
    errors = [f for f in result.findings if f.status is Status.ERROR]
    assert {f.resource.id for f in errors} == {f"s3://gov-{ids[-1]}"}
    assert result.counts["FAIL"] == 0 and result.exit_code == 3


def test_a_violation_in_one_account_fails_the_scan_and_names_it(org):
    ids, relay, bundle = org
    in_account(ids[3]).put_bucket_versioning(Bucket=f"gov-{ids[3]}", VersioningConfiguration={"Status": "Suspended"})
    relay.denied.add(f"arn:aws:iam::{ids[0]}:role/{ROLE}")
    result = scan_accounts(["s3://gov-{account}"], ids[:6], ROLE, bundle=bundle, max_in_flight=2)
    statuses = {f.resource.id: f.status for f in result.findings}
    assert statuses[f"s3://gov-{ids[3]}"] is Status.FAIL and statuses[f"s3://gov-{ids[0]}"] is Status.ERROR
    assert result.exit_code == 1 and result.stats["accounts_scanned"] == 5


def test_command_line(org, capsys, tmp_path):
    from governance.cli import main

    ids, relay, _ = org
    relay.denied.add(f"arn:aws:iam::{ids[1]}:role/{ROLE}")
    code = main(["scan", "s3://gov-{account}", "--accounts", ",".join(ids[:3]), "--role", ROLE,
                 "--policies", str(tmp_path / "org.yaml"), "--max-accounts-in-flight", "2", "--quiet"])
    assert code == 3
    assert main(["scan", "s3://x", "--accounts", "12345"]) == 2  # no --role
    assert main(["scan", "s3://x", "--accounts", "12345", "--role", ROLE]) == 2  # not an account id
    assert main(["scan", "local/folder", "--accounts", ids[0], "--role", ROLE]) == 2
    capsys.readouterr()


def test_discovery_in_every_account(org):
    ids, relay, bundle = org
    relay.denied.add(f"arn:aws:iam::{ids[2]}:role/{ROLE}")
    result = scan_accounts(["aws:discover"], ids[:3], ROLE, bundle=bundle)
    statuses = {(f.resource.id, str(f.status)) for f in result.findings}
    assert (f"s3://gov-{ids[0]}", "PASS") in statuses and (f"s3://gov-{ids[1]}", "PASS") in statuses
    assert ("aws:discover", "ERROR") in statuses and f"s3://gov-{ids[2]}" not in {r for r, _ in statuses}
