"""Cover and document control: what this pack is about, the digests that pin it to its evidence, who owns it."""

from __future__ import annotations

from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from reports import evidence_models as em
from reports.sections._base import PackContext
from reports.styles import FRAME_WIDTH, VERDICT_COLOURS, esc, gap, kv_table, mono, p, styles

KEY = "cover"
TITLE = "Cover and document control"
REFERENCES = ("Art. 11(1)", "Annex IV 1(a)")


def artefact_sha256(ctx: PackContext) -> str | None:
    """The model artefact's sha256 as the evidence records it (integrity manifest first)."""
    manifest, evaluation, training = (em.manifest(ctx.evidence), em.evaluation(ctx.evidence),
                                      em.training(ctx.evidence))
    return ((manifest.artefact.get("sha256") if manifest else None)
            or (evaluation.model.get("artefact_sha256") if evaluation else None)
            or (training.model_sha256 if training else None))


def is_synthetic(ctx: PackContext) -> bool:
    dataset = em.dataset(ctx.evidence)
    return bool(dataset and dataset.synthetic)


def synthetic_banner() -> Table:
    text = ("SYNTHETIC DATA: this pack was rendered from a model trained on generated data, not on real "
            "applicants. Its figures demonstrate the toolkit and must not be used for a lending decision.")
    table = Table([[Paragraph(text, styles()["banner"])]], colWidths=[FRAME_WIDTH])
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), VERDICT_COLOURS["red"]),
                               ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return table


def build(ctx: PackContext) -> list[Flowable]:
    gov = ctx.governance
    model = gov.model if gov else None
    document = gov.document if gov else None
    dataset = em.dataset(ctx.evidence)
    source_sha256 = dataset.source.get("sha256") if dataset else None
    story: list[Flowable] = [gap(18), p('<a name="cover"/>Audit pack', "subtitle"),
                             p(esc(model.name if model else "Model audit pack"), "title")]
    subtitle = "Technical documentation and evidence for one model version"
    if model and model.version:
        subtitle = f"Model version {esc(model.version)}. " + subtitle
    story += [p(subtitle, "subtitle")]
    if is_synthetic(ctx):
        story += [synthetic_banner(), gap(4)]

    digest = artefact_sha256(ctx)
    if ctx.evidence.signature_checked_by:
        index_check = f"verified: signature by key sha256:{ctx.evidence.signature_checked_by[:16]}… and every digest"
    else:
        index_check = "digests verified; signature NOT checked (no verification key was given)"
    origin = "synthetic (generated)" if is_synthetic(ctx) else "supplied data set"
    pairs: list[tuple[str, object]] = [
        ("Model", model.name if model else "— (no model governance file)"),
        ("Model version", (model.version if model else None) or "—"),
        ("Provider", (model.provider if model else None) or "—"),
        ("Model artefact sha256", mono(digest) if digest else "— (not in the evidence)"),
        ("Evidence index sha256", mono(ctx.evidence.index_sha256)),
        ("Evidence index check", index_check),
        ("Generated at", f"{ctx.generated_at} (the evidence's sealing time: the same evidence always renders the "
                         "same PDF)" if ctx.generated_at else "— (the evidence index records no date)"),
        ("Training data", f"{origin}; source sha256 below"),
        ("Data source sha256", mono(source_sha256) if source_sha256 else "—"),
        ("Model governance file",
         ctx.governance_name if gov else "none supplied: the human-written parts are open items"),
    ]
    if gov:
        pairs.append(("Governance file sha256", mono(ctx.governance_sha256)))
    pairs += [
        ("Document id", (document.id if document else None) or "—"),
        ("Document version", (document.version if document else None) or "—"),
        ("Document owner", (document.owner if document else None) or "—"),
        ("Classification", (document.classification if document else None) or "—"),
        ("Distribution", "; ".join(document.distribution) if document and document.distribution else "—"),
        ("Retention", (document.retention if document else None) or "—"),
    ]
    story += [kv_table(pairs), gap(5)]
    story.append(p(
        "This pack is rendered only from the evidence folder whose index digest is printed above; every figure "
        "names the evidence file it comes from. The evidence files are embedded in this PDF as attachments"
        + (", and the PDF is signed. To check both, run: <font name='PackMono'>governance pack verify "
           "audit-pack.pdf --key PACK_KEY.pub.pem</font> (the pack signer's public key; the keys and their duties "
           "are in the integrity section)." if ctx.signed else
           ". <b>This copy of the PDF is not signed.</b>")
        + " The same evidence always renders to the same bytes.", "small"))
    return story

