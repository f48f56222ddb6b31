"""Process step: validate the raw CSV, impute, split 80/20 stratified, write the splits and a dataset profile.

Inside a SageMaker processing container the defaults apply::

    python -m pipeline.steps.process            # reads /opt/ml/processing/input/*.csv[.gz]

Locally::

    python -m pipeline.steps.process --input cs-training.csv.gz --train-dir w/train \\
        --validation-dir w/validation --profile-dir w/profile

The splits follow the SageMaker XGBoost CSV contract (no header, target first). Imputation values are
learnt on the training split only, so nothing from the validation split leaks into training.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from governance import hashing, storage
from governance.credit_data import (
    FEATURES,
    IMPUTED,
    PAST_DUE_COLUMNS,
    RAW_COLUMNS,
    RAW_TARGET,
    TARGET,
    imputation_values,
    impute,
    read_raw,
)
from governance.errors import InputError
from governance.jsonio import write_json
from governance.monitoring.baseline import feature_baseline

DEFAULT_INPUT = "/opt/ml/processing/input"
DEFAULT_TRAIN_DIR = "/opt/ml/processing/train"
DEFAULT_VALIDATION_DIR = "/opt/ml/processing/validation"
DEFAULT_PROFILE_DIR = "/opt/ml/processing/profile"
DEFAULT_VALIDATION_FRACTION = 0.2
DEFAULT_SEED = 42
SENTINEL_CODES = (96, 98)
MIN_AGE = 18


@dataclass(frozen=True)
class ProcessResult:
    train_path: Path
    validation_path: Path
    profile_path: Path
    profile: dict


def find_input(path: str | os.PathLike) -> str:
    """A file is used as given; a folder (SageMaker's input channel) must hold exactly one CSV."""
    if storage.is_s3_uri(path) or not Path(path).is_dir():
        return str(path)
    candidates = sorted(p for p in Path(path).iterdir() if p.name.endswith((".csv", ".csv.gz")))
    if len(candidates) != 1:
        raise InputError("BAD_INPUT", f"{path}: expected exactly one .csv or .csv.gz file, found {len(candidates)}")
    return str(candidates[0])


def source_digests(path: str) -> dict:
    """sha256 of the bytes as given and, for gzip input, of the decompressed content too (one read)."""
    with storage.open_stream(path) as stream:
        if not path.endswith(".gz"):
            digest, size = hashing.sha256_stream(stream)
            return {"uri": path, "sha256": digest, "bytes": size}
        digest, size, content, total = hashing.sha256_gzip_stream(stream, path)
    return {"uri": path, "sha256": digest, "bytes": size, "content_sha256": content, "content_bytes": total}


def column_profile(frame: pd.DataFrame) -> dict:
    profile = {}
    for column in frame.columns:
        values = frame[column]
        present = values.dropna()
        profile[column] = {
            "missing": int(values.isna().sum()),
            "min": float(present.min()) if len(present) else None,
            "max": float(present.max()) if len(present) else None,
            "mean": float(present.mean()) if len(present) else None,
            "median": float(present.median()) if len(present) else None,
            "std": float(present.std()) if len(present) > 1 else None,
        }
    return profile


def data_quality_findings(frame: pd.DataFrame) -> list[dict]:
    """Known quirks of this data, reported (not silently fixed) so reviewers can judge them."""
    findings = []

    def add(code: str, column: str, count: int, message: str, severity: str = "warning") -> None:
        if count:
            findings.append(
                {"code": code, "column": column, "count": int(count), "severity": severity, "message": message}
            )

    young = int((frame["age"] < MIN_AGE).sum())
    add(
        "AGE_OUT_OF_RANGE",
        "age",
        young,
        f"{young} applicant(s) with age below {MIN_AGE} (e.g. 0): not a valid borrower age",
    )
    for column in PAST_DUE_COLUMNS:
        n = int(frame[column].isin(SENTINEL_CODES).sum())
        add("SENTINEL_CODE", column, n, f"{n} value(s) of 96/98 in {column}: sentinel codes, not real counts")
    util = frame["RevolvingUtilizationOfUnsecuredLines"]
    add("RATIO_ABOVE_ONE", util.name, int((util > 1).sum()), f"{int((util > 1).sum())} utilisation value(s) above 100%")
    extreme_util = int((util > 10).sum())
    add(
        "EXTREME_RATIO", util.name, extreme_util, f"{extreme_util} utilisation value(s) above 1000%: likely data errors"
    )
    debt = frame["DebtRatio"]
    extreme_debt = int((debt > 100).sum())
    add(
        "EXTREME_RATIO",
        "DebtRatio",
        extreme_debt,
        f"{extreme_debt} debt ratio value(s) above 100 "
        "(mostly rows without income, where the file holds the debt amount)",
    )
    for column, strategy in IMPUTED.items():
        n = int(frame[column].isna().sum())
        add(
            "MISSING_IMPUTED",
            column,
            n,
            f"{n} missing value(s) in {column}, imputed with the training {strategy}",
            "info",
        )
    duplicates = int(frame.duplicated().sum())
    add("DUPLICATE_ROWS", "*", duplicates, f"{duplicates} row(s) identical to an earlier row", "info")
    return findings


def split_stratified(frame: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise InputError("BAD_PARAMETER", f"validation fraction must be between 0 and 1, got {fraction}")
    try:
        train, validation = train_test_split(frame, test_size=fraction, random_state=seed, stratify=frame[RAW_TARGET])
    except ValueError as err:
        raise InputError("TOO_FEW_ROWS", f"cannot split {len(frame)} rows stratified: {err}") from None
    return train.sort_index(), validation.sort_index()


def write_split(frame: pd.DataFrame, path: Path) -> Path:
    out = frame[list(RAW_COLUMNS)].rename(columns={RAW_TARGET: TARGET})
    out[TARGET] = out[TARGET].astype(int)
    text = out.to_csv(header=False, index=False, float_format="%.10g", lineterminator="\n")
    storage.write_bytes_atomic(path, text.encode("utf-8"))
    return path


def process(
    data: str | os.PathLike,
    train_dir: str | os.PathLike,
    validation_dir: str | os.PathLike,
    profile_dir: str | os.PathLike,
    *,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    seed: int = DEFAULT_SEED,
) -> ProcessResult:
    source = find_input(data)
    raw, synthetic = read_raw(source)
    train, validation = split_stratified(raw, validation_fraction, seed)
    fill = imputation_values(train)
    train_imputed, validation_imputed = impute(train, fill), impute(validation, fill)
    assert not train_imputed[list(FEATURES)].isna().any().any(), "imputation left missing values"

    train_path = write_split(train_imputed, Path(train_dir) / "train.csv")
    validation_path = write_split(validation_imputed, Path(validation_dir) / "validation.csv")
    profile = {
        "dataset": "Give Me Some Credit (cs-training)",
        "synthetic": synthetic,
        "source": source_digests(source),
        "schema": {
            "raw_columns": list(RAW_COLUMNS),
            "raw_target": RAW_TARGET,
            "target": TARGET,
            "features": list(FEATURES),
            "split_format": "CSV, no header, target first, then the features in schema order",
        },
        "rows": {"total": len(raw), "train": len(train), "validation": len(validation)},
        "target_rate": {
            "total": float(raw[RAW_TARGET].mean()),
            "train": float(train[RAW_TARGET].mean()),
            "validation": float(validation[RAW_TARGET].mean()),
        },
        "columns": column_profile(raw),
        "imputation": {
            column: {
                "strategy": IMPUTED[column],
                "value": value,
                "learnt_on": "train",
                "filled_train": int(train[column].isna().sum()),
                "filled_validation": int(validation[column].isna().sum()),
            }
            for column, value in fill.items()
        },
        "split": {"validation_fraction": validation_fraction, "seed": seed, "stratified_on": RAW_TARGET},
        "outputs": {
            "train": {"file": train_path.name, "sha256": hashing.sha256_file(train_path)},
            "validation": {"file": validation_path.name, "sha256": hashing.sha256_file(validation_path)},
        },
        "data_quality": data_quality_findings(raw),
        # What the model was fitted to, as monitoring compares production inputs with it (imputed, as served).
        "baseline": feature_baseline(train_imputed, FEATURES, data="train split, imputed"),
    }
    profile_path = write_json(Path(profile_dir) / "profile.json", profile)
    return ProcessResult(train_path, validation_path, Path(profile_path), profile)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline.steps.process", description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=DEFAULT_INPUT, help="raw CSV (plain or .gz) or a folder holding one")
    parser.add_argument("--train-dir", default=DEFAULT_TRAIN_DIR)
    parser.add_argument("--validation-dir", default=DEFAULT_VALIDATION_DIR)
    parser.add_argument("--profile-dir", default=DEFAULT_PROFILE_DIR)
    parser.add_argument("--validation-fraction", type=float, default=DEFAULT_VALIDATION_FRACTION)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    from pipeline.steps import run_entry_point

    return run_entry_point(
        lambda: process(
            args.input,
            args.train_dir,
            args.validation_dir,
            args.profile_dir,
            validation_fraction=args.validation_fraction,
            seed=args.seed,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["ProcessResult", "main", "process"]
