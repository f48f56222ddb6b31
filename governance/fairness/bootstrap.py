"""Bootstrap confidence intervals for every per-band metric and every disparity, vectorised.

fairlearn's ``MetricFrame(n_boot=...)`` resamples a DataFrame and reruns every metric function per resample. Here
the resamples are drawn once as *weights* (how often each row was drawn), and every metric is a ratio of weighted
sums, so one matrix product per band gives all of them for a block of resamples at once; the AUC uses one sort per
band and cumulative sums of the weights. The same formulas with unit weights give the point estimates, which are
checked against fairlearn's.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> codes = np.repeat([0, 1], 500); y = rng.integers(0, 2, 1000); s = rng.random(1000)
>>> sample = ResampleData.build(codes, y, s, threshold=0.5, judged=np.array([True, True]))
>>> point = sample.statistics(np.ones((1, 1000)))
>>> boot = bootstrap(sample, resamples=200, seed=1)
>>> low, high = boot.interval("demographic_parity_difference", 0.95)
>>> bool(low <= point.overall["demographic_parity_difference"][0] <= high)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Weighted sums per band, one column each: count, approved, defaulters, declined defaulters, declined good payers,
# score, score squared, squared error.
_N, _APPROVED, _POS, _TP, _FP, _S1, _S2, _SE = range(8)
# Resamples per block: a block's weight matrix is BLOCK x rows float64 (24 MB at 30,000 rows).
BLOCK = 100


@dataclass(frozen=True)
class Statistics:
    """Metrics for R weightings: ``band[name]`` is (R, bands), ``overall[name]`` is (R,)."""

    band: dict[str, np.ndarray]
    overall: dict[str, np.ndarray]


@dataclass(frozen=True)
class _Band:
    rows: np.ndarray         # positions in the data, sorted by score
    columns: np.ndarray      # (rows, 8) values to sum
    labels: np.ndarray       # y in the same order
    tie_starts: np.ndarray   # where each run of equal scores starts


@dataclass(frozen=True)
class ResampleData:
    """The data laid out once for fast weighted statistics (see :meth:`build`)."""

    rows: int
    bands: tuple[_Band, ...]
    judged: np.ndarray
    group_rows: np.ndarray | None = None    # an extra group (the elderly) for the mean of ``group_values``
    group_values: np.ndarray | None = None

    @classmethod
    def build(cls, codes, y, scores, threshold: float, judged, *, group_rows=None, group_values=None) -> ResampleData:
        """``codes``: band index per row (negative = not banded, then ignored); ``judged``: bool per band."""
        codes = np.asarray(codes)
        y = np.asarray(y, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64)
        bands = []
        for code in range(len(judged)):
            rows = np.flatnonzero(codes == code)
            rows = rows[np.argsort(scores[rows], kind="stable")]
            s, t = scores[rows], y[rows]
            declined = (s > threshold).astype(np.float64)
            columns = np.column_stack(
                [np.ones_like(s), 1 - declined, t, t * declined, (1 - t) * declined, s, s * s, (s - t) ** 2]
            )
            starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.zeros(0, dtype=int)
            bands.append(_Band(rows, columns, t, starts))
        return cls(len(codes), tuple(bands), np.asarray(judged, dtype=bool),
                   None if group_rows is None else np.asarray(group_rows),
                   None if group_values is None else np.asarray(group_values, dtype=np.float64))

    def statistics(self, weights: np.ndarray) -> Statistics:
        """All metrics under each row of ``weights`` (R x rows); unit weights give the point estimates."""
        sums = np.stack([weights[:, band.rows] @ band.columns for band in self.bands], axis=1)  # (R, G, 8)
        auc = np.stack([_weighted_auc(weights[:, band.rows], band) for band in self.bands], axis=1)
        band = _band_metrics(sums, auc)
        overall = _disparities(band, self.judged)
        if self.group_rows is not None:
            w = weights[:, self.group_rows]
            with np.errstate(all="ignore"):
                overall["group_mean"] = (w @ self.group_values) / w.sum(axis=1)
        return Statistics(band, overall)


def _weighted_auc(weights: np.ndarray, band: _Band) -> np.ndarray:
    """AUC (ties count one half) for each weighting, from the band's score order."""
    if weights.shape[1] == 0:
        return np.full(weights.shape[0], np.nan)
    positive = weights * band.labels
    negative = weights - positive
    positive = np.add.reduceat(positive, band.tie_starts, axis=1)
    negative = np.add.reduceat(negative, band.tie_starts, axis=1)
    below = np.cumsum(negative, axis=1) - negative
    pairs = positive.sum(axis=1) * negative.sum(axis=1)
    with np.errstate(all="ignore"):
        auc = (positive * (below + 0.5 * negative)).sum(axis=1) / pairs
    return np.where(pairs > 0, auc, np.nan)


def _band_metrics(sums: np.ndarray, auc: np.ndarray) -> dict[str, np.ndarray]:
    n, pos = sums[..., _N], sums[..., _POS]
    neg = n - pos
    total = sums.sum(axis=1)
    with np.errstate(all="ignore"):
        mean = sums[..., _S1] / n
        var = sums[..., _S2] / n - mean**2
        rest_n = total[:, None, _N] - n
        rest_mean = (total[:, None, _S1] - sums[..., _S1]) / rest_n
        rest_var = (total[:, None, _S2] - sums[..., _S2]) / rest_n - rest_mean**2
        spread = np.sqrt(np.clip((var + rest_var) / 2, 0, None))
        fpr = sums[..., _FP] / neg
        metrics = {
            "count": n,
            "approval_rate": sums[..., _APPROVED] / n,
            "default_rate": pos / n,
            "mean_predicted": mean,
            "true_positive_rate": sums[..., _TP] / pos,
            "false_positive_rate": fpr,
            "good_payer_approval_rate": 1 - fpr,
            "wrongful_declines": sums[..., _FP],
            "auc": auc,
            "brier": sums[..., _SE] / n,
            "calibration_error": mean / (pos / n) - 1,
            "score_smd": np.where(spread > 0, (mean - rest_mean) / spread, np.nan),
        }
    # A resample can leave a band without defaulters: its ratios are undefined, not infinite.
    return {name: _finite(values) for name, values in metrics.items()}


def _max(values: np.ndarray, judged: np.ndarray) -> np.ndarray:
    best = np.where(np.isnan(values[:, judged]), -np.inf, values[:, judged]).max(axis=1)
    return np.where(np.isneginf(best), np.nan, best)


def _min(values: np.ndarray, judged: np.ndarray) -> np.ndarray:
    return -_max(-values, judged)


def _comparable(values: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """A comparison across bands needs at least two bands where the metric is defined."""
    return np.isfinite(values[:, judged]).sum(axis=1) >= 2


def _spread(values: np.ndarray, judged: np.ndarray) -> np.ndarray:
    return np.where(_comparable(values, judged), _max(values, judged) - _min(values, judged), np.nan)


def _ratio(values: np.ndarray, judged: np.ndarray) -> np.ndarray:
    return np.where(_comparable(values, judged), _min(values, judged) / _max(values, judged), np.nan)


def _disparities(band: dict[str, np.ndarray], judged: np.ndarray) -> dict[str, np.ndarray]:
    if judged.sum() < 2:
        nan = np.full(band["count"].shape[0], np.nan)
        band["adverse_impact_ratio"] = band["equal_opportunity_ratio"] = band["count"] * np.nan
        return {name: nan.copy() for name in ("adverse_impact_ratio", "demographic_parity_difference",
                                             "equal_opportunity_difference", "equal_opportunity_ratio",
                                             "equalized_odds_difference", "auc_gap", "score_smd")}
    approval, good = band["approval_rate"], band["good_payer_approval_rate"]
    with np.errstate(all="ignore"):
        best_approval, best_good = _max(approval, judged), _max(good, judged)
        band["adverse_impact_ratio"] = _finite(approval / best_approval[:, None])
        band["equal_opportunity_ratio"] = _finite(good / best_good[:, None])
        overall = {
            "adverse_impact_ratio": _ratio(approval, judged),
            "demographic_parity_difference": _spread(approval, judged),
            "equal_opportunity_difference": _spread(good, judged),
            "equal_opportunity_ratio": _ratio(good, judged),
            "equalized_odds_difference": np.fmax(_spread(band["true_positive_rate"], judged),
                                                 _spread(band["false_positive_rate"], judged)),
            "auc_gap": _spread(band["auc"], judged),
            "score_smd": _max(np.abs(band["score_smd"]), judged),
        }
    return {name: _finite(values) for name, values in overall.items()}


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


@dataclass(frozen=True)
class BootstrapResult:
    """The statistics of every resample; :meth:`interval` gives percentile intervals like fairlearn's."""

    resamples: int
    seed: int
    samples: Statistics

    def interval(self, name: str, confidence: float, band: int | None = None) -> tuple[float, float]:
        if self.resamples == 0:
            return float("nan"), float("nan")
        values = self.samples.overall[name] if band is None else self.samples.band[name][:, band]
        if np.isnan(values).all():
            return float("nan"), float("nan")
        alpha = (1 - confidence) / 2
        low, high = np.nanquantile(values, [alpha, 1 - alpha])
        return float(low), float(high)


def resample_weights(rng: np.random.Generator, resamples: int, rows: int) -> np.ndarray:
    """How many times each row is drawn, for ``resamples`` draws of ``rows`` rows with replacement."""
    drawn = rng.integers(0, rows, size=(resamples, rows))
    drawn += (np.arange(resamples) * rows)[:, None]
    return np.bincount(drawn.ravel(), minlength=resamples * rows).reshape(resamples, rows).astype(np.float64)


def bootstrap(data: ResampleData, resamples: int, seed: int,
              on_block: Callable[[int, int], None] = lambda done, total: None) -> BootstrapResult:
    """Draw ``resamples`` seeded resamples of the rows (blocks of :data:`BLOCK`) and keep every statistic."""
    rng = np.random.default_rng(seed)
    blocks: list[Statistics] = []
    done = 0
    while done < resamples:
        size = min(BLOCK, resamples - done)
        blocks.append(data.statistics(resample_weights(rng, size, data.rows)))
        done += size
        on_block(done, resamples)
    return merged_result(blocks, resamples, seed)


def merged_result(blocks: list[Statistics], resamples: int, seed: int) -> BootstrapResult:
    """One result from the blocks of resampled statistics, in drawing order (shared by the row and cell methods)."""
    if not blocks:
        return BootstrapResult(0, seed, Statistics({}, {}))
    merged = Statistics(
        {k: np.concatenate([b.band[k] for b in blocks]) for k in blocks[0].band},
        {k: np.concatenate([b.overall[k] for b in blocks]) for k in blocks[0].overall},
    )
    return BootstrapResult(resamples, seed, merged)
