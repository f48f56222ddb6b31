"""On the real data: our numbers agree with a plain fairlearn computation, band by band and disparity by disparity."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.realdata


def test_agreement_with_plain_fairlearn(real_run):
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        demographic_parity_ratio,
        equal_opportunity_difference,
        equal_opportunity_ratio,
        equalized_odds_difference,
        selection_rate,
    )
    from sklearn.metrics import roc_auc_score

    from governance.credit_data import read_labelled
    from governance.explain import load_inputs
    from governance.fairness import assess_fairness

    result = assess_fairness(real_run.model_path, real_run.validation_path, {"bootstrap": {"resamples": 20}},
                             evaluation=real_run.evaluation_path)
    features, target = read_labelled(real_run.validation_path)
    scores = load_inputs(real_run.model_path, real_run.validation_path).scores()
    threshold = result["settings"]["threshold"]
    bands = pd.cut(features["age"], [18, 25, 35, 45, 55, 62, 121], right=False,
                   labels=["18-24", "25-34", "35-44", "45-54", "55-61", "62+"])
    assert [b["count"] for b in result["bands"]] == bands.value_counts(sort=False).tolist()
    assert all(b["judged"] for b in result["bands"])  # every band has at least 100 applicants here
    keep = bands.notna().to_numpy()
    y, approved, band = target.to_numpy()[keep], (scores <= threshold)[keep].astype(int), bands[keep]

    frame = MetricFrame(metrics={"approval": selection_rate, "auc": roc_auc_score}, y_true=y,
                        y_pred=approved, sensitive_features=band)
    ours = {b["label"]: b["metrics"] for b in result["bands"]}
    for label, value in frame.by_group["approval"].items():
        assert ours[label]["approval_rate"]["value"] == pytest.approx(value, abs=1e-12)
    auc_by_band = MetricFrame(metrics=roc_auc_score, y_true=y, y_pred=scores[keep], sensitive_features=band)
    disparities = {name: entry["value"] for name, entry in result["disparities"].items()}
    assert disparities["auc_gap"] == pytest.approx(auc_by_band.difference(), abs=1e-12)
    assert disparities["adverse_impact_ratio"] == pytest.approx(
        demographic_parity_ratio(y, approved, sensitive_features=band), abs=1e-12)
    assert disparities["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y, approved, sensitive_features=band), abs=1e-12)
    # Equal opportunity for the favourable outcome: approval among those who repaid.
    assert disparities["equal_opportunity_difference"] == pytest.approx(
        equal_opportunity_difference(1 - y, approved, sensitive_features=band), abs=1e-12)
    assert disparities["equal_opportunity_ratio"] == pytest.approx(
        equal_opportunity_ratio(1 - y, approved, sensitive_features=band), abs=1e-12)
    assert disparities["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y, 1 - approved, sensitive_features=band), abs=1e-12)
    assert all(entry["interval"] is not None for entry in result["disparities"].values())
    # Regulation B: on this model, age lowers the predicted risk of applicants aged 62+.
    assert result["elderly"]["mean_age_shap"] < 0
