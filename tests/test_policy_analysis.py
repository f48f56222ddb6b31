"""The local policy analyser on the statements that decide access: principals, NotPrincipal, conditions."""

from __future__ import annotations

import pytest

from governance.policy.collectors._policy_analysis import analyse_policy

B = ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
OWN, FOREIGN = "123456789012", "444455556666"


def facts(*statements: dict, service: str = "s3", resources=B):
    return analyse_policy({"Statement": list(statements)}, service, resources)


def allow_all(condition: dict | None = None, **extra) -> dict:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": B[1], **extra}
    return {**statement, "Condition": condition} if condition else statement


def tls_deny(**more) -> dict:
    return {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": B,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}, **more}}


@pytest.mark.parametrize("statement, counts", [
    (tls_deny(), True),
    ({**tls_deny(), "Condition": {"BoolIfExists": {"aws:SecureTransport": ["false"]}}}, True),
    ({**tls_deny(), "Principal": {"AWS": "*"}, "Resource": "*"}, True),
    # one account refused plain HTTP, everyone else not
    (tls_deny(StringEquals={"aws:PrincipalAccount": FOREIGN}), False),
    (tls_deny(IpAddress={"aws:SourceIp": "10.0.0.0/8"}), False),
    ({**tls_deny(), "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"}}, False),
    ({**tls_deny(), "Action": "s3:GetObject"}, False),
    ({**tls_deny(), "Resource": B[0]}, False),  # the bucket, not its objects
    ({**tls_deny(), "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, False),
])
def test_tls_deny_counts_only_for_every_caller_and_request(statement, counts):
    assert facts(statement).denies_insecure_transport is counts


@pytest.mark.parametrize("condition, public", [
    (None, True),
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
    ({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "::/0"]}}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
    ({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, True),
    ({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}, True),
    ({"StringEquals": {"aws:SourceVpce": "vpce-1"}}, False),
    ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, False),
    ({"StringLike": {"aws:SourceVpc": "vpc-*"}}, True),
    ({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, False),
    ({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}, True),
    ({"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": "o-abc/r-1/*"}}, True),
    ({"StringEquals": {"aws:SourceAccount": OWN}}, False),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::logs"}}, False),
    ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reader"}}, True),
    ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{FOREIGN}:role/*"}}, False),  # one account's roles
    ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc/r-1/ou-2/*"}}, False),
    ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-*/r-1/*"}}, True),
    ({"StringLike": {"aws:userid": "*:admin"}}, True),
    ({"StringLike": {"aws:PrincipalAccount": "4444*"}}, True),
    ({"StringEquals": {"aws:userid": "AROAEXAMPLE:*"}}, False),
    ({"Bool": {"aws:SecureTransport": "true"}}, True),
    ({"StringEquals": {"s3:prefix": "public/"}}, True),
    # ANDed: one pinning condition is enough
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}, "StringEquals": {"aws:PrincipalOrgID": "o-abc"}}, False),
])
def test_public_depends_on_conditions_that_pin_the_caller(condition, public):
    result = facts(allow_all(condition))
    assert result.allows_public is public and not result.undecided


def test_not_principal_allow_is_public_and_open_to_every_account():
    result = facts({"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                    "Action": "s3:GetObject", "Resource": B[1]})
    assert result.allows_public and result.principal_accounts == ["*"]


@pytest.mark.parametrize("statement, accounts", [
    (allow_all({"StringEquals": {"aws:PrincipalAccount": FOREIGN}}), [FOREIGN]),
    (allow_all({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{FOREIGN}:role/r"}}), [FOREIGN]),
    (allow_all({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), ["*"]),  # any account from there
    ({"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{FOREIGN}:role/r", OWN]}, "Action": "s3:*",
      "Resource": B}, sorted([FOREIGN, OWN])),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "s3:*", "Resource": B}, ["*"]),
    ({"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
      "Resource": B[1], "Condition": {"StringEquals": {"aws:SourceAccount": FOREIGN}}}, [FOREIGN]),
    ({"Effect": "Allow", "Principal": {"CanonicalUser": "abc"}, "Action": "s3:*", "Resource": B},
     ["(CanonicalUser:abc)"]),
    (allow_all({"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{FOREIGN}:role/a", f"arn:aws:iam::{FOREIGN}:role/b"]}}),
     [FOREIGN]),
    ({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1"},
      "Action": "s3:GetObject", "Resource": B[1]}, []),
])
def test_accounts_come_from_principals_and_pinning_conditions(statement, accounts):
    assert facts(statement).principal_accounts == accounts


def test_a_negated_deny_guard_closes_every_allow():
    guard = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": B,
             "Condition": {"StringNotEquals": {"aws:PrincipalAccount": [OWN]}}}
    result = facts(allow_all(), guard)
    assert not result.allows_public and result.principal_accounts == [OWN]
    # a guard on some actions only does not close the Allow
    assert facts(allow_all(), {**guard, "Action": "s3:PutObject"}).allows_public


def test_unsupported_condition_key_leaves_the_answer_undecided_naming_it():
    result = facts(allow_all({"StringEquals": {"aws:SourceIdentity": "x"}}))
    assert set(result.undecided) == {"allows_public", "principal_accounts", "principal_orgs"}
    assert "aws:SourceIdentity" in result.undecided["allows_public"]
    # decided anyway when another condition pins the caller, or another statement is public outright
    assert not facts(allow_all({"StringEquals": {"aws:SourceIdentity": "x", "aws:PrincipalOrgID": "o-1"}})).undecided
    assert facts(allow_all({"StringEquals": {"aws:SourceIdentity": "x"}}), allow_all()).allows_public


def test_unsupported_operator_is_undecided():
    result = facts(allow_all({"StringEqualsIgnoreCaseX": {"aws:PrincipalOrgID": "o-1"}}))
    assert "StringEqualsIgnoreCaseX" in result.undecided["allows_public"]


def test_kms_key_policy_of_the_aws_managed_kind_is_not_public():
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*",
                 "Condition": {"StringEquals": {"kms:CallerAccount": OWN,
                                                "kms:ViaService": "s3.eu-west-1.amazonaws.com"}}}
    result = facts(statement, service="kms", resources=["*"])
    assert not result.allows_public and result.principal_accounts == [OWN]
    assert facts({**statement, "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}},
                 service="kms", resources=["*"]).allows_public
