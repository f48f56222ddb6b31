"""Data governance: where the data came from, what it looks like, its known quality problems and band coverage."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports import evidence_models as em
from reports.sections import fairness as fairness_section
from reports.sections._base import Assessment, PackContext, count, missing, not_supplied, num, pct
from reports.styles import data_table, esc, gap, kv_table, mono, p

KEY = "data"
TITLE = "Data governance"
REFERENCES = ("Art. 10(2)(a)–(h)", "Art. 10(3)", "Annex IV 2(d)")


SOURCE = "dataset.json"


def assess(ctx: PackContext) -> Assessment:
    dataset = em.dataset(ctx.evidence)
    if dataset is None:
        return not_supplied("Data governance", KEY, "No dataset profile in the evidence.",
                            blockers=["No dataset profile (dataset.json): data provenance is not evidenced."])
    warnings = [f for f in dataset.data_quality if f.severity.lower() in {"warning", "error"}]
    headline = (f"{count(dataset.rows.get('total'))} rows profiled; {len(warnings)} data-quality warning(s) reported "
                "for review." + (" Data is SYNTHETIC." if dataset.synthetic else ""))
    review = [f"Data quality (AMBER, {esc(f.code)}): {esc(f.message)}" for f in warnings]
    return Assessment("Data governance", KEY, "amber" if warnings else "green", headline, open_items=review)


def _provenance(ctx: PackContext, dataset: em.DatasetProfile) -> list[Flowable]:
    source, split, schema = dataset.source, dataset.split, dataset.schema_
    pairs = [
        ("Data set", dataset.dataset),
        ("Origin", "SYNTHETIC: generated with the same schema, not real applicants" if dataset.synthetic
         else "supplied file (real data)"),
        ("Source as given", source.get("uri")),
        ("Source sha256 (bytes as given)", mono(source.get("sha256"))),
        ("Source size", f"{count(source.get('bytes'))} bytes"),
    ]
    if source.get("content_sha256"):
        pairs += [("Decompressed content sha256", mono(source.get("content_sha256"))),
                  ("Decompressed size", f"{count(source.get('content_bytes'))} bytes")]
    pairs += [
        ("Target", f"{schema.get('raw_target')} (written as {schema.get('target')})"),
        ("Split", f"{pct(split.get('validation_fraction'), 0)} validation, stratified on "
                  f"{split.get('stratified_on')}, seed {split.get('seed')}"),
    ]
    pairs += [(f"{name.capitalize()} split sha256", mono(output.get("sha256")))
              for name, output in sorted(dataset.outputs.items())]
    return [p("Provenance", "h2"), kv_table(pairs), ctx.source(SOURCE)]


def _size(dataset: em.DatasetProfile) -> list[Flowable]:
    return [p("Size and target rate", "h2"),
            data_table(["Part", "Rows", "Default rate"],
                       [[part, count(dataset.rows.get(part)), pct(dataset.target_rate.get(part), 2)]
                        for part in ("total", "train", "validation")],
                       [40 * mm, 40 * mm, 40 * mm], align_right=(1, 2)), gap()]


def _quality(ctx: PackContext, dataset: em.DatasetProfile) -> list[Flowable]:
    story: list[Flowable] = [p("Data-quality findings", "h2"), p(
        f"Known problems in the whole source file ({count(dataset.rows.get('total'))} rows), reported by the "
        "processing step rather than silently corrected (Art. 10(2)(c), 10(3)).")]
    if dataset.data_quality:
        story.append(data_table(["Severity", "Code", "Count", "Finding"],
                                [[f.severity, f.code, count(f.count), f.message] for f in dataset.data_quality],
                                [16 * mm, 36 * mm, 14 * mm, None], align_right=(2,)))
    else:
        story.append(p("The processing step reported no data-quality findings."))
    return [*story, ctx.source(SOURCE)]


def _imputation_and_columns(ctx: PackContext, dataset: em.DatasetProfile) -> list[Flowable]:
    story: list[Flowable] = []
    if dataset.imputation:
        story += [p("Missing values and imputation", "h2"),
                  data_table(["Column", "Strategy", "Value", "Learnt on", "Filled (train)", "Filled (validation)"],
                             [[column, spec.strategy, num(spec.value, 2), spec.learnt_on, count(spec.filled_train),
                               count(spec.filled_validation)] for column, spec in sorted(dataset.imputation.items())],
                             [44 * mm, 18 * mm, 20 * mm, 20 * mm, None, None], align_right=(2, 4, 5))]
    if dataset.columns:
        story += [p("Column profile (raw data, before imputation)", "h2"),
                  data_table(["Column", "Missing", "Min", "Median", "Mean", "Max"],
                             [[column, count(c.missing), num(c.min, 2), num(c.median, 2), num(c.mean, 2),
                               num(c.max, 2)] for column, c in dataset.columns.items()],
                             [66 * mm, None, None, None, None, None], align_right=(1, 2, 3, 4, 5)),
                  ctx.source(SOURCE)]
    return story


def build(ctx: PackContext) -> list[Flowable]:
    dataset = em.dataset(ctx.evidence)
    if dataset is None:
        return [missing("dataset profile (dataset.json)")]
    story = [*_provenance(ctx, dataset), *_size(dataset), *_quality(ctx, dataset),
             *_imputation_and_columns(ctx, dataset), p("Coverage of age bands", "h2")]
    return story + (fairness_section.band_coverage(ctx) or [
        missing("fairness assessment (fairness.json), which records how many applicants fall in each age band")])
