"""Intended use, users and out-of-scope uses (the model card), as the accountable people wrote them."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections._base import Assessment, PackContext, bullets, dig, missing, not_supplied, num, stated
from reports.styles import data_table, esc, kv_table, p

KEY = "model_card"
TITLE = "Intended use, users and limits"
REFERENCES = ("Art. 13(3)(b)", "Annex IV 1(a)", "Annex IV 1(h)")


def assess(ctx: PackContext) -> Assessment:
    use = ctx.governance.intended_use if ctx.governance else None
    if use is None:
        return not_supplied("Intended use", KEY, "Intended use is not stated.",
                            open_items=["Intended use, users and out-of-scope uses (model governance file)."])
    return stated("Intended use", KEY, f"{len(use.users)} user group(s), {len(use.out_of_scope)} out-of-scope "
                                       f"use(s), {len(use.limitations)} known limitation(s).")


def build(ctx: PackContext) -> list[Flowable]:
    use = ctx.governance.intended_use if ctx.governance else None
    if use is None:
        return [missing("the intended use, the users and the out-of-scope uses", "governance")]
    pairs = [("Intended purpose", use.purpose)]
    if use.decision_supported:
        pairs.append(("Decision supported", use.decision_supported))
    evaluation = ctx.evidence.json("evaluation.json")
    threshold = dig(evaluation, "decision", "threshold")
    if threshold is not None:
        pairs.append(("Operating threshold (evidence)",
                      f"{num(threshold, 3)}: {dig(evaluation, 'decision', 'rule') or ''} (evaluation.json)"))
    if use.affected_persons:
        pairs.append(("Persons affected", use.affected_persons))
    if use.instructions_for_use:
        pairs.append(("Instructions for use", use.instructions_for_use))
    story: list[Flowable] = [kv_table(pairs)]
    story += [p("Users", "h2")]
    story.append(data_table(["Role", "How they use the model"], [[u.role, u.description] for u in use.users],
                            [45 * mm, None]) if use.users else missing("who uses the model", "governance"))
    story += [p("Out of scope: the model must not be used for", "h2")]
    story.append(bullets([esc(item) for item in use.out_of_scope]) if use.out_of_scope
                 else missing("out-of-scope uses", "governance"))
    story += [p("Known limitations", "h2")]
    story.append(bullets([esc(item) for item in use.limitations]) if use.limitations
                 else missing("the model's known limitations", "governance"))
    story.append(ctx.governance_source())
    return story
