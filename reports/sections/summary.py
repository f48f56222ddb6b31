"""Executive summary: a verdict per area, what blocks approval, and what is still open."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from reports.sections._base import PackContext, bullets
from reports.styles import VERDICT_COLOURS, badge, data_table, esc, notice, p, styles

KEY = "summary"
TITLE = "Executive summary"
REFERENCES = ("Art. 11", "Annex IV 1", "Annex IV 3")

# Areas in the order a reviewer reads them (keys of the sections that assess them).
AREAS = ("classification", "model_card", "data", "training", "performance", "fairness", "explainability",
         "integrity", "lineage", "policy", "risks", "oversight", "monitoring", "lessons")


def blockers(ctx: PackContext) -> list[str]:
    return [b for key in AREAS if key in ctx.assessments for b in ctx.assessments[key].blockers]


def open_items(ctx: PackContext) -> list[str]:
    return [o for key in AREAS if key in ctx.assessments for o in ctx.assessments[key].open_items]


def sign_offs(ctx: PackContext) -> list[str]:
    return [s for key in AREAS if key in ctx.assessments for s in ctx.assessments[key].sign_offs]


def build(ctx: PackContext) -> list[Flowable]:
    gov = ctx.governance
    name = esc(gov.model.name) if gov else "The model"
    version = f" version {esc(gov.model.version)}" if gov and gov.model.version else ""
    blocking, pending, signatures = blockers(ctx), open_items(ctx), sign_offs(ctx)
    story: list[Flowable] = [p(
        f"{name}{version} is assessed below area by area. Verdicts are the ones the toolkit's checks wrote into "
        "the evidence (fairness, integrity, policy) or the comparison of evidence with criteria the accountable "
        "people set in advance (performance); <b>NO EVIDENCE</b> means nothing was supplied to judge.")]
    if blocking:
        story.append(notice(f"<b>Not ready for approval.</b> {len(blocking)} item(s) block approval; see the list "
                            "below the table.", "warn"))
    elif signatures:
        story.append(notice(f"<b>Ready for sign-off.</b> No blocking findings; {len(signatures)} sign-off(s) "
                            "outstanding. Open items below still need an owner.", "info"))
    else:
        story.append(notice("<b>No blocking findings, and every required sign-off is recorded.</b> Open items "
                            "below still need an owner.", "info"))
    rows = []
    sheet = styles()
    for key in AREAS:
        assessment = ctx.assessments.get(key)
        if assessment is None:
            continue
        rows.append([Paragraph(esc(assessment.area), sheet["cell_bold"]), badge(assessment.verdict),
                     assessment.headline, Paragraph(ctx.link(key), sheet["cell"])])
    story += [data_table(["Area", "Verdict", "Finding", "Details"], rows, [32 * mm, 28 * mm, None, 40 * mm])]
    story += [p("What blocks approval", "h2")]
    story.append(bullets(blocking) if blocking else p("Nothing: no red verdict, failed verification or missing "
                                                      "mandatory evidence."))
    story += [p("Sign-offs outstanding", "h2")]
    story.append(bullets(signatures) if signatures else p("None recorded as outstanding." if ctx.governance and
                                                          ctx.governance.oversight else
                                                          "Unknown: the model governance file names no sign-offs."))
    story += [p("Open items", "h2")]
    story.append(bullets(pending) if pending else p("None."))
    legend = " ".join(
        f'<font color="#{VERDICT_COLOURS[v].hexval()[2:]}"><b>{label}</b></font> {meaning}'
        for v, label, meaning in (("green", "GREEN", "passed;"), ("amber", "AMBER", "passed with findings to review;"),
                                  ("red", "RED", "failed;"), ("grey", "NO EVIDENCE", "not supplied, so not judged.")))
    story.append(p(legend, "small"))
    return story
