"""The threshold sweep: approval rates per band and the disparities at every cutoff, to show the trade-off.

>>> import numpy as np
>>> sweep = threshold_sweep(np.array([0, 0, 1, 1]), np.array([.1, .3, .1, .5]), np.array([0, 0, 1, 1]),
...                         ["a", "b"], np.array([True, True]), [0.2, 0.4])
>>> sweep["approval_rate"]["a"], sweep["adverse_impact_ratio"]
([0.5, 1.0], [1.0, 0.5])
"""

from __future__ import annotations

import numpy as np


def grid(start: float, stop: float, step: float) -> list[float]:
    """Thresholds from ``start`` to ``stop`` inclusive, rounded so the grid prints cleanly."""
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + i * step, 10) for i in range(count)]


def threshold_sweep(codes: np.ndarray, scores: np.ndarray, y: np.ndarray, labels: list[str], judged: np.ndarray,
                    thresholds: list[float]) -> dict:
    """Per threshold: overall and per-band approval rates, AIR, DPD and the equal-opportunity ratio (judged bands)."""
    t = np.asarray(thresholds, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    approval, good = [], []
    for code in range(len(labels)):
        band = np.sort(scores[codes == code])
        good_band = np.sort(scores[(codes == code) & (y == 0)])
        # Approved when score <= t: the count of sorted scores at or below t.
        approval.append(np.searchsorted(band, t, side="right") / len(band) if len(band) else np.full(len(t), np.nan))
        good.append(np.searchsorted(good_band, t, side="right") / len(good_band) if len(good_band)
                    else np.full(len(t), np.nan))
    approval, good = np.array(approval), np.array(good)
    everyone = np.sort(scores[codes >= 0])
    with np.errstate(all="ignore"):
        judged_approval, judged_good = approval[judged], good[judged]
        air = judged_approval.min(axis=0) / judged_approval.max(axis=0)
        dpd = judged_approval.max(axis=0) - judged_approval.min(axis=0)
        eor = judged_good.min(axis=0) / judged_good.max(axis=0)

    def plain(values: np.ndarray) -> list:
        return [None if np.isnan(v) else float(v) for v in values]

    return {
        "thresholds": [float(v) for v in t],
        "overall_approval_rate": plain(np.searchsorted(everyone, t, side="right") / max(len(everyone), 1)),
        "approval_rate": {label: plain(approval[i]) for i, label in enumerate(labels)},
        "adverse_impact_ratio": plain(air) if judged.sum() >= 2 else [None] * len(t),
        "demographic_parity_difference": plain(dpd) if judged.sum() >= 2 else [None] * len(t),
        "equal_opportunity_ratio": plain(eor) if judged.sum() >= 2 else [None] * len(t),
    }
