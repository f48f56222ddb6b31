"""Capture streams in SageMaker Data Capture's layout, made from labelled data scored by a model, for the tests.

The endpoint is simulated by scoring each row with the model; records are spread over hourly folders the way
Data Capture writes them (``ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl``), and labels in Model Monitor's
ground-truth layout keyed by the same event ids.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from governance.credit_data import FEATURES

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def score(model, features: pd.DataFrame) -> np.ndarray:
    import xgboost

    from governance.model_artifact import load_booster

    booster = load_booster(model)
    return booster.predict(xgboost.DMatrix(features[list(FEATURES)].to_numpy(dtype=np.float64),
                                           feature_names=list(FEATURES), missing=np.nan))


def _csv(values) -> str:
    return ",".join("" if not np.isfinite(v) else format(float(v), ".10g") for v in values)


def capture_records(features: pd.DataFrame, scores: np.ndarray, *, seed: int = 1, base64_every: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    records = []
    for i, (row, value) in enumerate(zip(features[list(FEATURES)].to_numpy(dtype=np.float64), scores, strict=True)):
        payload, encoding = _csv(row), "CSV"
        if base64_every and i % base64_every == 0:
            payload, encoding = base64.b64encode(payload.encode()).decode(), "BASE64"
        when = START + timedelta(seconds=int(i * 7 + rng.integers(0, 5)))
        records.append({
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": payload,
                                  "encoding": encoding},
                "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT",
                                   "data": format(float(value), ".9g"), "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i)),
                              "inferenceTime": when.isoformat().replace("+00:00", "Z")},
            "eventVersion": "0",
        })
    return records


def _hour_path(record: dict, index: int) -> str:
    when = datetime.fromisoformat(record["eventMetadata"]["inferenceTime"].replace("Z", "+00:00"))
    return f"{when:%Y/%m/%d/%H}/{index:03d}-{when:%M-%S}-{index:04d}.jsonl"


def layout(records: list[dict], per_file: int = 400) -> dict[str, bytes]:
    """Relative path → JSONL bytes, ``per_file`` records a file, in hourly folders."""
    files = {}
    for start in range(0, len(records), per_file):
        chunk = records[start:start + per_file]
        files[_hour_path(chunk[0], start // per_file)] = "".join(json.dumps(r) + "\n" for r in chunk).encode()
    return files


def ground_truth(records: list[dict], labels) -> dict[str, bytes]:
    rows = [{"groundTruthData": {"data": str(int(label)), "encoding": "CSV"},
             "eventMetadata": {"eventId": r["eventMetadata"]["eventId"]}, "eventVersion": "0"}
            for r, label in zip(records, labels, strict=True)]
    return {"2026/12/30/08/labels-0000.jsonl": "".join(json.dumps(r) + "\n" for r in rows).encode()}


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def drifted(features: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """Income halved (debt ratio, debt over income, doubled with it) and the age mix shifted towards the young."""
    rng = np.random.default_rng(seed)
    weights = np.where(features["age"] < 35, 6.0, np.where(features["age"] < 50, 1.0, 0.4))
    chosen = rng.choice(len(features), size=len(features), replace=True, p=weights / weights.sum())
    out = features.iloc[chosen].reset_index(drop=True).copy()
    out["MonthlyIncome"] = out["MonthlyIncome"] / 2
    out["DebtRatio"] = out["DebtRatio"] * 2
    return out
