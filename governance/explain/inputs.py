"""The inputs every model check starts from: a booster that matches the schema, labelled data, and the decision rule.

Both the fairness assessment and the explanations read the model and the data the same way, so they live here:

>>> inputs = load_inputs("model/model.tar.gz", "data/validation.csv")
>>> scores = inputs.scores()
>>> scores.shape, bool(((scores >= 0) & (scores <= 1)).all())
((1000,), True)

Boosters trained by SageMaker's container carry no feature names; their columns are taken in schema order
(:data:`governance.credit_data.FEATURES`), exactly as the evaluate step scores them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.credit_data import FEATURES, MAY_BE_MISSING, RAW_TARGET, TARGET, path_label, read_labelled
from governance.errors import InputError

# The evaluate step's default operating point; used only when neither the caller nor an evaluation names one.
FALLBACK_THRESHOLD = 0.2


@dataclass(frozen=True)
class ScoringInputs:
    """A schema-checked booster with the labelled rows it is judged on."""

    booster: Any
    features: pd.DataFrame
    target: np.ndarray
    model_label: str = "<booster>"
    data_label: str = "<data>"
    model_sha256: str | None = None
    data_sha256: str | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def rows(self) -> int:
        return len(self.target)

    def matrix(self, rows: np.ndarray | None = None):
        """An ``xgboost.DMatrix`` of the features (optionally a subset of rows) in the booster's column order."""
        values = self.features.to_numpy(dtype=np.float64)
        return dmatrix(self.booster, values if rows is None else values[rows])

    def margin(self) -> np.ndarray:
        """Log-odds of default per row, as the booster computes them (cached: several checks need it)."""
        if "margin" not in self._cache:
            self._cache["margin"] = self.booster.predict(self.matrix(), output_margin=True).astype(np.float64)
        return self._cache["margin"]

    def scores(self) -> np.ndarray:
        """Predicted default probabilities (the logistic of :meth:`margin`, computed by XGBoost)."""
        if "scores" not in self._cache:
            self._cache["scores"] = self.booster.predict(self.matrix()).astype(np.float64)
        return self._cache["scores"]

    def describe(self) -> dict:
        return {
            "model": {"artefact": self.model_label, "sha256": self.model_sha256},
            "data": {"file": self.data_label, "sha256": self.data_sha256, "rows": self.rows},
        }


def dmatrix(booster, values: np.ndarray):
    import xgboost

    names = list(FEATURES) if booster.feature_names else None
    return xgboost.DMatrix(np.asarray(values, dtype=np.float64), feature_names=names)


def check_features(booster, label: str) -> None:
    """Refuse a booster whose inputs are not the ten schema features in schema order."""
    expected = len(FEATURES)
    if booster.num_features() != expected:
        raise InputError(
            "FEATURE_MISMATCH", f"{label}: the model expects {booster.num_features()} features, the data has {expected}"
        )
    names = booster.feature_names
    if names and list(names) != list(FEATURES):
        differing = next(i for i, (a, b) in enumerate(zip(names, FEATURES, strict=True)) if a != b)
        raise InputError(
            "FEATURE_MISMATCH",
            f"{label}: the model's feature {differing + 1} is {names[differing]!r}, "
            f"the data's is {FEATURES[differing]!r}",
        )


def _local_sha256(source) -> str | None:
    from governance import hashing, storage

    if isinstance(source, str | os.PathLike) and not storage.is_s3_uri(str(source)) and os.path.isfile(source):
        return hashing.sha256_file(source)
    return None


def _load_booster(model):
    if isinstance(model, str | os.PathLike):
        from governance.model_artifact import load_booster

        return load_booster(model), path_label(model), _local_sha256(model)
    if not hasattr(model, "predict") or not hasattr(model, "num_features"):
        raise InputError("BAD_ARTEFACT",
                         f"expected a model.tar.gz path or an xgboost.Booster, got {type(model).__name__}")
    return model, "<booster>", None


def _frame_inputs(features: pd.DataFrame, target, label: str) -> tuple[pd.DataFrame, np.ndarray]:
    missing = [c for c in FEATURES if c not in features.columns]
    if missing:
        raise InputError("SCHEMA_MISMATCH", f"{label}: missing column{'s' * (len(missing) > 1)} " +
                         ", ".join(repr(c) for c in missing))
    try:
        frame = features[list(FEATURES)].astype(np.float64)
        y = np.asarray(target, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError("MALFORMED_DATA", f"{label}: non-numeric values ({err})") from None
    if len(frame) != len(y):
        raise InputError("MALFORMED_DATA", f"{label}: {len(frame)} feature rows but {len(y)} labels")
    if len(y) == 0:
        raise InputError("EMPTY_DATA", f"{label}: no rows")
    checked = frame[[c for c in FEATURES if c not in MAY_BE_MISSING]]
    if checked.isna().any().any():
        column = checked.columns[checked.isna().any()][0]
        raise InputError("MISSING_VALUES", f"{label}: column {column!r} has missing values")
    classes = set(np.unique(y))
    if not classes <= {0.0, 1.0}:
        raise InputError("BAD_TARGET", f"{label}: the target must be 0 or 1, found {sorted(classes - {0.0, 1.0})[:3]}")
    if len(classes) < 2:
        raise InputError("SINGLE_CLASS", f"{label}: the target has a single class ({int(next(iter(classes)))}) only")
    return frame.reset_index(drop=True), y.astype(np.int8)


def _load_data(data) -> tuple[pd.DataFrame, np.ndarray, str, str | None]:
    if isinstance(data, str | os.PathLike):
        features, target = read_labelled(data)
        frame, y = _frame_inputs(features, target, path_label(data))
        return frame, y, path_label(data), _local_sha256(data)
    if isinstance(data, tuple) and len(data) == 2:
        frame, y = _frame_inputs(pd.DataFrame(data[0]), data[1], "<data>")
        return frame, y, "<data>", None
    if isinstance(data, pd.DataFrame):
        target = next((c for c in (TARGET, RAW_TARGET) if c in data.columns), None)
        if target is None:
            raise InputError("SCHEMA_MISMATCH", f"<data>: no target column ({TARGET!r} or {RAW_TARGET!r})")
        frame, y = _frame_inputs(data, data[target], "<data>")
        return frame, y, "<data>", None
    raise InputError("MALFORMED_DATA",
                     f"expected a CSV path, a (features, target) pair or a frame, got {type(data).__name__}")


def load_inputs(model, data) -> ScoringInputs:
    """Load and cross-check a model (``model.tar.gz`` path/URI or booster) and labelled data (path, pair or frame)."""
    booster, model_label, model_sha = _load_booster(model)
    check_features(booster, model_label)
    features, target, data_label, data_sha = _load_data(data)
    return ScoringInputs(booster, features, target, model_label, data_label, model_sha, data_sha)


def output_path(out_dir: str | os.PathLike, *parts: str) -> str | Path:
    """``out_dir/parts...`` for a local folder or an ``s3://`` prefix (``Path`` would fold the ``//``)."""
    from governance.storage import is_s3_uri

    if is_s3_uri(str(out_dir)):
        return "/".join([str(out_dir).rstrip("/"), *parts])
    return Path(out_dir).joinpath(*parts)


def resolve_threshold(explicit: float | None, evaluation=None, policy_threshold: float | None = None,
                      fallback: float = FALLBACK_THRESHOLD) -> tuple[float, str]:
    """The operating threshold and where it came from: caller, then policy, then ``evaluation.json``, then fallback."""
    from governance.jsonio import read_json

    candidates: list[tuple[float | None, str]] = [(explicit, "argument"), (policy_threshold, "policy")]
    if evaluation is not None:
        record = read_json(evaluation) if isinstance(evaluation, str | os.PathLike) else evaluation
        try:
            value = record["decision"]["threshold"]
        except (KeyError, TypeError):
            label = evaluation if isinstance(evaluation, str | os.PathLike) else "evaluation"
            raise InputError("MALFORMED_EVALUATION", f"{label}: no decision.threshold") from None
        candidates.append((value, "evaluation"))
    candidates.append((fallback, "default"))
    value, source = next((v, s) for v, s in candidates if v is not None)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) < 1:
        raise InputError("BAD_PARAMETER", f"the decision threshold ({source}) must be between 0 and 1, got {value!r}")
    return float(value), source
