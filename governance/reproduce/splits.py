"""The split files re-made from the raw data and the parameters the process step recorded in ``dataset.json``.

The split is defined by its parameters (fractions, seed, stratification column): re-drawing it is the only way
to re-perform it, so this follows the documented procedure (remediate, stratified 60/20/20 draw, impute with values
learnt on train, headerless CSV, target first) and the digests say whether it gives the same bytes.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

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

    def digest(self, name: str) -> str:
        return sha256_bytes(self.bytes[name])

    def by_digest(self, digest: str | None) -> str | None:
        return next((name for name in SPLITS if self.digest(name) == digest), None)

    def labelled(self, name: str) -> tuple[pd.DataFrame, pd.Series]:
        frame = self.imputed[name]
        return frame[list(FEATURES)].reset_index(drop=True), frame[RAW_TARGET].astype(int).reset_index(drop=True)


def _draw(frame: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split

    kept, drawn = train_test_split(frame, test_size=fraction, random_state=seed, stratify=frame[RAW_TARGET])
    return kept.sort_index(), drawn.sort_index()


def _csv(frame: pd.DataFrame) -> bytes:
    out = frame[list(RAW_COLUMNS)].copy()
    out[RAW_TARGET] = out[RAW_TARGET].astype(int)
    buffer = io.StringIO()
    out.to_csv(buffer, header=False, index=False, float_format="%.10g", lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def rebuild_splits(data: str | os.PathLike, split: dict) -> Splits:
    """The three splits from ``data`` and the recorded ``split`` parameters of ``dataset.json``."""
    if split.get("out_of_time"):
        raise InputError("NOT_REPRODUCIBLE", "the pack's test split is out-of-time (split on a date column): "
                                             "re-drawing it is not supported yet")
    try:
        validation, test, seed = float(split["validation_fraction"]), float(split["test_fraction"]), int(split["seed"])
    except (KeyError, TypeError, ValueError):
        raise InputError("EVIDENCE_SCHEMA", "dataset.json: split parameters (fractions, seed) missing") from None
    raw, _ = read_raw(data)
    remediated, _ = remediate(raw)
    rest, test_part = _draw(remediated, test, seed)
    train_part, validation_part = _draw(rest, validation / (1 - test), seed)
    parts = {"train": train_part, "validation": validation_part, "test": test_part}
    fill = imputation_values(train_part)
    imputed = {name: impute(part, fill) for name, part in parts.items()}
    return Splits(raw, remediated, parts, imputed, fill, {name: _csv(frame) for name, frame in imputed.items()})
