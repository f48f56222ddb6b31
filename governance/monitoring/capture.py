"""SageMaker Data Capture and Model Monitor ground-truth files, read from a local folder or an ``s3://`` prefix.

Data Capture writes JSON lines under ``PREFIX/ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl``, one line per request::

    {"captureData": {"endpointInput":  {"observedContentType": "text/csv", "mode": "INPUT",
                                        "data": "0.3,45,0,0.8,5400,6,0,1,0,2", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                        "data": "0.0731", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "9c0b…", "inferenceTime": "2026-11-30T10:00:00Z"}, "eventVersion": "0"}

A request may carry several CSV rows (one per line); the output then has one score per row. ``BASE64`` payloads
are decoded to the same CSV. Ground truth uses the same folder layout, one line per labelled event::

    {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "9c0b…"}, "eventVersion": "0"}

and is joined on ``inferenceId`` when the capture has one (the caller's id), else on ``eventId`` — the rule
Model Monitor's merge follows. Every file read is hashed, so a monitoring report names exactly what it judged.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from governance import storage
from governance.errors import InputError
from governance.hashing import sha256_bytes

SUFFIX = ".jsonl"


@dataclass
class SourceFile:
    uri: str
    sha256: str
    bytes: int
    records: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Capture:
    """Captured rows: features (NaN where a field was empty), the endpoint's scores, and each row's join key."""

    features: np.ndarray
    scores: np.ndarray
    keys: list[str]
    records: int
    files: list[SourceFile] = field(default_factory=list)
    first_time: str | None = None
    last_time: str | None = None

    @property
    def rows(self) -> int:
        return len(self.scores)


_HOUR_PATH = re.compile(r"/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


def in_window(uri: str, window: tuple[datetime, datetime] | None) -> bool:
    """Whether a capture file's hour folder (``…/yyyy/mm/dd/hh/file``, UTC) lies in ``[start, end)``.

    >>> from datetime import datetime, UTC
    >>> day = (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    >>> in_window("s3://b/cap/ep/AllTraffic/2026/11/30/23/f.jsonl", day), in_window("/c/2026/12/01/00/f.jsonl", day)
    (True, False)
    """
    if window is None:
        return True
    found = _HOUR_PATH.search(uri.replace("\\", "/"))
    if not found:
        return False
    hour = datetime(*map(int, found.groups()), tzinfo=UTC)
    return window[0] <= hour < window[1]


def list_files(location: str | os.PathLike, window: tuple[datetime, datetime] | None = None) -> list[str]:
    """Every ``*.jsonl`` under a folder or an ``s3://`` prefix, in path order (which is time order); with a
    ``window``, only the files of the hour folders in it."""
    if storage.is_s3_uri(location):
        return [uri for uri in _list_s3(str(location)) if in_window(uri, window)]
    root = Path(location)
    if root.is_file():
        return [str(root)]
    if not root.is_dir():
        raise InputError("NOT_FOUND", f"{location}: no such file or folder")
    return sorted(str(p) for p in root.rglob(f"*{SUFFIX}") if p.is_file() and in_window(p.as_posix(), window))


def _list_s3(uri: str) -> list[str]:
    place = storage.parse_s3_uri(uri)
    client = storage.s3_client()
    keys = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=place.bucket, Prefix=place.key):
            keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(SUFFIX)]
    except Exception as err:  # botocore's errors become the toolkit's (missing bucket → input, network → incomplete)
        raise storage.aws_error(err, uri) from None
    return [f"s3://{place.bucket}/{key}" for key in sorted(keys)]


def _read(uri: str) -> tuple[bytes, SourceFile]:
    data = storage.read_bytes(uri)
    return data, SourceFile(uri, sha256_bytes(data), len(data), 0)


def _lines(uri: str, data: bytes) -> Iterator[tuple[int, dict]]:
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as err:
            raise InputError("MALFORMED_CAPTURE", f"{uri}:{number}: not a JSON line ({err})") from None
        if not isinstance(record, dict):
            raise InputError("MALFORMED_CAPTURE", f"{uri}:{number}: a record must be a JSON object")
        yield number, record


def _payload(part: object, where: str) -> str:
    """The CSV text of a capture or ground-truth payload (``CSV`` as is, ``BASE64`` decoded)."""
    if not isinstance(part, dict) or not isinstance(part.get("data"), str):
        raise InputError("MALFORMED_CAPTURE", f"{where}: no 'data' string")
    encoding = str(part.get("encoding", "CSV")).upper()
    if encoding == "CSV":
        return part["data"]
    if encoding == "BASE64":
        try:
            return base64.b64decode(part["data"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise InputError("MALFORMED_CAPTURE", f"{where}: BASE64 payload is not UTF-8 CSV ({err})") from None
    raise InputError("UNSUPPORTED_CAPTURE", f"{where}: payload encoding {encoding!r} (CSV or BASE64 expected; "
                                            "capture the endpoint with CSV content types)")


def _join_key(meta: dict) -> str:
    return str(meta.get("inferenceId") or meta.get("eventId") or "")


def read_capture(location: str | os.PathLike, n_features: int, *, window: tuple[datetime, datetime] | None = None,
                 progress: Callable[[int, int], None] = lambda done, total: None) -> Capture:
    """Read every capture file under ``location`` (of the hours in ``window``, when given); rows whose input lacks
    ``n_features`` fields are refused."""
    files = list_files(location, window)
    if not files:
        raise InputError("NO_CAPTURE", f"{location}: no Data Capture files (*.jsonl) found"
                         + (f" for {window[0]:%Y-%m-%d %H:00} … {window[1]:%Y-%m-%d %H:00} UTC" if window else ""))
    inputs: list[str] = []
    outputs: list[str] = []
    keys: list[str] = []
    times: list[str] = []
    sources = []
    records = 0
    for done, uri in enumerate(files):
        data, source = _read(uri)
        for number, record in _lines(uri, data):
            where = f"{uri}:{number}"
            capture = record.get("captureData")
            meta = record.get("eventMetadata") or {}
            if not isinstance(capture, dict) or not isinstance(meta, dict):
                raise InputError("MALFORMED_CAPTURE", f"{where}: not a Data Capture record (no captureData)")
            rows = _payload(capture.get("endpointInput"), f"{where}: endpointInput").strip().split("\n")
            scores = _payload(capture.get("endpointOutput"), f"{where}: endpointOutput").strip()
            scores = scores.replace("\n", ",").split(",")
            if len(scores) != len(rows):
                raise InputError("MALFORMED_CAPTURE", f"{where}: {len(rows)} input row(s) but {len(scores)} score(s)")
            key = _join_key(meta)
            inputs += rows
            outputs += scores
            keys += [key] if len(rows) == 1 else [f"{key}#{i}" for i in range(len(rows))]
            if isinstance(meta.get("inferenceTime"), str):
                times.append(meta["inferenceTime"])
            source.records += 1
            records += 1
        sources.append(source)
        progress(done + 1, len(files))
    features = _parse_rows(inputs, n_features, str(location))
    try:
        score_values = np.array([float(s) if s.strip() else np.nan for s in outputs], dtype=np.float64)
    except ValueError as err:
        raise InputError("MALFORMED_CAPTURE", f"{location}: an endpoint output is not a number ({err})") from None
    return Capture(features, score_values, keys, records, sources,
                   min(times) if times else None, max(times) if times else None)


def _parse_rows(rows: list[str], n_features: int, label: str) -> np.ndarray:
    """All captured CSV rows at once (pandas' C parser); empty fields become NaN."""
    import pandas as pd

    if not rows:
        raise InputError("NO_CAPTURE", f"{label}: the capture files hold no records")
    # pandas pads a short row with NaN: count the fields first, so a truncated request is refused, not "missing".
    short = next((i for i, row in enumerate(rows) if row.count(",") != n_features - 1), None)
    if short is not None:
        raise InputError("MALFORMED_CAPTURE", f"{label}: captured row {short + 1} has {rows[short].count(',') + 1} "
                                              f"fields, the model takes {n_features}")
    try:
        frame = pd.read_csv(io.StringIO("\n".join(rows)), header=None, names=range(n_features),
                            na_values=[""], keep_default_na=False, dtype=np.float64, skip_blank_lines=False,
                            index_col=False, on_bad_lines="error", engine="c")
    except (ValueError, pd.errors.ParserError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError("MALFORMED_CAPTURE", f"{label}: captured inputs are not {n_features} numbers per row "
                                              f"({first})") from None
    if len(frame) != len(rows):
        raise InputError("MALFORMED_CAPTURE", f"{label}: {len(rows)} captured rows parsed as {len(frame)}")
    return frame.to_numpy(dtype=np.float64)


@dataclass
class Labels:
    """Ground-truth labels by join key, and what was read."""

    by_key: dict[str, int]
    files: list[SourceFile]


def read_labels(location: str | os.PathLike) -> Labels:
    """Ground truth in Model Monitor's layout (a file, a folder or an ``s3://`` prefix of ``*.jsonl``)."""
    files = list_files(location)
    if not files:
        raise InputError("NO_LABELS", f"{location}: no ground-truth files (*.jsonl) found")
    by_key: dict[str, int] = {}
    sources = []
    for uri in files:
        data, source = _read(uri)
        for number, record in _lines(uri, data):
            where = f"{uri}:{number}"
            meta = record.get("eventMetadata")
            if not isinstance(meta, dict) or not _join_key(meta):
                raise InputError("MALFORMED_LABELS", f"{where}: no eventMetadata.eventId or inferenceId")
            values = _payload(record.get("groundTruthData"), f"{where}: groundTruthData").strip()
            values = values.replace("\n", ",").split(",")
            key = _join_key(meta)
            for i, value in enumerate(values):
                if value.strip() not in ("0", "1", "0.0", "1.0"):
                    raise InputError("MALFORMED_LABELS", f"{where}: label {value!r} is not 0 or 1")
                by_key[key if len(values) == 1 else f"{key}#{i}"] = int(float(value))
            source.records += 1
        sources.append(source)
    return Labels(by_key, sources)


def join_labels(capture: Capture, labels: Labels) -> tuple[np.ndarray, int]:
    """Labels aligned with the capture's rows (-1 where none arrived), and how many labels matched no row."""
    joined = np.array([labels.by_key.get(key, -1) for key in capture.keys], dtype=np.int64)
    unmatched = len(labels.by_key) - int((joined >= 0).sum())
    return joined, unmatched


__all__ = ["Capture", "Labels", "SourceFile", "join_labels", "list_files", "read_capture",
           "read_labels"]
