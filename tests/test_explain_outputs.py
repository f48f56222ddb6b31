"""``governance explain`` end to end: evidence files, the exact age-band decomposition, stability, exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from governance.cli import main


@pytest.fixture(scope="module")
def explained(synthetic_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("explain")
    code = main(["explain", "--model", str(synthetic_run.model_path), "--data", str(synthetic_run.validation_path),
                 "--evaluation", str(synthetic_run.evaluation_path), "--out", str(out), "--stability-resamples", "3"])
    return code, out, json.loads((out / "explain.json").read_text())


def test_cli_writes_explain_json_charts_and_reason_codes(explained):
    code, out, result = explained
    assert code == 0
    assert result["settings"]["threshold"] == 0.2 and result["settings"]["threshold_source"] == "evaluation"
    assert result["shap"]["crosscheck"]["passed"] and result["additivity"]["passed"]
    assert {c["check"] for c in result["checks"]} == {"shap-crosscheck", "shap-additivity", "elderly-age-reasons",
                                                      "reason-stability"}
    assert [i["feature"] for i in result["global"]["importance"]][:1] != ["NumberOfDependents"]
    for name in result["charts"]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert {"explain/importance.png", "explain/beeswarm.png", "explain/dependence.png",
            "explain/age_gap_decomposition.png", "explain/waterfall_1.png"} <= set(result["charts"])
    assert (out / result["reason_codes"]["file"]).is_file()


def test_gap_decomposition_adds_up_exactly(explained):
    _, _, result = explained
    decomposition = result["decomposition"]
    reference = next(b for b in decomposition["bands"] if b["label"] == decomposition["reference"])
    assert reference["gap"] == 0.0 and reference["direct_age"] == 0.0
    for band in decomposition["bands"]:
        if not band["count"]:
            continue
        parts = sum(band["by_feature"].values())
        assert parts + band["residual"] == pytest.approx(band["gap"], abs=1e-12)
        assert band["direct_age"] + band["indirect"] == pytest.approx(parts, abs=1e-12)
        assert abs(band["residual"]) < 1e-4  # the booster's own margin: only float32 rounding is left


def test_stability_is_a_share_and_judged_against_its_threshold(explained):
    _, _, result = explained
    stability = result["stability"]
    assert 0 <= stability["mean_overlap"] <= 1 and stability["resamples"] == 3
    check = next(c for c in result["checks"] if c["check"] == "reason-stability")
    assert check["verdict"] == ("green" if stability["mean_overlap"] >= stability["threshold"] else "amber")


def test_explain_rejects_a_model_with_other_features(synthetic_run, tmp_path, capsys):
    from tests.test_fairness_assess import tiny_model

    code = main(["explain", "--model", str(tiny_model(tmp_path, 4)), "--data", str(synthetic_run.validation_path)])
    err = capsys.readouterr().err
    assert code == 2 and "FEATURE_MISMATCH" in err and "expects 4 features" in err


def test_explain_json_is_deterministic(synthetic_run, explained, tmp_path):
    from governance.explain import explain_model

    _, out, _ = explained
    explain_model(synthetic_run.model_path, synthetic_run.validation_path, tmp_path,
                  evaluation=synthetic_run.evaluation_path, stability_resamples=3)
    for name in ("explain.json", "explain/beeswarm.png", "explain/waterfall_1.png", "explain/reason_codes.csv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    assert np.isfinite(json.loads((tmp_path / "explain.json").read_text())["additivity"]["max_abs_error"])
