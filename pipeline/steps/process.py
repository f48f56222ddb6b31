"""Process step: validate the raw CSV, remediate, split train/validation/test, impute, write splits and a profile.

Inside a SageMaker processing container the defaults apply::

    python -m pipeline.steps.process            # reads /opt/ml/processing/input/*.csv[.gz]

Locally::

    python -m pipeline.steps.process --input cs-training.csv.gz --train-dir w/train \\
        --validation-dir w/validation --profile-dir w/profile

The splits follow the SageMaker XGBoost CSV contract (no header, target first; an empty field is a missing value).
Known data defects are remediated first and every change is counted in the profile (:mod:`governance.remediation`).
The split is three-way, stratified and seeded (60/20/20 by default): train, validation (the training watch-list)
and test (untouched until evaluation). ``--split-column DATE`` makes the test set out-of-time; the public Give Me
Some Credit file has no date column, so its test set is a random draw. Imputation values are learnt on the training
split only, so nothing from the validation or test split leaks into training.
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
    MAY_BE_MISSING,
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
from governance.remediation import SENTINEL_CODES, VALID_AGE_RANGE, remediate

DEFAULT_INPUT = "/opt/ml/processing/input"
DEFAULT_TRAIN_DIR = "/opt/ml/processing/train"
DEFAULT_VALIDATION_DIR = "/opt/ml/processing/validation"
DEFAULT_PROFILE_DIR = "/opt/ml/processing/profile"
DEFAULT_TEST_DIR = "/opt/ml/processing/test"
DEFAULT_VALIDATION_FRACTION = 0.2
DEFAULT_TEST_FRACTION = 0.2
DEFAULT_SEED = 42
MIN_AGE = VALID_AGE_RANGE[0]


@dataclass(frozen=True)
class ProcessResult:
    train_path: Path
    validation_path: Path
    profile_path: Path
    profile: dict
    test_path: Path | None = None


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
    """Known quirks of the raw data, reported so reviewers can judge them; ``remediation`` in the profile says what
    was done about the sentinel codes, the invalid ages and the debt amounts."""
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
        f"{young} applicant(s) with age below {MIN_AGE} (e.g. 0): not a valid borrower age; excluded",
    )
    for column in PAST_DUE_COLUMNS:
        n = int(frame[column].isin(SENTINEL_CODES).sum())
        add("SENTINEL_CODE", column, n,
            f"{n} value(s) of 96/98 in {column}: sentinel codes, not real counts; set missing")
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


def split_three_way(frame: pd.DataFrame, validation_fraction: float, test_fraction: float, seed: int,
                    split_column: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Train / validation (the training watch-list) / test (untouched until evaluation), and how it was drawn.

    Without ``split_column`` the test set is a stratified random draw; with it, the test set is the latest
    ``test_fraction`` of rows by that column (out-of-time), and train/validation are drawn from the earlier rows.
    """
    if not (0 < validation_fraction < 1 and 0 < test_fraction < 1 and validation_fraction + test_fraction < 1):
        raise InputError("BAD_PARAMETER", "validation and test fractions must each be in (0, 1) and sum below 1, "
                                          f"got {validation_fraction} and {test_fraction}")
    if split_column is None:
        rest, test = split_stratified(frame, test_fraction, seed)
        how = {"test": "stratified random draw (the public data has no date column: the test set is not "
                       "out-of-time)", "out_of_time": False}
    else:
        order = pd.to_datetime(frame[split_column], errors="coerce")
        if order.isna().any():
            bad = frame[split_column][order.isna()].iloc[0]
            raise InputError("BAD_SPLIT_COLUMN", f"column {split_column!r}: {bad!r} is not a date")
        cut = order.quantile(1 - test_fraction)
        test, rest = frame.loc[order > cut], frame.loc[order <= cut]
        if test.empty or rest[RAW_TARGET].nunique() < 2 or test[RAW_TARGET].nunique() < 2:
            raise InputError("TOO_FEW_ROWS", f"splitting on {split_column!r} at {cut} leaves a split with one class")
        how = {"test": f"out-of-time: rows with {split_column} after {cut.isoformat()}", "out_of_time": True,
               "split_column": split_column, "cut": cut.isoformat()}
    train, validation = split_stratified(rest, validation_fraction / (1 - test_fraction), seed)
    return train, validation, test.sort_index(), how


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
    test_dir: str | os.PathLike | None = None,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    seed: int = DEFAULT_SEED,
    split_column: str | None = None,
) -> ProcessResult:
    """Remediate, split three ways, impute (values learnt on train), write the splits and the profile.

    ``test_dir`` defaults to ``validation_dir``.
    """
    source = find_input(data)
    raw, synthetic = read_raw(source, keep=(split_column,) if split_column else ())
    remediated, remediation = remediate(raw)
    train, validation, test, how = split_three_way(remediated, validation_fraction, test_fraction, seed,
                                                   split_column)
    fill = imputation_values(train)
    imputed = {name: impute(part, fill) for name, part in (("train", train), ("validation", validation),
                                                           ("test", test))}
    left = [c for c in FEATURES if c not in MAY_BE_MISSING and imputed["train"][c].isna().any()]
    assert not left, f"imputation left missing values in {left}"

    train_path = write_split(imputed["train"], Path(train_dir) / "train.csv")
    validation_path = write_split(imputed["validation"], Path(validation_dir) / "validation.csv")
    test_path = write_split(imputed["test"], Path(test_dir if test_dir is not None else validation_dir) / "test.csv")
    parts = {"train": train, "validation": validation, "test": test}
    profile = {
        "dataset": "Give Me Some Credit (cs-training)",
        "synthetic": synthetic,
        "source": source_digests(source),
        "schema": {
            "raw_columns": list(RAW_COLUMNS),
            "raw_target": RAW_TARGET,
            "target": TARGET,
            "features": list(FEATURES),
            "may_be_missing": list(MAY_BE_MISSING),
            "split_format": "CSV, no header, target first, then the features in schema order; an empty field is a "
                            "missing value",
        },
        "rows": {"total": len(raw), "remediated": len(remediated), **{k: len(v) for k, v in parts.items()}},
        "target_rate": {"total": float(raw[RAW_TARGET].mean()),
                        **{k: float(v[RAW_TARGET].mean()) for k, v in parts.items()}},
        "columns": column_profile(raw[list(RAW_COLUMNS)]),
        "columns_after_remediation": column_profile(remediated[list(RAW_COLUMNS)]),
        "remediation": remediation,
        "imputation": {
            column: {
                "strategy": IMPUTED[column],
                "value": value,
                "learnt_on": "train",
                **{f"filled_{k}": int(v[column].isna().sum()) for k, v in parts.items()},
            }
            for column, value in fill.items()
        },
        "split": {
            "validation_fraction": validation_fraction,
            "test_fraction": test_fraction,
            "seed": seed,
            "stratified_on": RAW_TARGET,
            "roles": {"train": "model fitting", "validation": "training watch-list and tuning",
                      "test": "untouched until evaluation: every reported performance and fairness figure"},
            **how,
        },
        "outputs": {
            "train": {"file": train_path.name, "sha256": hashing.sha256_file(train_path)},
            "validation": {"file": validation_path.name, "sha256": hashing.sha256_file(validation_path)},
            "test": {"file": test_path.name, "sha256": hashing.sha256_file(test_path)},
        },
        "data_quality": data_quality_findings(raw),
    }
    profile_path = write_json(Path(profile_dir) / "profile.json", profile)
    return ProcessResult(train_path, validation_path, Path(profile_path), profile, test_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline.steps.process", description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=DEFAULT_INPUT, help="raw CSV (plain or .gz) or a folder holding one")
    parser.add_argument("--train-dir", default=DEFAULT_TRAIN_DIR)
    parser.add_argument("--validation-dir", default=DEFAULT_VALIDATION_DIR)
    parser.add_argument("--profile-dir", default=DEFAULT_PROFILE_DIR)
    parser.add_argument("--test-dir", default=DEFAULT_TEST_DIR)
    parser.add_argument("--validation-fraction", type=float, default=DEFAULT_VALIDATION_FRACTION)
    parser.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--split-column", default=None,
                        help="a date column: the test set becomes the latest rows (out-of-time)")
    args = parser.parse_args(argv)
    from pipeline.steps import run_entry_point

    return run_entry_point(
        lambda: process(
            args.input,
            args.train_dir,
            args.validation_dir,
            args.profile_dir,
            test_dir=args.test_dir,
            validation_fraction=args.validation_fraction,
            test_fraction=args.test_fraction,
            seed=args.seed,
            split_column=args.split_column,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["ProcessResult", "main", "process"]
