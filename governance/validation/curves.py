"""Curves small enough to keep in ``validation.json``, so every chart is drawn from numbers the validator signed.

A ROC curve is read at fixed false-positive rates (dense near 0, where credit cutoffs sit): at each one the best
true-positive rate the model reaches without exceeding it, the curve's own step value. A distribution is kept as
counts over fixed, log-spaced edges.

>>> import numpy as np
>>> curve = roc_points(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
>>> curve["fpr"][0], curve["tpr"][0], curve["fpr"][-1], curve["tpr"][-1]
(0.0, 0.5, 1.0, 1.0)
>>> histogram(np.array([0.001, 0.01, 0.1, 2.0]), bins=4, low=1e-3)["counts"]
[1, 1, 1, 1]
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_curve

FPR_GRID = np.unique(np.round(np.concatenate([np.linspace(0, 0.05, 26), np.linspace(0.05, 1, 96)]), 6))
DIGITS = 6


def roc_points(y: np.ndarray, scores: np.ndarray) -> dict[str, list[float]]:
    """True-positive rate at each false-positive rate of :data:`FPR_GRID` (the ROC step function's value)."""
    fpr, tpr, _ = roc_curve(y, scores)
    at = np.searchsorted(fpr, FPR_GRID, side="right") - 1
    return {"fpr": [float(v) for v in FPR_GRID], "tpr": [round(float(v), DIGITS) for v in tpr[at]]}


def histogram(values: np.ndarray, *, bins: int, low: float, high: float | None = None) -> dict[str, list]:
    """Counts over ``bins`` log-spaced bins from ``low`` to ``high`` (default: the largest value); values below
    ``low`` fall in the first bin."""
    top = max(float(np.max(values)) if high is None else high, low * 10)
    edges = np.geomspace(low, top, bins + 1)
    counts, _ = np.histogram(np.clip(values, low, top), bins=edges)
    return {"edges": [float(f"{e:.6g}") for e in edges], "counts": [int(c) for c in counts]}


__all__ = ["FPR_GRID", "histogram", "roc_points"]
