"""Executive summary: a verdict per area, what blocks approval, and what is still open."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from reports.obligations import Row, obligation_rows
from reports.sections._base import PackContext, bullets
from reports.status import Status, sign_off_readiness
from reports.styles import badge, data_table, esc, notice, p, sentence, styles, verdict_legend

KEY = "summary"
TITLE = "Executive summary"
REFERENCES = ("Art. 11(1)",)

# Areas in the order a reviewer reads them (keys of the sections that assess them).
AREAS = ("classification", "model_card", "data", "training", "performance", "fairness", "explainability",
         "integrity", "lineage", "policy", "risks", "oversight", "monitoring", "lessons")


def blockers(ctx: PackContext) -> list[str]:
    return [b for key in AREAS if key in ctx.assessments for b in ctx.assessments[key].blockers]


def open_items(ctx: PackContext) -> list[str]:
    return [o for key in AREAS if key in ctx.assessments for o in ctx.assessments[key].open_items]


def sign_offs(ctx: PackContext) -> list[str]:
    return [s for key in AREAS if key in ctx.assessments for s in ctx.assessments[key].sign_offs]


def _readiness(ctx: PackContext, blocking: list[str], mandatory: list[Row]) -> list[Flowable]:
    sentence = sign_off_readiness(len(mandatory), len(blocking))
    kind = "warn" if blocking or mandatory else "info"
    return [notice(f"<b>{esc(sentence)}</b>", kind)]


def _areas(ctx: PackContext) -> Flowable:
    sheet = styles()
    rows = []
    for key in AREAS:
        assessment = ctx.assessments.get(key)
        if assessment is None:
            continue
        rows.append([Paragraph(esc(assessment.area), sheet["cell_bold"]), badge(assessment.verdict),
                     assessment.headline, Paragraph(ctx.link(key), sheet["cell"])])
    return data_table(["Area", "Verdict", "Finding", "Details"], rows, [32 * mm, 28 * mm, None, 40 * mm])


def _open_obligation(row: Row) -> str:
    owner = f" Owner: {esc(row.earned.owner)}." if row.earned.owner else " Owner: not named."
    cites = ", ".join(row.obligation.citations)
    what = sentence(row.earned.note or row.earned.check)
    duty = row.obligation.duty
    return f"<b>{esc(duty[:1].upper() + duty[1:])}</b> ({esc(cites)}): {what}{owner}"


def build(ctx: PackContext) -> list[Flowable]:
    gov = ctx.governance
    name = esc(gov.model.name) if gov else "The model"
    version = f" version {esc(gov.model.version)}" if gov and gov.model.version else ""
    blocking, pending, signatures = blockers(ctx), open_items(ctx), sign_offs(ctx)
    rows = obligation_rows(ctx)
    mandatory = [r for r in rows if r.blocks_sign_off]
    other_open = [r for r in rows if r.earned.status is Status.OPEN and not r.blocks_sign_off]
    story: list[Flowable] = [p(
        f"{name}{version} is assessed below area by area. Verdicts are the ones the toolkit's checks wrote into "
        "the evidence (fairness, explainability, integrity, policy) or the comparison of evidence with criteria "
        "the accountable people set in advance (performance). What people wrote in the model governance file is "
        "<b>STATED</b>: it is shown, not tested."), *_readiness(ctx, blocking, mandatory), _areas(ctx),
        p(verdict_legend(), "small")]
    story += [p("What blocks approval", "h2")]
    story.append(bullets(blocking) if blocking else p("No red verdict, failed verification or missing mandatory "
                                                      "evidence."))
    story += [p(f"Mandatory items open ({len(mandatory)})", "h2")]
    story.append(bullets([_open_obligation(r) for r in mandatory]) if mandatory else
                 p("None: every mandatory obligation in the map (§2) is evidenced, stated or shown not to apply."))
    story += [p("Sign-offs outstanding", "h2")]
    story.append(bullets(signatures) if signatures else p("None recorded as outstanding." if ctx.governance and
                                                          ctx.governance.oversight else
                                                          "Unknown: the model governance file names no sign-offs."))
    story += [p("Other open items and findings to review", "h2")]
    others = pending + [_open_obligation(r) for r in other_open]
    story.append(bullets(others) if others else p("None."))
    return story
