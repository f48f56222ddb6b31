"""The split files re-made from the raw data and the parameters the process step recorded in ``dataset.json``.

The split is defined by its parameters (fractions, seed, stratification column, and for an out-of-time test set
the date column): re-drawing it is the only way to re-perform it, so this follows the documented procedure
(remediate, test set drawn, stratified train/validation draw from the rest, impute with values learnt on train,
headerless CSV, target first) and the digests say whether it gives the same bytes.

The out-of-time test set is re-derived from order statistics in exact integer arithmetic rather than through
pandas' quantile: the rows dated after the ``k``-th earliest date (0-based), ``k = ⌊(n − 1)(1 − test_fraction)⌋``,
which are exactly the rows after the linearly interpolated (1 − test_fraction) quantile the process step cuts at.
The cut itself (that quantile, interpolated exactly) is compared with the recorded one as a figure.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from governance.credit_data import FEATURES, RAW_COLUMNS, RAW_TARGET, imputation_values, impute, read_raw
from governance.errors import InputError
from governance.hashing import sha256_bytes
from governance.remediation import remediate

SPLITS = ("train", "validation", "test")


@dataclass
class Splits:
    raw: pd.DataFrame  # as read, before remediation (the profile describes it)
    remediated: pd.DataFrame
    parts: dict[str, pd.DataFrame]  # remediated, not imputed
    imputed: dict[str, pd.DataFrame]  # as written: target first, features in schema order
    fill: dict[str, float]
    bytes: dict[str, bytes]
    cut: str | None = None  # out-of-time: the date after which rows are test rows (ISO 8601)

    def digest(self, name: str) -> str:
        return sha256_bytes(self.bytes[name])

    def by_digest(self, digest: str | None) -> str | None:
        return next((name for name in SPLITS if self.digest(name) == digest), None)

    def labelled(self, name: str) -> tuple[pd.DataFrame, pd.Series]:
        frame = self.imputed[name]
        return frame[list(FEATURES)].reset_index(drop=True), frame[RAW_TARGET].astype(int).reset_index(drop=True)


def _draw(frame: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    try:
        kept, drawn = train_test_split(frame, test_size=fraction, random_state=seed, stratify=frame[RAW_TARGET])
    except ValueError as err:
        raise InputError("NOT_REPRODUCIBLE", f"the data given cannot be split as recorded ({err})") from None
    return kept.sort_index(), drawn.sort_index()


def _out_of_time(frame: pd.DataFrame, column: str, test_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The rows before and after the cut on ``column`` (see the module doc), and the cut as ISO 8601."""
    dates = pd.to_datetime(frame[column], errors="coerce")
    if dates.isna().any():
        bad = frame[column][dates.isna()].iloc[0]
        raise InputError("BAD_SPLIT_COLUMN", f"column {column!r}: {bad!r} is not a date")
    nanoseconds = dates.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ordered = np.sort(nanoseconds)
    position = (len(ordered) - 1) * (1 - Fraction(str(test_fraction)))
    k = math.floor(position)
    lower, upper = int(ordered[k]), int(ordered[min(k + 1, len(ordered) - 1)])
    cut = lower + (upper - lower) * (position - k)
    after = nanoseconds > lower
    stamp = pd.Timestamp(round(cut / 1000) * 1000, unit="ns")  # the microseconds pandas keeps
    return frame.loc[~after], frame.loc[after], stamp.isoformat()


def _csv(frame: pd.DataFrame) -> bytes:
    out = frame[list(RAW_COLUMNS)].copy()
    out[RAW_TARGET] = out[RAW_TARGET].astype(int)
    buffer = io.StringIO()
    out.to_csv(buffer, header=False, index=False, float_format="%.10g", lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def rebuild_splits(data: str | os.PathLike, split: dict) -> Splits:
    """The three splits from ``data`` and the recorded ``split`` parameters of ``dataset.json``."""
    try:
        validation, test, seed = float(split["validation_fraction"]), float(split["test_fraction"]), int(split["seed"])
    except (KeyError, TypeError, ValueError):
        raise InputError("EVIDENCE_SCHEMA", "dataset.json: split parameters (fractions, seed) missing") from None
    column = split.get("split_column") if split.get("out_of_time") else None
    if split.get("out_of_time") and not isinstance(column, str):
        raise InputError("EVIDENCE_SCHEMA", "dataset.json: an out-of-time split that does not name its date column")
    raw, _ = read_raw(data, keep=(column,) if column else ())
    remediated, _ = remediate(raw)
    cut = None
    if column:
        rest, test_part, cut = _out_of_time(remediated, column, test)
    else:
        rest, test_part = _draw(remediated, test, seed)
    train_part, validation_part = _draw(rest, validation / (1 - test), seed)
    parts = {"train": train_part, "validation": validation_part, "test": test_part}
    fill = imputation_values(train_part)
    imputed = {name: impute(part, fill) for name, part in parts.items()}
    return Splits(raw, remediated, parts, imputed, fill, {name: _csv(frame) for name, frame in imputed.items()}, cut)
