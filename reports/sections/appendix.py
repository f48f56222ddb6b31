"""Appendix: the evidence index (every file with its sha256), the attachments, how to check this PDF and how to
re-perform its figures."""

from __future__ import annotations

from pathlib import PurePosixPath

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports import evidence_models as em
from reports.attachments import attachment_plan
from reports.sections import data as data_section
from reports.sections._base import Assessment, PackContext, count, dig
from reports.styles import data_table, esc, kv_table, mono, p

KEY = "appendix"
TITLE = "Evidence index"
REFERENCES = ("Art. 11(1)", "Art. 18(1)")


def assess(ctx: PackContext) -> Assessment:
    return Assessment("Evidence index", KEY, "green",
                      f"{len(ctx.evidence.digests)} file(s) indexed; every digest verified.")


def build(ctx: PackContext) -> list[Flowable]:
    index = ctx.evidence.index
    signer = index.get("signer") if isinstance(index.get("signer"), dict) else {}
    story: list[Flowable] = [kv_table([
        ("Index format", index.get("format")),
        ("Indexed at", index.get("created_at")),
        ("Written by", index.get("generator")),
        ("Index signer", signer.get("identity")),
        ("index.json sha256", mono(ctx.evidence.index_sha256)),
        ("Signature checked when rendering",
         f"yes, with key sha256:{ctx.evidence.signature_checked_by}" if ctx.evidence.signature_checked_by
         else "no (no verification key was given); digests only"),
        ("Files", f"{count(dig(index, 'totals', 'files'))} ({count(dig(index, 'totals', 'bytes'))} bytes)"),
    ])]
    plan = {item.source: item.name for item in attachment_plan(ctx.evidence, None, None)}
    rows = [[path, ctx.evidence.mode(path), count(ctx.evidence.size(path)), ctx.evidence.digests[path],
             "yes" if path in plan else "no"] for path in sorted(ctx.evidence.digests)]
    rows += [[path, "state", count(ctx.evidence.size(path)), "checked by its own signature", "no"]
             for path in ctx.evidence.unverifiable]
    story += [p("Files", "h2"),
              data_table(["Path", "Mode", "Bytes", "sha256", "In PDF"], rows,
                         [40 * mm, 14 * mm, 14 * mm, None, 12 * mm], mono_columns=(3,), align_right=(2,)),
              p("Mode <i>fixed</i>: the file must match its digest exactly. <i>append</i>: an append-only ledger; "
                "its first <i>Bytes</i> (as sealed) must match, later records are not part of this pack.", "small")]
    story += [p("How to check this PDF", "h2"), p(
        "1. <font name='PackMono'>governance pack verify audit-pack.pdf --key signing-key.pub.pem</font> checks the "
        "PDF's signature (<font name='PackMono'>audit-pack.pdf.sig</font>), that the attached <font name='PackMono'>"
        "index.json</font> has the digest printed on the cover, and that every attached evidence file matches its "
        "digest in that index. 2. Any PDF reader lists the attachments (for example <font name='PackMono'>pdfdetach "
        "-list audit-pack.pdf</font>); the attached <font name='PackMono'>index.json.sig</font> lets anyone check "
        f"the index against the evidence signer's public key. {esc('')}")]
    return story + reperformance(ctx)


def reperformance(ctx: PackContext) -> list[Flowable]:
    """The one command that re-derives every figure of this pack from its attachments and the raw data."""
    dataset = em.dataset(ctx.evidence)
    source = str((dataset.source.get("uri") if dataset else None) or "RAW-DATA.csv")
    data = PurePosixPath(source.replace("\\", "/")).name or "RAW-DATA.csv"
    digest = dataset.source.get("sha256") if dataset else None
    command = f"governance reproduce audit-pack.pdf --data {data} --key signing-key.pub.pem"
    return [p("Re-performing the figures", "h2"), p(
        f"<font name='PackMono'>{esc(command)}</font> verifies this PDF as above, then re-derives every figure of "
        f"the performance, fairness, explainability and data sections from the evidence attached here and the raw "
        f"data file{f' (sha256 {esc(digest[:16])}…, as in {ctx.link(data_section.KEY)})' if digest else ''}: the "
        "splits are re-drawn with the recorded seed, the model re-trained with the recorded hyperparameters (its "
        "digest must match), metrics re-computed with scipy, fairness with pandas and fairlearn's MetricFrame, SHAP "
        "with shap.TreeExplainer. It prints each figure as printed here and as recomputed, with its tolerance, "
        "and exits 1 naming the first that differs. What depends on cloud state at scan time (the policy scan of "
        "storage settings) is listed as attested, not re-performed.")]
