"""SHAP values: agreement with XGBoost's pred_contribs, the additivity check, and a loud failure on bad values."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from governance.errors import InputError
from governance.explain import explain_model, load_inputs, tree_shap
from governance.explain.additivity import additivity


@pytest.fixture(scope="module")
def synthetic_shap(synthetic_run):
    inputs = load_inputs(synthetic_run.model_path, synthetic_run.validation_path)
    return inputs, tree_shap(inputs)


def test_tree_shap_agrees_with_pred_contribs_and_adds_up(synthetic_shap):
    inputs, values = synthetic_shap
    assert values.values.shape == (inputs.rows, 10)
    assert values.crosscheck["passed"] and values.crosscheck["rows"] == inputs.rows
    contribs = inputs.booster.predict(inputs.matrix(), pred_contribs=True)
    # Equal up to float32 rounding: XGBoost sums each tree's float32 contributions in its own order, the per-region
    # computation in another; over 200 trees that is a few units in the last place (measured: 1.2e-6). A wrong
    # attribution would be off by orders of magnitude more.
    assert values.crosscheck["max_abs_difference"] <= 1e-5
    np.testing.assert_allclose(values.values, contribs[:, :-1], atol=1e-5)
    check = additivity(values.values, values.base_value, inputs.margin())
    assert check["passed"] and check["max_abs_error"] < 1e-4


def test_crosscheck_samples_large_inputs_seeded(synthetic_shap):
    inputs, _ = synthetic_shap
    sampled = tree_shap(inputs, crosscheck_rows=100)
    assert sampled.crosscheck["rows"] == 100 and sampled.crosscheck["of_rows"] == inputs.rows
    assert sampled.crosscheck["sample_seed"] is not None and sampled.crosscheck["passed"]


def test_subset_rows_line_up_with_the_full_computation(synthetic_shap):
    inputs, values = synthetic_shap
    rows = np.array([5, 17, 400])
    subset = tree_shap(inputs, rows)
    np.testing.assert_allclose(subset.for_rows(rows, inputs.rows), values.values[rows], atol=1e-9)
    with pytest.raises(InputError, match="SHAP values for data row 6"):
        subset.for_rows(np.array([6]), inputs.rows)


def test_tampered_shap_values_fail_additivity_and_withhold_reasons(synthetic_run, synthetic_shap, tmp_path):
    _, values = synthetic_shap
    tampered = values.values.copy()
    tampered[3, 0] += 0.05
    result = explain_model(synthetic_run.model_path, synthetic_run.validation_path, tmp_path,
                           shap_values=dataclasses.replace(values, values=tampered), stability_resamples=0)
    check = next(c for c in result["checks"] if c["check"] == "shap-additivity")
    assert check["verdict"] == "red" and "row 3" in check["message"]
    assert result["verdict"] == "red"
    assert result["additivity"]["worst_row"] == 3 and result["additivity"]["max_abs_error"] == pytest.approx(0.05, 1e-3)
    assert result["reason_codes"]["withheld"] and "frequency" not in result["reason_codes"]
    assert not (tmp_path / "explain" / "reason_codes.csv").exists()


def test_misaligned_values_fail_additivity():
    check = additivity(np.zeros((3, 2)), 0.0, np.zeros(4))
    assert not check["passed"] and "3 rows of SHAP values for 4 rows" in check["message"]


def test_shap_values_for_other_data_are_refused(synthetic_run, synthetic_shap):
    _, values = synthetic_shap
    short = dataclasses.replace(values, values=values.values[:10])
    with pytest.raises(InputError, match="cover 10 rows"):
        explain_model(synthetic_run.model_path, synthetic_run.validation_path, shap_values=short)
