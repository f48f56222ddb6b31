"""One resource policy (bucket or key) turned into evidence, with the engine that decided each answer.

IAM Access Analyzer's ``CheckNoPublicAccess`` is the authoritative answer to "is this public?" where the endpoint
offers it (AWS itself); the local analyser (:mod:`._policy_analysis`) answers everything else, and "public" too
where Access Analyzer is unavailable (an emulator, a region or a role without it) — the evidence records which.
Availability is learnt once per scan: after one refusal no further resource asks.

A fact the deciding engine could not decide is returned in ``errors`` (``policy.allows_public`` → reason naming
the condition key), so the checks reading it report ERROR.
"""

from __future__ import annotations

import json
from typing import Any

from governance.policy.aws import AwsCallError
from governance.policy.collectors._policy_analysis import ENGINE, NO_POLICY, analyse_policy
from governance.policy.collectors.base import ScanContext

ACCESS_ANALYZER = "AWS IAM Access Analyzer (CheckNoPublicAccess)"
_UNAVAILABLE = "accessanalyzer:CheckNoPublicAccess unavailable"
RESOURCE_TYPES = {"s3": "AWS::S3::Bucket", "kms": "AWS::KMS::Key"}
_PROBE = '{"Version": "2012-10-17", "Statement": []}'


def _short(reason: str) -> str:
    """First line, bounded: an endpoint without the API may answer with a whole HTML page."""
    line = reason.split("\n", 1)[0].strip()
    return line if len(line) <= 160 else line[:157] + "..."


def _access_analyzer(ctx: ScanContext, text: str, service: str, calls: list[str]) -> dict | None:
    """Access Analyzer's verdict on ``text``, or ``None`` when it cannot be asked (the reason is remembered)."""
    if not ctx.parameters.get("use_access_analyzer", True):
        return None

    def probe() -> str | None:
        # One call per scan settles availability (the workers wait for it instead of all asking at once).
        try:
            ctx.aws.call("accessanalyzer", "check_no_public_access", calls, policyDocument=_PROBE,
                         resourceType=RESOURCE_TYPES[service])
        except AwsCallError as err:
            return _short(str(err))
        return None

    unavailable, _ = ctx.memo.get(_UNAVAILABLE, probe)
    if unavailable:
        return None
    try:
        return ctx.aws.call("accessanalyzer", "check_no_public_access", calls, policyDocument=text,
                            resourceType=RESOURCE_TYPES[service])
    except AwsCallError as err:  # throttled after retries, say: the local analyser decides, and says why
        ctx.memo.seed(("accessanalyzer:failed", text), _short(str(err)))
        return None


def _validate(ctx: ScanContext, text: str, service: str, calls: list[str]) -> list[dict] | None:
    """Access Analyzer's ValidatePolicy findings (errors, security warnings, ...), or ``None`` if it was not asked."""
    params = {"policyDocument": text, "policyType": "RESOURCE_POLICY",
              **({"validatePolicyResourceType": "AWS::S3::Bucket"} if service == "s3" else {})}
    try:
        return [{"finding_type": f.get("findingType"), "issue_code": f.get("issueCode"),
                 "detail": f.get("findingDetails")}
                for page in ctx.aws.paginate("accessanalyzer", "validate_policy", calls, **params)
                for f in page.get("findings") or []]
    except AwsCallError as err:
        ctx.memo.seed(("accessanalyzer:validate-failed", text), _short(str(err)))
        return None


def analyse_document(ctx: ScanContext, text: str, service: str, resources: list[str],
                     calls: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(evidence, errors)`` for a policy document given as the JSON text the service returned."""
    try:
        document = json.loads(text or "{}")
    except json.JSONDecodeError as err:
        raise AwsCallError(f"{service}:policy", "MalformedPolicy", str(err), "error") from None
    if not isinstance(document, dict):
        raise AwsCallError(f"{service}:policy", "MalformedPolicy", "policy is not a JSON object", "error")
    facts = analyse_policy(document, service, resources)
    evidence = facts.to_evidence()
    undecided = dict(facts.undecided)
    verdict = _access_analyzer(ctx, text, service, calls)
    validation = _validate(ctx, text, service, calls) if verdict is not None else None
    if validation is None:
        # Not asked, or it failed: a check reading these findings is then an ERROR, never a silent pass.
        evidence["validation_findings"] = None
        undecided["validation_findings"] = "Access Analyzer ValidatePolicy not available: " + (
            ctx.memo.peek(("accessanalyzer:validate-failed", text)) or ctx.memo.peek(_UNAVAILABLE)
            or ctx.memo.peek(("accessanalyzer:failed", text)) or "switched off (use_access_analyzer: false)")
    else:
        evidence["validation_findings"] = validation
    if verdict is None:
        reason = ctx.memo.peek(_UNAVAILABLE) or ctx.memo.peek(("accessanalyzer:failed", text))
        if not ctx.parameters.get("use_access_analyzer", True):
            reason = "switched off (use_access_analyzer: false)"
        if reason:
            evidence["notes"].append(f"Access Analyzer not used: {reason}")
    else:
        public = verdict.get("result") == "FAIL"
        if public != evidence["allows_public"] and "allows_public" not in undecided:
            local = "public" if evidence["allows_public"] else "not public"
            evidence["notes"].append(f"the local analyser reads this policy as {local}; Access Analyzer decides")
        evidence["allows_public"] = public
        evidence["public_engine"] = ACCESS_ANALYZER
        evidence["engine"] = f"{ENGINE}; public access: {ACCESS_ANALYZER}"
        undecided.pop("allows_public", None)
        evidence["public_statements"] = sorted({
            str(r.get("statementId") or f"#{r.get('statementIndex')}") for r in verdict.get("reasons") or []}) \
            if public else []
        if public:
            evidence["notes"].append(f"Access Analyzer: {verdict.get('message') or 'public'}")
    return evidence, {name: reason for name, reason in undecided.items()}


def no_policy() -> dict[str, Any]:
    return {**NO_POLICY, "notes": []}
