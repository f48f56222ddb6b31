"""Risk classification (high-risk, Annex III 5(b)) and the obligations map: each EU AI Act item → where this pack
evidences it, and how completely.

The wording of each obligation is a short summary in our own words, to orient the reader; the Regulation's
text governs.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph

from reports.sections._base import EVIDENCED, OPEN, PARTIAL, Assessment, PackContext, bullets, missing
from reports.styles import VERDICT_COLOURS, data_table, esc, kv_table, notice, p, styles

KEY = "classification"
TITLE = "Risk classification and obligations map"
REFERENCES = ("Art. 6(2)", "Annex III 5(b)", "Art. 11", "Annex IV 7", "Annex IV 8")

# (item, what it asks, section keys where the pack evidences it)
OBLIGATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Art. 9", "A risk management system run over the whole lifecycle: risks identified, estimated, mitigated "
               "and tested.", ("risks", "monitoring", "fairness")),
    ("Art. 10", "Training, validation and test data under data governance: provenance, preparation, quality, "
                "representativeness and an examination of possible biases (10(2)(f)).",
     ("data", "fairness", "lineage")),
    ("Art. 11", "Technical documentation drawn up before the system is placed on the market, covering Annex IV.",
     ("cover", "classification", "appendix")),
    ("Art. 12", "Automatic recording of events (logs) over the system's lifetime, enough to trace how it worked.",
     ("lineage", "integrity", "post_market")),
    ("Art. 13", "Transparency to deployers: instructions for use, intended purpose, accuracy and its limits, "
                "information to interpret outputs.", ("model_card", "performance", "explainability")),
    ("Art. 14", "Human oversight: people able to understand, monitor, interpret, override and stop the system.",
     ("oversight", "explainability")),
    ("Art. 15", "Declared accuracy, robustness and cybersecurity, including protection against tampering.",
     ("performance", "integrity", "explainability")),
    ("Art. 17", "A quality management system: documented procedures for design, testing, data management, "
                "record keeping and accountability.", ("policy", "oversight", "lessons")),
    ("Art. 18", "Documentation kept available to the authorities for ten years.", ("cover", "policy")),
    ("Art. 19", "Automatically generated logs kept for at least six months.", ("lineage", "policy", "post_market")),
    ("Art. 26(6)", "The deployer keeps the logs the system generates for at least six months.", ("post_market",)),
    ("Art. 72", "A post-market monitoring system and plan, collecting and analysing performance data.",
     ("monitoring", "post_market")),
    ("Annex IV 1", "General description: intended purpose, provider, version, how it is used, instructions for use.",
     ("cover", "model_card")),
    ("Annex IV 2", "Development process and elements: (a) methods, (b) design choices, (c) architecture, (d) data "
                   "and its provenance and cleaning, (e) oversight measures, (f) pre-determined changes, "
                   "(g) validation and testing with metrics incl. discriminatory impact, (h) cybersecurity.",
     ("training", "data", "lineage", "oversight", "performance", "fairness", "integrity")),
    ("Annex IV 3", "Monitoring, functioning and control: capabilities and limits, accuracy for specific groups, "
                   "foreseeable unintended outcomes, input data specifications.",
     ("model_card", "fairness", "explainability", "oversight")),
    ("Annex IV 4", "Why the performance metrics suit this system.", ("performance",)),
    ("Annex IV 5", "The risk management system under Art. 9.", ("risks",)),
    ("Annex IV 6", "Relevant changes made through the lifecycle.", ("lessons",)),
    ("Annex IV 7", "Harmonised standards applied, or the other solutions used to meet the requirements.",
     ("classification",)),
    ("Annex IV 8", "A copy of the EU declaration of conformity (Art. 47).", ("classification",)),
    ("Annex IV 9", "The system to evaluate performance after placing on the market, with the monitoring plan.",
     ("monitoring",)),
)


def assess(ctx: PackContext) -> Assessment:
    gov = ctx.governance
    if gov is None or gov.classification is None:
        return Assessment("Risk classification", KEY, "grey", "The risk classification is not stated.", OPEN,
                          open_items=["Risk classification and its rationale (model governance file)."])
    items = []
    if not gov.standards:
        items.append("Harmonised standards or other solutions applied (Annex IV 7).")
    if gov.declaration_of_conformity is None or gov.declaration_of_conformity.status != "signed":
        items.append("EU declaration of conformity not signed (Annex IV 8, Art. 47).")
    return Assessment("Risk classification", KEY, "green" if not items else "amber",
                      f"Classified {gov.classification.risk_level}-risk: {gov.classification.legal_basis}",
                      PARTIAL if items else EVIDENCED, open_items=items)


def _coverage(ctx: PackContext, item: str, keys: tuple[str, ...]) -> str:
    gov = ctx.governance
    if item == "Annex IV 7":
        return EVIDENCED if gov and gov.standards else OPEN
    if item == "Annex IV 8":
        conformity = gov.declaration_of_conformity if gov else None
        return OPEN if conformity is None else EVIDENCED if conformity.status == "signed" else PARTIAL
    if item == "Annex IV 6":
        return EVIDENCED if gov and gov.changes else OPEN
    states = [ctx.assessments[k].coverage for k in keys if k in ctx.assessments]
    if "cover" in keys:  # document control: owner, classification, retention come from the governance file
        states.append(EVIDENCED if gov and gov.document else PARTIAL)
    if not states:
        return EVIDENCED
    if all(s == EVIDENCED for s in states):
        return EVIDENCED
    return OPEN if all(s == OPEN for s in states) else PARTIAL


_COVERAGE_TEXT = {EVIDENCED: ("Evidenced", "green"), PARTIAL: ("Partly", "amber"), OPEN: ("Open", "red")}


def obligations_table(ctx: PackContext) -> Flowable:
    rows = []
    for item, asks, keys in OBLIGATIONS:
        where = Paragraph(", ".join(ctx.link(k) for k in keys), styles()["cell"])
        label, colour = _COVERAGE_TEXT[_coverage(ctx, item, keys)]
        status = Paragraph(f'<font color="#{VERDICT_COLOURS[colour].hexval()[2:]}"><b>{label}</b></font>',
                           styles()["cell"])
        rows.append([Paragraph(f"<b>{esc(item)}</b>", styles()["cell"]), asks, where, status])
    return data_table(["Item", "What it asks (summary)", "Evidenced in", "Status"], rows,
                      [20 * mm, None, 52 * mm, 19 * mm])


def build(ctx: PackContext) -> list[Flowable]:
    gov = ctx.governance
    story: list[Flowable] = [p("Classification", "h2")]
    if gov is None or gov.classification is None:
        story.append(missing("the risk classification and its legal basis", "governance"))
    else:
        c = gov.classification
        story += [kv_table([("Risk level", f"{c.risk_level.upper()}-RISK AI system"), ("Legal basis", c.legal_basis),
                            ("Rationale", c.rationale)])]
        if c.other_frameworks:
            story += [p("Other frameworks that apply", "h2"), bullets([esc(f) for f in c.other_frameworks])]
        story.append(ctx.governance_source())

    story += [p("Obligations map", "h2"), p(
        "Where this pack evidences each obligation for providers of high-risk AI systems (Regulation (EU) "
        "2024/1689), and the nine points of Annex IV. <b>Evidenced</b>: every section it points to has its "
        "evidence; <b>Partly</b>: some evidence or human-written parts are missing; <b>Open</b>: nothing "
        "was supplied."), obligations_table(ctx)]

    story += [p("Standards applied (Annex IV 7)", "h2")]
    if gov and gov.standards:
        story.append(data_table(["Standard or solution", "How it was applied"],
                                [[s.reference, s.how] for s in gov.standards], [70 * mm, None]))
    else:
        story.append(missing("which harmonised standards or other solutions were applied", "governance"))
    story += [p("EU declaration of conformity (Annex IV 8)", "h2")]
    conformity = gov.declaration_of_conformity if gov else None
    if conformity:
        story.append(kv_table([("Status", conformity.status), ("Reference", conformity.reference or "—"),
                               ("Note", conformity.note or "—")]))
        if conformity.status != "signed":
            story.append(notice(f"The EU declaration of conformity is not signed yet (status: "
                                f"{esc(conformity.status)}). This remains an open item."))
    else:
        story.append(missing("the status of the EU declaration of conformity", "governance"))
    story.append(ctx.governance_source())
    return story
