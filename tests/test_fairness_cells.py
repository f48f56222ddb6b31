"""The bootstrap drawn on cells: exact point estimates, the row-level intervals within Monte Carlo error.

The reference is :func:`governance.fairness.bootstrap.bootstrap`, which resamples rows. Two independent bootstraps
of R resamples give percentile bounds that differ by Monte Carlo error alone: for a roughly normal statistic the
2.5 % quantile of R draws has a standard error of about 0.085 standard deviations at R = 1,000, so the difference
of two such bounds has one of about 0.12 sd; the tests allow four of those. A cell engine that lost a source of
variance (the within-cell spread, the tie handling of the AUC, the draw on the elderly group) moves the bounds by
far more.
"""

from __future__ import annotations

import numpy as np
import pytest

from governance.fairness.bootstrap import ResampleData, bootstrap
from governance.fairness.cells import CellData, bootstrap_cells

RESAMPLES = 1000
# Four standard errors of the difference of two independent 2.5 %/97.5 % bounds, in bootstrap standard deviations.
BOUND_TOLERANCE = 4 * 0.12
# The standard deviation of R = 1,000 draws has a relative standard error of about 2.2 %; two of them, 4 sigma.
SD_TOLERANCE = 0.13


def population(rows: int, seed: int = 3, ties: bool = True):
    rng = np.random.default_rng(seed)
    codes = rng.choice(4, size=rows, p=[0.1, 0.4, 0.3, 0.2])
    scores = np.clip(rng.beta(1.2, 8, rows) + 0.04 * codes, 0, 1)
    scores = scores.round(3) if ties else scores
    y = (rng.random(rows) < scores).astype(int)
    return codes, y, scores


def assert_same_point(rows: ResampleData, cells: CellData) -> None:
    expected, got = rows.statistics(np.ones((1, rows.rows))), cells.point()
    for name in expected.band:
        np.testing.assert_allclose(got.band[name], expected.band[name], rtol=0, atol=1e-10, err_msg=name)
    for name in expected.overall:
        np.testing.assert_allclose(got.overall[name], expected.overall[name], rtol=0, atol=1e-10, err_msg=name)


def assert_same_intervals(reference, ours, names, bands: int) -> None:
    def compare(label, ref_values, our_values, ref_interval, our_interval):
        sd = np.nanstd(ref_values)
        if not np.isfinite(sd) or sd == 0:
            return
        assert abs(np.nanstd(our_values) / sd - 1) < SD_TOLERANCE, (label, np.nanstd(our_values), sd)
        for mine, theirs in zip(our_interval, ref_interval, strict=True):
            assert abs(mine - theirs) < BOUND_TOLERANCE * sd, (label, our_interval, ref_interval, sd)

    for name in names:
        compare(name, reference.samples.overall[name], ours.samples.overall[name],
                reference.interval(name, 0.95), ours.interval(name, 0.95))
    for name in ("approval_rate", "true_positive_rate", "false_positive_rate", "auc", "mean_predicted", "brier",
                 "calibration_error", "score_smd", "adverse_impact_ratio"):
        for band in range(bands):
            compare(f"{name}[{band}]", reference.samples.band[name][:, band], ours.samples.band[name][:, band],
                    reference.interval(name, 0.95, band), ours.interval(name, 0.95, band))


@pytest.mark.parametrize("ties", [True, False])
def test_point_estimates_equal_the_row_level_ones(ties):
    codes, y, scores = population(6000, ties=ties)
    judged = np.array([True] * 4)
    group = np.flatnonzero(codes == 3)
    values = np.random.default_rng(1).normal(-0.3, 0.2, len(group))
    assert_same_point(ResampleData.build(codes, y, scores, 0.15, judged, group_rows=group, group_values=values),
                      CellData.build(codes, y, scores, 0.15, judged, group_rows=group, group_values=values))


def test_point_estimates_with_few_slices_and_unbanded_rows():
    codes, y, scores = population(3000)
    codes[:50] = -1  # outside every band: drawn, never counted
    judged = np.array([True, True, False, True])
    assert_same_point(ResampleData.build(codes, y, scores, 0.2, judged),
                      CellData.build(codes, y, scores, 0.2, judged, slices=3))


def test_slices_never_straddle_the_threshold_or_split_ties():
    codes, y, scores = population(5000)
    cells = CellData.build(codes, y, scores, 0.15, np.array([True] * 4), slices=40)
    for band in range(4):
        inside = cells.band == band
        declined_per_slice = {}
        for slice_index, declined in zip(cells.slice[inside], cells.flags[inside, 0], strict=True):
            assert declined_per_slice.setdefault(slice_index, declined) == declined
    # Only whole runs of equal scores: the number of cells is bounded by the slices, not by the rows.
    assert cells.cells <= 4 * 41 * 2


def test_intervals_match_the_row_level_bootstrap():
    codes, y, scores = population(20000, ties=False)
    judged = np.array([True] * 4)
    group = np.flatnonzero(codes == 3)
    values = np.random.default_rng(2).normal(-0.3, 0.2, len(group))
    rows = ResampleData.build(codes, y, scores, 0.15, judged, group_rows=group, group_values=values)
    cells = CellData.build(codes, y, scores, 0.15, judged, group_rows=group, group_values=values)
    names = ("adverse_impact_ratio", "demographic_parity_difference", "equal_opportunity_difference",
             "equal_opportunity_ratio", "equalized_odds_difference", "auc_gap", "score_smd", "group_mean")
    assert_same_intervals(bootstrap(rows, RESAMPLES, seed=5), bootstrap_cells(cells, RESAMPLES, seed=6), names, 4)


def test_a_lost_source_of_variance_is_caught():
    """The comparison can fail: cells without their within-cell spread give a too-narrow elderly interval."""
    codes, y, scores = population(20000)
    judged = np.array([True] * 4)
    group = np.flatnonzero(codes == 3)
    values = np.random.default_rng(2).normal(-0.3, 0.5, len(group))
    rows = ResampleData.build(codes, y, scores, 0.15, judged, group_rows=group, group_values=values)
    cells = CellData.build(codes, y, scores, 0.15, judged, group_rows=group, group_values=values)
    crippled = CellData(**{**cells.__dict__, "group_sd": np.zeros_like(cells.group_sd)})
    with pytest.raises(AssertionError):
        assert_same_intervals(bootstrap(rows, RESAMPLES, seed=5), bootstrap_cells(crippled, RESAMPLES, seed=6),
                              ("group_mean",), 0)


def test_seeded_and_cost_set_by_cells_not_rows():
    codes, y, scores = population(4000)
    judged = np.array([True] * 4)
    small = CellData.build(codes, y, scores, 0.15, judged)
    large = CellData.build(np.tile(codes, 10), np.tile(y, 10), np.tile(scores, 10), 0.15, judged)
    # At most (slices + 1) per band x outcome, whatever the rows.
    assert large.rows == 10 * small.rows and small.cells <= 4 * 257 * 2 and large.cells <= 4 * 257 * 2
    first, again = bootstrap_cells(small, 50, seed=3), bootstrap_cells(small, 50, seed=3)
    assert first.interval("auc_gap", 0.9) == again.interval("auc_gap", 0.9)
    # Ten times the rows: intervals about sqrt(10) narrower.
    wide, narrow = bootstrap_cells(small, 400, seed=3), bootstrap_cells(large, 400, seed=3)
    ratio = np.diff(narrow.interval("demographic_parity_difference", 0.95))[0] / np.diff(
        wide.interval("demographic_parity_difference", 0.95))[0]
    assert 0.2 < ratio < 0.45


@pytest.mark.realdata
def test_real_data_intervals_match_the_row_level_bootstrap(real_run):
    """On the real validation split and model: the cell bootstrap against the row-level one, 1,000 resamples each."""
    from governance.credit_data import PROTECTED_ATTRIBUTE
    from governance.explain import load_inputs
    from governance.fairness import assign_bands, load_policy

    policy = load_policy(None)
    inputs = load_inputs(real_run.model_path, real_run.validation_path)
    banding = assign_bands(inputs.features[PROTECTED_ATTRIBUTE].to_numpy(), policy.age.age_bands(),
                           policy.age.valid_range)
    banded = np.flatnonzero(banding.codes >= 0)
    codes, y, scores = banding.codes[banded], inputs.target[banded], inputs.scores()[banded]
    judged = banding.counts() >= policy.age.min_count
    elderly = np.flatnonzero(banding.ages[banded] >= 62)
    shap_like = np.random.default_rng(4).normal(-0.2, 0.3, len(elderly))
    rows = ResampleData.build(codes, y, scores, 0.2, judged, group_rows=elderly, group_values=shap_like)
    cells = CellData.build(codes, y, scores, 0.2, judged, group_rows=elderly, group_values=shap_like)
    assert_same_point(rows, cells)
    names = ("adverse_impact_ratio", "demographic_parity_difference", "equal_opportunity_difference",
             "equalized_odds_difference", "auc_gap", "score_smd", "group_mean")
    assert_same_intervals(bootstrap(rows, RESAMPLES, seed=11), bootstrap_cells(cells, RESAMPLES, seed=12), names,
                          len(judged))


def test_per_band_metric_table_equals_fairlearns_metric_frame():
    import pandas as pd

    from governance.fairness.metrics import band_metric_frame, band_metrics_by_group

    codes, y, scores = population(5000)
    codes[codes == 2] = 1  # an empty band is absent from both tables
    labels = ["a", "b", "c", "d"]
    frame = band_metric_frame(y, scores, 0.15, pd.Series(np.array(labels, dtype=object)[codes], name="age_band"))
    ours = band_metrics_by_group(y, scores, 0.15, codes, labels)
    pd.testing.assert_frame_equal(ours.astype(float), frame.by_group.astype(float), check_exact=True)
