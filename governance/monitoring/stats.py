"""The statistics monitoring judges by: population stability, proportion intervals, and the AUC with its error.

>>> round(psi([0.5, 0.5], [0.5, 0.5]), 6)
0.0
>>> round(psi([0.9, 0.1], [0.5, 0.5]), 3)
0.879
>>> [round(x, 3) for x in wilson(80, 100, 0.95)]
[0.711, 0.867]
"""

from __future__ import annotations

import math

import numpy as np

# A bin empty on one side would make PSI infinite; a share this small stands in for "nothing seen".
PSI_FLOOR = 1e-4


def psi(actual_shares, expected_shares) -> float:
    """Population stability index: sum over bins of (actual - expected) * ln(actual / expected)."""
    actual = np.maximum(np.asarray(actual_shares, dtype=np.float64), PSI_FLOOR)
    expected = np.maximum(np.asarray(expected_shares, dtype=np.float64), PSI_FLOOR)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def wilson(successes: int, total: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion (sound near 0 and 1, unlike the normal approximation)."""
    if total <= 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe(successes_a: int, total_a: int, successes_b: int, total_b: int,
             confidence: float) -> tuple[float, float]:
    """Interval of p_a - p_b from the two Wilson intervals (Newcombe's hybrid score method)."""
    p_a, p_b = successes_a / total_a, successes_b / total_b
    low_a, high_a = wilson(successes_a, total_a, confidence)
    low_b, high_b = wilson(successes_b, total_b, confidence)
    diff = p_a - p_b
    return (diff - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2),
            diff + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2))


def auc_with_interval(labels: np.ndarray, scores: np.ndarray, confidence: float) -> dict:
    """ROC AUC (default = positive class) with the Hanley–McNeil standard error and a normal interval."""
    from sklearn.metrics import roc_auc_score

    positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
    auc = float(roc_auc_score(labels, scores))
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc)
                + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives)
    se = math.sqrt(max(variance, 0.0))
    z = _z(confidence)
    return {"value": auc, "standard_error": se, "interval": [max(0.0, auc - z * se), min(1.0, auc + z * se)],
            "positives": positives, "negatives": negatives}
