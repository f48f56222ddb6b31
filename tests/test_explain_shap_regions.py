"""TreeSHAP by region equals XGBoost's whole-model ``pred_contribs``, on awkward models and on the real one."""

from __future__ import annotations

import numpy as np
import pytest
import xgboost

from governance.explain.shap_regions import RegionsUnsupported, tree_contributions


def direct(booster, matrix):
    return booster.predict(xgboost.DMatrix(matrix), pred_contribs=True)


def test_missing_values_ties_at_thresholds_and_deep_trees():
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 6, size=(4000, 5)).astype(np.float64)  # values sit exactly on split points
    matrix[rng.random(matrix.shape) < 0.1] = np.nan
    y = (np.nan_to_num(matrix[:, 0]) + np.nan_to_num(matrix[:, 3]) + rng.normal(size=4000) > 5).astype(int)
    booster = xgboost.train({"max_depth": 8, "objective": "binary:logistic", "base_score": 0.3},
                            xgboost.DMatrix(matrix, label=y), num_boost_round=30)
    np.testing.assert_allclose(tree_contributions(booster, matrix), direct(booster, matrix), atol=2e-5)


def test_grouped_rounds_give_the_same_values():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(1500, 4))
    booster = xgboost.train({"max_depth": 4}, xgboost.DMatrix(matrix, label=matrix[:, 1] > 0), num_boost_round=12)
    np.testing.assert_allclose(tree_contributions(booster, matrix, rounds_per_call=5), direct(booster, matrix),
                               atol=2e-5)


def test_a_wrong_region_would_be_caught():
    """Guard against a test that cannot fail: shuffling rows after the fact breaks the equality."""
    rng = np.random.default_rng(2)
    matrix = rng.normal(size=(800, 3))
    booster = xgboost.train({"max_depth": 3}, xgboost.DMatrix(matrix, label=matrix[:, 0] > 0), num_boost_round=5)
    values = tree_contributions(booster, matrix)
    assert not np.allclose(values[::-1], direct(booster, matrix), atol=1e-3)


def test_unsupported_models_are_refused_for_the_fallback():
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(300, 3))
    linear = xgboost.train({"booster": "gblinear"}, xgboost.DMatrix(matrix, label=matrix[:, 0] > 0), 3)
    with pytest.raises(RegionsUnsupported):
        tree_contributions(linear, matrix)
    multi = xgboost.train({"objective": "multi:softprob", "num_class": 3},
                          xgboost.DMatrix(matrix, label=rng.integers(0, 3, 300)), 3)
    with pytest.raises(RegionsUnsupported):
        tree_contributions(multi, matrix)


@pytest.mark.realdata
def test_real_model_every_row(real_run):
    from governance.explain import load_inputs
    from governance.explain.shap_values import REGIONS_METHOD, tree_shap

    inputs = load_inputs(real_run.model_path, real_run.validation_path)
    values = tree_shap(inputs, crosscheck=False)
    assert values.method == REGIONS_METHOD
    expected = inputs.booster.predict(inputs.matrix(), pred_contribs=True)
    np.testing.assert_allclose(values.values, expected[:, :-1], atol=1e-4)
    assert values.base_value == pytest.approx(float(expected[0, -1]), abs=1e-6)
