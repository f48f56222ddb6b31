"""Post-market monitoring plan: what is watched in production, how often, and what a breach triggers."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections._base import Assessment, PackContext, missing, not_supplied, stated
from reports.styles import data_table, gap, kv_table

KEY = "monitoring"
TITLE = "Post-market monitoring plan"
REFERENCES = ("Art. 72(1)–(3)", "Art. 73(2)–(4)", "Annex IV 9")


def assess(ctx: PackContext) -> Assessment:
    plan = ctx.governance.monitoring if ctx.governance else None
    if plan is None:
        return not_supplied("Monitoring plan", KEY, "No post-market monitoring plan.",
                            open_items=["Post-market monitoring plan (Art. 72; model governance file)."])
    return stated("Monitoring plan", KEY, f"{len(plan.metrics)} monitored measure(s) with triggers; owner: "
                                          f"{plan.owner}. Not yet running: no monitoring results in the evidence.")


def build(ctx: PackContext) -> list[Flowable]:
    plan = ctx.governance.monitoring if ctx.governance else None
    if plan is None:
        return [missing("a post-market monitoring plan", "governance")]
    pairs = [("Owner", plan.owner), ("Review", plan.review_frequency)]
    if plan.data_collection:
        pairs.append(("Data collected", plan.data_collection))
    if plan.incident_reporting:
        pairs.append(("Serious incidents", plan.incident_reporting))
    return [
        kv_table(pairs),
        gap(),
        data_table(["Measure", "What is measured", "How often", "Trigger", "Action"],
                   [[m.name, m.what, m.frequency, m.trigger, m.action] for m in plan.metrics],
                   [26 * mm, None, 20 * mm, 38 * mm, 38 * mm]),
        ctx.governance_source(),
    ]
