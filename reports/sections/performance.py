"""Performance on the validation split: discrimination, calibration, the decision rule's confusion matrix, per band."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Table, TableStyle

from reports import charts
from reports import evidence_models as em
from reports.sections import fairness as fairness_section
from reports.sections._base import Assessment, PackContext, as_float, count, missing, num, pct, png_image
from reports.styles import data_table, esc, gap, kv_table, p

KEY = "performance"
SOURCE = "evaluation.json"
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
    evaluation = em.evaluation(ctx.evidence)
    return as_float(evaluation.binary_classification_metrics.auc.value) if evaluation else None


def acceptance(ctx: PackContext) -> tuple[float | None, str]:
    """The AUC minimum people set: the governance file's, else the pipeline's registration gate from the lineage."""
    if ctx.governance and ctx.governance.acceptance and ctx.governance.acceptance.auc_min is not None:
        return ctx.governance.acceptance.auc_min, "acceptance minimum in the model governance file"
    lineage = em.lineage(ctx.evidence)
    for hop in lineage.hops if lineage else []:
        gate = as_float(hop.parameters.get("auc_threshold"))
        if gate is not None:
            return gate, f"registration gate of the pipeline ({hop.step} step, lineage.json)"
    return None, ""


def assess(ctx: PackContext) -> Assessment:
    if em.evaluation(ctx.evidence) is None:
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


def _metrics(ctx: PackContext, evaluation: em.Evaluation) -> list[Flowable]:
    data, metrics = evaluation.dataset, evaluation.binary_classification_metrics
    rows = []
    for key, label, meaning in METRICS:
        metric = metrics.metric(key)
        if metric is None:
            continue
        value = num(metric.value)
        if key == "auc" and as_float(metric.standard_deviation) is not None:
            value += f" (standard error {num(metric.standard_deviation)})"
        rows.append([label, value, meaning])
    return [p(f"Measured on the held-out validation split ({count(data.rows)} applicants, {count(data.positives)} "
              f"defaults, default rate {pct(data.default_rate, 2)}; file sha256 {esc(data.sha256[:16])}…), scored "
              "with the model artefact whose digest is on the cover."),
            p("Discrimination and calibration", "h2"),
            data_table(["Metric", "Value", "Meaning"], rows, [50 * mm, 50 * mm, None]), ctx.source(SOURCE)]


def _decision(ctx: PackContext, evaluation: em.Evaluation) -> list[Flowable]:
    decision, matrix = evaluation.decision, evaluation.binary_classification_metrics.confusion_matrix
    story: list[Flowable] = [p("Decision rule", "h2"), kv_table([
        ("Rule", decision.rule),
        ("Operating threshold", num(decision.threshold, 3)),
        ("Approval rate at the threshold", pct(decision.approval_rate, 2)),
    ])]
    if matrix:
        story += [gap(2), _confusion_table(matrix)]
    return [*story, ctx.source(SOURCE)]


def _curves(ctx: PackContext, evaluation: em.Evaluation) -> list[Flowable]:
    roc, calibration = evaluation.binary_classification_metrics.receiver_operating_characteristic_curve, \
        evaluation.calibration
    images = []
    if roc and roc.false_positive_rates and roc.true_positive_rates:
        images.append(png_image(charts.roc_chart(roc.false_positive_rates, roc.true_positive_rates,
                                                 evaluation.binary_classification_metrics.auc.value), 84))
    if calibration:
        images.append(png_image(charts.calibration_chart([b.mean_predicted for b in calibration],
                                                         [b.observed_rate for b in calibration]), 84))
    story: list[Flowable] = []
    if images:
        grid = Table([images], colWidths=[87 * mm] * len(images), hAlign="LEFT")
        grid.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        story += [p("Curves", "h2"), grid, ctx.source(SOURCE)]
    if calibration:
        story.append(KeepTogether([p("Calibration table", "h2"), data_table(
            ["Decile", "Applicants", "Score range", "Mean predicted", "Observed default rate"],
            [[b.bin, count(b.count), f"{num(b.score_min, 3)} – {num(b.score_max, 3)}", pct(b.mean_predicted, 2),
              pct(b.observed_rate, 2)] for b in calibration],
            [16 * mm, 22 * mm, 40 * mm, None, None], align_right=(1, 3, 4)), ctx.source(SOURCE)]))
    return story


def build(ctx: PackContext) -> list[Flowable]:
    evaluation = em.evaluation(ctx.evidence)
    if evaluation is None:
        return [missing("evaluation (evaluation.json)")]
    story = [*_metrics(ctx, evaluation), *_decision(ctx, evaluation), *_curves(ctx, evaluation),
             p("Performance by age band", "h2")]
    return story + (fairness_section.per_band_performance(ctx) or [
        missing("per-band performance (it comes with the fairness assessment, fairness.json)")])


def _confusion_table(matrix: dict) -> Table:
    def cell(actual: str, predicted: str) -> str:
        return count((matrix.get(actual) or {}).get(predicted))

    table = data_table(
        ["", "Accepted (predicted no default)", "Declined (predicted default)"],
        [["Actually repaid", cell("0", "0"), cell("0", "1")], ["Actually defaulted", cell("1", "0"), cell("1", "1")]],
        [40 * mm, 55 * mm, 55 * mm], align_right=(1, 2))
    table.setStyle(TableStyle([("FONTNAME", (0, 1), (0, -1), "PackSans-Bold")]))
    return table
