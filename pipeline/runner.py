"""The local pipeline runner: process → train → evaluate (on the test split) → [govern] → AUC gate → register,
in one work folder.

It runs the same step functions as the SageMaker pipeline, in order, and lays out the work folder as::

    WORKDIR/data/       train.csv, validation.csv, test.csv, profile.json
    WORKDIR/model/      model.tar.gz, training.json
    WORKDIR/evidence/   dataset.json, evaluation.json
    WORKDIR/run.json    what ran: per step its inputs, outputs, parameters and times
    WORKDIR/registry.db the local model registry

>>> from pipeline import synthetic
>>> from pipeline.runner import run_pipeline
>>> raw = synthetic.write_csv("raw.csv", rows=3000, seed=1)  # or the real cs-training.csv.gz
>>> run = run_pipeline("raw.csv", "again", hyperparameters={"num_round": 20})
>>> run.registered, run.auc > 0.75, sorted(p.name for p in run.workdir.iterdir())
(True, True, ['data', 'evidence', 'model', 'registry.db', 'run.json'])
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from governance.errors import InputError
from governance.evidence import unseal
from governance.jsonio import write_json
from governance.registry import LocalRegistry, ModelPackage
from pipeline.steps import evaluate as evaluate_step
from pipeline.steps import process as process_step
from pipeline.steps import train as train_step

MODEL_PACKAGE_GROUP = "quickloan-credit-default"
DEFAULT_AUC_THRESHOLD = 0.75


@dataclass
class StepRecord:
    """What one step consumed and produced; the lineage recorder turns these into provenance statements."""

    name: str
    module: str
    parameters: dict
    inputs: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class GovernVerdict:
    """What the govern step decided; ``passed`` feeds the registration condition beside the AUC gate."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    customer_metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class PipelineRun:
    workdir: Path
    data: str
    synthetic: bool
    profile: dict
    train_path: Path
    validation_path: Path
    model_path: Path
    evaluation_path: Path
    evaluation: dict
    auc_threshold: float
    steps: list[StepRecord]
    test_path: Path | None = None
    verdict: GovernVerdict | None = None
    package: ModelPackage | None = None

    @property
    def auc(self) -> float:
        return self.evaluation["binary_classification_metrics"]["auc"]["value"]

    @property
    def auc_passed(self) -> bool:
        return self.auc >= self.auc_threshold

    @property
    def registered(self) -> bool:
        return self.package is not None

    @property
    def evidence_dir(self) -> Path:
        return self.workdir / "evidence"

    @property
    def registry_path(self) -> Path:
        return self.workdir / "registry.db"

    def not_registered_reasons(self) -> list[str]:
        reasons = []
        if not self.auc_passed:
            reasons.append(f"AUC {self.auc:.4f} is below the gate of {self.auc_threshold:.2f}")
        if self.verdict is not None and not self.verdict.passed:
            reasons.extend(self.verdict.reasons or ["the governance verdict did not pass"])
        return reasons


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _timed(record: StepRecord, action: Callable[[], object]) -> object:
    record.started_at = _now()
    start = time.perf_counter()
    result = action()
    record.seconds = round(time.perf_counter() - start, 3)
    record.finished_at = _now()
    return result


def run_pipeline(
    data: str | os.PathLike,
    workdir: str | os.PathLike,
    *,
    hyperparameters: dict | None = None,
    auc_threshold: float = DEFAULT_AUC_THRESHOLD,
    decision_threshold: float = evaluate_step.DEFAULT_THRESHOLD,
    validation_fraction: float = process_step.DEFAULT_VALIDATION_FRACTION,
    test_fraction: float = process_step.DEFAULT_TEST_FRACTION,
    seed: int = process_step.DEFAULT_SEED,
    split_column: str | None = None,
    govern: Callable[[PipelineRun], GovernVerdict] | None = None,
    on_step: Callable[[str], None] = lambda name: None,
    model_package_group: str = MODEL_PACKAGE_GROUP,
) -> PipelineRun:
    """Run the pipeline locally; registers the model (``PendingManualApproval``) only when every gate passes."""
    work = Path(workdir)
    if work.exists() and not work.is_dir():
        raise InputError("BAD_OUTPUT", f"{work}: the work folder exists and is not a folder")
    if not 0 <= auc_threshold <= 1:
        raise InputError("BAD_PARAMETER", f"the AUC gate must be between 0 and 1, got {auc_threshold}")
    if not 0 < decision_threshold < 1:
        raise InputError("BAD_PARAMETER", f"the decision threshold must be between 0 and 1, got {decision_threshold}")
    data_dir, model_dir, evidence_dir = work / "data", work / "model", work / "evidence"
    steps: list[StepRecord] = []
    unseal(evidence_dir)

    on_step("process")
    record = StepRecord(
        "process",
        process_step.__name__,
        {"validation_fraction": validation_fraction, "test_fraction": test_fraction, "seed": seed,
         **({"split_column": split_column} if split_column else {})},
        {"dataset": str(data)},
    )
    processed = _timed(
        record,
        lambda: process_step.process(
            data, data_dir, data_dir, data_dir, validation_fraction=validation_fraction,
            test_fraction=test_fraction, seed=seed, split_column=split_column,
        ),
    )
    record.outputs = {
        "train": str(processed.train_path),
        "validation": str(processed.validation_path),
        "test": str(processed.test_path),
        "profile": str(processed.profile_path),
    }
    steps.append(record)

    on_step("train")
    params = train_step.coerce_hyperparameters(hyperparameters)
    record = StepRecord(
        "train",
        train_step.__name__,
        params,
        {"train": str(processed.train_path), "validation": str(processed.validation_path)},
    )
    trained = _timed(
        record, lambda: train_step.train(processed.train_path, processed.validation_path, model_dir, params)
    )
    record.outputs = {"model": str(trained.model_path), "training_metadata": str(trained.metadata_path)}
    steps.append(record)

    on_step("evaluate")
    record = StepRecord(
        "evaluate",
        evaluate_step.__name__,
        {"decision_threshold": decision_threshold},
        {"model": str(trained.model_path), "test": str(processed.test_path)},
    )
    evaluated = _timed(
        record,
        lambda: evaluate_step.evaluate(
            trained.model_path, processed.test_path, evidence_dir, threshold=decision_threshold
        ),
    )
    record.outputs = {"evaluation": str(evaluated.evaluation_path)}
    steps.append(record)
    evidence_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(processed.profile_path, evidence_dir / "dataset.json")

    run = PipelineRun(
        workdir=work,
        data=str(data),
        synthetic=bool(processed.profile["synthetic"]),
        profile=processed.profile,
        train_path=processed.train_path,
        validation_path=processed.validation_path,
        test_path=processed.test_path,
        model_path=trained.model_path,
        evaluation_path=evaluated.evaluation_path,
        evaluation=evaluated.evaluation,
        auc_threshold=auc_threshold,
        steps=steps,
    )
    if govern is not None:
        on_step("govern")
        record = StepRecord(
            "govern",
            getattr(govern, "__module__", "govern"),
            {},
            {"model": str(trained.model_path), "evaluation": str(evaluated.evaluation_path)},
        )
        run.verdict = _timed(record, lambda: govern(run))
        steps.append(record)

    on_step("register")
    record = StepRecord(
        "register",
        __name__,
        {"auc_threshold": auc_threshold, "group": model_package_group},
        {"model": str(trained.model_path), "evaluation": str(evaluated.evaluation_path)},
    )
    if not run.not_registered_reasons():
        package = _timed(record, lambda: _register(run, model_package_group))
        run.package = package
        record.outputs = {"model_package": package.arn}
        steps.append(record)
    write_json(work / "run.json", run_record(run))
    return run


def _register(run: PipelineRun, group: str) -> ModelPackage:
    metrics = run.evaluation["binary_classification_metrics"]
    summary = {name: metrics[name]["value"] for name in ("auc", "gini", "ks", "brier_score", "log_loss")}
    registry = LocalRegistry(run.registry_path)
    return registry.register(
        group,
        str(run.model_path),
        run.evaluation["model"]["artefact_sha256"],
        summary,
        {
            "evaluation_uri": str(run.evaluation_path),
            "data_origin": "synthetic" if run.synthetic else "supplied",
            **(run.verdict.customer_metadata if run.verdict else {}),
        },
    )


def run_record(run: PipelineRun) -> dict:
    return {
        "data": run.data,
        "synthetic": run.synthetic,
        "auc": run.auc,
        "auc_threshold": run.auc_threshold,
        "registered": run.registered,
        "model_package": run.package.to_dict() if run.package else None,
        "not_registered_reasons": run.not_registered_reasons(),
        "verdict": run.verdict.__dict__ if run.verdict else None,
        "steps": [s.to_dict() for s in run.steps],
    }
