"""Train step: XGBoost ``binary:logistic``, saved natively as ``xgboost-model`` in ``model.tar.gz``.

In a SageMaker training container the defaults apply (channels under ``/opt/ml/input/data``, hyperparameters in
``/opt/ml/input/config/hyperparameters.json``, output to ``/opt/ml/model``). Locally::

    python -m pipeline.steps.train --train w/train/train.csv --validation w/validation/validation.csv \
        --model-dir w/model

Training is deterministic (fixed seed and thread count) and the archive reproducible, so the same data and
hyperparameters give a byte-identical ``model.tar.gz``. The booster is never pickled.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path

from governance import hashing
from governance.credit_data import FEATURES, read_split
from governance.errors import InputError
from governance.jsonio import write_json
from governance.model_artifact import MODEL_MEMBER, write_model_tarball

DEFAULT_TRAIN = "/opt/ml/input/data/train"
DEFAULT_VALIDATION = "/opt/ml/input/data/validation"
DEFAULT_MODEL_DIR = "/opt/ml/model"
DEFAULT_HYPERPARAMETERS_FILE = "/opt/ml/input/config/hyperparameters.json"

# -1: non-increasing in that feature; 0: unconstrained.
MONOTONE_AGE = "(" + ",".join("-1" if f == "age" else "0" for f in FEATURES) + ")"
_TEXT_PARAMETERS = {"objective", "eval_metric", "tree_method", "monotone_constraints"}

DEFAULT_HYPERPARAMETERS: dict[str, float | int | str] = {
    "objective": "binary:logistic",
    "num_round": 200,
    "max_depth": 4,
    "eta": 0.05,
    "min_child_weight": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "eval_metric": "auc",
    "tree_method": "hist",
    "seed": 42,
    # A fixed thread count keeps histogram sums in the same order on every machine: reproducible bytes.
    "nthread": 2,
    # Predicted risk may not rise with age (Regulation B 1002.6(b)(2)): an older applicant is never scored worse
    # because of age than a younger one with the same other inputs. One entry per feature in schema order.
    "monotone_constraints": MONOTONE_AGE,
}
# Integer-valued parameters arrive as strings from SageMaker's hyperparameters.json.
_INTEGER_PARAMETERS = {"num_round", "max_depth", "seed", "nthread", "max_bin"}


@dataclass(frozen=True)
class TrainResult:
    model_path: Path
    metadata_path: Path
    metadata: dict


def coerce_hyperparameters(overrides: dict | None) -> dict:
    """Merge ``overrides`` into the defaults, converting SageMaker's string values to numbers."""
    params = dict(DEFAULT_HYPERPARAMETERS)
    for key, value in (overrides or {}).items():
        if isinstance(value, str) and key not in _TEXT_PARAMETERS:
            try:
                value = int(value) if key in _INTEGER_PARAMETERS else float(value)
            except ValueError:
                raise InputError("BAD_PARAMETER", f"hyperparameter {key}={value!r} is not a number") from None
        params[key] = value
    if params["objective"] != "binary:logistic":
        raise InputError("BAD_PARAMETER", f"objective must be binary:logistic, got {params['objective']!r}")
    if int(params["num_round"]) < 1:
        raise InputError("BAD_PARAMETER", "num_round must be at least 1")
    constraints = str(params.get("monotone_constraints") or "")
    if not constraints.strip("() "):
        params.pop("monotone_constraints", None)  # an empty value turns the constraint off (reported as absent)
    elif len(constraints.strip("()").split(",")) != len(FEATURES):
        raise InputError("BAD_PARAMETER", f"monotone_constraints needs one entry per feature ({len(FEATURES)}), "
                                          f"got {constraints!r}")
    return params


def constraint_cost(booster_params: dict, dtrain, dvalid, rounds: int, constrained_auc: float) -> dict:
    """Validation AUC with and without the monotone constraints: what the constraint costs in discrimination."""
    import xgboost
    from sklearn.metrics import roc_auc_score

    free = {k: v for k, v in booster_params.items() if k != "monotone_constraints"}
    # Scored once at the end: a per-round evaluation would cost more than the fit itself.
    booster = xgboost.train(free, dtrain, num_boost_round=rounds)
    unconstrained = float(roc_auc_score(dvalid.get_label(), booster.predict(dvalid)))
    return {"constraints": booster_params.get("monotone_constraints"), "split": "validation",
            "auc_with_constraint": constrained_auc, "auc_without_constraint": unconstrained,
            "auc_cost": unconstrained - constrained_auc}


def final_metrics(booster, evals: list) -> dict[str, float]:
    """``{split}_{metric}`` of the finished model on each watch-list split, from xgboost's own evaluator.

    ``Booster.eval_set`` prints ``[0]\ttrain-auc:0.873…\tvalidation-auc:0.870…`` with every digit of the double,
    the same text the per-round training callback parses, so the values are those it would have recorded last.
    """
    metrics = {}
    for item in booster.eval_set(evals).split("\t")[1:]:
        name, _, value = item.rpartition(":")
        split, _, metric = name.partition("-")
        metrics[f"{split}_{metric}"] = float(value)
    return metrics


def _split_file(path: str | os.PathLike, name: str) -> Path:
    candidate = Path(path)
    return candidate / f"{name}.csv" if candidate.is_dir() else candidate


def train(
    train_path: str | os.PathLike,
    validation_path: str | os.PathLike | None,
    model_dir: str | os.PathLike,
    hyperparameters: dict | None = None,
) -> TrainResult:
    import xgboost

    params = coerce_hyperparameters(hyperparameters)
    train_file = _split_file(train_path, "train")
    frame = read_split(train_file)
    dtrain = xgboost.DMatrix(frame[list(FEATURES)], label=frame.iloc[:, 0], feature_names=list(FEATURES))
    evals = [(dtrain, "train")]
    validation_file = None
    if validation_path is not None:
        validation_file = _split_file(validation_path, "validation")
        vframe = read_split(validation_file)
        evals.append(
            (
                xgboost.DMatrix(vframe[list(FEATURES)], label=vframe.iloc[:, 0], feature_names=list(FEATURES)),
                "validation",
            )
        )
    booster_params = {k: v for k, v in params.items() if k != "num_round"}
    # No per-round watch-list: without early stopping it cannot change the trees, and scoring both splits after
    # every round cost more than the fit. The metrics are taken once, from the finished model (same evaluator).
    booster = xgboost.train(booster_params, dtrain, num_boost_round=int(params["num_round"]))
    final = final_metrics(booster, evals)
    model_path = Path(model_dir) / "model.tar.gz"
    write_model_tarball(model_path, bytes(booster.save_raw("ubj")))
    metadata = {
        "algorithm": "xgboost",
        "xgboost_version": xgboost.__version__,
        "model_format": "ubj",
        "member": MODEL_MEMBER,
        "hyperparameters": params,
        "features": list(FEATURES),
        "rows": {"train": len(frame), **({"validation": len(vframe)} if validation_file else {})},
        "inputs": {
            "train": {"file": train_file.name, "sha256": hashing.sha256_file(train_file)},
            **(
                {"validation": {"file": validation_file.name, "sha256": hashing.sha256_file(validation_file)}}
                if validation_file
                else {}
            ),
        },
        "final_metrics": final,
        "model_sha256": hashing.sha256_file(model_path),
    }
    if params.get("monotone_constraints") and validation_file and "validation_auc" in final:
        metadata["monotone_constraint"] = constraint_cost(
            booster_params, dtrain, evals[1][0], int(params["num_round"]), final["validation_auc"])
    metadata_path = write_json(Path(model_dir) / "training.json", metadata)
    return TrainResult(model_path, Path(metadata_path), metadata)


def _container_hyperparameters(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline.steps.train", description=__doc__.splitlines()[0])
    parser.add_argument("--train", default=DEFAULT_TRAIN, help="train.csv or the folder holding it")
    parser.add_argument("--validation", default=DEFAULT_VALIDATION, help="validation.csv or the folder holding it")
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", DEFAULT_MODEL_DIR))
    parser.add_argument("--hyperparameters", default=DEFAULT_HYPERPARAMETERS_FILE, help="JSON file of overrides")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one hyperparameter")
    args = parser.parse_args(argv)
    from governance.runtime import prefer_passive_openmp
    from pipeline.steps import run_entry_point

    prefer_passive_openmp()

    def run():
        overrides = _container_hyperparameters(args.hyperparameters)
        for item in args.set:
            key, _, value = item.partition("=")
            overrides[key] = value
        validation = args.validation if os.path.exists(args.validation) else None
        return train(args.train, validation, args.model_dir, overrides)

    return run_entry_point(run)


if __name__ == "__main__":
    raise SystemExit(main())
