"""Performance figures re-computed with scipy and numpy (the evaluate step uses scikit-learn's metrics).

AUC is the Mann-Whitney U statistic over defaulters × non-defaulters, KS the two-sample Kolmogorov-Smirnov
statistic, Brier and log loss plain numpy means, the confusion matrix counted by hand.
"""

from __future__ import annotations

import math

import numpy as np

from governance.reproduce.figures import Report

SECTION = "performance"
SOURCE = "evaluation.json"


def _auc(y: np.ndarray, scores: np.ndarray) -> float:
    from scipy.stats import mannwhitneyu

    positive, negative = scores[y == 1], scores[y == 0]
    return float(mannwhitneyu(positive, negative).statistic / (len(positive) * len(negative)))


def _hanley_mcneil(auc: float, positives: int, negatives: int) -> float:
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives)
    return math.sqrt(max(variance, 0.0))


def _deciles(scores: np.ndarray, bins: int = 10) -> list[np.ndarray]:
    """Rows by score rank in ``bins`` groups of equal size, the first groups one larger when it does not divide."""
    order = np.argsort(scores, kind="stable")
    size, extra = divmod(len(order), bins)
    edges = np.cumsum([0] + [size + (1 if i < extra else 0) for i in range(bins)])
    return [order[edges[i]:edges[i + 1]] for i in range(bins)]


def performance_figures(report: Report, evaluation: dict, y: np.ndarray, scores: np.ndarray) -> None:
    """Every figure the performance section prints from ``evaluation.json``, re-computed on ``(y, scores)``."""
    from scipy.stats import ks_2samp

    metrics, decision = evaluation["binary_classification_metrics"], evaluation["decision"]
    threshold = float(decision["threshold"])
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=np.float64)
    declined = scores > threshold
    tp, fp = int(np.sum(declined & (y == 1))), int(np.sum(declined & (y == 0)))
    fn, tn = int(np.sum(~declined & (y == 1))), int(np.sum(~declined & (y == 0)))
    positives, negatives = tp + fn, tn + fp
    auc = _auc(y, scores)
    clipped = np.clip(scores, 1e-15, 1 - 1e-15)
    values = {
        "auc": (auc, "scipy.stats.mannwhitneyu U / (n1 × n0)"),
        "gini": (2 * auc - 1, "2 × AUC − 1"),
        "ks": (float(ks_2samp(scores[y == 1], scores[y == 0]).statistic), "scipy.stats.ks_2samp"),
        "brier_score": (float(np.mean((scores - y) ** 2)), "numpy mean squared error"),
        "log_loss": (float(-np.mean(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))), "numpy"),
        "accuracy": ((tp + tn) / len(y), "counted"),
        "precision": (tp / (tp + fp) if tp + fp else 0.0, "counted"),
        "recall": (tp / positives, "counted"),
        "false_positive_rate": (fp / negatives, "counted"),
    }
    for name, (value, method) in values.items():
        if name in metrics:
            report.number(SECTION, f"{SOURCE}:binary_classification_metrics.{name}.value",
                          metrics[name]["value"], value, "metric", method)
    report.number(SECTION, f"{SOURCE}:binary_classification_metrics.auc.standard_deviation",
                  metrics["auc"].get("standard_deviation"), _hanley_mcneil(auc, positives, negatives), "metric",
                  "Hanley & McNeil (1982) from the re-computed AUC")
    for actual, predicted, value in (("0", "0", tn), ("0", "1", fp), ("1", "0", fn), ("1", "1", tp)):
        report.number(SECTION, f"{SOURCE}:binary_classification_metrics.confusion_matrix.{actual}.{predicted}",
                      (metrics.get("confusion_matrix") or {}).get(actual, {}).get(predicted), value, "exact",
                      "counted")
    data = evaluation["dataset"]
    report.number(SECTION, f"{SOURCE}:dataset.rows", data["rows"], len(y), "exact", "counted")
    report.number(SECTION, f"{SOURCE}:dataset.positives", data["positives"], positives, "exact", "counted")
    report.number(SECTION, f"{SOURCE}:dataset.default_rate", data["default_rate"], positives / len(y), "metric",
                  "counted")
    report.number(SECTION, f"{SOURCE}:decision.approval_rate", decision.get("approval_rate"),
                  float(np.mean(~declined)), "metric", "counted")
    for number, rows in enumerate(_deciles(scores), start=1):
        printed = next((b for b in evaluation.get("calibration", []) if b["bin"] == number), {})
        prefix = f"{SOURCE}:calibration[{number}]"
        report.number(SECTION, f"{prefix}.count", printed.get("count"), len(rows), "exact", "rank deciles")
        for key, value in (("score_min", scores[rows].min()), ("score_max", scores[rows].max()),
                           ("mean_predicted", scores[rows].mean()), ("observed_rate", y[rows].mean())):
            report.number(SECTION, f"{prefix}.{key}", printed.get(key), float(value), "metric", "rank deciles")
