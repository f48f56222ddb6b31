"""Evaluate step: score the untouched test split with the booster from ``model.tar.gz``; write ``evaluation.json``.

Keys follow SageMaker's model-quality convention (``binary_classification_metrics.auc.value`` ...), so the
file can be attached to a model package as ``ModelMetrics`` and read by a pipeline ``PropertyFile``. In a
processing container the defaults apply; locally::

    python -m pipeline.steps.evaluate --model w/model/model.tar.gz --test w/test/test.csv \\
        --output-dir w/evaluation

The decision rule is a credit decision: an applicant is *declined* when the predicted default probability
is above ``--threshold``; "positive" below means a predicted default.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from governance import hashing
from governance.credit_data import FEATURES, read_split
from governance.errors import InputError
from governance.jsonio import write_json
from governance.model_artifact import load_booster

DEFAULT_MODEL = "/opt/ml/processing/model/model.tar.gz"
DEFAULT_TEST = "/opt/ml/processing/test/test.csv"
DEFAULT_OUTPUT_DIR = "/opt/ml/processing/evaluation"
DEFAULT_THRESHOLD = 0.2
CURVE_POINTS = 101
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class EvaluateResult:
    evaluation_path: Path
    evaluation: dict

    @property
    def auc(self) -> float:
        return self.evaluation["binary_classification_metrics"]["auc"]["value"]


def predict(booster, features) -> np.ndarray:
    """Default probabilities; boosters trained without feature names (SageMaker's container) get schema order."""
    import xgboost

    names = list(FEATURES) if booster.feature_names else None
    return booster.predict(xgboost.DMatrix(np.asarray(features, dtype=np.float64), feature_names=names))


def auc_standard_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley & McNeil (1982) standard error of the AUC."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)) / (
        positives * negatives
    )
    return math.sqrt(max(variance, 0.0))


def _downsample(xs: np.ndarray, ys: np.ndarray, points: int) -> tuple[list[float], list[float]]:
    index = np.unique(np.linspace(0, len(xs) - 1, points).round().astype(int))
    return [round(float(v), 6) for v in xs[index]], [round(float(v), 6) for v in ys[index]]


def binary_metrics(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    from sklearn import metrics

    y_true = np.asarray(y_true, dtype=int)
    if len(np.unique(y_true)) < 2:
        raise InputError("SINGLE_CLASS", "the evaluation labels have a single class: AUC is undefined")
    declined = (scores > threshold).astype(int)
    auc = float(metrics.roc_auc_score(y_true, scores))
    fpr, tpr, _ = metrics.roc_curve(y_true, scores)
    precision_curve, recall_curve, _ = metrics.precision_recall_curve(y_true, scores)
    tn, fp, fn, tp = (int(v) for v in metrics.confusion_matrix(y_true, declined, labels=[0, 1]).ravel())
    positives, negatives = int(y_true.sum()), int(len(y_true) - y_true.sum())
    roc_fpr, roc_tpr = _downsample(fpr, tpr, CURVE_POINTS)
    pr_recall, pr_precision = _downsample(recall_curve[::-1], precision_curve[::-1], CURVE_POINTS)

    def value(v: float) -> dict:
        return {"value": float(v), "standard_deviation": "NaN"}

    return {
        "auc": {"value": auc, "standard_deviation": auc_standard_error(auc, positives, negatives)},
        "gini": value(2 * auc - 1),
        "ks": value(float(np.max(tpr - fpr))),
        "brier_score": value(metrics.brier_score_loss(y_true, scores)),
        "log_loss": value(metrics.log_loss(y_true, scores, labels=[0, 1])),
        "accuracy": value(metrics.accuracy_score(y_true, declined)),
        "precision": value(metrics.precision_score(y_true, declined, zero_division=0)),
        "recall": value(metrics.recall_score(y_true, declined, zero_division=0)),
        "f1": value(metrics.f1_score(y_true, declined, zero_division=0)),
        "true_positive_rate": value(tp / positives),
        "false_positive_rate": value(fp / negatives),
        "true_negative_rate": value(tn / negatives),
        "false_negative_rate": value(fn / positives),
        # SageMaker's layout: confusion_matrix[actual][predicted].
        "confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}},
        "receiver_operating_characteristic_curve": {"false_positive_rates": roc_fpr, "true_positive_rates": roc_tpr},
        "precision_recall_curve": {"precisions": pr_precision, "recalls": pr_recall},
    }


def calibration_table(y_true: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Observed vs predicted default rate per score decile."""
    order = np.argsort(scores, kind="stable")
    table = []
    for number, chunk in enumerate(np.array_split(order, bins), start=1):
        if len(chunk):
            table.append(
                {
                    "bin": number,
                    "count": len(chunk),
                    "mean_predicted": float(scores[chunk].mean()),
                    "observed_rate": float(np.asarray(y_true)[chunk].mean()),
                    "score_min": float(scores[chunk].min()),
                    "score_max": float(scores[chunk].max()),
                }
            )
    return table


def evaluate(
    model: str | os.PathLike,
    validation: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> EvaluateResult:
    if not 0 < threshold < 1:
        raise InputError("BAD_PARAMETER", f"threshold must be between 0 and 1, got {threshold}")
    booster = load_booster(model)
    validation_file = Path(validation) / "test.csv" if Path(validation).is_dir() else Path(validation)
    frame = read_split(validation_file)
    if booster.num_features() != len(FEATURES):
        raise InputError(
            "FEATURE_MISMATCH",
            f"{model}: the model expects {booster.num_features()} features, the data has {len(FEATURES)}",
        )
    y_true = frame.iloc[:, 0].to_numpy(dtype=int)
    scores = predict(booster, frame[list(FEATURES)])
    metrics = binary_metrics(y_true, scores, threshold)
    evaluation = {
        "binary_classification_metrics": metrics,
        "decision": {
            "threshold": threshold,
            "rule": "decline when predicted default probability > threshold",
            "approval_rate": float(np.mean(scores <= threshold)),
        },
        "calibration": calibration_table(y_true, scores),
        "dataset": {
            "file": validation_file.name,
            "split": "test" if validation_file.name.startswith("test") else "validation",
            "sha256": hashing.sha256_file(validation_file),
            "rows": len(frame),
            "positives": int(y_true.sum()),
            "default_rate": float(y_true.mean()),
            "mean_predicted": float(scores.mean()),
        },
        "model": {"artefact_sha256": hashing.sha256_file(model) if not str(model).startswith("s3://") else None},
    }
    path = write_json(Path(output_dir) / "evaluation.json", evaluation)
    return EvaluateResult(Path(path), evaluation)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline.steps.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--test", "--validation", dest="validation", default=DEFAULT_TEST,
                        help="the untouched test split (test.csv or its folder)")
    parser.add_argument("--output-dir", default=DEFAULT_OUTPUT_DIR)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args(argv)
    from pipeline.steps import run_entry_point

    return run_entry_point(lambda: evaluate(args.model, args.validation, args.output_dir, threshold=args.threshold))


if __name__ == "__main__":
    raise SystemExit(main())
