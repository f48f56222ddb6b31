"""Lineage: the chain dataset → splits → training → artefact → registration, as signed provenance statements.

Each hop is an in-toto Statement (SLSA Provenance v1) in a DSSE envelope under ``provenance/``. The pack decodes
them to print what each step consumed and produced; their authenticity comes from the signed evidence index,
and ``governance lineage verify`` checks each statement's own signature and the chain.
"""

from __future__ import annotations

import base64
import binascii
import json

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from reports import evidence_models as em
from reports.sections._base import (
    Assessment,
    PackContext,
    dig,
    evidence_pngs,
    first,
    missing,
    natural_png,
)
from reports.sections.oversight import ledger_path
from reports.styles import data_table, esc, p, styles

KEY = "lineage"
TITLE = "Lineage and records"
REFERENCES = ("Art. 10(2)(b)", "Annex IV 2(d)", "Annex IV 2(g)")
SUMMARY = "lineage.json"


def statements(ctx: PackContext) -> list[tuple[str, dict]]:
    """``(path, statement)`` for every provenance envelope in the evidence, decoded but not re-verified."""
    found = []
    for relative in ctx.evidence.paths("provenance/*.json"):
        envelope = ctx.evidence.json(relative)
        statement = _decode(envelope)
        if statement is not None:
            found.append((relative, statement))
    return sorted(found, key=lambda item: (_started(item[1]) or "", item[0]))


def _decode(envelope) -> dict | None:
    if isinstance(envelope, dict) and "payload" in envelope:
        try:
            value = json.loads(base64.b64decode(envelope["payload"], validate=True))
        except (binascii.Error, ValueError, TypeError):
            return None
        return value if isinstance(value, dict) else None
    return envelope if isinstance(envelope, dict) and "subject" in envelope else None


def _started(statement: dict) -> str | None:
    return first(statement, ("predicate", "runDetails", "metadata", "startedOn"),
                 ("predicate", "metadata", "startedOn"))


def _step_name(path: str, statement: dict) -> str:
    name = first(statement, ("predicate", "buildDefinition", "internalParameters", "step"),
                 ("predicate", "buildDefinition", "externalParameters", "step"))
    if isinstance(name, str):
        return name
    stem = path.rsplit("/", 1)[-1]
    return stem.split(".", 1)[0]


def _digest(item: dict) -> str | None:
    return dig(item, "digest", "sha256")


def summary(ctx: PackContext) -> em.Lineage | None:
    """``lineage.json``: the chain as plain data, with each input's producing step (``from``)."""
    return em.lineage(ctx.evidence)


def assess(ctx: PackContext) -> Assessment:
    found = statements(ctx)
    ledger = ledger_path(ctx)
    if not found:
        return Assessment("Lineage and records", KEY, "grey", "No provenance statements in the evidence.",
                          blockers=["No lineage (provenance/): which data produced the model is not evidenced."])
    chain = summary(ctx)
    headline = f"{len(found)} signed provenance statement(s), sealed in the evidence index"
    headline += "; every hop names the step that produced its inputs." if chain else "."
    if not ledger:
        headline += " No governance ledger."
    return Assessment("Lineage and records", KEY, "green" if ledger else "amber", headline,
                      open_items=[] if ledger else ["Governance ledger (ledger.jsonl) of the governance events."])


def _resource(item: dict, sheet, origin: str | None = None) -> str:
    name = esc(item.get("name") or item.get("uri") or "?")
    came = f" ← {esc(origin)}" if origin else ""
    digest = item.get("sha256") or _digest(item) or "—"
    return f"{name}{came}<br/><font name='PackMono' size='6.3'>{esc(digest)}</font>"


def _summary_rows(ctx: PackContext, chain: em.Lineage) -> tuple[list[list], list[str]]:
    """Table rows from lineage.json: each hop's step, what it consumed (with the step that produced it), and made."""
    sheet = styles()
    rows = []
    for hop in chain.hops:
        step = (f"<b>{esc(hop.step)}</b><br/>{esc(hop.started_at or '')}"
                + (f"<br/>code: {esc(hop.code.get('path'))}" if hop.code.get("path") else ""))
        inputs = [_resource(i, sheet, i.get("from")) for i in hop.inputs]
        outputs = [_resource(o, sheet) for o in hop.outputs]
        rows.append([Paragraph(step, sheet["cell"]), Paragraph("<br/>".join(inputs) or "—", sheet["cell"]),
                     Paragraph("<br/>".join(outputs) or "—", sheet["cell"])])
    return rows, [SUMMARY, *[h.statement for h in chain.hops if ctx.evidence.has(h.statement)]]


def _statement_rows(ctx: PackContext) -> tuple[list[list], list[str]]:
    """Table rows decoded from the provenance statements, when there is no lineage.json."""
    sheet = styles()
    produced: dict[str, str] = {}
    found = statements(ctx)
    rows = []
    for path, statement in found:
        step = _step_name(path, statement)
        deps = dig(statement, "predicate", "buildDefinition", "resolvedDependencies", default=[]) or []
        inputs = [_resource(d, sheet, produced.get(_digest(d) or "")) for d in deps
                  if isinstance(d, dict) and dig(d, "annotations", "role") not in {"code", "package"}]
        subjects = [s for s in statement.get("subject") or [] if isinstance(s, dict)]
        for subject in subjects:
            produced.setdefault(_digest(subject) or "", step)
        rows.append([Paragraph(f"<b>{esc(step)}</b><br/>{esc(_started(statement) or '')}", sheet["cell"]),
                     Paragraph("<br/>".join(inputs) or "—", sheet["cell"]),
                     Paragraph("<br/>".join(_resource(s, sheet) for s in subjects) or "—", sheet["cell"])])
    return rows, [path for path, _ in found]


def _hop_rows(ctx: PackContext) -> tuple[list[list], list[str]]:
    chain = summary(ctx)
    return _summary_rows(ctx, chain) if chain else _statement_rows(ctx)


def build(ctx: PackContext) -> list[Flowable]:
    found = statements(ctx)
    story: list[Flowable] = []
    pictures = [(rel, data) for rel, data in evidence_pngs(ctx, "lineage")] + (
        [("lineage.png", ctx.evidence.read_bytes("lineage.png"))] if ctx.evidence.has("lineage.png") else [])
    for relative, data in pictures:
        story += [natural_png(data), ctx.source(relative)]
    if not found:
        story.append(missing("provenance statements (provenance/*.intoto.json)"))
    else:
        rows, sources = _hop_rows(ctx)
        story += [p("Hops", "h2"), p(
            "What each step consumed and produced, with sha256 digests. An input marked ← was produced by the named "
            "earlier step with exactly that digest, so no file can be swapped between steps unnoticed. Each hop is "
            "a DSSE-signed in-toto statement (SLSA Provenance v1) under provenance/; <font name='PackMono'>"
            "governance lineage verify</font> re-checks their signatures and the chain."),
                  data_table(["Step", "Consumed", "Produced"], rows, [40 * mm, None, None]), ctx.source(*sources)]
        builders = sorted({str(dig(s, "predicate", "runDetails", "builder", "id")) for _, s in found
                           if dig(s, "predicate", "runDetails", "builder", "id")})
        if builders:
            story.append(p("Built by: " + ", ".join(esc(b) for b in builders), "small"))

    story.append(p("These are build-time records: where the data came from, how the model was trained and "
                   "registered, and the governance events. They are not the automatic event logs of the running "
                   "system (Art. 12(1)–(2)); those remain an open item in the obligations map until the governance "
                   "file states them.", "small"))
    story += [p("Governance ledger", "h2")]
    path = ledger_path(ctx)
    records = em.ledger(ctx.evidence, path) if path else None
    if not records:
        story.append(missing("governance ledger (ledger.jsonl)"))
    else:
        story += [p(f"An append-only, hash-chained log of governance events; {len(records)} record(s) were sealed "
                    "into the evidence index. Each record holds the hash of the one before it and names who acted "
                    "(a checkpoint names the key that signed it)."),
                  data_table(["#", "Time", "Event", "Actor", "Subject", "Record hash"],
                             [[r.seq, r.time, r.event, r.actor, r.subject, r.hash[:16] + "…"] for r in records],
                             [8 * mm, 38 * mm, 20 * mm, 28 * mm, None, 30 * mm], mono_columns=(5,)),
                  ctx.source(path)]
    return story
