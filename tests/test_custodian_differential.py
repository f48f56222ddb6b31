"""Differential test: our scan and Cloud Custodian, with equivalent policies, on the same moto scenario.

Where the two disagree, the resource's real configuration decides, and the verdict asserted is ours; each case
below names the setting that decides it. The set of disagreements is asserted too, so a change on either side
shows up here. Custodian is run through its own command line against moto (it honours ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import boto3
import pytest

from governance.policy import scan
from governance.policy.targets import DISCOVER_TARGET
from tests import policy_scenario as data
from tests.custodian_run import CHECKS, run_custodian, verdicts

pytestmark = pytest.mark.servers

# (check, bucket suffix or key name) -> (our verdict, Custodian's, the setting that decides it)
DISAGREEMENTS = {
    ("ENC-S3-002", "tls-one-account"): (
        "FAIL", "PASS", "the TLS Deny also requires aws:PrincipalAccount = 444455556666, so every other account may "
                        "still use plain HTTP; Custodian's has-statement matches the statement's Bool condition only"),
    ("ACC-S3-005", "sourceip-any-v4"): (
        "FAIL", "PASS", "Allow to Principal * with aws:SourceIp 0.0.0.0/0 is every address; Custodian treats any "
                        "aws:SourceIp condition as a restriction"),
    ("ACC-S3-005", "sourceip-any-v6"): (
        "FAIL", "PASS", "the same with ::/0, every IPv6 address"),
    ("ACC-S3-002", "sourceip-any-v4"): (
        "FAIL", "PASS", "public for the same reason: the only condition admits every address"),
    ("ACC-S3-002", "sourceip-any-v6"): (
        "FAIL", "PASS", "public: ::/0"),
    ("ACC-S3-002", "star-foreign-account"): (
        "PASS", "FAIL", "Principal * is pinned by StringEquals aws:PrincipalAccount to one fixed account: not public "
                        "(S3's definition); that account is untrusted, which ACC-S3-005 FAILs"),
    ("ACC-S3-002", "principalarn-foreign"): (
        "PASS", "FAIL", "Principal * pinned by ArnEquals aws:PrincipalArn to one fixed role: not public; the "
                        "foreign account fails ACC-S3-005 instead"),
    ("ACC-S3-005", "guard-org"): (
        "PASS", "FAIL", "the unconditioned Allow to * is closed by a Deny to * with StringNotEquals "
                        "aws:PrincipalOrgID o-trusted1234: only the trusted organisation gets in; Custodian reads "
                        "the Allow alone"),
    ("ACC-S3-002", "guard-org"): (
        "FAIL", "FAIL", "(agreement on the verdict, kept for the record: moto's own policy status says public)"),
    ("ACC-S3-005", "unsupported-key"): (
        "ERROR", "FAIL", "aws:SourceIdentity decides the only grant to *; the local analyser does not evaluate it "
                         "and says so (ERROR naming the key) instead of guessing"),
    ("ACC-S3-002", "unsupported-key"): (
        "ERROR", "FAIL", "the same statement decides public access"),
}


@pytest.fixture(scope="module")
def both(moto_server, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        moto_server.reset()
        patch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_PROFILE", raising=False)
        built = data.build(boto3.client("s3"), boto3.client("kms"))
        ours = scan([DISCOVER_TARGET], parameters=built["parameters"])
        out = tmp_path_factory.mktemp("custodian")
        run = run_custodian(out)
        assert run.returncode == 0, run.stderr[-2000:]
        theirs = verdicts(out, list(built["buckets"].values()), list(built["keys"].values()))
        yield built, ours, theirs


def _resource(built: dict, name: str) -> str:
    return built["keys"][name] if name in built["keys"] else f"s3://{built['buckets'][name]}"


def test_custodian_and_we_disagree_exactly_where_expected_and_we_are_right(both):
    built, ours, theirs = both
    mine = {(f.check.id, f.resource.id): str(f.status) for f in ours.findings}
    names = {_resource(built, n): n for n in (*built["buckets"], *built["keys"])}
    found = {}
    for (check, resource), their_verdict in theirs.items():
        our_verdict = mine[(check, resource)]
        if our_verdict != their_verdict:
            found[(check, names[resource])] = (our_verdict, their_verdict)
    expected = {case: (o, t) for case, (o, t, _) in DISAGREEMENTS.items() if o != t}
    assert found == expected, found
    assert len(found) == 10


def test_our_verdicts_match_the_analyst_on_every_compared_check(both):
    built, ours, _ = both
    mine = {(f.check.id, f.resource.id): str(f.status) for f in ours.findings}
    compared = set(CHECKS.values())
    for suffix, checks in data.EXPECTED.items():
        for check, want in checks.items():
            if check in compared:
                assert mine[(check, _resource(built, suffix))] == want, (check, suffix)
    for name, checks in data.EXPECTED_KEYS.items():
        for check, want in checks.items():
            assert mine[(check, built["keys"][name])] == want, (check, name)
