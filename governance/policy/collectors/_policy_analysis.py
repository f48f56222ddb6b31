"""Condition-aware reading of resource policies (S3 bucket policies, KMS key policies).

Three questions, answered with the principals *and* the conditions that decide them:

* Does the policy deny every request that is not over TLS, for every caller? A ``Deny`` on ``aws:SecureTransport``
  false that carries any further condition (``aws:PrincipalAccount``, ``aws:SourceIp``, ...) refuses plain HTTP to
  some callers only, so it does not count.
* Is the resource public? An ``Allow`` to everyone (``Principal: "*"``, ``{"AWS": "*"}``, an account wildcard, or
  ``NotPrincipal``) is public unless one of its conditions pins the caller down with a fixed value — the same list
  of keys S3 uses for "public" (account, organisation, ARN, VPC, VPC endpoint, user id, a bounded ``aws:SourceIp``
  set). ``…IfExists`` and negated operators never pin a caller (a request without the key, or with any other
  value, gets in); ``0.0.0.0/0`` and ``::/0`` are everyone.
* Which AWS accounts (and organisations) does it let in? From ``Principal`` *and* from account-pinning conditions:
  ``Principal: "*"`` with ``aws:PrincipalAccount = X`` grants account X.

A ``Deny`` to everyone with one negated condition (``StringNotEquals aws:PrincipalOrgID``, ``NotIpAddress
aws:SourceIp``, ...) that covers every action is read as a guard that applies to every ``Allow``. A condition key
the analyser does not know, on a statement whose verdict depends on it, leaves the answer *undecided* with the key
named: the check reports ERROR, never PASS.

>>> doc = {"Statement": [
...     {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
...      "Condition": {"StringEquals": {"aws:PrincipalAccount": "444455556666"}}}]}
>>> facts = analyse_policy(doc, "s3", ["arn:aws:s3:::b", "arn:aws:s3:::b/*"])
>>> facts.allows_public, facts.principal_accounts
(False, ['444455556666'])
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

ENGINE = "governance local policy analyser v2"

# Keys whose fixed value names the caller's account.
_ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "aws:sourceowner", "kms:calleraccount",
                           "s3:dataaccesspointaccount"})
# Keys whose fixed value is an ARN (the account is its fifth field, when it has one).
_ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn", "s3:dataaccesspointarn"})
_ORG_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths", "aws:sourceorgid", "aws:sourceorgpaths"})
# Keys that pin the caller to a network, a principal id or (as S3 counts it) a fixed KMS key, account unknown.
_PINNING_KEYS = frozenset({"aws:sourcevpc", "aws:sourcevpce", "aws:userid",
                           "s3:x-amz-server-side-encryption-aws-kms-key-id"})
# Keys known NOT to pin the caller: anyone can send a request that satisfies them.
_OPEN_KEYS = frozenset({
    "aws:securetransport", "aws:currenttime", "aws:epochtime", "aws:multifactorauthpresent",
    "aws:multifactorauthage", "aws:referer", "aws:useragent", "aws:requestedregion", "aws:principaltype",
    "aws:viaawsservice", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:tagkeys",
    "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths", "aws:principalisawsservice",
    "aws:principalservicename", "aws:principalservicenameslist", "aws:tokenissuetime", "aws:username",
    "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:versionid", "s3:locationconstraint", "s3:signatureversion",
    "s3:signatureage", "s3:authtype", "s3:tlsversion", "s3:x-amz-acl", "s3:x-amz-content-sha256",
    "s3:x-amz-copy-source", "s3:x-amz-grant-full-control", "s3:x-amz-grant-read", "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write", "s3:x-amz-grant-write-acp", "s3:x-amz-metadata-directive",
    "s3:x-amz-server-side-encryption", "s3:x-amz-storage-class", "s3:x-amz-website-redirect-location",
    "s3:object-lock-mode", "s3:object-lock-retain-until-date", "s3:object-lock-remaining-retention-days",
    "s3:object-lock-legal-hold", "s3:accesspointnetworkorigin", "s3:resourceaccount",
    "kms:viaservice", "kms:grantisforawsresource", "kms:encryptionalgorithm", "kms:grantoperations",
    "kms:granteeprincipal", "kms:retiringprincipal", "kms:keyspec", "kms:keyusage", "kms:keyorigin",
    "kms:messagetype", "kms:signingalgorithm", "kms:bypasspolicylockoutsafetycheck", "kms:callerprincipal",
    "kms:requestalias", "kms:resourcealiases", "kms:multiregion", "kms:multiregionkeytype", "kms:keymanager",
    "kms:grantconstraint", "kms:encryptioncontextkeys", "kms:rotationperiodindays", "kms:reencryptonsamekey",
})
# Key prefixes (tags, encryption context) that never pin the caller either.
_OPEN_PREFIXES = ("aws:principaltag/", "aws:requesttag/", "aws:resourcetag/", "s3:existingobjecttag/",
                  "s3:requestobjecttag", "s3:requestobjecttagkeys", "kms:encryptioncontext:")
_POSITIVE = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"}
_NEGATED = {"stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase",
            "stringnotlike": "stringlike", "arnnotequals": "arnequals", "arnnotlike": "arnlike",
            "notipaddress": "ipaddress"}
_NEVER_PINNING = re.compile(r"^(bool|null|numeric\w*|date\w*|binaryequals)$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:[^:]*:[^:]*:([^:]*):")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass
class _Pin:
    """What one condition does to the set of callers an ``Allow`` lets in."""

    pins: bool | None  # True: caller pinned; False: not; None: undecided (``reason`` names the key)
    accounts: set[str] | None = None  # the accounts it pins to, when it names them
    orgs: set[str] | None = None
    reason: str = ""
    any_account: bool = False  # pinned by network address only: any account from there gets in


@dataclass
class PolicyFacts:
    """The answers, and for each answer the analyser could not give, why (naming the condition key)."""

    statement_count: int = 0
    denies_insecure_transport: bool = False
    allows_public: bool = False
    public_statements: list[str] = field(default_factory=list)
    principal_accounts: list[str] = field(default_factory=list)
    principal_orgs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    undecided: dict[str, str] = field(default_factory=dict)  # fact name -> reason

    def to_evidence(self) -> dict[str, Any]:
        return {"present": True, "statement_count": self.statement_count,
                "denies_insecure_transport": self.denies_insecure_transport, "allows_public": self.allows_public,
                "public_statements": self.public_statements, "principal_accounts": self.principal_accounts,
                "principal_orgs": self.principal_orgs, "notes": self.notes, "engine": ENGINE,
                "public_engine": ENGINE}


def _label(statement: dict, index: int) -> str:
    return str(statement.get("Sid") or f"#{index}")


def _split_operator(operator: str) -> tuple[str, bool, str]:
    """``("stringequals", if_exists, set_prefix)`` for ``ForAnyValue:StringEqualsIfExists``."""
    name = operator.lower()
    prefix = ""
    if ":" in name:
        prefix, name = name.split(":", 1)
    if_exists = name.endswith("ifexists")
    return name.removesuffix("ifexists"), if_exists, prefix


def _wild(value: str) -> bool:
    return "*" in value or "?" in value or "${" in value


def _fixed_enough(key: str, value: str) -> bool:
    """Does the value still name fixed callers? A wildcard is harmless where the part that names the account
    or organisation is fixed: a role path under one account, an OU path under one organisation, a user id's
    session suffix."""
    if not _wild(value):
        return True
    if key in _ARN_KEYS:
        match = _ARN_ACCOUNT.match(value)
        return bool(match and _ACCOUNT.match(match.group(1)))
    if key in ("aws:principalorgpaths", "aws:sourceorgpaths"):
        return not _wild(value.split("/", 1)[0])
    if key == "aws:userid":
        return value.find("*") == len(value) - 1 and not _wild(value[:-1])
    return False


def _condition_pin(operator: str, key: str, values: list) -> _Pin:
    """Does ``operator key values`` pin the caller of an ``Allow`` to fixed values?"""
    base, if_exists, set_prefix = _split_operator(operator)
    name, key = key, key.lower()
    where = f"{operator} {name}"
    if base in _NEGATED or if_exists or set_prefix == "forallvalues":
        # A request without the key (IfExists, ForAllValues) or with any other value (negation) gets in.
        return _Pin(False, reason=f"{where} does not pin the caller")
    if _NEVER_PINNING.match(base):
        return _Pin(False, reason=f"{where} does not pin the caller")
    if base not in _POSITIVE:
        return _Pin(None, reason=f"unsupported condition operator {operator} (on {name})")
    texts = [str(v) for v in values]
    if key in _OPEN_KEYS or key.startswith(_OPEN_PREFIXES):
        return _Pin(False, reason=f"{where} does not pin the caller")
    if not texts:
        return _Pin(None, reason=f"{where} has no values")
    if key == "aws:sourceip":
        if base != "ipaddress":
            return _Pin(None, reason=f"unsupported operator {operator} on aws:SourceIp")
        try:
            networks = [ipaddress.ip_network(t, strict=False) for t in texts]
        except ValueError as err:
            return _Pin(None, reason=f"aws:SourceIp value not a CIDR ({err})")
        if any(n.prefixlen == 0 for n in networks):
            return _Pin(False, reason=f"aws:SourceIp {', '.join(texts)} includes every address")
        return _Pin(True, any_account=True)
    if not all(_fixed_enough(key, t) for t in texts):
        return _Pin(False, reason=f"{where} has a wildcard or policy variable ({', '.join(texts)})")
    if key in _ACCOUNT_KEYS:
        return _Pin(True, accounts=set(texts))
    if key in _ARN_KEYS:
        found = [m.group(1) if (m := _ARN_ACCOUNT.match(t)) else "" for t in texts]
        # An ARN without an account (an S3 bucket's) pins the caller to a resource, account unknown.
        return _Pin(True, accounts=set(found) if all(found) else None)
    if key in _ORG_KEYS:
        return _Pin(True, orgs={t.split("/", 1)[0] for t in texts})
    if key in _PINNING_KEYS:
        return _Pin(True)
    return _Pin(None, reason=f"unsupported condition key {name} (under {operator})")


def _conditions(statement: dict) -> list[tuple[str, str, list]]:
    out = []
    for operator, block in (statement.get("Condition") or {}).items():
        if isinstance(block, dict):
            out.extend((operator, key, _as_list(values)) for key, values in block.items())
    return out


def _service_only(statement: dict) -> bool:
    principal = statement.get("Principal")
    return isinstance(principal, dict) and set(principal) == {"Service"}


def _principal_values(statement: dict) -> tuple[bool, set[str], list[str]]:
    """``(everyone, accounts, other)``: does ``Principal`` name everyone, which accounts, which other principals."""
    if "NotPrincipal" in statement:
        return True, set(), []
    principal = statement.get("Principal")
    if principal is None:
        return False, set(), []
    if not isinstance(principal, dict):
        principal = {"AWS": principal}
    everyone, accounts, other = False, set(), []
    for kind, values in principal.items():
        for value in map(str, _as_list(values)):
            if kind == "Service":
                continue  # an AWS service acting for this account
            if kind != "AWS":
                other.append(f"{kind}:{value}")
            elif value == "*":
                everyone = True
            elif _ACCOUNT.match(value):
                accounts.add(value)
            elif value.startswith("arn:aws:iam::cloudfront:user/"):
                continue  # a CloudFront origin access identity: CloudFront serving this account's distribution
            elif match := _ARN_ACCOUNT.match(value):
                if _wild(match.group(1)) or not match.group(1):
                    everyone = True
                else:
                    accounts.add(match.group(1))
            else:
                other.append(value)
    return everyone, accounts, other


def _covers_all_actions(statement: dict, service: str) -> bool:
    if "NotAction" in statement:
        return False
    actions = {str(a).lower() for a in _as_list(statement.get("Action"))}
    return bool(actions & {"*", f"{service}:*"})


def _covers(statement: dict, resources: list[str]) -> bool:
    if "NotResource" in statement:
        return False
    patterns = [str(r) for r in _as_list(statement.get("Resource"))]
    return all(any(fnmatch.fnmatchcase(r, p) for p in patterns) for r in resources)


def _guard(statement: dict, service: str, resources: list[str]) -> tuple[str, str, list] | None:
    """A ``Deny`` to everyone, on every action, with one negated condition: it admits only the condition's values.

    Returned as the positive condition an ``Allow`` would carry to the same effect.
    """
    everyone, _, _ = _principal_values(statement)
    if statement.get("Effect") != "Deny" or "NotPrincipal" in statement or not everyone:
        return None
    if not _covers_all_actions(statement, service) or not _covers(statement, resources):
        return None
    conditions = _conditions(statement)
    if len(conditions) != 1:
        return None
    operator, key, values = conditions[0]
    base, _, prefix = _split_operator(operator)
    if prefix or base not in _NEGATED:
        return None
    # Without IfExists a missing key makes the negated test true, so the request is denied too: either way only
    # requests carrying one of the values get through.
    return _NEGATED[base], key, values


def _denies_insecure(statement: dict, service: str, resources: list[str]) -> tuple[bool, str | None]:
    """``(counts, note)``: a TLS-only ``Deny`` counts when it applies to every caller and every request."""
    if statement.get("Effect") != "Deny":
        return False, None
    conditions = _conditions(statement)
    transport = [c for c in conditions if c[1].lower() == "aws:securetransport"
                 and _split_operator(c[0])[0] == "bool"
                 and c[2] and all(str(v).lower() == "false" for v in c[2])]
    if not transport:
        return False, None
    everyone, _, _ = _principal_values(statement)
    if "NotPrincipal" in statement or not everyone:
        return False, "the TLS Deny does not apply to every principal"
    if not _covers_all_actions(statement, service) or not _covers(statement, resources[-1:]):
        return False, "the TLS Deny does not cover every action on the objects"
    extra = [f"{op} {key}" for op, key, _ in conditions if (op, key) != transport[0][:2]]
    if extra:
        return False, f"the TLS Deny also requires {', '.join(extra)}: only those requests are refused plain HTTP"
    return True, None


def analyse_policy(document: dict, service: str, resources: list[str]) -> PolicyFacts:
    """Analyse a resource policy. ``service`` is ``s3`` or ``kms``; ``resources`` the ARNs it protects (for S3 the
    bucket and ``bucket/*``; the TLS test uses the last one)."""
    statements = [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]
    facts = PolicyFacts(statement_count=len(statements))
    guards = [g for s in statements if (g := _guard(s, service, resources))]
    accounts: set[str] = set()
    orgs: set[str] = set()
    public_undecided: list[str] = []
    for index, statement in enumerate(statements):
        label = _label(statement, index)
        counts, note = _denies_insecure(statement, service, resources)
        facts.denies_insecure_transport = facts.denies_insecure_transport or counts
        if note:
            facts.notes.append(f"{label}: {note}")
        if statement.get("Effect") != "Allow":
            continue
        everyone, named, other = _principal_values(statement)
        accounts |= named
        accounts |= {f"({value})" for value in other}  # not an account id: never on a trusted list
        if _service_only(statement):
            # A service acting for the account its aws:SourceAccount / SourceArn names (a log delivery, say).
            for pin in (_condition_pin(*c) for c in _conditions(statement)):
                if pin.pins and pin.accounts:
                    accounts |= pin.accounts
        if not everyone:
            continue
        pins = [_condition_pin(*c) for c in _conditions(statement)] + [_condition_pin(*g) for g in guards]
        pinned = [p for p in pins if p.pins]
        if pinned:
            by_account = [p.accounts for p in pinned if p.accounts]
            by_org = [p.orgs for p in pinned if p.orgs]
            if by_account:
                accounts |= set.intersection(*by_account)
            elif by_org:
                orgs |= set.intersection(*by_org)
            elif all(p.any_account for p in pinned):
                accounts.add("*")  # pinned by source address only: any account calling from there
                facts.notes.append(f"{label}: open to any account from the listed aws:SourceIp ranges")
            continue
        unknown = [p.reason for p in pins if p.pins is None]
        if unknown:
            public_undecided.append(f"statement {label}: {'; '.join(unknown)}")
            continue
        facts.allows_public = True
        facts.public_statements.append(label)
        accounts.add("*")
        facts.notes.extend(f"{label}: {p.reason}" for p in pins if p.reason)
        if "NotPrincipal" in statement:
            facts.notes.append(f"{label}: Allow with NotPrincipal lets in everyone except the listed principals")
    facts.principal_accounts = sorted(accounts)
    facts.principal_orgs = sorted(orgs)
    if public_undecided and not facts.allows_public:
        reason = "cannot decide " + " | ".join(public_undecided)
        facts.undecided["allows_public"] = reason
        facts.undecided["principal_accounts"] = reason
        facts.undecided["principal_orgs"] = reason
    return facts


NO_POLICY = {
    "present": False,
    "statement_count": 0,
    "denies_insecure_transport": False,
    "allows_public": False,
    "public_statements": [],
    "principal_accounts": [],
    "principal_orgs": [],
    "notes": [],
    "engine": ENGINE,
    "public_engine": ENGINE,
    "validation_findings": [],
}
