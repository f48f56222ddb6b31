"""Risk classification (high-risk, Annex III 5(b)) and the obligations map: every duty of the provider and the
deployer (and of the UK and US frameworks the governance file chooses), its status, and what earned it.

The map itself lives in :mod:`reports.obligations`; the status vocabulary in :mod:`reports.status`.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from reports.citations import meaning
from reports.obligations import Row, obligation_rows
from reports.sections._base import Assessment, PackContext, bullets, missing, not_supplied, stated
from reports.status import GOVERNANCE_FILE
from reports.styles import data_table, esc, kv_table, notice, p, sentence, status_legend, status_text, styles

KEY = "classification"
TITLE = "Risk classification and obligations map"
REFERENCES = ("Art. 6(2)", "Annex III 5(b)", "Art. 11(1)", "Annex IV 7", "Annex IV 8")


def assess(ctx: PackContext) -> Assessment:
    gov = ctx.governance
    if gov is None or gov.classification is None:
        return not_supplied("Risk classification", KEY, "The risk classification is not stated.",
                            open_items=["Risk classification and its rationale (model governance file)."])
    # The obligations themselves are judged when the map is built, after every area has been assessed.
    return stated("Risk classification", KEY, f"Classified {gov.classification.risk_level}-risk; the organisation "
                                              f"acts as {' and '.join(gov.classification.roles)}.")


def how_earned(row: Row) -> str:
    """The "earned by" cell: evidence file and check, or the governance-file entry; then the note and owner."""
    earned = row.earned
    source = "governance file" if earned.evidence == GOVERNANCE_FILE else earned.evidence
    parts = [sentence(earned.check)] + ([sentence(earned.note)] if earned.note else [])
    parts += [f"Owner: {esc(earned.owner)}."] if earned.owner else []
    return f"<b>{esc(source)}</b>: " + " ".join(parts)



def obligations_table(ctx: PackContext, rows: list[Row]) -> Flowable:
    sheet = styles()
    body = []
    for row in rows:
        o = row.obligation
        cites = "<br/>".join(f"<b>{esc(c)}</b>" for c in o.citations)
        asks = f"{esc(meaning(o.citations[0]))}" + ("" if o.mandatory else " <i>(good practice)</i>")
        body.append([Paragraph(cites, sheet["cell"]), Paragraph(asks, sheet["cell"]),
                     Paragraph(status_text(row.earned.status), sheet["cell"]),
                     Paragraph(how_earned(row), sheet["cell"])])
    return data_table(["Item", "What it asks (summary)", "Status", "Earned by"], body,
                      [27 * mm, None, 19 * mm, 62 * mm])


def _classification(ctx: PackContext) -> list[Flowable]:
    gov = ctx.governance
    if gov is None or gov.classification is None:
        return [missing("the risk classification and its legal basis", "governance")]
    c = gov.classification
    story: list[Flowable] = [kv_table([("Risk level", f"{c.risk_level.upper()}-RISK AI system"),
                                       ("Legal basis", c.legal_basis), ("Rationale", c.rationale),
                                       ("Roles under the EU AI Act", ", ".join(c.roles))])]
    if c.other_frameworks:
        story += [p("Other frameworks that apply", "h2"), bullets([esc(f) for f in c.other_frameworks])]
    return [*story, ctx.governance_source()]


def _obligations(ctx: PackContext) -> list[Flowable]:
    rows = obligation_rows(ctx)
    frameworks = sorted({r.obligation.framework for r in rows})
    story: list[Flowable] = [p("Obligations map", "h2"), p(
        f"Every duty of the roles and frameworks this model is under ({esc(', '.join(frameworks))}), what it asks, "
        "and what earns its status here. " + status_legend())]
    story.append(obligations_table(ctx, rows))
    open_rows = [r for r in rows if r.blocks_sign_off]
    if open_rows:
        story.append(notice(f"{len(open_rows)} mandatory item(s) are open; the executive summary lists them. "
                            "The pack is not ready for sign-off until they are closed or shown not to apply."))
    return story


def _standards_and_declaration(ctx: PackContext) -> list[Flowable]:
    gov = ctx.governance
    story: list[Flowable] = [p("Standards applied (Annex IV 7)", "h2")]
    if gov and gov.standards:
        story.append(data_table(["Standard or solution", "How it was applied"],
                                [[s.reference, s.how] for s in gov.standards], [70 * mm, None]))
    else:
        story.append(missing("which harmonised standards or other solutions were applied", "governance"))
    story += [p("EU declaration of conformity (Art. 47, Annex IV 8)", "h2")]
    conformity = gov.declaration_of_conformity if gov else None
    if conformity:
        story.append(kv_table([("Status", conformity.status), ("Reference", conformity.reference or "—"),
                               ("Note", conformity.note or "—")]))
        if conformity.status != "signed":
            story.append(notice(f"The EU declaration of conformity is not signed yet (status: "
                                f"{esc(conformity.status)}). This remains an open item."))
    else:
        story.append(missing("the status of the EU declaration of conformity", "governance"))
    return [*story, ctx.governance_source()]


def build(ctx: PackContext) -> list[Flowable]:
    return [p("Classification", "h2"), *_classification(ctx), *_obligations(ctx), *_standards_and_declaration(ctx)]
