"""Recording a run: digests of every input and output, the code that ran, runtime, parameters, times."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import pipeline.steps.evaluate
import pipeline.steps.process
import pipeline.steps.train
from governance.errors import CheckFailed
from governance.lineage import record_pipeline_run
from governance.lineage.provenance import SLSA_PROVENANCE_V1
from governance.lineage.record import record_steps
from governance.signing import dsse
from tests.conftest import REAL_DATA_SHA256
from tests.lineage_support import copy_run, flip_byte, keypair


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def statements(evidence: Path, verifier) -> dict[str, dict]:
    return {p.name.split(".")[0]: dsse.verify_envelope(json.loads(p.read_text()), verifier)
            for p in sorted((evidence / "provenance").glob("*.intoto.json"))}


def test_each_step_records_its_files_code_runtime_parameters_and_times(synthetic_run):
    steps = {s.name: s for s in record_steps(synthetic_run)}
    assert list(steps) == ["process", "train", "evaluate", "register"]
    process, train, evaluate = steps["process"], steps["train"], steps["evaluate"]
    assert process.input("dataset").sha256 == sha256(synthetic_run.data)
    assert process.output("validation").sha256 == sha256(synthetic_run.validation_path)
    assert train.output("model").sha256 == sha256(synthetic_run.model_path)
    assert evaluate.output("evaluation").sha256 == sha256(synthetic_run.evaluation_path)
    for step, module in ((process, pipeline.steps.process), (train, pipeline.steps.train),
                         (evaluate, pipeline.steps.evaluate)):
        assert step.code.sha256 == sha256(module.__file__)
        assert step.code.path == module.__name__.replace(".", "/") + ".py"
    assert process.parameters == {"validation_fraction": 0.2, "test_fraction": 0.2, "seed": 42}
    # The evaluation reads the untouched test split the process step wrote, by digest.
    evaluated = next(r for r in evaluate.inputs if r.role == "test")
    assert evaluated.sha256 == process.output("test").sha256 == sha256(synthetic_run.test_path)
    assert train.parameters["num_round"] == 60 and train.parameters["max_depth"] == 4
    assert {"python", "xgboost", "pandas"} <= set(train.runtime)
    metadata = train.output("training_metadata")
    assert metadata.uri == "model/training.json" == metadata.path  # relative to the run folder
    assert train.runtime["xgboost"] == json.loads(Path(synthetic_run.workdir, metadata.uri).read_text())[
        "xgboost_version"]
    assert process.started_at.endswith("Z") and process.started_at <= process.finished_at <= train.started_at
    assert steps["register"].model_package == synthetic_run.package.arn
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(pipeline.steps.train.__file__).parent,
                          capture_output=True, text=True, check=False)
    if head.returncode == 0:
        assert train.code.git_commit == head.stdout.strip()
        assert train.code.git_state in {"clean", "modified", "untracked"}


def test_the_dataset_digest_is_the_file_as_given_and_its_content(real_run):
    process = record_steps(real_run)[0]
    dataset = process.input("dataset")
    assert dataset.sha256 == sha256(real_run.data) == real_run.profile["source"]["sha256"]
    with gzip.open(real_run.data, "rb") as plain:
        assert dataset.content_sha256 == hashlib.sha256(plain.read()).hexdigest() == REAL_DATA_SHA256
    assert dataset.content_sha256 == real_run.profile["source"]["content_sha256"]
    assert dataset.annotations["rows"] == 150000 and dataset.annotations["synthetic"] is False


def test_statements_are_slsa_provenance_chained_by_digest(synthetic_run, tmp_path):
    run_json = copy_run(synthetic_run, tmp_path / "work")
    signer, verifier, _ = keypair()
    record = record_pipeline_run(run_json, tmp_path / "work" / "evidence", signer)
    signed = statements(tmp_path / "work" / "evidence", verifier)
    assert sorted(signed) == ["evaluate", "process", "register", "train"]
    assert {s["predicateType"] for s in signed.values()} == {SLSA_PROVENANCE_V1}

    def subjects(step):
        return {s["annotations"]["role"]: s["digest"]["sha256"] for s in signed[step]["subject"]}

    def consumed(step):
        return {d["annotations"]["role"]: d["digest"].get("sha256")
                for d in signed[step]["predicate"]["buildDefinition"]["resolvedDependencies"]}

    for producer, consumer, role in (("process", "train", "train"), ("process", "train", "validation"),
                                     ("train", "evaluate", "model"), ("process", "evaluate", "test"),
                                     ("train", "register", "model"), ("evaluate", "register", "evaluation")):
        assert subjects(producer)[role] == consumed(consumer)[role]
    package = signed["register"]["subject"][0]
    assert package["name"] == synthetic_run.package.arn
    assert package["digest"]["sha256"] == subjects("train")["model"] == sha256(synthetic_run.model_path)
    assert consumed("train")["code"] == sha256(pipeline.steps.train.__file__)
    assert record.summary["model_package"]["sha256"] == package["digest"]["sha256"]
    evidence = tmp_path / "work" / "evidence"
    assert {"lineage.json", "lineage.png", "training.json"} <= {p.name for p in evidence.iterdir()}


def test_sagemaker_job_and_image_are_recorded(synthetic_run, tmp_path):
    run_json = copy_run(synthetic_run, tmp_path / "work")
    signer, verifier, _ = keypair()
    arn = "arn:aws:sagemaker:eu-west-1:111122223333:training-job/quickloan-train-1"
    image = "683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost@sha256:" + "c" * 64
    record_pipeline_run(run_json, tmp_path / "work" / "evidence", signer,
                        sagemaker={"train": {"job_arn": arn, "image_uri": image}}, graph=False)
    details = statements(tmp_path / "work" / "evidence", verifier)["train"]["predicate"]["runDetails"]
    assert details["metadata"]["invocationId"] == arn
    assert details["builder"]["builderDependencies"] == [{"name": "container image", "uri": image,
                                                          "digest": {"sha256": "c" * 64}}]


def test_a_file_changed_after_the_run_is_not_recorded(synthetic_run, tmp_path):
    run_json = copy_run(synthetic_run, tmp_path / "work")
    flip_byte(tmp_path / "work" / "data" / "validation.csv")
    signer, _, _ = keypair()
    with pytest.raises(CheckFailed) as failed:
        record_pipeline_run(run_json, tmp_path / "work" / "evidence", signer)
    assert failed.value.reason == "DIGEST_MISMATCH" and "validation.csv" in failed.value.message
    assert not (tmp_path / "work" / "evidence" / "provenance").exists()


def test_relative_paths_in_run_json_resolve_beside_the_work_folder(synthetic_run, tmp_path, monkeypatch):
    work = tmp_path / "work"
    run_json = copy_run(synthetic_run, work)
    run_json.write_text(run_json.read_text().replace(str(tmp_path.resolve()) + "/", ""))
    monkeypatch.chdir(Path("/"))  # recorded from elsewhere: paths like "work/data/train.csv" still resolve
    steps = record_steps(run_json)
    assert steps[1].input("train").path == "data/train.csv"
    shutil.rmtree(work / "evidence", ignore_errors=True)
