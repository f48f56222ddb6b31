"""The bootstrap drawn on cells instead of rows: its cost is set by the number of groups, not of applicants.

Resampling N rows with replacement gives every row a draw count; summed over a *cell* of rows (one band, one
outcome, one decision, one narrow slice of scores), those counts follow exactly the multinomial distribution of
N draws over the cells with probabilities ``cell size / N``. So the resample is drawn once per cell
(``Generator.multinomial``), and every rate metric (approval, TPR/FPR, wrongful declines, AIR, DPD, EO/EOD) is a
sum of cell counts, exactly as on rows.

Sums of a continuous value inside a cell (scores for the mean, Brier and SMD; the SHAP of age for the elderly
group) need one more step: given a cell's draw count ``m``, the sum of ``m`` rows drawn from it is its mean times
``m`` plus a centred term with variance ``m`` times the cell's variance, drawn as a normal. Cells are narrow slices
of sorted scores, so for scores that term is tiny; for the elderly group's SHAP it carries the spread.

The AUC of a band is a weighted rank statistic over its score slices: a defaulter in a higher slice outranks every
good payer in a lower one, and inside a slice the share of (defaulter, good payer) pairs in order is measured once
on the rows. With the cells' own counts every statistic equals the row-level one (the point estimates are exact);
under resampling the intervals agree with :func:`governance.fairness.bootstrap.bootstrap` within Monte Carlo error
(tested on the real data).

>>> import numpy as np
>>> from governance.fairness.bootstrap import ResampleData
>>> rng = np.random.default_rng(0)
>>> codes = np.repeat([0, 1], 500); y = rng.integers(0, 2, 1000); s = rng.random(1000)
>>> judged = np.array([True, True])
>>> cells = CellData.build(codes, y, s, threshold=0.5, judged=judged)
>>> rows = ResampleData.build(codes, y, s, threshold=0.5, judged=judged).statistics(np.ones((1, 1000)))
>>> bool(abs(cells.point().band["auc"][0, 1] - rows.band["auc"][0, 1]) < 1e-12)
True
>>> low, high = bootstrap_cells(cells, resamples=200, seed=1).interval("demographic_parity_difference", 0.95)
>>> bool(low <= cells.point().overall["demographic_parity_difference"][0] <= high)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from governance.fairness.bootstrap import (
    BLOCK,
    BootstrapResult,
    Statistics,
    _band_metrics,
    _disparities,
    merged_result,
)

# Score slices per band: enough that a slice's own spread of scores is negligible next to the band's.
SLICES_PER_BAND = 256
# Columns of ``CellData.flags``.
_OUTCOME = 1


@dataclass(frozen=True)
class CellData:
    """Rows collapsed once into cells (band × score slice × outcome × in-group); see :meth:`build`."""

    rows: int
    counts: np.ndarray        # (C,) rows per cell
    band: np.ndarray          # (C,) band index of each cell
    slice: np.ndarray         # (C,) slice index inside its band (ascending scores)
    flags: np.ndarray         # (C, 3) declined, outcome (1 = default), in the extra group
    means: np.ndarray         # (C, 3) mean score, mean squared score, mean group value
    chol: np.ndarray          # (C, 3) Cholesky factors of the (score, score²) covariance: a, b, c
    group_sd: np.ndarray      # (C,) standard deviation of the group value inside the cell
    within: list[np.ndarray]  # per band: share of (default, repaid) pairs in order inside each slice
    judged: np.ndarray
    has_group: bool

    @classmethod
    def build(cls, codes, y, scores, threshold: float, judged, *, group_rows=None, group_values=None,
              slices: int = SLICES_PER_BAND) -> CellData:
        """Arguments as :meth:`governance.fairness.bootstrap.ResampleData.build`; ``slices`` per band."""
        codes = np.asarray(codes)
        y = np.asarray(y, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64)
        in_group = np.zeros(len(codes), dtype=bool)
        values = np.zeros(len(codes))
        has_group = group_rows is not None
        if has_group:
            in_group[np.asarray(group_rows)] = True
            values[np.asarray(group_rows)] = np.asarray(group_values, dtype=np.float64)
        parts: list[np.ndarray] = []
        within: list[np.ndarray] = []
        for code in range(len(judged)):
            rows = np.flatnonzero(codes == code)
            rows = rows[np.argsort(scores[rows], kind="stable")]
            s = scores[rows]
            slice_of_row, shares = _slices(s, y[rows], threshold, slices)
            within.append(shares)
            parts.append(np.column_stack([np.full(len(rows), code), slice_of_row, s > threshold, y[rows],
                                          in_group[rows], s, s * s, values[rows]]))
        table = np.concatenate(parts) if parts else np.zeros((0, 8))
        keys, inverse, counts = np.unique(table[:, :5], axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        sums = np.zeros((len(keys), 3))
        squares = np.zeros((len(keys), 4))
        for k in range(3):
            sums[:, k] = np.bincount(inverse, table[:, 5 + k], len(keys))
        means = sums / counts[:, None]
        centred = table[:, 5:] - means[inverse]
        for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 1), (2, 2))):
            squares[:, k] = np.bincount(inverse, centred[:, i] * centred[:, j], len(keys))
        var_s, cov, var_s2, var_g = (squares / counts[:, None]).T
        a = np.sqrt(np.clip(var_s, 0, None))
        with np.errstate(all="ignore"):
            b = np.where(a > 0, cov / a, 0.0)
        c = np.sqrt(np.clip(var_s2 - b * b, 0, None))
        return cls(len(codes), counts.astype(np.float64), keys[:, 0].astype(int), keys[:, 1].astype(int),
                   keys[:, 2:5], means, np.column_stack([a, b, c]), np.sqrt(np.clip(var_g, 0, None)), within,
                   np.asarray(judged, dtype=bool), has_group)

    @property
    def cells(self) -> int:
        return len(self.counts)

    def point(self) -> Statistics:
        """Every statistic with the cells' own counts: the row-level point estimates."""
        return self.statistics(self.counts[None, :], np.zeros((1, self.cells, 3)))

    def statistics(self, draws: np.ndarray, noise: np.ndarray) -> Statistics:
        """Statistics for R resamples: ``draws`` (R, C) cell counts, ``noise`` (R, C, 3) standard normals."""
        root = np.sqrt(draws)
        a, b, c = self.chol.T
        s1 = draws * self.means[:, 0] + root * a * noise[..., 0]
        s2 = draws * self.means[:, 1] + root * (b * noise[..., 0] + c * noise[..., 1])
        declined, outcome, grouped = self.flags.T
        columns = np.stack([draws, draws * (1 - declined), draws * outcome, draws * outcome * declined,
                            draws * (1 - outcome) * declined, s1, s2,
                            s2 - 2 * outcome * s1 + outcome * draws], axis=-1)  # (R, C, 8), see bootstrap._N...
        bands = len(self.judged)
        sums = np.zeros((draws.shape[0], bands, columns.shape[-1]))
        for g in range(bands):
            sums[:, g] = columns[:, self.band == g].sum(axis=1)
        auc = np.stack([self._auc(draws, g) for g in range(bands)], axis=1)
        band = _band_metrics(sums, auc)
        overall = _disparities(band, self.judged)
        if self.has_group:
            group = grouped.astype(bool)
            total = (draws[:, group] * self.means[group, 2]
                     + np.sqrt(draws[:, group]) * self.group_sd[group] * noise[:, group, 2]).sum(axis=1)
            with np.errstate(all="ignore"):
                overall["group_mean"] = total / draws[:, group].sum(axis=1)
        return Statistics(band, overall)

    def _auc(self, draws: np.ndarray, band: int) -> np.ndarray:
        """Weighted rank statistic: defaulters outrank good payers in lower slices, by the measured share inside."""
        inside = self.band == band
        shares = self.within[band]
        if not inside.any():
            return np.full(draws.shape[0], np.nan)
        # Cells are sorted by band, then slice: each slice's cells are one contiguous run.
        slices = self.slice[inside]
        starts = np.flatnonzero(np.r_[True, slices[1:] != slices[:-1]])
        band_draws = draws[:, inside]
        defaulted = band_draws * self.flags[inside, _OUTCOME]
        positive = np.zeros((draws.shape[0], len(shares)))
        negative = np.zeros_like(positive)
        positive[:, slices[starts]] = np.add.reduceat(defaulted, starts, axis=1)
        negative[:, slices[starts]] = np.add.reduceat(band_draws - defaulted, starts, axis=1)
        below = np.cumsum(negative, axis=1) - negative
        pairs = positive.sum(axis=1) * negative.sum(axis=1)
        with np.errstate(all="ignore"):
            auc = (positive * (below + shares * negative)).sum(axis=1) / pairs
        return np.where(pairs > 0, auc, np.nan)


def _slices(s: np.ndarray, y: np.ndarray, threshold: float, slices: int) -> tuple[np.ndarray, np.ndarray]:
    """Slice index per row of a band (scores ascending) and each slice's share of ordered (default, repaid) pairs.

    Slices hold whole runs of equal scores and never straddle the threshold, so the decision is constant in each.
    """
    if len(s) == 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    run_start = np.r_[True, s[1:] != s[:-1]]
    runs = np.flatnonzero(run_start)
    # Equal-sized slices, each boundary moved forward to the next run of equal scores, plus the threshold.
    wanted = np.linspace(0, len(s), slices, endpoint=False).astype(int)
    moved = np.searchsorted(runs, wanted)
    starts = runs[moved[moved < len(runs)]]
    crossing = np.flatnonzero(np.r_[False, (s[1:] > threshold) & (s[:-1] <= threshold)])
    start = np.zeros(len(s), dtype=bool)
    start[np.r_[0, starts, crossing]] = True
    slice_of_row = np.cumsum(start) - 1
    count = slice_of_row[-1] + 1
    # Inside a slice: pairs (default above repaid) + half the ties, per slice, from runs of equal scores.
    run = np.cumsum(run_start) - 1
    pos = np.bincount(run, y)
    neg = np.bincount(run, 1 - y)
    run_slice = slice_of_row[run_start]
    neg_before_run = np.cumsum(neg) - neg
    first_run = np.flatnonzero(np.r_[True, run_slice[1:] != run_slice[:-1]])
    neg_before_slice = neg_before_run[first_run][run_slice]
    ordered = np.bincount(run_slice, pos * (neg_before_run - neg_before_slice + 0.5 * neg), count)
    slice_pos, slice_neg = np.bincount(run_slice, pos, count), np.bincount(run_slice, neg, count)
    with np.errstate(all="ignore"):
        shares = np.where(slice_pos * slice_neg > 0, ordered / (slice_pos * slice_neg), 0.5)
    return slice_of_row, shares


def bootstrap_cells(data: CellData, resamples: int, seed: int,
                    on_block: Callable[[int, int], None] = lambda done, total: None) -> BootstrapResult:
    """``resamples`` seeded multinomial draws of ``data.rows`` over the cells, in blocks of :data:`BLOCK`."""
    rng = np.random.default_rng(seed)
    # Rows outside every band are drawn too (one more cell, then dropped), as in the row-level resample.
    probabilities = np.r_[data.counts, data.rows - data.counts.sum()] / max(data.rows, 1)
    blocks: list[Statistics] = []
    done = 0
    while done < resamples:
        size = min(BLOCK, resamples - done)
        draws = rng.multinomial(data.rows, probabilities, size=size)[:, :-1].astype(np.float64)
        blocks.append(data.statistics(draws, rng.standard_normal((size, data.cells, 3))))
        done += size
        on_block(done, resamples)
    return merged_result(blocks, resamples, seed)

