"""``governance fairness`` end to end on the synthetic pipeline run: evidence files, determinism, exit codes."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from governance.cli import main
from governance.fairness import assess_fairness


def args_for(run, *extra: str) -> list[str]:
    return ["fairness", "--model", str(run.model_path), "--data", str(run.validation_path),
            "--evaluation", str(run.evaluation_path), "--resamples", "40", *extra]


def test_cli_writes_fairness_json_and_charts(synthetic_run, tmp_path, capsys):
    assert main(args_for(synthetic_run, "--out", str(tmp_path))) == 0
    err = capsys.readouterr().err
    assert "fairness    AMBER" in err and "band-coverage [18-24]" in err
    result = json.loads((tmp_path / "fairness.json").read_text())
    assert result["settings"]["threshold"] == 0.2 and result["settings"]["threshold_source"] == "evaluation"
    assert result["settings"]["bootstrap"]["resamples"] == 40
    assert [b["label"] for b in result["bands"]] == ["18-24", "25-34", "35-44", "45-54", "55-61", "62+"]
    assert not result["bands"][0]["judged"] and result["bands"][-1]["judged"]
    assert {"fairlearn", "numpy", "shap", "python"} <= set(result["libraries"])
    assert {"xgboost", "xgboost-cpu"} & set(result["libraries"])
    assert result["elderly"]["mean_age_shap"] < 0 and result["elderly"]["shap"]["crosscheck"]["passed"]
    for name in result["charts"]:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    interval = result["disparities"]["demographic_parity_difference"]["interval"]
    assert interval[0] <= result["disparities"]["demographic_parity_difference"]["value"] <= interval[1]


def test_outputs_are_byte_identical_run_to_run(synthetic_run, tmp_path):
    policy = {"bootstrap": {"resamples": 30}}
    for out in ("a", "b"):
        assess_fairness(synthetic_run.model_path, synthetic_run.validation_path, policy, tmp_path / out,
                        synthetic_run.evaluation_path, today=date(2026, 11, 29))
    first = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(first) == 6
    for relative in first:
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative


def test_precomputed_shap_gives_the_same_elderly_result(synthetic_run):
    from governance.explain import load_inputs, tree_shap

    values = tree_shap(load_inputs(synthetic_run.model_path, synthetic_run.validation_path))
    policy = {"bootstrap": {"resamples": 20}}
    own = assess_fairness(synthetic_run.model_path, synthetic_run.validation_path, policy)
    shared = assess_fairness(synthetic_run.model_path, synthetic_run.validation_path, policy, shap_values=values)
    assert shared["elderly"]["mean_age_shap"] == pytest.approx(own["elderly"]["mean_age_shap"], abs=1e-9)
    assert shared["elderly"]["shap"]["source"] == "precomputed"


def strict_policy(tmp_path, waiver: str = ""):
    path = tmp_path / "strict.yaml"
    path.write_text("kind: fairness\nchecks:\n  adverse-impact-ratio:\n    limit: 0.999\n"
                    "    on_significant: red\n    on_breach: red\n" + waiver)
    return path


def test_red_verdict_exits_1_and_a_waiver_lets_it_pass(synthetic_run, tmp_path, capsys):
    assert main(args_for(synthetic_run, "--policy", str(strict_policy(tmp_path)))) == 1
    err = capsys.readouterr().err
    assert "governance fairness: FAIRNESS_BREACH: adverse-impact-ratio" in err and "Traceback" not in err
    waiver = ("waivers:\n  - check: adverse-impact-ratio\n    resource: '*'\n    reason: accepted pending retrain\n"
              "    approver: Chief Risk Officer\n    expires: 2999-12-31\n")
    policy = strict_policy(tmp_path, waiver)
    assert main(args_for(synthetic_run, "--policy", str(policy))) == 0
    assert "waived by Chief Risk Officer" in capsys.readouterr().err
    assert main(args_for(synthetic_run, "--policy", str(policy), "--ignore-waivers")) == 1


def tiny_model(tmp_path, n_features: int):
    import xgboost

    from governance.model_artifact import write_model_tarball

    rng = np.random.default_rng(0)
    x = rng.random((200, n_features))
    booster = xgboost.train({"objective": "binary:logistic", "nthread": 1}, xgboost.DMatrix(x, label=x[:, 0] > 0.5), 3)
    path = tmp_path / f"model-{n_features}.tar.gz"
    write_model_tarball(path, bytes(booster.save_raw("ubj")))
    return path


@pytest.mark.parametrize("case", ["feature_mismatch", "no_age_column", "single_class", "empty_bands", "unknown_key",
                                  "one_judged_band", "missing_file"])
def test_bad_input_is_exit_2_with_one_line(case, synthetic_run, synthetic_csv, tmp_path, capsys):
    model, data, extra = str(synthetic_run.model_path), str(synthetic_run.validation_path), []
    if case == "feature_mismatch":
        model = str(tiny_model(tmp_path, 5))
    elif case == "no_age_column":
        lines = synthetic_csv.read_text().splitlines()[:300]
        header = lines[0].split(",")
        keep = [i for i, name in enumerate(header) if name != "age"]
        data = tmp_path / "no-age.csv"
        data.write_text("\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n")
    elif case == "single_class":
        rows = synthetic_run.validation_path.read_text().splitlines()[:200]
        data = tmp_path / "single.csv"
        data.write_text("\n".join("0" + row[row.index(","):] for row in rows) + "\n")
    elif case in ("empty_bands", "unknown_key", "one_judged_band"):
        policy = tmp_path / "policy.yaml"
        policy.write_text({"empty_bands": "age:\n  bands: []\n",
                           "unknown_key": "kind: fairness\nbootstrap:\n  resample: 10\n",
                           "one_judged_band": "age:\n  bands:\n    - {label: all, min: 18}\n"}[case])
        extra = ["--policy", str(policy)]
    elif case == "missing_file":
        data = tmp_path / "nope.csv"
    code = main(["fairness", "--model", model, "--data", str(data), "--resamples", "5", *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    expected = {"feature_mismatch": "FEATURE_MISMATCH", "no_age_column": "missing column 'age'",
                "single_class": "SINGLE_CLASS", "empty_bands": "policy.yaml:2: age.bands: no age bands defined",
                "unknown_key": "policy.yaml:3: bootstrap.resample: unknown key", "one_judged_band": "TOO_FEW_BANDS",
                "missing_file": "FILE_NOT_FOUND"}[case]
    assert expected in err
    assert not (tmp_path / "fairness.json").exists()


@pytest.mark.servers
def test_evidence_can_go_to_s3(aws, synthetic_run):
    from governance.storage import s3_client

    client = s3_client()
    client.create_bucket(Bucket="evidence")
    assess_fairness(synthetic_run.model_path, synthetic_run.validation_path, {"bootstrap": {"resamples": 10}},
                    "s3://evidence/v1/", synthetic_run.evaluation_path)
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="evidence")["Contents"])
    assert keys[0] == "v1/fairness.json" and "v1/fairness/threshold_sweep.png" in keys and len(keys) == 6
    body = client.get_object(Bucket="evidence", Key="v1/fairness.json")["Body"].read()
    assert json.loads(body)["settings"]["threshold_source"] == "evaluation"
