"""``scan_inventory``: the object-level checks answered from S3 Inventory deliveries, with no per-object API calls.

The checks on ``s3_inventory_object`` compile to one SQL query per delivery (:mod:`.sql`), run by DuckDB or Athena
(:mod:`.engines`). Objects that pass, or that a check does not apply to, are reported as one finding per check and
bucket with their count; every object that fails or cannot be decided is its own finding, re-evaluated by the
policy engine from the row (so its message, trace and waivers are the engine's, and a disagreement between the
SQL and the engine stops the scan). With ``list_newer`` the source bucket is listed and the objects written since
the delivery (less a day's margin, as a delivery may miss the last writes) get HeadObject as in a plain scan.

>>> from governance.policy.inventory import scan_inventory                                  # doctest: +SKIP
>>> result = scan_inventory(["inventory/models/daily/2026-11-29T01-00Z/manifest.json"])      # doctest: +SKIP
>>> result.counts, result.stats["api_calls_total"]                                         # doctest: +SKIP
({'PASS': 20, 'FAIL': 3, 'WAIVED': 0, 'N/A': 10, 'ERROR': 0}, 0)
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

from governance.errors import Incomplete, InputError
from governance.hashing import sha256_bytes
from governance.policy.aws import AwsCaller
from governance.policy.collectors.base import COLLECTORS, Evidence, ResourceRef, ScanContext, now_iso
from governance.policy.collectors.s3_object import lock_evidence
from governance.policy.engine import evaluate, evaluate_all
from governance.policy.findings import Finding, ScanResult, Status
from governance.policy.inventory.engines import AthenaEngine, AthenaSettings, DuckDBEngine
from governance.policy.inventory.manifest import Manifest, read_manifest
from governance.policy.inventory.sql import ENCRYPTION_ALGORITHMS, PATHS, NotCompilable, condition_sql, status_sql
from governance.policy.schema import Check, PolicyBundle, load_policies

RESOURCE = "s3_inventory_object"
# Objects written this close to a delivery may be missing from it: with list_newer they get HeadObject instead.
NEWER_MARGIN = timedelta(days=1)
# Failing objects reported one by one per check and bucket; beyond this, one finding carries the rest's count.
MAX_OBJECT_FINDINGS = 10_000
_ROW = ("bucket", "key", "version_id", "size", "last_modified_epoch", "encryption_status", "bucket_key_status",
        "object_lock_mode", "retain_until_epoch", "legal_hold_status", "checksum_algorithm")
_NUMERIC = {"size": int, "last_modified_epoch": float, "retain_until_epoch": float}
_STATUS = {"P": Status.PASS, "F": Status.FAIL, "N": Status.NA, "E": Status.ERROR}
Progress = Callable[[str, int, int], None]


def scan_inventory(
    manifests: Iterable[str],
    policies_dir: str | os.PathLike | None = None,
    *,
    engine: str = "duckdb",
    athena: AthenaSettings | None = None,
    bundle: PolicyBundle | None = None,
    parameters: Mapping[str, Any] | None = None,
    ignore_waivers: bool = False,
    list_newer: bool = False,
    workers: int = 16,
    max_object_findings: int = MAX_OBJECT_FINDINGS,
    progress: Progress | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> ScanResult:
    """Scan the objects listed by each inventory ``manifest.json`` (local path or ``s3://``) against the policies."""
    manifests = list(manifests)
    bundle = bundle or load_policies(policies_dir, parameters=parameters)
    checks = bundle.checks_for(RESOURCE)
    if not checks:
        raise InputError("INVALID_POLICY", f"no check in the policies applies to {RESOURCE}: nothing to scan")
    report = progress or (lambda stage, done, total: None)
    started, clock = now_iso(), time.perf_counter()
    now = now or datetime.now(UTC)
    today = today or now.date()
    if engine == "athena":
        if athena is None:
            raise InputError("BAD_PARAMETER", "--engine athena needs the Athena database and table")
        runner: Any = AthenaEngine(athena)
    elif engine == "duckdb":
        runner = DuckDBEngine()
    else:
        raise InputError("BAD_PARAMETER", f"unknown engine {engine!r} (duckdb or athena)")
    ctx = ScanContext(AwsCaller(pool_size=max(1, min(workers, 64))), bundle.parameters)
    findings: list[Finding] = []
    evidence: dict[str, tuple[ResourceRef, Evidence]] = {}
    deliveries: list[dict] = []
    newer: list[ResourceRef] = []
    objects = 0
    try:
        for done, location in enumerate(manifests, 1):
            try:
                manifest = read_manifest(location)
            except Incomplete as err:
                _unreadable(checks, location, err.message, findings, evidence)
                continue
            try:
                count, summary = _scan_delivery(manifest, runner, checks, bundle, now, today, list_newer,
                                                ignore_waivers, max_object_findings, findings, evidence)
            except Incomplete as err:
                _unreadable(checks, f"s3://{manifest.source_bucket}/*#{manifest.delivery}", err.message, findings,
                            evidence, manifest)
                deliveries.append({**manifest.describe(), "error": err.message})
                continue
            objects += count
            deliveries.append(summary)
            if list_newer:
                newer.extend(_newer_objects(manifest, ctx, checks, findings, evidence))
            report("inventory", done, len(manifests))
    finally:
        runner.close()
    if newer:
        findings.extend(_head_objects(newer, ctx, bundle, workers, ignore_waivers, today, evidence, report))
    findings.sort(key=lambda f: (f.check.id, f.resource.id))
    counts = Counter(ref.type for ref, _ in evidence.values())
    calls = dict(sorted(ctx.aws.counts.items()))
    for call in getattr(runner, "calls", []):
        calls[call] = calls.get(call, 0) + 1
    stats = {
        "resources": {RESOURCE: objects, **({"s3_object": counts["s3_object"]} if counts.get("s3_object") else {})},
        "reused_evidence": 0,
        "api_calls": calls,
        "api_calls_total": sum(calls.values()),
        "head_object_calls": calls.get("s3:HeadObject", 0),
        "listing_calls": sum(v for k, v in calls.items() if k.startswith("s3:List")),
        "api_calls_per_object": round(sum(calls.values()) / objects, 6) if objects else None,
        "engine": runner.name,
        "inventories": deliveries,
        "objects_per_second": round(objects / max(time.perf_counter() - clock, 1e-9)),
    }
    return ScanResult(findings=findings, evidence=evidence, targets=manifests, policy_files=bundle.files,
                      skipped_files=bundle.skipped, ignore_waivers=ignore_waivers, started_at=started,
                      finished_at=now_iso(), seconds=round(time.perf_counter() - clock, 3), stats=stats)


def _compile(checks: list[Check], available: set[str], now_epoch: float) -> list[str]:
    statuses = []
    for check in checks:
        try:
            assertion = condition_sql(check.condition, available=available, now_epoch=now_epoch)
            when = condition_sql(check.when, available=available, now_epoch=now_epoch) if check.when else None
        except NotCompilable as err:
            raise InputError("INVALID_POLICY", f"{check.source}: check {check.id} cannot run on an inventory "
                                               f"({err}); inventory checks use paths {sorted(PATHS)} and leaf "
                                               "operators other than contains, subset, matches") from None
        statuses.append(status_sql(when, assertion))
    return statuses


def _scan_delivery(manifest: Manifest, runner, checks: list[Check], bundle: PolicyBundle, now: datetime,
                   today: date, list_newer: bool, ignore_waivers: bool, limit: int, findings: list[Finding],
                   evidence: dict) -> tuple[int, dict]:
    relation, available = runner.source(manifest)
    statuses = _compile(checks, available, now.timestamp())
    current = f"SELECT * FROM {relation} AS raw WHERE is_latest AND NOT is_delete_marker"
    if list_newer and "last_modified_epoch" in available:
        current += f" AND last_modified_epoch < {(manifest.created - NEWER_MARGIN).timestamp()!r}"
    labels = [f"c{i}" for i in range(len(checks))]
    judged = f"SELECT {', '.join(_ROW)}, {', '.join(f'{s} AS {c}' for s, c in zip(statuses, labels, strict=True))} " \
             f"FROM ({current}) AS inventory"
    source = runner.materialize(judged)
    totals_sql = f"SELECT bucket, {', '.join(labels)}, count(*) AS n FROM {source} AS judged " \
                 f"GROUP BY {', '.join(str(i + 1) for i in range(len(labels) + 1))}"
    failing = " OR ".join(f"{c} IN ('F', 'E')" for c in labels)
    rows_sql = f"SELECT * FROM {source} AS judged WHERE {failing} ORDER BY bucket, key, version_id"
    totals: dict[tuple[str, int, str], int] = Counter()
    objects = 0
    for row in runner.query(totals_sql):
        bucket, codes, count = row[0], row[1:-1], int(row[-1])
        objects += count
        for index, code in enumerate(codes):
            totals[(bucket, index, code)] += count
    inventory = manifest.describe()
    shown: Counter = Counter()
    for row in runner.query(rows_sql):
        values = dict(zip(_ROW, row[:len(_ROW)], strict=True))
        for name, kind in _NUMERIC.items():
            if values[name] is not None and not isinstance(values[name], kind):
                values[name] = kind(float(values[name]))
        ref = ResourceRef(RESOURCE, f"s3://{values['bucket']}/{values['key']}",
                          {"version_id": values["version_id"] or "null"})
        ev = _object_evidence(values, available, inventory, now)
        for index, code in enumerate(row[len(_ROW):]):
            if code not in ("F", "E"):
                continue
            key = (values["bucket"], index, code)
            if shown[key] >= limit:
                continue
            shown[key] += 1
            finding = evaluate(checks[index], ref, ev, bundle.waivers, ignore_waivers=ignore_waivers, today=today)
            expected = {"F": (Status.FAIL, Status.WAIVED), "E": (Status.ERROR,)}[code]
            if finding.status not in expected:
                raise Incomplete("INVENTORY_EVALUATION_MISMATCH",
                                 f"{ref.id}: {checks[index].id} is {code} in the inventory query but "
                                 f"{finding.status} in the policy engine")
            findings.append(finding)
            evidence[ref.key] = (ref, ev)
    for (bucket, index, code), count in sorted(totals.items()):
        status = _STATUS[code]
        remaining = count - shown[(bucket, index, code)] if code in ("F", "E") else count
        if remaining <= 0:
            continue
        findings.append(_aggregate(checks[index], bucket, manifest, status, remaining, count, evidence))
    summary = {**inventory, "objects": objects, "query_sha256": sha256_bytes(judged.encode()),
               "columns": sorted(available)}
    return objects, summary


def _aggregate(check: Check, bucket: str, manifest: Manifest, status: Status, count: int, total: int,
               evidence: dict) -> Finding:
    ref = ResourceRef(RESOURCE, f"s3://{bucket}/*#{manifest.delivery}", {"objects": count})
    ev = Evidence(data={"inventory": manifest.describe(), "objects": count, "status": str(status)})
    evidence[f"{ref.key}:{check.id}:{status}"] = (ref, ev)
    source = f"S3 Inventory {manifest.delivery} (manifest sha256 {manifest.sha256[:16]}…)"
    if status is Status.PASS:
        message = f"{count:,} inventoried object versions pass ({source})"
    elif status is Status.NA:
        message = f"not applicable to {count:,} inventoried object versions ({source})"
    else:
        word = "fail" if status is Status.FAIL else "could not be decided"
        message = (f"{count:,} more object versions {word} beyond the {total - count:,} reported one by one "
                   f"({source}); waivers were not evaluated for them")
    trace = {"op": "inventory", "objects": count, "result": {Status.PASS: "true", Status.NA: "true"}.get(status,
                                                                                                          "false")}
    return Finding(check, ref, status, message, trace, ev.sha256, [])


def _unreadable(checks: list[Check], where: str, reason: str, findings: list[Finding], evidence: dict,
                manifest: Manifest | None = None) -> None:
    ref = ResourceRef(RESOURCE, where)
    ev = Evidence.failed(reason)
    if manifest is not None:
        ev.data["inventory"] = manifest.describe()
    evidence[ref.key] = (ref, ev)
    for check in checks:
        findings.append(Finding(check, ref, Status.ERROR, f"could not be decided: {reason}",
                                {"op": "inventory", "result": "error", "error": reason}, ev.sha256, []))


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _object_evidence(values: dict, available: set[str], inventory: dict, now: datetime) -> Evidence:
    """The evidence of one inventory row, shaped as the policy engine reads it (the same derivations as the SQL)."""
    status = values["encryption_status"]
    until = values["retain_until_epoch"]
    lock = lock_evidence(values["object_lock_mode"], _iso(until), values["legal_hold_status"],
                         _iso(values["last_modified_epoch"]))
    lock["locked_now"] = until is not None and until > now.timestamp()
    data = {
        "bucket": values["bucket"], "key": values["key"], "version_id": values["version_id"] or "null",
        "size": values["size"], "last_modified": _iso(values["last_modified_epoch"]),
        "encryption": {"status": status, "algorithm": ENCRYPTION_ALGORITHMS.get(status or ""),
                       "bucket_key_enabled": values["bucket_key_status"] == "ENABLED"},
        "lock": lock,
        "checksum": {"algorithm": values["checksum_algorithm"]},
        "inventory": inventory,
    }
    errors = {path: f"not in this inventory (its fileSchema lacks the field behind {path})"
              for path, spec in PATHS.items() if not set(spec.needs) <= available}
    return Evidence(data=data, errors=errors)


def _newer_objects(manifest: Manifest, ctx: ScanContext, checks: list[Check], findings: list[Finding],
                   evidence: dict) -> list[ResourceRef]:
    """Current versions of the source bucket modified since the delivery (less the margin), by listing it."""
    from governance.policy.aws import AwsCallError
    from governance.policy.targets import _list_current_versions

    cutoff = manifest.created - NEWER_MARGIN
    try:
        refs = list(_list_current_versions(ctx, manifest.source_bucket, "", []))
    except AwsCallError as err:
        # The newer objects are unknown: ERROR for them, never a silent pass.
        _unreadable(checks, f"s3://{manifest.source_bucket}/*#newer-than-{manifest.delivery}",
                    f"listing for objects newer than the inventory failed: {err}", findings, evidence)
        return []
    newer = []
    for ref in refs:
        modified = ref.hints.get("last_modified")
        when = datetime.fromisoformat(modified) if modified else None
        if when is None or when >= cutoff:
            newer.append(ResourceRef("s3_object", ref.id, ref.hints))
    return newer


def _head_objects(refs: list[ResourceRef], ctx: ScanContext, bundle: PolicyBundle, workers: int,
                  ignore_waivers: bool, today: date, evidence: dict, report: Progress) -> list[Finding]:
    collector = COLLECTORS["s3_object"]

    def collect(ref: ResourceRef) -> tuple[ResourceRef, Evidence]:
        try:
            return ref, collector.collect(ref, ctx)
        except Exception as err:  # a collector defect is an ERROR, never a pass
            return ref, Evidence.failed(f"collector s3_object failed: {type(err).__name__}: {err}")

    pairs = []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, 64))) as pool:
        for done, pair in enumerate(pool.map(collect, refs), 1):
            pairs.append(pair)
            evidence[pair[0].key] = pair
            report("newer objects", done, len(refs))
    return evaluate_all(bundle, pairs, ignore_waivers=ignore_waivers, today=today)
