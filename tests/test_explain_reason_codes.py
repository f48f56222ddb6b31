"""Reason codes on constructed cases: known top reasons, plain wording, and elderly applicants flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from governance.credit_data import FEATURES
from governance.explain import REASONS, explain_model
from governance.explain.reason_codes import frequency, top_reasons

UTIL, AGE, LATE30, DEBT, INCOME = 0, 1, 2, 3, 4


def test_top_reasons_are_the_largest_positive_contributions_in_order():
    values = np.zeros((3, 10))
    values[0, [UTIL, AGE, LATE30, DEBT, INCOME]] = [0.1, 0.5, 0.3, 0.2, 0.05]   # five positive: keep four
    values[1, [UTIL, DEBT]] = [-0.4, 0.2]                                      # one positive only
    values[2] = -0.1                                                            # nothing pushed towards decline
    codes = top_reasons(values, top=4)
    assert codes.tolist() == [[AGE, LATE30, DEBT, UTIL], [DEBT, -1, -1, -1], [-1, -1, -1, -1]]
    table = {row["code"]: row for row in frequency(codes)}
    assert table["DEBT_RATIO"]["count"] == 2 and table["DEBT_RATIO"]["first"] == 1
    assert table["AGE"]["first"] == 1 and table["INCOME"]["count"] == 0


def test_every_feature_has_its_own_plain_language_reason():
    assert set(REASONS) == set(FEATURES)
    assert len({r.code for r in REASONS.values()}) == len(FEATURES)
    for reason in REASONS.values():
        assert reason.text.endswith(".") and "_" not in reason.text and len(reason.text) < 120
        text, shown = reason.wording(3.0)
        assert "{" not in text and shown


def age_penalising_case(rows: int = 3000):
    """Default driven by utilisation and, for this constructed model, by being over 70: age counts against the old."""
    import xgboost

    rng = np.random.default_rng(4)
    frame = pd.DataFrame(np.zeros((rows, len(FEATURES))), columns=list(FEATURES))
    frame["age"] = rng.integers(25, 90, rows).astype(float)
    frame["RevolvingUtilizationOfUnsecuredLines"] = rng.random(rows)
    frame["MonthlyIncome"] = rng.normal(5000, 1000, rows)
    risk = -3 + 2.5 * frame["RevolvingUtilizationOfUnsecuredLines"] + 2.0 * (frame["age"] > 70)
    target = (rng.random(rows) < 1 / (1 + np.exp(-risk))).astype(int)
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0},
                            xgboost.DMatrix(frame.to_numpy(), label=target), 30)
    return booster, frame, target


def test_declined_elderly_applicants_with_age_as_a_reason_are_flagged(tmp_path):
    booster, frame, target = age_penalising_case()
    result = explain_model(booster, (frame, target), tmp_path, threshold=0.3, stability_resamples=2,
                           stability_applicants=50)
    reasons = result["reason_codes"]
    flagged = reasons["elderly_flagged"]
    assert flagged["count"] > 0 and flagged["min_age"] == 62
    assert all(frame["age"].iloc[row] >= 62 for row in flagged["rows"])
    check = next(c for c in result["checks"] if c["check"] == "elderly-age-reasons")
    assert check["verdict"] == "amber" and check["resource"] == "62+"
    # The csv lists every declined applicant; flagged rows carry AGE among their reasons.
    lines = (tmp_path / "explain" / "reason_codes.csv").read_text().splitlines()
    assert lines[0] == "row,age,probability_of_default,reason_1,reason_2,reason_3,reason_4"
    assert len(lines) - 1 == reasons["declined"]
    by_row = {int(line.split(",")[0]): line.split(",")[3:] for line in lines[1:]}
    assert all("AGE" in by_row[row] for row in flagged["rows"])
    # The constructed model's two drivers are the two most frequent first reasons.
    first = sorted(reasons["frequency"], key=lambda r: -r["first"])
    assert {r["code"] for r in first[:2]} == {"UTILISATION", "AGE"}
    example = reasons["examples"][0]["reasons"][0]
    assert example["text"] == REASONS[example["feature"]].wording(example["value"])[0] and example["shap"] > 0
    # Direct age effect: applicants over 70 are scored riskier because of age itself.
    old = next(b for b in result["decomposition"]["bands"] if b["label"] == "62+")
    assert old["mean_age_shap"] > 0


def test_no_declines_means_no_reasons_and_no_flags():
    booster, frame, target = age_penalising_case(500)
    result = explain_model(booster, (frame, target), threshold=0.999, stability_resamples=0)
    assert result["reason_codes"]["declined"] == 0
    assert result["reason_codes"]["elderly_flagged"]["count"] == 0
    assert result["reason_codes"]["examples"] == []
    assert result["verdict"] == "green"


@pytest.mark.parametrize("top", [1, 4])
def test_top_reasons_width(top):
    assert top_reasons(np.ones((2, 10)), top=top).shape == (2, top)


LATE90, DEPENDANTS, PROPERTY = 6, 9, 7


def test_a_factor_with_a_neutral_value_is_never_a_reason():
    values = np.zeros((2, 10))
    values[:, [LATE90, DEPENDANTS, UTIL]] = [0.9, 0.5, 0.2]      # the model pushes all three towards decline
    features = np.zeros((2, 10))
    features[:, UTIL] = 0.95
    features[1, [LATE90, DEPENDANTS]] = [2, 3]                   # only the second applicant has late payments
    codes = top_reasons(values, top=4, features=features)
    assert codes[0].tolist() == [UTIL, -1, -1, -1]               # no "late payments" or "dependants" for zeros
    assert codes[1].tolist() == [LATE90, DEPENDANTS, UTIL, -1]
    missing = np.full((1, 10), np.nan)  # a missing count or ratio says nothing either
    assert top_reasons(values[:1], top=4, features=missing)[0].tolist() == [-1, -1, -1, -1]


def test_sentinel_codes_are_shown_as_codes_and_counts_as_counts():
    late = REASONS["NumberOfTimes90DaysLate"]
    for code in (96.0, 98.0):
        text, shown = late.wording(code)
        assert shown == f"code {code:.0f} (not a count)" and "in place of a count" in text
        assert f"{code:.0f} time" not in text
    text, shown = late.wording(2.0)
    assert text == "You have been 90 days or more late with a payment 2 time(s)." and shown == "2"


def test_age_is_named_as_age_with_the_applicants_age():
    text, shown = REASONS["age"].wording(45.0)
    assert text.startswith("Your age (45): ") and shown == "45 years"
    assert REASONS["age"].code == "AGE"


def test_explain_evidence_never_cites_a_zero_count(tmp_path):
    """A constructed model where having no dependants raises the risk: SHAP is positive at zero, yet never cited."""
    import xgboost

    rng = np.random.default_rng(7)
    rows = 3000
    frame = pd.DataFrame(np.zeros((rows, len(FEATURES))), columns=list(FEATURES))
    frame["age"] = rng.integers(25, 60, rows).astype(float)
    frame["RevolvingUtilizationOfUnsecuredLines"] = rng.random(rows)
    frame["NumberOfDependents"] = rng.integers(0, 4, rows).astype(float)
    risk = -3 + 2.5 * frame["RevolvingUtilizationOfUnsecuredLines"] + 1.5 * (frame["NumberOfDependents"] == 0)
    target = (rng.random(rows) < 1 / (1 + np.exp(-risk))).astype(int)
    booster = xgboost.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": 0},
                            xgboost.DMatrix(frame.to_numpy(), label=target), 30)
    result = explain_model(booster, (frame, target), tmp_path, threshold=0.3, stability_resamples=0)
    reasons = result["reason_codes"]
    assert reasons["suppressed"].get("DEPENDANTS", 0) > 0  # the model did push zero dependants towards decline
    for example in reasons["examples"]:
        for reason in example["reasons"]:
            kind = REASONS[reason["feature"]].kind
            assert not (kind in ("late", "count") and reason["value"] == 0), reason
    lines = (tmp_path / "explain" / "reason_codes.csv").read_text().splitlines()[1:]
    declined_rows = [int(line.split(",")[0]) for line in lines if "DEPENDANTS" in line.split(",")[3:]]
    assert all(frame["NumberOfDependents"].iloc[row] > 0 for row in declined_rows)
