"""The per-applicant elderly test (Regulation B 1002.6(b)(2)) and the monotone age constraint that makes it pass."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from governance.credit_data import FEATURES, read_split
from governance.elderly_counterfactual import elderly_counterfactual
from pipeline.steps.train import train


def _trained(tmp_path, run, name: str, **overrides):
    return train(run.train_path, run.validation_path, tmp_path / name, {"num_round": 60, **overrides})


def _test_features(run) -> pd.DataFrame:
    return read_split(run.test_path)[list(FEATURES)]


def _booster(path):
    from governance.model_artifact import load_booster

    return load_booster(path)


def test_without_the_constraint_some_elderly_applicants_fail_with_it_none_do(tmp_path, synthetic_run):
    features = _test_features(synthetic_run)
    free = _trained(tmp_path, synthetic_run, "free", monotone_constraints="")
    constrained = _trained(tmp_path, synthetic_run, "constrained")
    unconstrained_result = elderly_counterfactual(_booster(free.model_path), features)
    constrained_result = elderly_counterfactual(_booster(constrained.model_path), features)
    assert unconstrained_result["applicants"] == constrained_result["applicants"] > 50
    assert unconstrained_result["passed"] is False and unconstrained_result["failed"] > 0
    worst = unconstrained_result["examples"][0]
    assert worst["score"] > worst["best_younger_score"] and worst["best_younger_age"] < 62 <= worst["age"]
    assert constrained_result["passed"] is True and constrained_result["failed"] == 0
    # The constraint's cost is recorded with the model.
    cost = constrained.metadata["monotone_constraint"]
    assert cost["split"] == "validation" and cost["constraints"].count("-1") == 1
    assert cost["auc_cost"] == pytest.approx(cost["auc_without_constraint"] - cost["auc_with_constraint"])


def test_the_fairness_check_is_red_when_one_applicant_fails(tmp_path, synthetic_run):
    from governance.fairness import assess_fairness

    free = _trained(tmp_path, synthetic_run, "free", monotone_constraints="")
    policy = {"bootstrap": {"resamples": 0}}
    result = assess_fairness(str(free.model_path), str(synthetic_run.test_path), policy)
    finding = next(c for c in result["checks"] if c["check"] == "elderly-counterfactual")
    assert finding["verdict"] == "red" and result["verdict"] == "red"
    assert result["elderly_counterfactual"]["failed"] == finding["value"] > 0
    passing = assess_fairness(str(synthetic_run.model_path), str(synthetic_run.test_path), policy)
    finding = next(c for c in passing["checks"] if c["check"] == "elderly-counterfactual")
    assert finding["verdict"] == "green" and passing["elderly_counterfactual"]["share_failed"] == 0


def test_age_is_never_a_decline_reason_for_the_elderly_when_the_test_passes(tmp_path, synthetic_run):
    from governance.explain import explain_model

    result = explain_model(str(synthetic_run.model_path), str(synthetic_run.test_path), tmp_path / "out",
                           threshold=0.05, stability_resamples=0)
    reasons = result["reason_codes"]
    assert reasons["elderly_counterfactual"]["passed"] is True
    assert reasons["elderly_flagged"]["age_withheld_as_reason"] is True
    assert reasons["elderly_flagged"]["count"] == 0
    rows = (tmp_path / "out" / "explain" / "reason_codes.csv").read_text().splitlines()
    header = rows[0].split(",")
    age_column = header.index("age") if "age" in header else None
    if age_column is not None:
        for line in rows[1:]:
            cells = line.split(",")
            if float(cells[age_column]) >= 62:
                assert "AGE" not in cells


def test_the_doctest_case_fails_and_no_elderly_means_not_run():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.uniform(0, 1, (300, 10)), columns=list(FEATURES))
    x["age"] = rng.integers(20, 60, 300)
    import xgboost

    booster = xgboost.train({"max_depth": 2}, xgboost.DMatrix(x, label=(x["age"] > 40).astype(int)), 5)
    assert elderly_counterfactual(booster, x)["passed"] is None


@pytest.mark.realdata
def test_real_data_test_auc_elderly_and_no_sentinels(real_run):
    evaluation = json.loads(real_run.evaluation_path.read_text())
    assert evaluation["dataset"]["split"] == "test"
    assert evaluation["binary_classification_metrics"]["auc"]["value"] >= 0.85
    features = _test_features(real_run)
    result = elderly_counterfactual(_booster(real_run.model_path), features)
    assert result["applicants"] > 5000 and result["failed"] == 0
    for path in (real_run.train_path, real_run.validation_path, real_run.test_path):
        frame = read_split(path)
        late = frame[["NumberOfTime30-59DaysPastDueNotWorse", "NumberOfTime60-89DaysPastDueNotWorse",
                      "NumberOfTimes90DaysLate"]]
        assert not late.isin([96, 98]).any().any()
        assert frame["age"].min() >= 18
    remediation = real_run.profile["remediation"]
    assert remediation["excluded_rows"]["age_out_of_range"] == 1
    assert all(n == 269 for n in remediation["sentinel_to_missing"].values())
    assert remediation["debt_ratio_without_income"]["set_missing"] == 29731
    cost = json.loads((real_run.model_path.parent / "training.json").read_text())["monotone_constraint"]
    assert cost["auc_with_constraint"] >= 0.85
