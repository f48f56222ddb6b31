"""Reading an S3 bucket policy document for the three facts the policies ask about.

* Does it deny requests that are not over TLS (``aws:SecureTransport`` false, under ``Bool`` or ``BoolIfExists``)?
* Does it allow anyone at all (a wildcard principal with no condition that pins the caller down)?
* Which AWS accounts does it let in?

>>> doc = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
...        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
...        "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
...        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
...        "Resource": "arn:aws:s3:::b/*"}]}
>>> facts = analyse_bucket_policy(doc, "b")
>>> facts["denies_insecure_transport"], facts["allows_public"], facts["principal_accounts"]
(True, False, ['111122223333'])
"""

from __future__ import annotations

import re
from typing import Any

# Condition keys that tie a wildcard principal to known callers (AWS's own test for "public" uses these).
_RESTRICTING_KEYS = frozenset(k.lower() for k in (
    "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceAccount", "aws:SourceOwner", "aws:SourceOrgID",
    "aws:PrincipalOrgID", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid", "aws:PrincipalOrgPaths",
    "aws:SourceIp", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
))
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")
_ACCOUNT = re.compile(r"^\d{12}$")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _aws_principals(statement: dict) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(p) for p in _as_list(principal.get("AWS"))]
    return []


def _is_wildcard(statement: dict) -> bool:
    return "*" in _aws_principals(statement)


def _condition_keys(statement: dict) -> set[str]:
    condition = statement.get("Condition") or {}
    return {key.lower() for block in condition.values() if isinstance(block, dict) for key in block}


def _false(value: Any) -> bool:
    values = _as_list(value)
    return bool(values) and all(str(v).lower() == "false" for v in values)


def _denies_insecure(statement: dict, bucket: str) -> bool:
    if statement.get("Effect") != "Deny" or not _is_wildcard(statement) or "NotAction" in statement:
        return False
    actions = {str(a).lower() for a in _as_list(statement.get("Action"))}
    if not actions & {"s3:*", "*"}:
        return False
    resources = {str(r) for r in _as_list(statement.get("Resource"))}
    if not resources & {"*", f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}*"}:
        return False
    condition = statement.get("Condition") or {}
    for operator in ("Bool", "BoolIfExists"):
        block = {k.lower(): v for k, v in (condition.get(operator) or {}).items()}
        if "aws:securetransport" in block and _false(block["aws:securetransport"]):
            return True
    return False


def analyse_bucket_policy(document: dict, bucket: str) -> dict[str, Any]:
    statements = [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]
    allows = [s for s in statements if s.get("Effect") == "Allow"]
    public = [s for s in allows if _is_wildcard(s) and not (_condition_keys(s) & _RESTRICTING_KEYS)]
    accounts: set[str] = set()
    for statement in allows:
        for principal in _aws_principals(statement):
            if _ACCOUNT.match(principal):
                accounts.add(principal)
            elif match := _ACCOUNT_IN_ARN.match(principal):
                accounts.add(match.group(1))
    return {
        "present": True,
        "statement_count": len(statements),
        "denies_insecure_transport": any(_denies_insecure(s, bucket) for s in statements),
        "allows_public": bool(public),
        "public_statements": [str(s.get("Sid") or i) for i, s in enumerate(statements) if s in public],
        "principal_accounts": sorted(accounts),
    }


NO_POLICY = {
    "present": False,
    "statement_count": 0,
    "denies_insecure_transport": False,
    "allows_public": False,
    "public_statements": [],
    "principal_accounts": [],
}
