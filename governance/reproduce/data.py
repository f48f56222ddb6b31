"""Data figures: the raw file's digests, the split digests, row counts and target rates, the data-quality counts,
imputation values, the column profile (numpy, where the process step used pandas) and the age-band coverage."""

from __future__ import annotations

import gzip
import hashlib
import os

import numpy as np
import pandas as pd

from governance.credit_data import IMPUTED, PAST_DUE_COLUMNS, RAW_TARGET
from governance.remediation import SENTINEL_CODES, VALID_AGE_RANGE
from governance.reproduce.figures import Report
from governance.reproduce.splits import SPLITS, Splits

SECTION = "data"
SOURCE = "dataset.json"


def _file_digests(path: str | os.PathLike) -> dict:
    outer, inner, size, content = hashlib.sha256(), hashlib.sha256(), 0, 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            outer.update(block)
            size += len(block)
    found = {"sha256": outer.hexdigest(), "bytes": size}
    if str(path).endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                inner.update(block)
                content += len(block)
        found.update(content_sha256=inner.hexdigest(), content_bytes=content)
    return found


def _quality_counts(raw: pd.DataFrame) -> dict[tuple[str, str], int]:
    """The counts of each data-quality finding, keyed by (code, column)."""
    util = raw["RevolvingUtilizationOfUnsecuredLines"].to_numpy()
    counts = {("AGE_OUT_OF_RANGE", "age"): int(np.sum(raw["age"].to_numpy() < VALID_AGE_RANGE[0])),
              ("RATIO_ABOVE_ONE", "RevolvingUtilizationOfUnsecuredLines"): int(np.sum(util > 1)),
              ("EXTREME_RATIO", "RevolvingUtilizationOfUnsecuredLines"): int(np.sum(util > 10)),
              ("EXTREME_RATIO", "DebtRatio"): int(np.sum(raw["DebtRatio"].to_numpy() > 100)),
              ("DUPLICATE_ROWS", "*"): int(raw.duplicated().sum())}
    for column in PAST_DUE_COLUMNS:
        counts[("SENTINEL_CODE", column)] = int(np.isin(raw[column].to_numpy(), SENTINEL_CODES).sum())
    for column in IMPUTED:
        counts[("MISSING_IMPUTED", column)] = int(np.isnan(raw[column].to_numpy()).sum())
    return counts


def source_figures(report: Report, dataset: dict, data: str | os.PathLike) -> None:
    """The raw file's digests and sizes: checked first, since every other figure is re-derived from that file."""
    source = _file_digests(data)
    for key in ("sha256", "bytes", "content_sha256", "content_bytes"):
        if key in dataset["source"]:
            report.number(SECTION, f"{SOURCE}:source.{key}", dataset["source"][key], source.get(key), "exact",
                          "hashlib over the file given with --data")


def data_figures(report: Report, dataset: dict, splits: Splits) -> None:
    for name in SPLITS:
        if name in dataset["outputs"]:
            report.number(SECTION, f"{SOURCE}:outputs.{name}.sha256", dataset["outputs"][name].get("sha256"),
                          splits.digest(name), "exact", "split re-drawn from the raw data and the recorded seed")
    if dataset["split"].get("out_of_time"):
        report.number(SECTION, f"{SOURCE}:split.cut", dataset["split"].get("cut"), splits.cut, "exact",
                      f"the (1 - test_fraction) quantile of {dataset['split'].get('split_column')}, interpolated "
                      "exactly from the order statistics")
    frames = {"total": splits.raw, "remediated": splits.remediated, **splits.parts}
    for part, frame in frames.items():
        if part in dataset["rows"]:
            report.number(SECTION, f"{SOURCE}:rows.{part}", dataset["rows"][part], len(frame), "exact", "counted")
        if part in dataset["target_rate"]:
            report.number(SECTION, f"{SOURCE}:target_rate.{part}", dataset["target_rate"][part],
                          float(np.mean(frame[RAW_TARGET].to_numpy())), "metric", "numpy mean")
    counts = _quality_counts(splits.raw)
    for number, finding in enumerate(dataset["data_quality"], start=1):
        key = (finding["code"], finding.get("column"))
        report.number(SECTION, f"{SOURCE}:data_quality[{number}].count", finding.get("count"), counts.get(key),
                      "exact", f"{finding['code']} in {finding.get('column')}, counted with numpy")
    for column, spec in dataset.get("imputation", {}).items():
        values = splits.parts["train"][column].dropna().to_numpy()
        learnt = float(np.median(values)) if spec["strategy"] == "median" else float(
            pd.Series(values).value_counts().sort_index().idxmax())
        report.number(SECTION, f"{SOURCE}:imputation.{column}.value", spec.get("value"), learnt, "profile",
                      f"numpy {spec['strategy']} of the re-made train split")
        for part, frame in splits.parts.items():
            if f"filled_{part}" in spec:
                report.number(SECTION, f"{SOURCE}:imputation.{column}.filled_{part}", spec[f"filled_{part}"],
                              int(frame[column].isna().sum()), "exact", "counted")
    for column, printed in dataset.get("columns", {}).items():
        values = splits.raw[column].to_numpy(dtype=np.float64)
        present = values[~np.isnan(values)]
        found = {"missing": int(np.isnan(values).sum())}
        if len(present):
            found.update(min=present.min(), median=np.median(present), mean=present.mean(), max=present.max())
        for key in ("missing", "min", "median", "mean", "max"):
            report.number(SECTION, f"{SOURCE}:columns.{column}.{key}", printed.get(key), found.get(key),
                          "exact" if key == "missing" else "profile", "numpy")


def coverage_figures(report: Report, fairness: dict, bands: np.ndarray, labels: list[str], y: np.ndarray,
                     out_of_range: int, unbanded: int) -> None:
    """The age-band coverage the data section prints from ``fairness.json``, counted with pandas."""
    frame = pd.DataFrame({"band": bands, "y": y})
    grouped = frame[frame.band >= 0].groupby("band")["y"].agg(["size", "sum"])
    source = "fairness.json:data_checks"
    for entry in fairness.get("data_checks", {}).get("coverage", []):
        code = labels.index(entry["band"]) if entry["band"] in labels else -1
        size = int(grouped["size"].get(code, 0))
        defaults = int(grouped["sum"].get(code, 0))
        prefix = f"{source}.coverage[{entry['band']}]"
        report.number(SECTION, f"{prefix}.count", entry.get("count"), size, "exact", "pandas groupby")
        report.number(SECTION, f"{prefix}.share", entry.get("share"), size / len(y), "metric", "pandas groupby")
        report.number(SECTION, f"{prefix}.defaults", entry.get("defaults"), defaults, "exact", "pandas groupby")
        report.number(SECTION, f"{prefix}.default_rate", entry.get("default_rate"),
                      defaults / size if size else None, "metric", "pandas groupby")
    quality = fairness.get("data_checks", {}).get("age_quality", {})
    report.number(SECTION, f"{source}.age_quality.rows", quality.get("rows"), len(y), "exact", "counted")
    report.number(SECTION, f"{source}.age_quality.banded", quality.get("banded"), int((bands >= 0).sum()), "exact",
                  "counted")
    report.number(SECTION, f"{source}.age_quality.out_of_range.count", (quality.get("out_of_range") or {}).get("count"),
                  out_of_range, "exact", "counted")
    report.number(SECTION, f"{source}.age_quality.unbanded.count", (quality.get("unbanded") or {}).get("count"),
                  unbanded, "exact", "counted")
