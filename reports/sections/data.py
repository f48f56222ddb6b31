"""Data governance: where the data came from, what it looks like, its known quality problems and band coverage."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections import fairness as fairness_section
from reports.sections._base import Assessment, PackContext, count, dig, missing, not_supplied, num, pct
from reports.styles import data_table, esc, gap, kv_table, mono, p

KEY = "data"
TITLE = "Data governance"
REFERENCES = ("Art. 10(2)(a)–(h)", "Art. 10(3)", "Annex IV 2(d)")


def assess(ctx: PackContext) -> Assessment:
    dataset = ctx.evidence.json("dataset.json")
    if dataset is None:
        return not_supplied("Data governance", KEY, "No dataset profile in the evidence.",
                            blockers=["No dataset profile (dataset.json): data provenance is not evidenced."])
    findings = dig(dataset, "data_quality", default=[]) or []
    warnings = [f for f in findings
                if isinstance(f, dict) and str(f.get("severity", "")).lower() in {"warning", "error"}]
    rows = dig(dataset, "rows", "total")
    headline = f"{count(rows)} rows profiled; {len(warnings)} data-quality warning(s) reported for review."
    if dig(dataset, "synthetic"):
        headline += " Data is SYNTHETIC."
    review = [f"Data quality (AMBER, {esc(f.get('code'))}): {esc(f.get('message'))}" for f in warnings]
    return Assessment("Data governance", KEY, "amber" if warnings else "green", headline, open_items=review)


def build(ctx: PackContext) -> list[Flowable]:
    dataset = ctx.evidence.json("dataset.json")
    if dataset is None:
        return [missing("dataset profile (dataset.json)")]
    story: list[Flowable] = [p("Provenance", "h2")]
    source = dig(dataset, "source", default={}) or {}
    pairs = [
        ("Data set", dig(dataset, "dataset")),
        ("Origin", "SYNTHETIC: generated with the same schema, not real applicants" if dig(dataset, "synthetic")
         else "supplied file (real data)"),
        ("Source as given", source.get("uri")),
        ("Source sha256 (bytes as given)", mono(source.get("sha256"))),
        ("Source size", f"{count(source.get('bytes'))} bytes"),
    ]
    if source.get("content_sha256"):
        pairs += [("Decompressed content sha256", mono(source.get("content_sha256"))),
                  ("Decompressed size", f"{count(source.get('content_bytes'))} bytes")]
    split = dig(dataset, "split", default={}) or {}
    pairs += [
        ("Target", f"{dig(dataset, 'schema', 'raw_target')} (written as {dig(dataset, 'schema', 'target')})"),
        ("Split", f"{pct(split.get('validation_fraction'), 0)} validation, stratified on "
                  f"{split.get('stratified_on')}, seed {split.get('seed')}"),
    ]
    for name, output in sorted((dig(dataset, "outputs", default={}) or {}).items()):
        pairs.append((f"{name.capitalize()} split sha256", mono(dig(output, "sha256"))))
    story += [kv_table(pairs), ctx.source("dataset.json")]

    story += [p("Size and target rate", "h2")]
    rows, rates = dig(dataset, "rows", default={}) or {}, dig(dataset, "target_rate", default={}) or {}
    story += [data_table(["Part", "Rows", "Default rate"],
                         [[part, count(rows.get(part)), pct(rates.get(part), 2)]
                          for part in ("total", "train", "validation")],
                         [40 * mm, 40 * mm, 40 * mm], align_right=(1, 2)), gap()]

    findings = dig(dataset, "data_quality", default=[]) or []
    story += [p("Data-quality findings", "h2"),
              p(f"Known problems in the whole source file ({count(dig(dataset, 'rows', 'total'))} rows), reported by "
                "the processing step rather than silently corrected (Art. 10(2)(c), 10(3)).")]
    if findings:
        story.append(data_table(
            ["Severity", "Code", "Count", "Finding"],
            [[f.get("severity"), f.get("code"), count(f.get("count")), f.get("message")]
             for f in findings if isinstance(f, dict)],
            [16 * mm, 36 * mm, 14 * mm, None], align_right=(2,)))
    else:
        story.append(p("The processing step reported no data-quality findings."))
    story.append(ctx.source("dataset.json"))

    imputation = dig(dataset, "imputation", default={}) or {}
    if imputation:
        story += [p("Missing values and imputation", "h2"),
                  data_table(["Column", "Strategy", "Value", "Learnt on", "Filled (train)", "Filled (validation)"],
                             [[column, spec.get("strategy"), num(spec.get("value"), 2), spec.get("learnt_on"),
                               count(spec.get("filled_train")), count(spec.get("filled_validation"))]
                              for column, spec in sorted(imputation.items())],
                             [44 * mm, 18 * mm, 20 * mm, 20 * mm, None, None], align_right=(2, 4, 5))]

    columns = dig(dataset, "columns", default={}) or {}
    if columns:
        story += [p("Column profile (raw data, before imputation)", "h2"),
                  data_table(["Column", "Missing", "Min", "Median", "Mean", "Max"],
                             [[column, count(spec.get("missing")), num(spec.get("min"), 2), num(spec.get("median"), 2),
                               num(spec.get("mean"), 2), num(spec.get("max"), 2)]
                              for column, spec in columns.items() if isinstance(spec, dict)],
                             [66 * mm, None, None, None, None, None], align_right=(1, 2, 3, 4, 5)),
                  ctx.source("dataset.json")]

    story += [p("Coverage of age bands", "h2")]
    story += fairness_section.band_coverage(ctx) or [
        missing("fairness assessment (fairness.json), which records how many applicants fall in each age band")]
    return story

