"""Deployment and post-market monitoring results, from the governance ledger: where the model serves, whether its
decisions are logged (Data Capture: on, encrypted, sampling), and what monitoring found.

Only records the toolkit wrote count: ``deploy`` records from ``governance deploy`` (the gate passed, the endpoint
and its Data Capture settings) and ``monitor`` records from ``governance monitor`` (verdict, counts and findings,
with the digest of the signed monitoring report). Without them the area stays open: a plan is not a result.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections._base import Assessment, PackContext
from reports.sections.oversight import ledger_path
from reports.styles import data_table, notice, p

KEY = "post_market"
TITLE = "Deployment and monitoring results"
REFERENCES = ("Art. 12(1)–(2)", "Art. 19(1)", "Art. 26(6)", "Art. 72(1)–(3)")


def _records(ctx: PackContext, event: str) -> list[dict]:
    path = ledger_path(ctx)
    records = ctx.evidence.jsonl(path) if path else None
    return [r for r in records or [] if isinstance(r, dict) and r.get("event") == event]


def deployments(ctx: PackContext) -> list[dict]:
    return [r for r in _records(ctx, "deploy") if (r.get("details") or {}).get("outcome") == "deployed"]


def monitoring_runs(ctx: PackContext) -> list[dict]:
    return _records(ctx, "monitor")


def capture_ok(record: dict) -> bool:
    capture = (record.get("details") or {}).get("data_capture") or {}
    modes = {o.get("CaptureMode") for o in capture.get("CaptureOptions") or []}
    return bool(capture.get("EnableCapture")) and bool(capture.get("KmsKeyId")) and {"Input", "Output"} <= modes


def assess(ctx: PackContext) -> Assessment:
    deployed, runs = deployments(ctx), monitoring_runs(ctx)
    logged = [d for d in deployed if capture_ok(d)]
    items = []
    if not logged:
        items.append("A deployment through `governance deploy` with Data Capture on and encrypted (Art. 12, 26(6)).")
    if not runs:
        items.append("Monitoring results from `governance monitor` (Art. 72).")
    failed = [r for r in runs if (r.get("details") or {}).get("verdict") in ("FAIL", "ERROR")]
    if not logged and not runs:
        return Assessment("Deployment and monitoring", KEY, "grey", "No deployment or monitoring result on record.",
                          open_items=items, ran=False)
    verdict = "red" if failed and failed[-1] is runs[-1] else "amber" if items or failed else "green"
    headline = (f"{len(logged)} deployment(s) with decision logging; {len(runs)} monitoring run(s)"
                + (f", last {runs[-1]['details'].get('verdict')}" if runs else ""))
    return Assessment("Deployment and monitoring", KEY, verdict, headline, open_items=items)


def build(ctx: PackContext) -> list[Flowable]:
    deployed, runs = deployments(ctx), monitoring_runs(ctx)
    story: list[Flowable] = [p("Deployments", "h2")]
    if deployed:
        rows = []
        for record in deployed:
            details = record.get("details") or {}
            capture = details.get("data_capture") or {}
            modes = "+".join(sorted(o.get("CaptureMode", "") for o in capture.get("CaptureOptions") or []))
            rows.append([record.get("time", "")[:19], details.get("endpoint", "—"),
                         f"{'on' if capture.get('EnableCapture') else 'OFF'} ({modes or 'none'}, "
                         f"{capture.get('InitialSamplingPercentage', '—')}%)",
                         capture.get("KmsKeyId") or "NOT ENCRYPTED", capture.get("DestinationS3Uri") or "—"])
        story.append(data_table(["When (UTC)", "Endpoint", "Data Capture", "KMS key", "Destination"], rows,
                                [28 * mm, 30 * mm, 32 * mm, None, None]))
    else:
        story.append(notice("No deployment through the deploy gate is recorded in the ledger: decision logging "
                            "(Art. 12, 26(6)) is not evidenced."))
    story.append(p("Monitoring runs", "h2"))
    if runs:
        rows = []
        for record in runs[-10:]:
            details = record.get("details") or {}
            findings = [f"{f.get('status')} {f.get('check')} [{f.get('subject')}]"
                        for f in details.get("findings") or [] if f.get("status") in ("FAIL", "ERROR")]
            rows.append([record.get("time", "")[:19], f"{details.get('rows', 0):,}", details.get("verdict", "—"),
                         "; ".join(findings[:5]) + (" …" if len(findings) > 5 else "") or "none"])
        story.append(data_table(["When (UTC)", "Rows", "Verdict", "Failed checks"], rows,
                                [28 * mm, 18 * mm, 16 * mm, None]))
    else:
        story.append(notice("No monitoring result is recorded in the ledger: post-market monitoring (Art. 72) has a "
                            "plan, not results."))
    path = ledger_path(ctx)
    if path:
        story.append(ctx.source(path))
    return story
