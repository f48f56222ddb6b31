"""DeLong's test for two correlated ROC AUCs measured on the same applicants (DeLong, DeLong & Clarke-Pearson 1988).

The variance comes from the structural components of each AUC (one per positive, one per negative), computed with
mid-ranks as in Sun & Xu (2014), so it costs a few sorts rather than a positives × negatives matrix.

>>> import numpy as np
>>> y = np.array([0, 0, 1, 1, 0, 1]); a = np.array([.1, .4, .35, .8, .2, .9]); b = np.array([.3, .2, .6, .7, .5, .1])
>>> result = delong_test(y, a, b)
>>> round(result["auc_a"], 4), round(result["auc_b"], 4)
(0.8889, 0.6667)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm, rankdata

from governance.errors import InputError


def _components(y: np.ndarray, scores: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and its structural components: V10 per positive, V01 per negative."""
    positives, negatives = scores[y == 1], scores[y == 0]
    m, n = len(positives), len(negatives)
    combined = rankdata(np.concatenate([positives, negatives]))
    within_positive, within_negative = rankdata(positives), rankdata(negatives)
    v10 = (combined[:m] - within_positive) / n           # share of negatives each positive outranks (ties: half)
    v01 = 1.0 - (combined[m:] - within_negative) / m     # share of positives that outrank each negative
    return float(v10.mean()), v10, v01


def auc_covariance(y, *scores) -> tuple[np.ndarray, np.ndarray]:
    """``(aucs, covariance)`` of the AUCs of each score vector on the same labels."""
    y = np.asarray(y).astype(int)
    if set(np.unique(y)) != {0, 1}:
        raise InputError("SINGLE_CLASS", "DeLong's test needs both classes among the labels")
    parts = [_components(y, np.asarray(s, dtype=np.float64)) for s in scores]
    aucs = np.array([p[0] for p in parts])
    v10 = np.vstack([p[1] for p in parts])
    v01 = np.vstack([p[2] for p in parts])
    m, n = v10.shape[1], v01.shape[1]
    covariance = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, covariance


def delong_test(y, scores_a, scores_b, confidence: float = 0.95) -> dict:
    """Two-sided test of AUC(a) = AUC(b), with the difference's standard error and confidence interval."""
    aucs, cov = auc_covariance(y, scores_a, scores_b)
    difference = float(aucs[0] - aucs[1])
    variance = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(max(variance, 0.0))
    z = difference / se if se > 0 else (0.0 if difference == 0 else math.copysign(math.inf, difference))
    p_value = float(2 * norm.sf(abs(z)))
    half = float(norm.ppf(0.5 + confidence / 2)) * se
    return {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "difference": difference, "standard_error": se,
            "z": z, "p_value": p_value, "interval": [difference - half, difference + half], "confidence": confidence,
            "se_a": math.sqrt(max(float(cov[0, 0]), 0.0)), "se_b": math.sqrt(max(float(cov[1, 1]), 0.0)),
            "method": "DeLong (1988), mid-rank structural components (Sun & Xu 2014)"}


__all__ = ["auc_covariance", "delong_test"]
