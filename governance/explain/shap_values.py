"""SHAP values of the credit model in log-odds space, computed once and checked against XGBoost's own.

Tree-path-dependent TreeSHAP (raw output = log-odds of default) gives one value per applicant and feature. It is
computed by XGBoost's ``pred_contribs`` one boosting round at a time, once per region of rows that round cannot
tell apart (:mod:`governance.explain.shap_regions`: exact, and about 500 times less work on 300,000 rows); models
that argument does not cover go through ``shap.TreeExplainer``. Agreement with a direct whole-model
``pred_contribs`` is checked on every run, so a library change cannot silently alter the explanations.

>>> from governance.explain.inputs import load_inputs
>>> values = tree_shap(load_inputs("model/model.tar.gz", "data/validation.csv"))
>>> values.values.shape, values.crosscheck["passed"]
((1000, 10), True)

Pass the same :class:`ShapValues` to :func:`governance.explain.explain_model` and
:func:`governance.fairness.assess_fairness` so that SHAP is computed once when both run.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from governance.credit_data import FEATURES
from governance.errors import Incomplete, InputError

# float32 trees: SHAP sums and XGBoost's margin agree to ~1e-5 on this model; 1e-3 log-odds is far below any effect.
CROSSCHECK_TOLERANCE = 1e-3
# pred_contribs costs as much as TreeSHAP itself; a seeded sample of this many rows finds any systematic
# disagreement, and the additivity check covers every row independently.
CROSSCHECK_ROWS = 5000
CROSSCHECK_SEED = 20261129
SHAP_METHOD = "shap.TreeExplainer(feature_perturbation='tree_path_dependent', model_output='raw')"
REGIONS_METHOD = ("path-dependent TreeSHAP by XGBoost pred_contribs, one call per boosting round on one representative "
                  "row per region of equal split decisions (governance.explain.shap_regions)")


@dataclass(frozen=True)
class ShapValues:
    """Per-row SHAP values (rows × :data:`FEATURES`), the expected value, and how they were checked.

    ``rows`` are positions in the data they were computed on (``None`` = every row, in order).
    """

    values: np.ndarray
    base_value: float
    rows: np.ndarray | None = None
    crosscheck: dict = field(default_factory=dict)
    method: str = SHAP_METHOD

    def column(self, feature: str) -> np.ndarray:
        return self.values[:, FEATURES.index(feature)]

    def for_rows(self, rows: np.ndarray, total_rows: int) -> np.ndarray:
        """SHAP values of the data's ``rows`` (positions), whatever subset these values were computed on."""
        rows = np.asarray(rows)
        if self.rows is None:
            if len(self.values) != total_rows:
                raise InputError("SHAP_MISMATCH",
                                 f"SHAP values cover {len(self.values)} rows, the data has {total_rows}")
            return self.values[rows]
        position = {int(r): i for i, r in enumerate(self.rows)}
        try:
            return self.values[[position[int(r)] for r in rows]]
        except KeyError as err:
            raise InputError("SHAP_MISMATCH", f"no SHAP values for data row {err.args[0]}") from None

    def summary(self) -> dict:
        return {"method": self.method, "base_value": self.base_value, "rows": len(self.values),
                "crosscheck": self.crosscheck}


def _explainer(booster):
    import shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent", model_output="raw")


def _scalar(value) -> float:
    return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])


def tree_shap(inputs, rows: np.ndarray | None = None, *, crosscheck: bool = True,
              crosscheck_rows: int | None = CROSSCHECK_ROWS, tolerance: float = CROSSCHECK_TOLERANCE) -> ShapValues:
    """TreeSHAP for ``inputs`` (a :class:`~governance.explain.inputs.ScoringInputs`), optionally for ``rows`` only.

    With ``crosscheck`` the values are compared with ``booster.predict(pred_contribs=True)`` on a seeded sample of
    ``crosscheck_rows`` rows (``None``: every row) and the result is recorded in ``.crosscheck`` (``passed`` false
    above ``tolerance``); callers decide how loudly to fail — explanations that two implementations disagree on
    are not explanations.
    """
    booster = inputs.booster
    values_all = inputs.features.to_numpy(dtype=np.float64)
    matrix = values_all if rows is None else values_all[np.asarray(rows)]
    method = REGIONS_METHOD
    try:
        # Exact and far cheaper on many rows: each tree is evaluated once per region of rows it cannot tell apart.
        from governance.explain.shap_regions import RegionsUnsupported, tree_contributions

        contributions = tree_contributions(booster, matrix)
        shap_values, base_value = contributions[:, :-1], float(contributions[0, -1])
    except RegionsUnsupported:
        method = SHAP_METHOD
        explainer = _explainer(booster)
        try:
            shap_values = np.asarray(explainer.shap_values(matrix, check_additivity=False), dtype=np.float64)
        except Exception as err:  # shap raises bare Exceptions for unsupported models
            raise Incomplete("SHAP_FAILED", f"{inputs.model_label}: TreeSHAP could not run ({err})") from None
        base_value = _scalar(explainer.expected_value)
    if shap_values.shape != (len(matrix), len(FEATURES)):
        raise Incomplete("SHAP_FAILED",
                         f"TreeSHAP returned shape {shap_values.shape}, expected {(len(matrix), len(FEATURES))}")
    record: dict = {"performed": False}
    if crosscheck:
        from governance.explain.inputs import dmatrix

        checked = np.arange(len(matrix))
        if crosscheck_rows is not None and len(matrix) > crosscheck_rows:
            rng = np.random.default_rng(CROSSCHECK_SEED)
            checked = np.sort(rng.choice(len(matrix), crosscheck_rows, replace=False))
        contribs = booster.predict(dmatrix(booster, matrix[checked]), pred_contribs=True).astype(np.float64)
        difference = np.abs(contribs[:, :-1] - shap_values[checked])
        record = {
            "performed": True,
            "reference": "xgboost Booster.predict(pred_contribs=True)",
            "rows": len(checked),
            "of_rows": len(matrix),
            "sample_seed": CROSSCHECK_SEED if len(checked) < len(matrix) else None,
            "max_abs_difference": float(difference.max()) if difference.size else 0.0,
            "base_value_difference": float(abs(contribs[0, -1] - base_value)) if len(contribs) else 0.0,
            "tolerance": tolerance,
        }
        record["passed"] = bool(max(record["max_abs_difference"], record["base_value_difference"]) <= tolerance)
    return ShapValues(shap_values, base_value, None if rows is None else np.asarray(rows), record, method)
