"""Performance on the validation split: discrimination, calibration, the decision rule's confusion matrix, per band."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Table, TableStyle

from reports import charts
from reports.sections import fairness as fairness_section
from reports.sections._base import Assessment, PackContext, as_float, count, dig, missing, num, pct, png_image
from reports.styles import data_table, esc, gap, kv_table, p

KEY = "performance"
TITLE = "Performance"
REFERENCES = ("Art. 15(1), 15(3)", "Annex IV 2(g)", "Annex IV 3")

# Printed with their meaning, in this order; values come straight from evaluation.json.
METRICS = (
    ("auc", "AUC (area under the ROC curve)", "ranking quality; 0.5 is chance"),
    ("gini", "Gini", "2 × AUC − 1, the credit industry's form of AUC"),
    ("ks", "Kolmogorov–Smirnov", "largest gap between the score distributions of defaulters and non-defaulters"),
    ("brier_score", "Brier score", "mean squared error of the probabilities; lower is better"),
    ("log_loss", "Log loss", "lower is better"),
    ("accuracy", "Accuracy at the threshold", "share of correct decline/accept decisions"),
    ("precision", "Precision at the threshold", "share of declined applicants who defaulted"),
    ("recall", "Recall at the threshold", "share of defaulters who were declined"),
    ("false_positive_rate", "False positive rate", "share of good payers who were declined"),
)


def auc_of(ctx: PackContext) -> float | None:
    return as_float(dig(ctx.evidence.json("evaluation.json"), "binary_classification_metrics", "auc", "value"))


def acceptance(ctx: PackContext) -> tuple[float | None, str]:
    """The AUC minimum people set: the governance file's, else the pipeline's registration gate from the lineage."""
    if ctx.governance and ctx.governance.acceptance and ctx.governance.acceptance.auc_min is not None:
        return ctx.governance.acceptance.auc_min, "acceptance minimum in the model governance file"
    lineage = ctx.evidence.json("lineage.json") if ctx.evidence.has("lineage.json") else None
    for hop in dig(lineage, "hops", default=[]) or []:
        gate = as_float(dig(hop, "parameters", "auc_threshold"))
        if gate is not None:
            return gate, f"registration gate of the pipeline ({dig(hop, 'step')} step, lineage.json)"
    return None, ""


def assess(ctx: PackContext) -> Assessment:
    evaluation = ctx.evidence.json("evaluation.json")
    if evaluation is None:
        return Assessment("Performance", KEY, "grey", "No evaluation in the evidence.",
                          blockers=["No evaluation (evaluation.json): accuracy is not evidenced (Art. 15)."])
    auc = auc_of(ctx)
    floor, where = acceptance(ctx)
    if auc is None:
        return Assessment("Performance", KEY, "red", "The evaluation holds no AUC.",
                          blockers=["No AUC in evaluation.json."])
    if floor is None:
        return Assessment("Performance", KEY, "grey", f"AUC {num(auc)}; no acceptance criterion is stated.",
                          open_items=["No AUC acceptance criterion (model governance file)."])
    if auc >= floor:
        return Assessment("Performance", KEY, "green", f"AUC {num(auc)} meets the {where} of {num(floor, 2)}.")
    return Assessment("Performance", KEY, "red", f"AUC {num(auc)} is below the {where} of {num(floor, 2)}.",
                      blockers=[f"AUC {num(auc)} is below the {esc(where)} of {num(floor, 2)}."])


def build(ctx: PackContext) -> list[Flowable]:
    evaluation = ctx.evidence.json("evaluation.json")
    if evaluation is None:
        return [missing("evaluation (evaluation.json)")]
    metrics = dig(evaluation, "binary_classification_metrics", default={}) or {}
    dataset = dig(evaluation, "dataset", default={}) or {}
    decision = dig(evaluation, "decision", default={}) or {}
    story: list[Flowable] = [
        p(f"Measured on the held-out validation split ({count(dataset.get('rows'))} applicants, "
          f"{count(dataset.get('positives'))} defaults, default rate {pct(dataset.get('default_rate'), 2)}; "
          f"file sha256 {esc(str(dataset.get('sha256', '—'))[:16])}…), scored with the model artefact whose digest is "
          "on the cover."),
        p("Discrimination and calibration", "h2"),
    ]
    rows = []
    for key, label, meaning in METRICS:
        if key in metrics:
            value = num(dig(metrics, key, "value"))
            if key == "auc" and as_float(dig(metrics, key, "standard_deviation")) is not None:
                value += f" (standard error {num(dig(metrics, key, 'standard_deviation'))})"
            rows.append([label, value, meaning])
    story += [data_table(["Metric", "Value", "Meaning"], rows, [50 * mm, 50 * mm, None]), ctx.source("evaluation.json")]

    story += [p("Decision rule", "h2"), kv_table([
        ("Rule", decision.get("rule")),
        ("Operating threshold", num(decision.get("threshold"), 3)),
        ("Approval rate at the threshold", pct(decision.get("approval_rate"), 2)),
    ])]
    matrix = dig(metrics, "confusion_matrix", default={}) or {}
    if matrix:
        story += [gap(2), _confusion_table(matrix)]
    story.append(ctx.source("evaluation.json"))

    roc = dig(metrics, "receiver_operating_characteristic_curve", default={}) or {}
    calibration = dig(evaluation, "calibration", default=[]) or []
    images = []
    if roc.get("false_positive_rates") and roc.get("true_positive_rates"):
        images.append(png_image(charts.roc_chart(roc["false_positive_rates"], roc["true_positive_rates"],
                                                 as_float(dig(metrics, "auc", "value"))), 84))
    if calibration:
        predicted = [as_float(r.get("mean_predicted")) or 0 for r in calibration]
        observed = [as_float(r.get("observed_rate")) or 0 for r in calibration]
        images.append(png_image(charts.calibration_chart(predicted, observed), 84))
    if images:
        grid = Table([images], colWidths=[87 * mm] * len(images), hAlign="LEFT")
        grid.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        story += [p("Curves", "h2"), grid, ctx.source("evaluation.json")]
    if calibration:
        story.append(KeepTogether([p("Calibration table", "h2"), data_table(
            ["Decile", "Applicants", "Score range", "Mean predicted", "Observed default rate"],
            [[r.get("bin"), count(r.get("count")), f"{num(r.get('score_min'), 3)} – {num(r.get('score_max'), 3)}",
              pct(r.get("mean_predicted"), 2), pct(r.get("observed_rate"), 2)] for r in calibration],
            [16 * mm, 22 * mm, 40 * mm, None, None], align_right=(1, 3, 4)), ctx.source("evaluation.json")]))

    story += [p("Performance by age band", "h2")]
    story += fairness_section.per_band_performance(ctx) or [
        missing("per-band performance (it comes with the fairness assessment, fairness.json)")]
    return story


def _confusion_table(matrix: dict) -> Table:
    def cell(actual: str, predicted: str) -> str:
        return count(dig(matrix, actual, predicted))

    table = data_table(
        ["", "Accepted (predicted no default)", "Declined (predicted default)"],
        [["Actually repaid", cell("0", "0"), cell("0", "1")], ["Actually defaulted", cell("1", "0"), cell("1", "1")]],
        [40 * mm, 55 * mm, 55 * mm], align_right=(1, 2))
    table.setStyle(TableStyle([("FONTNAME", (0, 1), (0, -1), "PackSans-Bold")]))
    return table
