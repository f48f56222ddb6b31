"""The vectorised bootstrap: exact point estimates, weighted AUC, intervals that cover and shrink, seeded draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from governance.fairness.bootstrap import ResampleData, bootstrap, resample_weights
from governance.fairness.metrics import BAND_METRICS, band_metric_frame, band_table, disparities


def population(rows: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    codes = rng.choice(3, size=rows, p=[0.2, 0.5, 0.3])
    scores = np.clip(rng.beta(1.2, 8, rows) + 0.05 * codes, 0, 1).round(3)  # rounded: plenty of ties
    y = (rng.random(rows) < scores).astype(int)
    return codes, y, scores


def test_unit_weights_reproduce_fairlearn_exactly():
    codes, y, scores = population(3000)
    labels = ["a", "b", "c"]
    judged = np.array([True, True, True])
    frame = band_metric_frame(y, scores, 0.15, pd.Series(np.array(labels)[codes], name="age_band"))
    table = band_table(frame, scores, codes, labels, judged)
    point = ResampleData.build(codes, y, scores, 0.15, judged).statistics(np.ones((1, len(y))))
    for metric in BAND_METRICS:
        np.testing.assert_allclose(point.band[metric][0], table[metric].to_numpy(), rtol=0, atol=1e-12, err_msg=metric)
    for name, value in disparities(table).items():
        assert point.overall[name][0] == pytest.approx(value, abs=1e-12), name


def test_weighted_auc_matches_scikit_learn_with_sample_weights():
    codes, y, scores = population(2000)
    weights = resample_weights(np.random.default_rng(5), 3, len(y))
    stats = ResampleData.build(codes, y, scores, 0.15, np.array([True] * 3)).statistics(weights)
    for r in range(3):
        for band in range(3):
            inside = codes == band
            expected = roc_auc_score(y[inside], scores[inside], sample_weight=weights[r, inside])
            assert stats.band["auc"][r, band] == pytest.approx(expected, abs=1e-12)


def test_resample_weights_are_draw_counts():
    weights = resample_weights(np.random.default_rng(1), 50, 400)
    assert weights.shape == (50, 400)
    assert (weights.sum(axis=1) == 400).all() and (weights >= 0).all()
    assert 0.55 < (weights > 0).mean() < 0.72  # about 1 - 1/e of the rows appear in each resample


def width(result, name):
    low, high = result.interval(name, 0.95)
    return high - low


def test_intervals_contain_the_point_estimate_and_shrink_with_more_data():
    codes, y, scores = population(2000)
    judged = np.array([True, True, True])
    small = ResampleData.build(codes, y, scores, 0.15, judged)
    large = ResampleData.build(np.tile(codes, 4), np.tile(y, 4), np.tile(scores, 4), 0.15, judged)
    small_boot, large_boot = bootstrap(small, 300, seed=11), bootstrap(large, 300, seed=11)
    point = small.statistics(np.ones((1, small.rows)))
    for name in ("adverse_impact_ratio", "demographic_parity_difference", "equal_opportunity_ratio", "auc_gap"):
        low, high = small_boot.interval(name, 0.95)
        assert low <= point.overall[name][0] <= high, name
        # Four times the data: the interval narrows by about half (sqrt(4)).
        assert width(large_boot, name) < 0.7 * width(small_boot, name), name
    low, high = small_boot.interval("approval_rate", 0.95, band=0)
    assert low <= point.band["approval_rate"][0, 0] <= high


def test_same_seed_same_intervals_other_seed_other_draws():
    codes, y, scores = population(1000)
    data = ResampleData.build(codes, y, scores, 0.15, np.array([True] * 3))
    first, again, other = bootstrap(data, 120, seed=7), bootstrap(data, 120, seed=7), bootstrap(data, 120, seed=8)
    assert first.interval("adverse_impact_ratio", 0.9) == again.interval("adverse_impact_ratio", 0.9)
    assert first.interval("adverse_impact_ratio", 0.9) != other.interval("adverse_impact_ratio", 0.9)


def test_group_mean_interval_for_the_elderly_group():
    codes, y, scores = population(1000)
    rows = np.flatnonzero(codes == 2)
    values = np.random.default_rng(2).normal(-0.4, 0.1, len(rows))
    data = ResampleData.build(codes, y, scores, 0.15, np.array([True] * 3), group_rows=rows, group_values=values)
    assert data.statistics(np.ones((1, 1000))).overall["group_mean"][0] == pytest.approx(values.mean())
    low, high = bootstrap(data, 200, seed=3).interval("group_mean", 0.95)
    assert low < values.mean() < high and high - low < 0.05
