"""Lessons learned and the record of changes through the model's lifecycle."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections._base import Assessment, PackContext, missing, not_supplied, stated
from reports.styles import data_table, p

KEY = "lessons"
TITLE = "Lessons learned and changes"
REFERENCES = ("Art. 17(1)", "Annex IV 6")


def assess(ctx: PackContext) -> Assessment:
    gov = ctx.governance
    lessons, changes = (gov.lessons_learned, gov.changes) if gov else (None, None)
    if not lessons and not changes:
        return not_supplied("Lessons and changes", KEY, "No lessons learned or change record.",
                            open_items=["Lessons learned and record of changes (model governance file)."])
    items = [] if lessons else ["Lessons learned (model governance file)."]
    items += [] if changes else ["Record of changes (Annex IV 6)."]
    return stated("Lessons and changes", KEY,
                  f"{len(lessons or [])} lesson(s), {len(changes or [])} recorded change(s).", open_items=items)


def build(ctx: PackContext) -> list[Flowable]:
    gov = ctx.governance
    story: list[Flowable] = [p("Lessons learned", "h2")]
    if gov and gov.lessons_learned:
        story.append(data_table(["Date", "Lesson", "What we learnt", "What changed"],
                                [[item.date.isoformat() if item.date else "—", item.title, item.lesson,
                                  item.action or "—"] for item in gov.lessons_learned],
                                [20 * mm, 35 * mm, None, 55 * mm]))
    else:
        story.append(missing("lessons learned", "governance"))
    story += [p("Changes through the lifecycle (Annex IV 6)", "h2")]
    if gov and gov.changes:
        story.append(data_table(["Date", "Version", "Change"],
                                [[c.date.isoformat(), c.version, c.description] for c in gov.changes],
                                [20 * mm, 18 * mm, None]))
    else:
        story.append(missing("the record of changes", "governance"))
    story.append(ctx.governance_source())
    return story
