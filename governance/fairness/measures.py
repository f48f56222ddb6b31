"""Fairness figures by age band with their bootstrap intervals, for any set of scores on banded applicants.

One routine for the fairness assessment of the model and for anything compared with it (the validator's
challenger): fairlearn's point estimates, checked against the cell bootstrap's own, and percentile intervals drawn
with the policy's resamples, seed and confidence. Two score sets measured on the same applicants with the same
policy are therefore directly comparable, interval for interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from governance.age_bands import Banding
from governance.errors import Incomplete
from governance.fairness.bootstrap import BootstrapResult
from governance.fairness.cells import CellData, bootstrap_cells
from governance.fairness.metrics import BAND_METRICS, DISPARITIES, band_metrics_by_group, band_table, disparities

# The numpy engine must reproduce fairlearn's point estimates; anything beyond rounding noise is a defect.
POINT_TOLERANCE = 1e-9


def finite_or_none(value) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def interval_or_none(low: float, high: float) -> list | None:
    return None if math.isnan(low) or math.isnan(high) else [low, high]


def check_point_estimates(table: pd.DataFrame, point, overall_points: dict[str, float]) -> None:
    for metric in BAND_METRICS:
        ours, theirs = point.band[metric][0], table[metric].to_numpy(dtype=float)
        mismatch = ~((np.isnan(ours) & np.isnan(theirs)) | (np.abs(ours - theirs) <= POINT_TOLERANCE))
        if mismatch.any():
            raise Incomplete("METRIC_MISMATCH", f"bootstrap engine and fairlearn disagree on {metric}: "
                             f"{ours[mismatch][0]!r} vs {theirs[mismatch][0]!r}")
    for name, theirs in overall_points.items():
        ours = point.overall[name][0]
        if not (math.isnan(ours) and math.isnan(theirs)) and not abs(ours - theirs) <= POINT_TOLERANCE:
            raise Incomplete("METRIC_MISMATCH",
                             f"bootstrap engine and fairlearn disagree on {name}: {ours} vs {theirs}")


@dataclass(frozen=True)
class BandMeasures:
    """Point estimates and intervals per band and overall; ``codes``/``y``/``scores`` are the banded rows."""

    table: pd.DataFrame
    bands: list[dict[str, dict]]
    overall: dict[str, dict]
    boot: BootstrapResult
    cells: int
    codes: np.ndarray
    y: np.ndarray
    scores: np.ndarray


def measure_bands(banding: Banding, target: np.ndarray, scores: np.ndarray, threshold: float, judged: np.ndarray,
                  *, resamples: int, seed: int, confidence: float, group_rows=None,
                  group_values=None) -> BandMeasures:
    """Every band metric and disparity of ``scores`` at ``threshold``, each with its bootstrap interval.

    ``group_rows``/``group_values``: positions among the banded rows and a value per position (the SHAP of age of
    the elderly group) whose mean is resampled with the same draws.
    """
    banded = np.flatnonzero(banding.codes >= 0)
    codes, y, banded_scores = banding.codes[banded], target[banded], scores[banded]
    labels = banding.labels
    table = band_table(band_metrics_by_group(y, banded_scores, threshold, codes, labels), banded_scores, codes,
                       labels, judged)
    point = disparities(table[judged])
    sample = CellData.build(codes, y, banded_scores, threshold, judged, group_rows=group_rows,
                            group_values=group_values)
    check_point_estimates(table, sample.point(), point)
    boot = bootstrap_cells(sample, resamples, seed)
    bands = [{metric: {"value": finite_or_none(table[metric].iloc[code]),
                       "interval": interval_or_none(*boot.interval(metric, confidence, band=code))}
              for metric in BAND_METRICS} for code in range(len(labels))]
    overall = {name: {"value": finite_or_none(point[name]),
                      "interval": interval_or_none(*boot.interval(name, confidence))} for name in DISPARITIES}
    return BandMeasures(table, bands, overall, boot, sample.cells, codes, y, banded_scores)


__all__ = ["BandMeasures", "check_point_estimates", "finite_or_none", "interval_or_none", "measure_bands"]
