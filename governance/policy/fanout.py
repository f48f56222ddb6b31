"""``scan_accounts``: the same scan in every account of an organisation (or a list of accounts) and region.

For each account the scanner assumes a named read-only role (STS AssumeRole), then scans the targets with those
credentials, region by region; at most ``max_in_flight`` accounts are scanned at once. Targets may name their
account and region (``s3://quickloan-artefacts-{account}-{region}/``). The results are merged, each account and
region summarised in ``stats["accounts"]``. An account that cannot be reached — the role cannot be assumed, the
scan cannot start — turns into ERROR findings for each of its targets: never a failed or a passed whole, and the
other accounts' findings stand (exit 3 unless something failed).

>>> from governance.policy.fanout import scan_accounts                                   # doctest: +SKIP
>>> result = scan_accounts(["s3://quickloan-artefacts-{account}-{region}/"], "ORG", "GovernanceReadOnly",
...                        regions=["eu-west-1"], max_in_flight=8)                      # doctest: +SKIP
>>> [(a["account"], a["status"]) for a in result.stats["accounts"]][:2]                 # doctest: +SKIP
[('111122223333', 'scanned'), ('444455556666', 'unreachable')]
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from governance.errors import Incomplete, InputError
from governance.policy.aws import AwsCaller
from governance.policy.collectors.base import Evidence, ResourceRef, now_iso
from governance.policy.engine import scan
from governance.policy.findings import Finding, ScanResult, Status
from governance.policy.schema import PolicyBundle, load_policies
from governance.storage import parse_s3_uri

SESSION_NAME = "governance-scan"
_ACCOUNT = re.compile(r"^\d{12}$")
_SAGEMAKER_TYPES = {"model-package-group": "sagemaker_model_package", "model-package": "sagemaker_model_package",
                    "training-job": "sagemaker_training_job", "model": "sagemaker_model"}
Progress = Callable[[str, int, int], None]


def list_accounts(spec: str) -> list[str]:
    """``ORG``: the organisation's ACTIVE accounts (Organizations ListAccounts); else the comma-separated ids."""
    if spec.strip().upper() == "ORG":
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        from governance.storage import aws_error

        try:
            pages = boto3.client("organizations").get_paginator("list_accounts").paginate()
            accounts = [a["Id"] for page in pages for a in page["Accounts"] if a.get("Status") == "ACTIVE"]
        except (ClientError, BotoCoreError) as err:
            raise aws_error(err, "Organizations ListAccounts") from None
        if not accounts:
            raise Incomplete("NO_ACCOUNTS", "Organizations ListAccounts returned no active account")
        return sorted(accounts)
    accounts = [part.strip() for part in spec.split(",") if part.strip()]
    bad = [a for a in accounts if not _ACCOUNT.match(a)]
    if bad or not accounts:
        raise InputError("BAD_PARAMETER", f"--accounts: {bad[0] if bad else spec!r} is not a 12-digit account id "
                                          "(or give ORG)")
    return list(dict.fromkeys(accounts))


def target_types(target: str) -> list[tuple[str, str]]:
    """The (resource type, id) pairs a target stands for, to report them as ERROR when it cannot be scanned."""
    from governance.policy.targets import DISCOVER_TARGET

    if target == DISCOVER_TARGET:
        return [("s3_bucket", target), ("s3_bucket_inventory", target), ("kms_key", target)]
    if target.startswith("s3://"):
        location = parse_s3_uri(target)
        bucket = f"s3://{location.bucket}"
        return [("s3_bucket", bucket), ("s3_bucket_inventory", bucket),
                ("s3_object", f"{bucket}/{location.key}*"), ("artefact", f"{bucket}/{location.key}*")]
    match = re.match(r"^(?:arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:\d*:|sagemaker:)([a-z-]+)/", target)
    if match and match.group(1) in _SAGEMAKER_TYPES:
        return [(_SAGEMAKER_TYPES[match.group(1)], target)]
    raise InputError("BAD_TARGET", f"{target}: --accounts scans AWS resources (s3:// or SageMaker targets)")


def _format(target: str, account: str, region: str) -> str:
    try:
        return target.format(account=account, region=region)
    except (KeyError, IndexError, ValueError) as err:
        raise InputError("BAD_TARGET", f"{target}: only {{account}} and {{region}} may be filled in ({err})") \
            from None


def scan_accounts(
    targets: Iterable[str],
    accounts: str | list[str],
    role: str,
    policies_dir: str | os.PathLike | None = None,
    *,
    regions: list[str] | None = None,
    max_in_flight: int = 4,
    bundle: PolicyBundle | None = None,
    parameters: Mapping[str, Any] | None = None,
    ignore_waivers: bool = False,
    workers: int = 16,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan ``targets`` in each account (``"ORG"``, ``"ID,ID"`` or a list) and region, assuming ``role`` there."""
    targets = list(targets)
    bundle = bundle or load_policies(policies_dir, parameters=parameters)
    for target in targets:
        target_types(_format(target, "000000000000", "us-east-1"))  # refuse local paths before any call
    ids = list_accounts(accounts) if isinstance(accounts, str) else list(accounts)
    regions = regions or [os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"]
    report = progress or (lambda stage, done, total: None)
    started, clock = now_iso(), time.perf_counter()
    done = 0

    def one_account(account: str) -> list[tuple[dict, ScanResult | None, list[Finding]]]:
        return [_scan_account_region(account, region, role, targets, bundle, ignore_waivers, workers)
                for region in regions]

    outcomes = []
    with ThreadPoolExecutor(max_workers=max(1, max_in_flight), thread_name_prefix="account") as pool:
        for per_region in pool.map(one_account, ids):
            outcomes.extend(per_region)
            done += 1
            report("accounts", done, len(ids))
    return _merge(outcomes, targets, bundle, ignore_waivers, started, clock, max_in_flight)


def _scan_account_region(account: str, region: str, role: str, targets: list[str], bundle: PolicyBundle,
                         ignore_waivers: bool, workers: int) -> tuple[dict, ScanResult | None, list[Finding]]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    clock = time.perf_counter()
    formatted = [_format(t, account, region) for t in targets]
    summary: dict[str, Any] = {"account": account, "region": region, "targets": formatted}
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    role_arn = f"arn:{partition}:iam::{account}:role/{role}"
    try:
        credentials = boto3.client("sts", region_name=region).assume_role(
            RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    except (ClientError, BotoCoreError) as err:
        reason = f"account {account} ({region}): cannot assume {role_arn}: {_reason(err)}"
        summary.update(status="unreachable", reason=reason, seconds=round(time.perf_counter() - clock, 3))
        return summary, None, _unreachable(bundle, formatted, account, region, reason)
    session = boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"],
                                    aws_secret_access_key=credentials["SecretAccessKey"],
                                    aws_session_token=credentials["SessionToken"], region_name=region)
    try:
        result = scan(formatted, bundle=bundle, ignore_waivers=ignore_waivers, workers=workers,
                      aws=AwsCaller(region=region, pool_size=workers, session=session))
    except InputError:
        raise
    except Exception as err:  # a scan that could not run in this account is its targets' ERROR, never a pass
        reason = f"account {account} ({region}): the scan could not run: {type(err).__name__}: {err}"
        summary.update(status="unreachable", reason=reason, seconds=round(time.perf_counter() - clock, 3))
        return summary, None, _unreachable(bundle, formatted, account, region, reason)
    summary.update(status="scanned", role=role_arn, summary=result.counts, verdict=result.verdict,
                   api_calls_total=result.stats.get("api_calls_total"), seconds=round(time.perf_counter() - clock, 3))
    return summary, result, result.findings


def _reason(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    error = response.get("Error", {})
    return f"{error.get('Code') or type(err).__name__}: {error.get('Message') or err}"


def _unreachable(bundle: PolicyBundle, targets: list[str], account: str, region: str, reason: str) -> list[Finding]:
    evidence = Evidence.failed(reason)
    findings = []
    for target in targets:
        for resource_type, resource_id in target_types(target):
            ref = ResourceRef(resource_type, resource_id, {"account": account, "region": region})
            for check in bundle.checks_for(resource_type):
                findings.append(Finding(check, ref, Status.ERROR, f"could not be decided: {reason}",
                                        {"op": "account", "result": "error", "error": reason}, evidence.sha256, []))
    return findings


def _merge(outcomes, targets: list[str], bundle: PolicyBundle, ignore_waivers: bool, started: str, clock: float,
           max_in_flight: int) -> ScanResult:
    findings: list[Finding] = []
    evidence: dict = {}
    calls: Counter = Counter()
    resources: Counter = Counter()
    listing = 0
    for summary, result, found in outcomes:
        findings.extend(found)
        if result is None:
            continue
        prefix = f"{summary['account']}/{summary['region']}/"
        evidence.update({prefix + key: value for key, value in result.evidence.items()})
        calls.update(result.stats.get("api_calls", {}))
        resources.update(result.stats.get("resources", {}))
        listing += result.stats.get("listing_calls", 0)
    findings.sort(key=lambda f: (f.check.id, f.resource.id, str(f.resource.hints.get("account", ""))))
    accounts = [summary for summary, _, _ in outcomes]
    stats = {
        "resources": dict(sorted(resources.items())),
        "reused_evidence": 0,
        "api_calls": dict(sorted(calls.items())),
        "api_calls_total": sum(calls.values()),
        "listing_calls": listing,
        "accounts": accounts,
        "accounts_scanned": sum(1 for a in accounts if a["status"] == "scanned"),
        "accounts_unreachable": sum(1 for a in accounts if a["status"] != "scanned"),
        "max_accounts_in_flight": max_in_flight,
    }
    return ScanResult(findings=findings, evidence=evidence, targets=targets, policy_files=bundle.files,
                      skipped_files=bundle.skipped, ignore_waivers=ignore_waivers, started_at=started,
                      finished_at=now_iso(), seconds=round(time.perf_counter() - clock, 3), stats=stats)
