"""DeLong's test against known results: sklearn's AUC, a bootstrap of the paired difference, a null case."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from governance.errors import InputError
from governance.validation.delong import delong_test


def _scores(seed: int = 1, n: int = 3000):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = y + rng.normal(0, 1.2, n)
    b = 0.8 * y + 0.5 * a + rng.normal(0, 1.2, n)
    return y, a, b


def test_aucs_are_sklearns_and_the_standard_error_matches_a_paired_bootstrap():
    y, a, b = _scores()
    result = delong_test(y, a, b)
    assert result["auc_a"] == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert result["auc_b"] == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    rng = np.random.default_rng(7)
    differences = []
    for _ in range(1000):
        index = rng.integers(0, len(y), len(y))
        differences.append(roc_auc_score(y[index], a[index]) - roc_auc_score(y[index], b[index]))
    assert result["standard_error"] == pytest.approx(np.std(differences), rel=0.1)
    assert result["se_a"] == pytest.approx(np.std([roc_auc_score(y[i], a[i]) for i in
                                                   (rng.integers(0, len(y), len(y)) for _ in range(300))]), rel=0.15)
    low, high = result["interval"]
    assert low < result["difference"] < high and result["p_value"] < 0.05  # b is built to be better


def test_ties_count_half_and_identical_scores_give_no_difference():
    y = np.array([0, 0, 1, 1, 0, 1])
    tied = np.array([0.5, 0.5, 0.5, 0.9, 0.1, 0.5])
    result = delong_test(y, tied, tied)
    assert result["auc_a"] == pytest.approx(roc_auc_score(y, tied))
    assert result["difference"] == 0 and result["p_value"] == 1.0


def test_one_class_is_refused():
    with pytest.raises(InputError) as err:
        delong_test(np.zeros(5), np.arange(5), np.arange(5))
    assert err.value.reason == "SINGLE_CLASS"
