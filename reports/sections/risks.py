"""Risk register: the identified risks on a likelihood × impact grid, with owners, mitigations and status."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from reports import charts
from reports.sections._base import Assessment, PackContext, missing, not_supplied, png_image, stated
from reports.styles import data_table, esc, p, styles

KEY = "risks"
TITLE = "Risk register"
REFERENCES = ("Art. 9(1)–(2)", "Annex IV 5")
SEVERE = 15  # likelihood × impact at or above this is shown red on the grid
_ACTIVE = {"open", "mitigating"}


def assess(ctx: PackContext) -> Assessment:
    risks = ctx.governance.risks if ctx.governance else None
    if not risks:
        return not_supplied("Risk management", KEY, "No risk register.",
                            open_items=["Risk register (model governance file)."])
    severe_open = [r for r in risks if r.status in _ACTIVE and r.likelihood * r.impact >= SEVERE]
    active = [r for r in risks if r.status in _ACTIVE]
    headline = f"{len(risks)} risk(s) registered; {len(active)} still open or being mitigated."
    if severe_open:
        # A stated severe risk still open blocks, though no check measured it (so the verdict stays STATED).
        return stated("Risk management", KEY, headline,
                      blockers=[f"Severe risk {esc(r.id)} ({esc(r.title)}) is {r.status}." for r in severe_open])
    return stated("Risk management", KEY, headline,
                  open_items=[f"Risk {esc(r.id)} ({esc(r.title)}) is {r.status}; owner: {esc(r.owner)}."
                              for r in active])


def build(ctx: PackContext) -> list[Flowable]:
    risks = ctx.governance.risks if ctx.governance else None
    if not risks:
        return [missing("a risk register", "governance")]
    story: list[Flowable] = [
        p("Risks identified by the accountable people, scored for likelihood and impact from 1 to 5. The grid "
          f"colours a score (likelihood × impact) of {SEVERE} or more red, 6 to 14 amber, below 6 green."),
        png_image(charts.risk_grid_chart([(r.id, r.likelihood, r.impact) for r in risks]), 105),
        p("Register", "h2"),
        data_table(
            ["ID", "Risk", "L", "I", "Owner", "Mitigations", "Status"],
            [[r.id, f"{r.title}. {r.description or ''}".strip(), r.likelihood, r.impact, r.owner,
              Paragraph("<br/>".join(f"• {esc(m)}" for m in r.mitigations) or "—", styles()["cell"]), r.status]
             for r in risks],
            [12 * mm, 48 * mm, 6 * mm, 6 * mm, 26 * mm, None, 17 * mm], align_right=(2, 3)),
    ]
    refs = [[r.id, ", ".join(r.references)] for r in risks if r.references]
    if refs:
        story += [p("Regulation items each risk relates to", "h2"), data_table(["ID", "Items"], refs, [12 * mm, None])]
    story.append(ctx.governance_source())
    return story
