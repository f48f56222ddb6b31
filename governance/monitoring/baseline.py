"""The reference distributions that monitoring compares live traffic with, written into the evidence at training.

A distribution is a set of bin edges and the share of reference rows in each bin. Edges are the reference's
deciles with duplicates dropped (a count feature such as ``NumberOfDependents`` keeps only the edges it has), so
every bin holds a real share of the reference; values at an edge fall in the bin below it:

>>> d = distribution([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], bins=5)
>>> d["edges"], d["shares"]
([2.8, 4.6, 6.4, 8.2], [0.2, 0.2, 0.2, 0.2, 0.2])
>>> bin_counts([0, 2.8, 100], d["edges"]).tolist()
[2, 0, 0, 0, 1]

The process step writes one per feature on the training split (``dataset.json`` → ``baseline``); the evaluate
step writes the score's on the split it evaluates on (the held-out test split), with the approval rate per age
band (``evaluation.json`` → ``monitoring_baseline``): scores on the data the model was fitted to are optimistic,
held-out scores are what production should look like.
"""

from __future__ import annotations

import numpy as np

from governance.age_bands import DEFAULT_BANDS, AgeBand, assign_bands

DEFAULT_BINS = 10
BASELINE_FORMAT = "quickloan-governance/monitoring-baseline/v1"


def bin_counts(values, edges: list[float]) -> np.ndarray:
    """Rows per bin (``len(edges) + 1`` bins); missing values are not counted (monitoring counts them apart)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return np.bincount(np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left"),
                       minlength=len(edges) + 1)


def distribution(values, bins: int = DEFAULT_BINS) -> dict:
    """Decile edges (deduplicated) and each bin's share of the present values, plus the missing share."""
    values = np.asarray(values, dtype=np.float64)
    present = values[np.isfinite(values)]
    if not len(present):
        return {"edges": [], "shares": [], "rows": len(values), "missing_rate": 1.0 if len(values) else 0.0}
    quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    edges = sorted({round(float(q), 10) for q in quantiles})
    counts = bin_counts(present, edges)
    return {
        "edges": edges,
        "shares": [round(float(c) / len(present), 10) for c in counts],
        "rows": len(values),
        "missing_rate": round(float(1 - len(present) / len(values)), 10),
    }


def feature_baseline(frame, features, *, data: str) -> dict:
    """One distribution per feature of ``frame`` (a pandas frame), naming the data it describes."""
    return {
        "format": BASELINE_FORMAT,
        "data": data,
        "bins": DEFAULT_BINS,
        "features": {name: distribution(frame[name].to_numpy(dtype=np.float64)) for name in features},
    }


def approval_by_band(ages, scores, threshold: float, labels=None,
                     bands: tuple[AgeBand, ...] = DEFAULT_BANDS) -> list[dict]:
    """Approved (score at or below ``threshold``) and total applicants per age band; with labels (1 = default),
    the same for applicants who repaid (equal opportunity)."""
    banding = assign_bands(ages, bands)
    approved = np.asarray(scores, dtype=np.float64) <= threshold
    good = None if labels is None else np.asarray(labels) == 0
    out = []
    for code, band in enumerate(banding.bands):
        rows = banding.codes == code
        entry = {**band.to_dict(), "count": int(rows.sum()), "approved": int(approved[rows].sum())}
        if good is not None:
            entry["good_payers"] = int((rows & good).sum())
            entry["good_payers_approved"] = int(approved[rows & good].sum())
        out.append(entry)
    return out


def score_baseline(scores, ages, threshold: float, *, labels=None, data: str) -> dict:
    """The score's distribution and the approval counts per age band at the operating threshold."""
    return {
        "format": BASELINE_FORMAT,
        "data": data,
        "threshold": threshold,
        "score": distribution(scores),
        "approval_by_band": approval_by_band(ages, scores, threshold, labels),
    }
