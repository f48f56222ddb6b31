"""The scan: targets → resources → evidence (in parallel, bounded) → findings, with waivers applied.

>>> from governance.policy import scan
>>> result = scan(["model/model.tar.gz", "evidence"], parameters={"trusted_signer_keys": ["keys/signing-key.pub.pem"]})
>>> result.counts["FAIL"], result.counts["ERROR"], result.exit_code
(0, 0, 0)

S3 prefixes (``s3://bucket/prefix``) and SageMaker ARNs are targets the same way.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from governance.policy.aws import AwsCaller, RetryPolicy
from governance.policy.collectors.base import COLLECTORS, Evidence, ResourceRef, ScanContext, now_iso
from governance.policy.findings import Finding, ScanResult, Status, explain
from governance.policy.operators import EvidenceView
from governance.policy.schema import Check, PolicyBundle, SourcedWaiver, load_policies
from governance.policy.state import ScanState, state_key
from governance.policy.targets import DISCOVER_TARGET, DiscoveryError, discover, expand_account

DEFAULT_WORKERS = 16
# progress(stage, done, total): stage is "listing" or "collecting"; total grows as listings arrive.
Progress = Callable[[str, int, int], None]


@dataclass
class _Tally:
    done: int = 0
    total: int = 0


def scan(
    targets: Iterable[str],
    policies_dir: str | os.PathLike | None = None,
    *,
    ignore_waivers: bool = False,
    state: ScanState | str | os.PathLike | None = None,
    parameters: Mapping[str, Any] | None = None,
    bundle: PolicyBundle | None = None,
    workers: int = DEFAULT_WORKERS,
    retry: RetryPolicy | None = None,
    progress: Progress | None = None,
    today: date | None = None,
    aws: AwsCaller | None = None,
) -> ScanResult:
    """Scan ``targets`` against the policies in ``policies_dir`` (default: the shipped ones).

    ``state`` (a :class:`ScanState` or a path) makes the scan incremental; ``parameters`` override policy
    parameters by name; ``aws`` scans with other credentials or in another region (an account of an
    organisation). Bad policies raise ``InputError`` before anything is collected.
    """
    targets = list(targets)
    bundle = bundle or load_policies(policies_dir, parameters=parameters)
    if isinstance(state, str | os.PathLike):
        state = ScanState(state, key=state_key())
    if state is not None:
        state.bind_parameters(bundle.parameters)
    started, clock = now_iso(), time.perf_counter()
    workers = max(1, min(int(workers), 64))
    ctx = ScanContext(aws or AwsCaller(retry=retry, pool_size=workers), bundle.parameters)
    bundle = _with_resolved_keys(bundle, ctx)
    ctx.parameters = bundle.parameters
    wanted = bundle.resource_types
    report = progress or (lambda stage, done, total: None)

    evidence: dict[str, tuple[ResourceRef, Evidence]] = {}
    seen: set[str] = set()
    failures: list[DiscoveryError] = []
    listing_calls: list[str] = []
    lock = threading.Lock()
    tally = _Tally()

    def collect(ref: ResourceRef) -> tuple[ResourceRef, Evidence]:
        reused = state.lookup(ref) if state is not None else None
        if reused is not None:
            return ref, reused
        try:
            collected = COLLECTORS[ref.type].collect(ref, ctx)
        except Exception as err:  # a collector defect must still be an ERROR, never a silent pass
            collected = Evidence.failed(f"collector {ref.type} failed: {type(err).__name__}: {err}")
        if state is not None:
            state.record(ref, collected)
        return ref, collected

    def list_target(target: str) -> tuple[list[str], list[ResourceRef]]:
        """``(more targets to list, resources)``; ``--discover`` turns into a target per bucket."""
        calls: list[str] = []

        def on_error(failure: DiscoveryError) -> None:
            _append(failures, failure, lock)

        if target == DISCOVER_TARGET:
            more, refs = expand_account(ctx, wanted, calls, on_error)
        else:
            more, refs = [], list(discover(target, ctx, wanted, artefact_patterns=bundle.artefact_patterns,
                                           listing_calls=calls, on_error=on_error))
        with lock:
            listing_calls.extend(calls)
        return more, refs

    # Finished tasks report through a queue (waiting on every pending future each time would be quadratic).
    finished: queue.SimpleQueue[tuple[str, Future]] = queue.SimpleQueue()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan") as pool:
        outstanding = 0

        def submit(stage: str, fn, arg) -> None:
            nonlocal outstanding
            future = pool.submit(fn, arg)
            outstanding += 1
            future.add_done_callback(lambda f: finished.put((stage, f)))

        def enqueue(refs: Iterable[ResourceRef]) -> None:
            for ref in refs:
                if ref.type in wanted and ref.key not in seen:
                    seen.add(ref.key)
                    tally.total += 1
                    submit("collecting", collect, ref)

        for target in targets:
            submit("listing", list_target, target)
        listed, to_list = 0, len(targets)
        try:
            while outstanding:
                stage, future = finished.get()
                outstanding -= 1
                if stage == "listing":
                    listed += 1
                    more, refs = future.result()  # InputError for a bad target propagates here
                    for target in more:
                        to_list += 1
                        submit("listing", list_target, target)
                    enqueue(refs)
                    report("listing", listed, to_list)
                else:
                    ref, collected = future.result()
                    evidence[ref.key] = (ref, collected)
                    tally.done += 1
                    enqueue(collected.related)
                    report("collecting", tally.done, tally.total)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise

    for failure in failures:
        evidence.setdefault(failure.ref.key, (failure.ref, Evidence.failed(failure.reason)))

    findings = evaluate_all(bundle, evidence.values(), ignore_waivers=ignore_waivers, today=today)
    if state is not None:
        state.save()
    counts = Counter(ref.type for ref, _ in evidence.values())
    objects = counts.get("s3_object", 0)
    reused = sum(1 for _, ev in evidence.values() if ev.reused)
    total_calls = sum(ctx.aws.counts.values())
    stats = {
        "resources": dict(sorted(counts.items())),
        "reused_evidence": reused,
        "api_calls": dict(sorted(ctx.aws.counts.items())),
        "api_calls_total": total_calls,
        "listing_calls": len(listing_calls),
        "api_calls_per_object": round(total_calls / objects, 4) if objects else None,
        "workers": workers,
    }
    return ScanResult(
        findings=findings,
        evidence=evidence,
        targets=targets,
        policy_files=bundle.files,
        skipped_files=bundle.skipped,
        ignore_waivers=ignore_waivers,
        started_at=started,
        finished_at=now_iso(),
        seconds=round(time.perf_counter() - clock, 3),
        stats=stats,
    )


def _with_resolved_keys(bundle: PolicyBundle, ctx: ScanContext) -> PolicyBundle:
    """Let KMS allow-lists name keys by alias or key id too: add each entry's key ARN (evidence holds ARNs).

    Parameters whose name ends in ``_kms_keys`` are allow-lists. An entry that cannot be described stays as
    written (it then matches only evidence that spells the key the same way).
    """
    from governance.policy.aws import AwsCallError
    from governance.policy.collectors.kms_key import describe_key

    resolved: dict[str, list] = {}
    for name, entries in bundle.parameters.items():
        if not name.endswith("_kms_keys") or not isinstance(entries, list):
            continue
        expanded = list(entries)
        for entry in entries:
            if isinstance(entry, str) and entry and ":key/" not in entry:
                try:
                    arn = describe_key(ctx, entry, [])["Arn"]
                except AwsCallError:
                    continue
                if arn not in expanded:
                    expanded.append(arn)
        if expanded != entries:
            resolved[name] = expanded
    if not resolved:
        return bundle
    return load_policies(bundle.source, parameters={**bundle.overrides, **resolved})


def _append(items: list, item: Any, lock: threading.Lock) -> None:
    with lock:
        items.append(item)


def evaluate_all(
    bundle: PolicyBundle,
    resources: Iterable[tuple[ResourceRef, Evidence]],
    *,
    ignore_waivers: bool = False,
    today: date | None = None,
) -> list[Finding]:
    """Every applicable check on every resource, in a stable order (check id, then resource id)."""
    by_type: dict[str, list[Check]] = {}
    for check in bundle.checks:
        by_type.setdefault(check.resource, []).append(check)
    today = today or datetime.now(UTC).date()
    findings = [
        evaluate(check, ref, ev, bundle.waivers, ignore_waivers=ignore_waivers, today=today)
        for ref, ev in resources
        for check in by_type.get(ref.type, [])
    ]
    findings.sort(key=lambda f: (f.check.id, f.resource.id))
    return findings


def evaluate(
    check: Check,
    ref: ResourceRef,
    evidence: Evidence,
    waivers: Sequence[SourcedWaiver] = (),
    *,
    ignore_waivers: bool = False,
    today: date | None = None,
) -> Finding:
    """One check on one resource's evidence."""
    view = EvidenceView(evidence.data, evidence.errors)
    finding = Finding(check, ref, Status.PASS, "", {}, evidence.sha256, list(evidence.calls))
    finding = _decide(check, view, finding, waivers, ignore_waivers, today)
    if check.decided_by:
        engine = view.get(check.decided_by)
        finding.engine = engine.value if engine.present else None
        finding.message += f" [policy analysed by: {finding.engine or 'no engine: the policy could not be read'}]"
    return finding


def _decide(check: Check, view: EvidenceView, finding: Finding, waivers: Sequence[SourcedWaiver],
            ignore_waivers: bool, today: date | None) -> Finding:
    if check.when is not None:
        applies = check.when.evaluate(view)
        if applies.value is not True:
            finding.trace = {"when": applies.trace}
            if applies.value is None:
                finding.status = Status.ERROR
                finding.message = "could not tell whether the check applies: " + "; ".join(
                    explain(applies.trace, "error"))
            else:
                finding.status = Status.NA
                finding.message = "not applicable: " + ("; ".join(explain(applies.trace, "false")) or "condition false")
            return finding
    outcome = check.condition.evaluate(view)
    finding.trace = outcome.trace if check.when is None else {"when": applies.trace, "assert": outcome.trace}
    if outcome.value is None:
        finding.status = Status.ERROR
        finding.message = "could not be decided: " + "; ".join(dict.fromkeys(explain(outcome.trace, "error")))
        return finding
    if outcome.value:
        finding.message = "passed"
        return finding
    finding.status = Status.FAIL
    finding.message = "; ".join(explain(outcome.trace, "false")) or "assertion false"
    _apply_waivers(finding, waivers, ignore_waivers, today or datetime.now(UTC).date())
    return finding


def _apply_waivers(finding: Finding, waivers: Iterable[SourcedWaiver], ignore: bool, today: date) -> None:
    matching = [w for w in waivers if w.waiver.matches(finding.check.id, finding.resource.id)]
    live = next((w for w in matching if not w.waiver.expired(today)), None)
    if live is not None:
        detail = {**live.waiver.to_dict(), "source": live.source}
        if ignore:
            finding.waiver = {**detail, "ignored": True}
            finding.message += f" (waiver by {live.waiver.approver} ignored: --ignore-waivers)"
        else:
            finding.status = Status.WAIVED
            finding.waiver = detail
            finding.message += f" (waived by {live.waiver.approver} until {live.waiver.expires}: {live.waiver.reason})"
        return
    if matching:
        expired = max(matching, key=lambda w: w.waiver.expires)
        finding.waiver = {**expired.waiver.to_dict(), "source": expired.source, "expired": True}
        finding.message += f" (waiver by {expired.waiver.approver} expired on {expired.waiver.expires})"
