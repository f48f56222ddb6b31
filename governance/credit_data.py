"""The Give Me Some Credit schema, and strict readers for the raw file and the pipeline's headerless splits.

The raw file (``cs-training.csv``, plain or ``.gz``) has an unnamed index column, the target
``SeriousDlqin2yrs`` and ten features. The pipeline's splits follow the SageMaker XGBoost CSV contract:
no header, target first, then :data:`FEATURES` in order.

>>> FEATURES[1]
'age'
"""

from __future__ import annotations

import difflib
import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from governance.errors import InputError
from governance.remediation import PAST_DUE_COLUMNS, remediate

RAW_TARGET = "SeriousDlqin2yrs"
TARGET = "default_within_2y"
FEATURES: tuple[str, ...] = (
    "RevolvingUtilizationOfUnsecuredLines",
    "age",
    "NumberOfTime30-59DaysPastDueNotWorse",
    "DebtRatio",
    "MonthlyIncome",
    "NumberOfOpenCreditLinesAndLoans",
    "NumberOfTimes90DaysLate",
    "NumberRealEstateLoansOrLines",
    "NumberOfTime60-89DaysPastDueNotWorse",
    "NumberOfDependents",
)
RAW_COLUMNS: tuple[str, ...] = (RAW_TARGET, *FEATURES)
# Only these two columns are allowed to be missing; the process step imputes them.
IMPUTED = {"MonthlyIncome": "median", "NumberOfDependents": "mode"}
# The synthetic generator names the index column so that every downstream output can tell synthetic data apart.
SYNTHETIC_INDEX_COLUMN = "synthetic_row"
PROTECTED_ATTRIBUTE = "age"
# Columns a processed split may leave empty: remediation turns sentinel codes and debt amounts into missing values,
# which XGBoost routes natively (see governance.remediation).
MAY_BE_MISSING = (*PAST_DUE_COLUMNS, "DebtRatio")


def _read_csv(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    from governance import storage

    try:
        raw = storage.read_bytes(path)
    except InputError:
        raise
    compressed = str(path).endswith(".gz") or raw[:2] == b"\x1f\x8b"
    if compressed:
        import gzip
        import zlib

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise InputError("MALFORMED_CSV", f"{path}: not a readable gzip file ({err})") from None
    if not raw.strip():
        raise InputError("EMPTY_DATA", f"{path}: the file is empty")
    try:
        return pd.read_csv(io.BytesIO(raw), na_values=["NA", ""], keep_default_na=False, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError("MALFORMED_CSV", f"{path}: not a readable CSV ({first})") from None
    except pd.errors.EmptyDataError:
        raise InputError("EMPTY_DATA", f"{path}: the file is empty") from None


def _numeric(frame: pd.DataFrame, column: str, path: str | os.PathLike, line_offset: int) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    # inf (or a number too large for a float) is refused too: XGBoost cannot train or score on it.
    bad = (values.isna() & frame[column].notna()) | np.isinf(values.to_numpy(dtype="float64"))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        shown = str(frame[column].iloc[row])  # 'inf', not np.float64(inf)
        raise InputError(
            "MALFORMED_CSV",
            f"{path}: line {row + line_offset}: {shown!r} is not a finite number in column "
            f"{column!r}",
        )
    return values.astype("float64")


def read_raw(path: str | os.PathLike, keep: tuple[str, ...] = ()) -> tuple[pd.DataFrame, bool]:
    """Read and validate a raw Give Me Some Credit CSV.

    Returns ``(frame, synthetic)``: the frame has :data:`RAW_COLUMNS` as float64 in schema order (index
    column dropped), then the ``keep`` columns as read (a date to split on, say), and ``synthetic`` tells whether
    the file came from the synthetic generator.
    """
    frame = _read_csv(path)
    if frame.empty:
        raise InputError("EMPTY_DATA", f"{path}: the file has a header but no rows")
    columns = [str(c) for c in frame.columns]
    synthetic = SYNTHETIC_INDEX_COLUMN in columns
    index_like = [c for c in columns if c.startswith("Unnamed: ") or c == SYNTHETIC_INDEX_COLUMN]
    named = [c for c in columns if c not in index_like and c not in keep]
    absent = [c for c in keep if c not in columns]
    if absent:
        raise InputError("SCHEMA_MISMATCH", f"{path}: no column {absent[0]!r} to split on (columns: "
                                            f"{', '.join(columns)})")
    missing = [c for c in RAW_COLUMNS if c not in named]
    unexpected = [c for c in named if c not in RAW_COLUMNS]
    if missing or unexpected:
        parts = []
        for column in missing:
            close = difflib.get_close_matches(column, unexpected, n=1, cutoff=0.75)
            hint = f" (found {close[0]!r}: misspelt?)" if close else ""
            parts.append(f"missing column {column!r}{hint}")
        parts += [f"unexpected column {c!r}" for c in unexpected if not difflib.get_close_matches(c, missing, 1, 0.75)]
        raise InputError("SCHEMA_MISMATCH", f"{path}: " + "; ".join(parts))
    # Line numbers in messages count the header as line 1.
    out = pd.DataFrame({c: _numeric(frame, c, path, line_offset=2) for c in RAW_COLUMNS})
    for column in RAW_COLUMNS:
        n_missing = int(out[column].isna().sum())
        if n_missing and column not in IMPUTED:
            raise InputError(
                "MISSING_VALUES",
                f"{path}: column {column!r} has {n_missing} missing values; only {', '.join(IMPUTED)} may be missing",
            )
    _check_binary_target(out[RAW_TARGET], path)
    for column in keep:
        out[column] = frame[column].to_numpy()
    return out, synthetic


def _check_binary_target(target: pd.Series, path: str | os.PathLike) -> None:
    values = set(np.unique(target.to_numpy()))
    if not values <= {0.0, 1.0}:
        odd = sorted(values - {0.0, 1.0})[:3]
        raise InputError("BAD_TARGET", f"{path}: the target must be 0 or 1, found {odd}")
    if len(values) < 2:
        raise InputError("SINGLE_CLASS", f"{path}: the target has a single class ({int(next(iter(values)))}) only")


def read_split(path: str | os.PathLike) -> pd.DataFrame:
    """Read a headerless split (target first, then :data:`FEATURES`) into a frame named by the schema."""
    frame = _read_csv(path, header=None)
    expected = 1 + len(FEATURES)
    if frame.shape[1] != expected:
        raise InputError(
            "SCHEMA_MISMATCH",
            f"{path}: expected {expected} columns (target + {len(FEATURES)} features), found {frame.shape[1]}",
        )
    frame.columns = [TARGET, *FEATURES]
    out = pd.DataFrame({c: _numeric(frame, c, path, line_offset=1) for c in frame.columns})
    checked = [c for c in out.columns if c not in MAY_BE_MISSING]
    if out[checked].isna().any().any():
        column = out[checked].columns[out[checked].isna().any()][0]
        raise InputError("MISSING_VALUES", f"{path}: column {column!r} has missing values in a processed split")
    _check_binary_target(out[TARGET], path)
    return out


def read_labelled(path: str | os.PathLike) -> tuple[pd.DataFrame, pd.Series]:
    """Features and target from either a raw file (with header) or a processed split (without).

    Raw files are remediated and imputed the way the process step treats them, so scoring sees no sentinel code and
    no missing value outside :data:`MAY_BE_MISSING`.
    """
    head = _peek(path)
    if RAW_TARGET in head or "age" in head:
        frame, _ = read_raw(path)
        frame, _ = remediate(frame)
        frame = impute(frame, imputation_values(frame))
        return frame[list(FEATURES)], frame[RAW_TARGET].astype(int).rename(TARGET)
    frame = read_split(path)
    return frame[list(FEATURES)], frame[TARGET].astype(int)


def _peek(path: str | os.PathLike) -> str:
    from governance import storage

    with storage.open_stream(path) as stream:
        start = stream.read(4096)
    if start[:2] == b"\x1f\x8b":
        import gzip
        import zlib

        try:
            start = gzip.GzipFile(fileobj=io.BytesIO(start)).read1(4096)
        except (OSError, EOFError, zlib.error):
            # A gzip file shorter than one block fails here; the full reader reports it properly.
            start = b""
    return start.split(b"\n", 1)[0].decode("utf-8", "replace")


def imputation_values(frame: pd.DataFrame) -> dict[str, float]:
    """Median income and modal dependents, computed on the frame given (the training split in the pipeline)."""
    income = frame["MonthlyIncome"].dropna()
    dependents = frame["NumberOfDependents"].dropna()
    return {
        "MonthlyIncome": float(income.median()) if len(income) else 0.0,
        "NumberOfDependents": float(dependents.mode().iloc[0]) if len(dependents) else 0.0,
    }


def impute(frame: pd.DataFrame, values: dict[str, float]) -> pd.DataFrame:
    """Return a copy with missing values filled (assignment, not ``inplace``: pandas 3 copy-on-write ignores that)."""
    out = frame.copy()
    for column, value in values.items():
        out[column] = out[column].fillna(value)
    return out


def path_label(path: str | os.PathLike) -> str:
    return str(path) if isinstance(path, str) and path.startswith("s3://") else str(Path(path))
