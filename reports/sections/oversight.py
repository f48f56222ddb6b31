"""Human oversight: how people review, override and stop the model, who has signed off, and the sign-off page."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Table, TableStyle

from reports import evidence_models as em
from reports.sections._base import Assessment, PackContext, missing, not_supplied, stated
from reports.styles import FRAME_WIDTH, HEADER_FILL, RULE, cell, data_table, esc, gap, kv_table, p

KEY = "oversight"
TITLE = "Human oversight and sign-off"
REFERENCES = ("Art. 14(4)", "Art. 26(2)", "Annex IV 2(e)")


def ledger_path(ctx: PackContext) -> str | None:
    candidates = ctx.evidence.paths("*.jsonl")
    return "ledger.jsonl" if "ledger.jsonl" in candidates else (candidates[0] if candidates else None)


def approval_events(ctx: PackContext) -> list[em.LedgerRecord]:
    """``approve`` records from the evidence ledger (as sealed in the index)."""
    path = ledger_path(ctx)
    records = em.ledger(ctx.evidence, path) if path else None
    return [r for r in records or [] if r.event == "approve"]


def _pending_roles(ctx: PackContext) -> tuple[list[str], list[str]]:
    oversight = ctx.governance.oversight if ctx.governance else None
    if oversight is None:
        return [], []
    decided = {a.role: a.decision for a in oversight.approvals}
    pending = [r.role for r in oversight.sign_off_required_from if decided.get(r.role, "pending") == "pending"]
    rejected = [a.role for a in oversight.approvals if a.decision == "rejected"]
    return pending, rejected


def assess(ctx: PackContext) -> Assessment:
    oversight = ctx.governance.oversight if ctx.governance else None
    if oversight is None:
        return not_supplied("Human oversight", KEY, "Oversight measures and sign-off are not stated.",
                            open_items=["Human oversight measures and required sign-offs (model governance file)."])
    pending, rejected = _pending_roles(ctx)
    if rejected:
        # A recorded rejection blocks, though it is a human decision rather than a check (so: STATED).
        return stated("Human oversight", KEY, "Rejected by: " + ", ".join(rejected) + ".",
                      blockers=[f"Rejected at sign-off by {esc(role)}." for role in rejected])
    if pending:
        return stated("Human oversight", KEY, f"Oversight measures stated; awaiting sign-off from {len(pending)} "
                                              "role(s).", sign_offs=[esc(role) for role in pending])
    return stated("Human oversight", KEY, "Oversight measures stated; every required sign-off recorded.")


def build(ctx: PackContext) -> list[Flowable]:
    oversight = ctx.governance.oversight if ctx.governance else None
    story: list[Flowable] = []
    if oversight is None:
        story.append(missing("how people oversee the model and who must sign it off", "governance"))
    else:
        pairs = [("Human review", oversight.human_review)]
        for label, value in (("Override", oversight.override), ("Stopping the system", oversight.stop),
                             ("Competence of reviewers", oversight.competence)):
            pairs.append((label, value) if value else (label, "— (not stated: open item)"))
        story += [kv_table(pairs), ctx.governance_source()]

    events = approval_events(ctx)
    story += [p("Approval events in the governance ledger", "h2")]
    if events:
        story += [data_table(["Time", "Actor", "Subject", "Details"],
                             [[e.time, e.actor, e.subject, ", ".join(f"{k}: {v}" for k, v in sorted(e.details.items()))]
                              for e in events], [38 * mm, 30 * mm, 45 * mm, None]),
                  ctx.source(ledger_path(ctx))]
    else:
        where = ledger_path(ctx)
        story.append(p("The ledger in the evidence records no approval of this model version yet." if where
                       else "The evidence holds no governance ledger, so no approval events can be shown."))

    story += [CondPageBreak(120 * mm), p("Sign-off", "h2"),
              p("Each accountable person signs below after reading this pack. A signature confirms that the evidence "
                "was reviewed and the open items and blockers in the executive summary were considered.")]
    decided = {a.role: a for a in oversight.approvals} if oversight else {}
    roles = [r.role for r in oversight.sign_off_required_from] if oversight else []
    roles += [role for role in decided if role not in roles]
    if not roles:
        roles = ["Model owner", "Independent validation", "Compliance officer"]
        story.append(missing("who must sign the model off", "governance"))
    for role in roles:
        approval = decided.get(role)
        story += [gap(3), _signature_block(role, approval)]
    return story


def _signature_block(role: str, approval) -> Table:
    name = approval.name if approval else ""
    decision = approval.decision if approval else "pending"
    when = approval.date.isoformat() if approval and approval.date else ""
    rows = [
        [cell(role, "cell_bold"), cell(f"Decision recorded: {decision}")],
        [cell("Name"), cell(name)],
        [cell("Decision (approve / approve with conditions / reject)"), cell("")],
        [cell("Signature"), cell("")],
        [cell("Date"), cell(when)],
    ]
    if approval and approval.note:
        rows.append([cell("Note"), cell(approval.note)])
    table = Table(rows, colWidths=[70 * mm, FRAME_WIDTH - 70 * mm], rowHeights=None)
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("LINEBELOW", (0, 0), (-1, -2), 0.3, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("TOPPADDING", (0, 1), (-1, -1), 7),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 7),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    return table

