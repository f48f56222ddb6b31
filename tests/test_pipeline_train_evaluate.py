"""Train and evaluate: the SageMaker tarball layout, reproducibility, no pickle, and the evaluation metrics."""

from __future__ import annotations

import io
import json
import os
import pickle
import tarfile

import numpy as np
import pytest
import xgboost
from sklearn.metrics import roc_auc_score

from governance.errors import InputError
from governance.hashing import sha256_file
from governance.model_artifact import MODEL_MEMBER, load_booster, tarball_bytes
from pipeline.steps.evaluate import evaluate
from pipeline.steps.train import coerce_hyperparameters, train


def test_tarball_layout_is_the_sagemaker_xgboost_layout(synthetic_run):
    with tarfile.open(synthetic_run.model_path, "r:gz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [MODEL_MEMBER]
    member = members[0]
    assert member.isreg() and member.mtime == 0 and member.uid == member.gid == 0 and member.mode == 0o644
    raw = synthetic_run.model_path.read_bytes()
    assert raw[4:8] == b"\x00\x00\x00\x00"  # gzip header mtime is zero


def test_model_member_is_native_xgboost_not_pickle(synthetic_run):
    with tarfile.open(synthetic_run.model_path, "r:gz") as tar:
        data = tar.extractfile(MODEL_MEMBER).read()
    assert data[:1] == b"{" and data[:1] != b"\x80"
    booster = xgboost.Booster()
    booster.load_model(bytearray(data))
    assert booster.num_boosted_rounds() == 60


def test_training_is_reproducible_byte_for_byte(tmp_path, synthetic_run):
    params = {"num_round": 60}
    first = train(synthetic_run.train_path, synthetic_run.validation_path, tmp_path / "a", params)
    second = train(synthetic_run.train_path, synthetic_run.validation_path, tmp_path / "b", params)
    assert sha256_file(first.model_path) == sha256_file(second.model_path) == sha256_file(synthetic_run.model_path)


def test_the_model_and_its_final_metrics_equal_a_per_round_watch_list_fit(tmp_path, synthetic_run):
    """Metrics are taken once from the finished model: same trees, same numbers as the per-round watch-list."""
    from governance.credit_data import FEATURES, read_split

    params = coerce_hyperparameters({"num_round": 60})
    result = train(synthetic_run.train_path, synthetic_run.validation_path, tmp_path / "m", {"num_round": 60})
    splits = {name: read_split(path) for name, path in (("train", synthetic_run.train_path),
                                                        ("validation", synthetic_run.validation_path))}
    evals = [(xgboost.DMatrix(f[list(FEATURES)], label=f.iloc[:, 0], feature_names=list(FEATURES)), name)
             for name, f in splits.items()]
    history: dict = {}
    watched = xgboost.train({k: v for k, v in params.items() if k != "num_round"}, evals[0][0], num_boost_round=60,
                            evals=evals, evals_result=history, verbose_eval=False)
    assert tarball_bytes({MODEL_MEMBER: bytes(watched.save_raw("ubj"))}) == result.model_path.read_bytes()
    assert result.metadata["final_metrics"] == {f"{split}_auc": values["auc"][-1]
                                                for split, values in history.items()}
    assert result.metadata["monotone_constraint"]["auc_with_constraint"] == history["validation"]["auc"][-1]


def test_the_entry_point_lets_openmp_threads_sleep_and_trains_the_same_bytes(tmp_path, synthetic_run):
    """OMP_WAIT_POLICY=PASSIVE (set by the entry point unless the user chose) changes no byte of the model."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    code = ("import os, sys; from pipeline.steps.train import main; rc = main(sys.argv[1:]); "
            "print(os.environ['OMP_WAIT_POLICY']); raise SystemExit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "--train", str(synthetic_run.train_path), "--validation",
                           str(synthetic_run.validation_path), "--model-dir", str(tmp_path / "m"),
                           "--hyperparameters", str(tmp_path / "none.json"), "--set", "num_round=60"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["PASSIVE"]
    assert sha256_file(tmp_path / "m" / "model.tar.gz") == sha256_file(synthetic_run.model_path)


def test_a_wait_policy_the_user_chose_is_kept(monkeypatch):
    from governance.runtime import prefer_passive_openmp

    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    prefer_passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    monkeypatch.delenv("OMP_WAIT_POLICY")
    prefer_passive_openmp()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_different_hyperparameters_give_a_different_artefact(tmp_path, synthetic_run):
    other = train(synthetic_run.train_path, None, tmp_path / "c", {"num_round": 61})
    assert sha256_file(other.model_path) != sha256_file(synthetic_run.model_path)


def test_hyperparameters_from_sagemaker_strings():
    params = coerce_hyperparameters({"num_round": "10", "eta": "0.3"})
    assert params["num_round"] == 10 and params["eta"] == 0.3
    with pytest.raises(InputError):
        coerce_hyperparameters({"max_depth": "deep"})
    with pytest.raises(InputError):
        coerce_hyperparameters({"objective": "reg:squarederror"})


def test_evaluation_uses_sagemaker_keys_and_matches_sklearn(synthetic_run):
    evaluation = json.loads(synthetic_run.evaluation_path.read_text())
    metrics = evaluation["binary_classification_metrics"]
    for key in ("auc", "gini", "ks", "brier_score", "log_loss", "accuracy", "precision", "recall", "f1"):
        assert isinstance(metrics[key]["value"], float), key
    booster = load_booster(synthetic_run.model_path)
    # The evaluation scores the untouched test split; empty fields (remediated values) are missing.
    assert evaluation["dataset"]["split"] == "test"
    data = np.genfromtxt(synthetic_run.test_path, delimiter=",", missing_values="", filling_values=np.nan)
    scores = booster.predict(xgboost.DMatrix(data[:, 1:], feature_names=booster.feature_names))
    assert metrics["auc"]["value"] == pytest.approx(roc_auc_score(data[:, 0], scores), abs=1e-12)
    assert metrics["gini"]["value"] == pytest.approx(2 * metrics["auc"]["value"] - 1)
    matrix = metrics["confusion_matrix"]
    assert sum(matrix[a][p] for a in "01" for p in "01") == len(data)
    assert matrix["1"]["1"] == int(((scores > evaluation["decision"]["threshold"]) & (data[:, 0] == 1)).sum())
    assert evaluation["model"]["artefact_sha256"] == sha256_file(synthetic_run.model_path)


def test_evaluate_refuses_a_pickled_model(tmp_path, synthetic_run):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(tarball_bytes({MODEL_MEMBER: pickle.dumps({"not": "a model"})}))
    with pytest.raises(InputError) as err:
        evaluate(artefact, synthetic_run.validation_path, tmp_path / "eval")
    assert err.value.reason == "BAD_ARTEFACT"
    assert not (tmp_path / "eval" / "evaluation.json").exists()


@pytest.mark.parametrize(
    "content",
    [b"not a tarball at all", tarball_bytes({"other-file": b"{}"})[:-20], tarball_bytes({"other-file": b"{}"})],
)
def test_evaluate_refuses_corrupt_or_foreign_archives(tmp_path, synthetic_run, content):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(content)
    with pytest.raises(InputError) as err:
        evaluate(artefact, synthetic_run.validation_path, tmp_path / "eval")
    assert err.value.reason in {"CORRUPT_ARCHIVE", "BAD_ARTEFACT"}


def test_model_member_that_is_a_symlink_is_refused(tmp_path, synthetic_run):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        info = tarfile.TarInfo(MODEL_MEMBER)
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(raw.getvalue())
    with pytest.raises(InputError, match="not a regular file"):
        load_booster(artefact)


@pytest.mark.realdata
def test_real_data_auc_and_reproducible_artefact(tmp_path, real_run):
    assert real_run.auc >= 0.85
    again = train(real_run.train_path, real_run.validation_path, tmp_path / "again")
    assert sha256_file(again.model_path) == sha256_file(real_run.model_path)
