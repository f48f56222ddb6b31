"""What a validation works on: the three recorded splits, checked against the digests the evidence holds.

The validator reads the splits the process step wrote (``train.csv``, ``validation.csv``, ``test.csv``) and
accepts them only when each hashes to the digest in the evidence's ``dataset.json``: a validation of other data
than the model was trained and tested on would vouch for nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from governance import hashing
from governance.credit_data import FEATURES, TARGET, read_split
from governance.errors import CheckFailed, InputError
from governance.jsonio import read_json

SPLITS = ("train", "validation", "test")


@dataclass
class Split:
    x: np.ndarray
    y: np.ndarray
    path: Path
    sha256: str


@dataclass
class ValidationData:
    train: Split
    validation: Split
    test: Split

    def split(self, name: str) -> Split:
        return getattr(self, name)


def locate_splits(evidence: Path, data_dir: str | os.PathLike | None) -> dict[str, Path]:
    """Where the splits are: ``data_dir`` when given, else the runner's layout (``EVIDENCE/../data``)."""
    profile_path = evidence / "dataset.json"
    if not profile_path.is_file():
        raise InputError("NO_DATASET_PROFILE", f"{profile_path}: the evidence folder has no dataset profile")
    outputs = read_json(profile_path).get("outputs", {})
    missing = [name for name in SPLITS if name not in outputs]
    if missing:
        raise InputError("NO_TEST_SPLIT", f"{profile_path}: no {', '.join(missing)} split recorded; the model was "
                                          "processed without an untouched test split: re-run the pipeline")
    folder = Path(data_dir) if data_dir else evidence.parent / "data"
    return {name: folder / outputs[name]["file"] for name in SPLITS}


def load_splits(evidence: Path, data_dir: str | os.PathLike | None = None) -> ValidationData:
    """Read the three splits, refusing any whose sha256 differs from the one recorded in ``dataset.json``."""
    outputs = read_json(evidence / "dataset.json").get("outputs", {}) if (evidence / "dataset.json").is_file() else {}
    found = {}
    for name, path in locate_splits(evidence, data_dir).items():
        if not path.is_file():
            raise InputError("FILE_NOT_FOUND", f"{path}: the {name} split is not there (give --data DIR)")
        digest = hashing.sha256_file(path)
        if digest != outputs[name].get("sha256"):
            raise CheckFailed("DIGEST_MISMATCH", f"{path}: hashes to {digest[:16]}…, the dataset profile records "
                                                 f"{str(outputs[name].get('sha256'))[:16]}…")
        frame = read_split(path)
        found[name] = Split(frame[list(FEATURES)].to_numpy(np.float64), frame[TARGET].to_numpy(np.int64), path,
                            digest)
    return ValidationData(**found)


def fit_booster(params: dict, x: np.ndarray, y: np.ndarray, rounds: int):
    import xgboost

    booster_params = {k: v for k, v in params.items() if k not in ("num_round",)}
    return xgboost.train(booster_params, xgboost.DMatrix(x, label=y, feature_names=list(FEATURES)),
                         num_boost_round=rounds)


def predict(booster, x: np.ndarray) -> np.ndarray:
    import xgboost

    names = list(FEATURES) if booster.feature_names else None
    return booster.predict(xgboost.DMatrix(np.asarray(x, dtype=np.float64), feature_names=names)).astype(np.float64)


def subsample(x: np.ndarray, y: np.ndarray, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified-enough random subsample (seeded) of at most ``rows`` rows."""
    if len(y) <= rows:
        return x, y
    index = np.sort(np.random.default_rng(seed).choice(len(y), rows, replace=False))
    return x[index], y[index]


__all__ = ["SPLITS", "Split", "ValidationData", "fit_booster", "load_splits", "locate_splits", "predict", "subsample"]
