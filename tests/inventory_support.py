"""S3 Inventory deliveries written in the layout S3 uses (for tests and benchmarks): CSV.gz, Parquet and ORC.

``write_delivery`` takes the object rows as columns (numpy/pyarrow-friendly) and writes::

    ROOT/SOURCE-BUCKET/CONFIG-ID/data/<uuid>.csv.gz|.parquet|.orc
    ROOT/SOURCE-BUCKET/CONFIG-ID/YYYY-MM-DDTHH-MMZ/manifest.json (+ manifest.checksum)

CSV files are gzipped, headerless, every value quoted, keys URL-encoded; Parquet and ORC use the snake_case
column names and timestamp types of S3's own files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np

CSV_NAMES = {"bucket": "Bucket", "key": "Key", "version_id": "VersionId", "is_latest": "IsLatest",
             "is_delete_marker": "IsDeleteMarker", "size": "Size", "last_modified_date": "LastModifiedDate",
             "encryption_status": "EncryptionStatus", "bucket_key_status": "BucketKeyStatus",
             "object_lock_mode": "ObjectLockMode", "object_lock_retain_until_date": "ObjectLockRetainUntilDate",
             "object_lock_legal_hold_status": "ObjectLockLegalHoldStatus", "checksum_algorithm": "ChecksumAlgorithm"}
ALL_FIELDS = tuple(CSV_NAMES)
CREATED = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


def _arrow_table(columns: dict):
    import pyarrow as pa

    arrays = {}
    for name, values in columns.items():
        if name in ("last_modified_date", "object_lock_retain_until_date"):
            arrays[name] = pa.array(values, type=pa.timestamp("ms", tz="UTC"))
        elif name == "size":
            arrays[name] = pa.array(values, type=pa.int64())
        elif name in ("is_latest", "is_delete_marker"):
            arrays[name] = pa.array(values, type=pa.bool_())
        else:
            arrays[name] = pa.array(values, type=pa.string())
    return pa.table(arrays)


def _csv_bytes(columns: dict) -> bytes:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = {}
    for name, values in columns.items():
        if name in ("last_modified_date", "object_lock_retain_until_date"):
            text[name] = [None if v is None else v.strftime("%Y-%m-%dT%H:%M:%S.000Z") for v in _datetimes(values)]
        elif name == "key":
            text[name] = [quote(k, safe="/") for k in values]
        elif name in ("is_latest", "is_delete_marker"):
            text[name] = ["true" if v else "false" for v in values]
        else:
            text[name] = [None if v is None else str(v) for v in values]
    out = io.BytesIO()
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pacsv.write_csv(pa.table({k: pa.array(v, type=pa.string()) for k, v in text.items()}), out, options)
    return gzip.compress(out.getvalue(), compresslevel=1)


def _datetimes(values):
    return [v if v is None or isinstance(v, datetime) else datetime.fromtimestamp(int(v) / 1000, UTC) for v in values]


def write_delivery(root: Path, source_bucket: str, columns: dict, fmt: str = "CSV", *, config: str = "daily",
                   created: datetime = CREATED, rows_per_file: int = 250_000,
                   destination: str = "inventory-destination") -> Path:
    """Write one delivery of ``columns`` (name -> list/array, keys of :data:`ALL_FIELDS`); returns manifest.json."""
    rows = len(columns["key"])
    data_dir = root / source_bucket / config / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for start in range(0, max(rows, 1), rows_per_file):
        part = {name: list(values[start:start + rows_per_file]) for name, values in columns.items()}
        name = f"{uuid.uuid4()}.{ {'CSV': 'csv.gz', 'Parquet': 'parquet', 'ORC': 'orc'}[fmt] }"
        path = data_dir / name
        if fmt == "CSV":
            path.write_bytes(_csv_bytes(part))
        elif fmt == "Parquet":
            import pyarrow.parquet as pq

            pq.write_table(_arrow_table(part), path)
        else:
            import pyarrow.orc as orc

            orc.write_table(_arrow_table(part), str(path))
        data = path.read_bytes()
        files.append({"key": f"{source_bucket}/{config}/data/{name}", "size": len(data),
                      "MD5checksum": hashlib.md5(data, usedforsecurity=False).hexdigest()})
    names = list(columns)
    if fmt == "CSV":
        schema = ", ".join(CSV_NAMES[n] for n in names)
    elif fmt == "Parquet":
        kinds = {"size": "int64", "last_modified_date": "int64", "object_lock_retain_until_date": "int64",
                 "is_latest": "boolean", "is_delete_marker": "boolean"}
        schema = "message s3.inventory { " + " ".join(
            f"{'required' if n in ('bucket', 'key') else 'optional'} {kinds.get(n, 'binary')} {n};" for n in names) \
            + " }"
    else:
        kinds = {"size": "bigint", "last_modified_date": "timestamp", "object_lock_retain_until_date": "timestamp",
                 "is_latest": "boolean", "is_delete_marker": "boolean"}
        schema = "struct<" + ",".join(f"{n}:{kinds.get(n, 'string')}" for n in names) + ">"
    manifest = {"sourceBucket": source_bucket, "destinationBucket": f"arn:aws:s3:::{destination}",
                "version": "2016-11-30", "creationTimestamp": str(int(created.timestamp() * 1000)),
                "fileFormat": fmt, "fileSchema": schema, "files": files}
    folder = root / source_bucket / config / created.strftime("%Y-%m-%dT%H-%MZ")
    folder.mkdir(parents=True, exist_ok=True)
    body = json.dumps(manifest, indent=2).encode()
    (folder / "manifest.json").write_bytes(body)
    (folder / "manifest.checksum").write_text(hashlib.md5(body, usedforsecurity=False).hexdigest())
    return folder / "manifest.json"


def synthetic_objects(bucket: str, count: int, *, seed: int = 0, violations: dict[str, int] | None = None,
                      created: datetime = CREATED) -> tuple[dict, dict[str, set[str]]]:
    """``count`` compliant governed objects with planted violations; returns (columns, planted keys per check).

    ``violations``: check id -> how many objects break it (``INV-ENC-001``: NOT-SSE or SSE-S3;
    ``INV-RET-001``: no lock, GOVERNANCE mode or a short retention). Every fifth object is outside the governed
    prefixes (``logs/``), where the retention check does not apply.
    """
    rng = np.random.default_rng(seed)
    violations = violations or {}
    index = np.arange(count)
    governed = index % 5 != 0
    keys = [f"models/run-{i // 100:06d}/part {i:07d}.bin" if g else f"logs/{i:07d}.log"
            for i, g in zip(index.tolist(), governed.tolist(), strict=True)]
    modified = created - timedelta(days=2)
    last_modified = [modified - timedelta(seconds=int(s)) for s in rng.integers(0, 86400 * 30, count)]
    until = [m + timedelta(days=3650, minutes=5) for m in last_modified]
    encryption = np.array(["SSE-KMS"] * count, dtype=object)
    mode = np.array(["GOVERNANCE"] * count, dtype=object)  # the mode the shipped retention policy expects
    hold = np.array(["OFF"] * count, dtype=object)
    planted: dict[str, set[str]] = {"INV-ENC-001": set(), "INV-RET-001": set()}
    positions = rng.permutation(count)
    used = 0
    for check, how_many in violations.items():
        pool = positions[used:] if check == "INV-ENC-001" else positions[used:][governed[positions[used:]]]
        chosen = pool[:how_many]
        used += len(chosen) if check == "INV-ENC-001" else 0
        for n, row in enumerate(chosen.tolist()):
            if check == "INV-ENC-001":
                encryption[row] = "NOT-SSE" if n % 2 else "SSE-S3"
            else:
                kind = n % 3
                if kind == 0:
                    mode[row], until[row] = None, None
                elif kind == 1:
                    mode[row] = "COMPLIANCE"  # not the mode the policy names
                else:
                    until[row] = last_modified[row] + timedelta(days=30)
            planted[check].add(f"s3://{bucket}/{keys[row]}")
    # A few compliant objects under legal hold without retention: they pass.
    for row in positions[-3:].tolist():
        if f"s3://{bucket}/{keys[row]}" not in planted["INV-RET-001"] | planted["INV-ENC-001"]:
            mode[row], until[row], hold[row] = None, None, "ON"
    columns = {
        "bucket": [bucket] * count, "key": keys, "version_id": [f"v{i}" for i in range(count)],
        "is_latest": [True] * count, "is_delete_marker": [False] * count, "size": rng.integers(1, 10**8, count),
        "last_modified_date": last_modified, "encryption_status": encryption.tolist(),
        "bucket_key_status": ["ENABLED"] * count, "object_lock_mode": mode.tolist(),
        "object_lock_retain_until_date": until, "object_lock_legal_hold_status": hold.tolist(),
        "checksum_algorithm": ["SHA256"] * count,
    }
    return columns, planted
