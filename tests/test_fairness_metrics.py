"""Known answers on hand-made data: every per-band number, disparity and verdict can be computed by hand here."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from governance.credit_data import FEATURES
from governance.fairness import assess_fairness
from governance.fairness.sweep import threshold_sweep


class FixedScores:
    """A stand-in booster returning known probabilities, so the expected numbers are exact fractions."""

    feature_names = None

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=np.float32)

    def num_features(self) -> int:
        return len(FEATURES)

    def predict(self, matrix, output_margin=False, pred_contribs=False):
        assert matrix.num_row() == len(self.scores)
        return np.log(self.scores / (1 - self.scores)) if output_margin else self.scores


# young (age 30): 4 declined (3 defaulters, 1 good payer), 6 approved (1 defaulter, 5 good payers)
# old (age 70):   2 declined (1 defaulter, 1 good payer),   8 approved (8 good payers)
YOUNG_SCORES = [0.875] * 4 + [0.125] * 6
YOUNG_LABELS = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]  # declined first, then approved
OLD_SCORES = [0.625] * 2 + [0.0625] * 8
OLD_LABELS = [1, 0] + [0] * 8
POLICY = {
    "age": {"bands": [{"label": "young", "min": 18, "max": 61}, {"label": "old", "min": 62}], "min_count": 5},
    "decision": {"threshold": 0.5},
    "bootstrap": {"resamples": 0},
}


def hand_made(age_shap_old: float = -0.25):
    ages = [30.0] * 10 + [70.0] * 10
    features = pd.DataFrame(np.ones((20, len(FEATURES))), columns=list(FEATURES))
    features["age"] = ages
    shap_values = np.zeros((20, len(FEATURES)))
    shap_values[10:, FEATURES.index("age")] = age_shap_old
    return FixedScores(YOUNG_SCORES + OLD_SCORES), (features, np.array(YOUNG_LABELS + OLD_LABELS)), shap_values


def test_per_band_metrics_by_hand():
    model, data, shap_values = hand_made()
    result = assess_fairness(model, data, POLICY, shap_values=shap_values)
    young, old = ({k: v["value"] for k, v in band["metrics"].items()} for band in result["bands"])
    assert young["count"] == 10 and old["count"] == 10
    assert young["approval_rate"] == pytest.approx(0.6) and old["approval_rate"] == pytest.approx(0.8)
    assert young["default_rate"] == pytest.approx(0.4) and old["default_rate"] == pytest.approx(0.1)
    assert young["true_positive_rate"] == pytest.approx(3 / 4) and old["true_positive_rate"] == pytest.approx(1.0)
    assert young["false_positive_rate"] == pytest.approx(1 / 6) and old["false_positive_rate"] == pytest.approx(1 / 9)
    assert young["good_payer_approval_rate"] == pytest.approx(5 / 6)
    assert young["wrongful_declines"] == 1 and old["wrongful_declines"] == 1
    # Mean predicted (4 x 0.875 + 6 x 0.125) / 10 = 0.425 against 0.4 observed: 6.25% over.
    assert young["mean_predicted"] == pytest.approx(0.425)
    assert young["calibration_error"] == pytest.approx(0.0625)
    assert old["calibration_error"] == pytest.approx((2 * 0.625 + 8 * 0.0625) / 10 / 0.1 - 1)
    # 24 defaulter/good pairs: three 0.875 defaulters beat five 0.125 good payers and tie one (5.5 each);
    # the 0.125 defaulter ties five (2.5): AUC = 19 / 24.
    assert young["auc"] == pytest.approx(19 / 24)
    assert young["brier"] == pytest.approx((3 * 0.125**2 + 0.875**2 + 0.875**2 + 5 * 0.125**2) / 10)
    assert young["adverse_impact_ratio"] == pytest.approx(0.75) and old["adverse_impact_ratio"] == 1.0


def test_disparities_and_verdicts_by_hand():
    model, data, shap_values = hand_made()
    result = assess_fairness(model, data, POLICY, shap_values=shap_values)
    disparities = {k: v["value"] for k, v in result["disparities"].items()}
    assert disparities["adverse_impact_ratio"] == pytest.approx(0.75)
    assert result["disparities"]["adverse_impact_ratio"]["reference_band"] == "old"
    assert disparities["demographic_parity_difference"] == pytest.approx(0.2)
    assert disparities["equal_opportunity_ratio"] == pytest.approx((5 / 6) / (8 / 9))
    assert disparities["equal_opportunity_difference"] == pytest.approx(8 / 9 - 5 / 6)
    assert disparities["equalized_odds_difference"] == pytest.approx(0.25)
    checks = {(c["check"], c["resource"]): c for c in result["checks"]}
    # No resamples: a breach is a breach, never "significant".
    assert checks[("adverse-impact-ratio", "young")]["status"] == "breach"
    assert checks[("adverse-impact-ratio", "young")]["verdict"] == "amber"
    assert checks[("demographic-parity-difference", "all")]["verdict"] == "amber"
    assert checks[("calibration", "young")]["verdict"] == "green"
    assert checks[("calibration", "old")]["verdict"] == "amber"
    assert checks[("elderly-age-effect", "62+")]["verdict"] == "green"
    assert result["elderly"]["mean_age_shap"] == pytest.approx(-0.25)
    assert result["verdict"] == "amber"
    assert result["settings"]["threshold_source"] == "policy"


def test_adverse_age_effect_for_the_elderly_is_red():
    model, data, shap_values = hand_made(age_shap_old=0.1)
    result = assess_fairness(model, data, POLICY, shap_values=shap_values)
    elderly = next(c for c in result["checks"] if c["check"] == "elderly-age-effect")
    assert (elderly["verdict"], elderly["status"]) == ("red", "breach")
    assert result["elderly"]["share_adverse"] == 1.0
    assert result["verdict"] == "red"


def test_waiver_turns_red_into_accepted_amber_until_it_expires():
    model, data, shap_values = hand_made()
    strict = {**POLICY, "checks": {"adverse-impact-ratio": {"on_breach": "red"}}}
    assert assess_fairness(model, data, strict, shap_values=shap_values)["verdict"] == "red"
    waiver = {"check": "adverse-*", "resource": "young", "reason": "compensating manual review",
              "approver": "Head of Model Risk", "expires": "2027-06-30"}
    waived = assess_fairness(model, data, {**strict, "waivers": [waiver]}, shap_values=shap_values,
                             today=date(2027, 1, 1))
    check = next(c for c in waived["checks"] if c["check"] == "adverse-impact-ratio" and c["resource"] == "young")
    assert check["verdict"] == "red" and check["waived"] and check["effective_verdict"] == "amber"
    assert waived["verdict"] == "amber" and waived["verdict_without_waivers"] == "red"
    expired = assess_fairness(model, data, {**strict, "waivers": [waiver]}, shap_values=shap_values,
                              today=date(2027, 7, 1))
    assert expired["verdict"] == "red"
    assert expired["expired_waivers"][0]["waiver"]["approver"] == "Head of Model Risk"
    ignored = assess_fairness(model, data, {**strict, "waivers": [waiver]}, shap_values=shap_values,
                              today=date(2027, 1, 1), ignore_waivers=True)
    assert ignored["verdict"] == "red"


def test_small_band_is_reported_not_judged():
    model, data, shap_values = hand_made()
    result = assess_fairness(model, data, {**POLICY, "age": {**POLICY["age"], "bands": [
        {"label": "young", "min": 18, "max": 61}, {"label": "old", "min": 62, "max": 90},
        {"label": "very old", "min": 91}]}}, shap_values=shap_values)
    very_old = result["bands"][2]
    assert very_old["count"] == 0 and not very_old["judged"]
    coverage = [c for c in result["checks"] if c["check"] == "band-coverage"]
    assert [(c["resource"], c["status"]) for c in coverage] == [("very old", "not_judged")]
    assert result["data_checks"]["empty_bands"] == ["very old"]


def test_threshold_sweep_by_hand():
    codes = np.array([0] * 10 + [1] * 10)
    scores = np.array(YOUNG_SCORES + OLD_SCORES)
    sweep = threshold_sweep(codes, scores, np.array(YOUNG_LABELS + OLD_LABELS), ["young", "old"],
                            np.array([True, True]), [0.1, 0.5, 0.9])
    assert sweep["approval_rate"]["young"] == [0.0, 0.6, 1.0]
    assert sweep["approval_rate"]["old"] == [0.8, 0.8, 1.0]
    assert sweep["adverse_impact_ratio"] == [0.0, pytest.approx(0.75), 1.0]
    assert sweep["overall_approval_rate"] == [0.4, 0.7, 1.0]


def test_out_of_range_age_is_a_finding_not_a_band():
    model, (features, labels), shap_values = hand_made()
    features.loc[0, "age"] = 0.0  # a young defaulter recorded with age 0
    result = assess_fairness(model, (features, labels), POLICY, shap_values=shap_values)
    assert result["bands"][0]["count"] == 9
    finding = next(c for c in result["checks"] if c["check"] == "age-out-of-range")
    assert (finding["resource"], finding["verdict"]) == ("age", "amber")
    assert result["data_checks"]["age_quality"]["out_of_range"] == {"count": 1, "examples": [0.0]}
    assert result["data_checks"]["class_balance"]["rows"] == 20


def test_band_without_defaulters_has_no_calibration_ratio_and_is_never_green():
    model, (features, labels), shap_values = hand_made()
    labels = labels.copy()
    labels[10] = 0  # the old band's only defaulter repaid after all
    result = assess_fairness(model, (features, labels), {**POLICY, "bootstrap": {"resamples": 30}},
                             shap_values=shap_values)
    old = result["bands"][1]["metrics"]
    assert old["default_rate"]["value"] == 0.0 and old["calibration_error"]["value"] is None
    assert old["auc"]["value"] is None
    check = next(c for c in result["checks"] if c["check"] == "calibration" and c["resource"] == "old")
    assert (check["status"], check["verdict"]) == ("error", "amber")
