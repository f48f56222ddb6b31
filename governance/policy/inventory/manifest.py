"""An S3 Inventory delivery: its ``manifest.json``, read and checked, and its data files, fetched and MD5-verified.

S3 writes one delivery per configuration and run::

    DESTINATION/[PREFIX/]SOURCE-BUCKET/CONFIG-ID/YYYY-MM-DDTHH-MMZ/manifest.json   (+ manifest.checksum)
    DESTINATION/[PREFIX/]SOURCE-BUCKET/CONFIG-ID/data/*.csv.gz | *.parquet | *.orc

The manifest names the source bucket, the format, the schema (for CSV: the field names in column order, as CSV
files have no header) and every data file with its MD5. A finding made from the inventory records the manifest's
SHA-256 and date, so the evidence can be traced to the exact delivery; a data file whose bytes do not match the
manifest's MD5 is not read.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from governance import storage
from governance.errors import Incomplete, InputError
from governance.hashing import sha256_bytes

FORMATS = ("CSV", "Parquet", "ORC")
_DELIVERY = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z$")


@dataclass(frozen=True)
class DataFile:
    key: str
    size: int
    md5: str


@dataclass(frozen=True)
class Manifest:
    """One inventory delivery, as its manifest describes it."""

    location: str
    sha256: str
    source_bucket: str
    destination_bucket: str
    file_format: str
    file_schema: str
    files: tuple[DataFile, ...]
    created: datetime
    version: str

    @property
    def csv_fields(self) -> list[str]:
        """The CSV column names in order (``fileSchema`` of a CSV inventory)."""
        return [name.strip() for name in self.file_schema.split(",") if name.strip()]

    @property
    def delivery(self) -> str:
        """The delivery folder name (``2026-11-29T01-00Z``), which is also Athena's ``dt`` partition value."""
        parent = self.location.rstrip("/").rsplit("/", 2)[-2] if "/" in self.location else ""
        if _DELIVERY.match(parent):
            return parent
        return self.created.strftime("%Y-%m-%dT%H-%MZ")

    def describe(self) -> dict:
        """What a finding records about the inventory it came from."""
        return {"manifest": self.location, "manifest_sha256": self.sha256, "date": self.created.isoformat(),
                "delivery": self.delivery, "format": self.file_format, "source_bucket": self.source_bucket,
                "files": len(self.files)}


def _field(data: dict, name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise InputError("BAD_INVENTORY", f"{where}: manifest has no {name!r}")
    return value


def read_manifest(location: str) -> Manifest:
    """Read and validate ``manifest.json`` (a local path or an ``s3://`` URI)."""
    raw = storage.read_bytes(location)
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError("BAD_INVENTORY", f"{location}: not a JSON manifest ({err})") from None
    if not isinstance(data, dict):
        raise InputError("BAD_INVENTORY", f"{location}: a manifest is a JSON object")
    file_format = _field(data, "fileFormat", location)
    if file_format not in FORMATS:
        raise InputError("BAD_INVENTORY", f"{location}: fileFormat {file_format!r} (expected one of {FORMATS})")
    files = []
    for entry in data.get("files") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) \
                or not isinstance(entry.get("MD5checksum"), str):
            raise InputError("BAD_INVENTORY", f"{location}: a files[] entry needs key and MD5checksum")
        files.append(DataFile(entry["key"], int(entry.get("size") or 0), entry["MD5checksum"].lower()))
    if not files:
        raise InputError("BAD_INVENTORY", f"{location}: the manifest lists no data files")
    try:
        created = datetime.fromtimestamp(int(data.get("creationTimestamp")) / 1000, UTC)
    except (TypeError, ValueError):
        raise InputError("BAD_INVENTORY", f"{location}: creationTimestamp must be milliseconds since 1970") from None
    destination = _field(data, "destinationBucket", location)
    return Manifest(
        location=str(location), sha256=sha256_bytes(raw), source_bucket=_field(data, "sourceBucket", location),
        destination_bucket=destination.rsplit(":", 1)[-1], file_format=file_format,
        file_schema=_field(data, "fileSchema", location), files=tuple(files), created=created,
        version=str(data.get("version") or ""),
    )


def _local_file(manifest: Manifest, key: str) -> Path:
    """A data file of a local copy of the destination: the folder above the manifest that holds ``key``."""
    folder = Path(manifest.location).resolve().parent
    for root in (folder, *folder.parents):
        candidate = root / key
        if candidate.is_file():
            return candidate
    raise InputError("BAD_INVENTORY", f"{manifest.location}: data file {key} not found above the manifest")


def fetch_files(manifest: Manifest, scratch: Path) -> list[Path]:
    """Local paths of the data files, each verified against the manifest's MD5 (S3 files are downloaded first).

    Raises :class:`Incomplete` (``INVENTORY_DIGEST_MISMATCH``) when a file's bytes differ from its manifest entry.
    """
    paths = []
    for index, entry in enumerate(manifest.files):
        if storage.is_s3_uri(manifest.location):
            data = storage.read_bytes(f"s3://{manifest.destination_bucket}/{entry.key}")
            path = scratch / f"{index:05d}-{Path(entry.key).name}"
            path.write_bytes(data)
            digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        else:
            path = _local_file(manifest, entry.key)
            digest = _md5_file(path)
        if digest != entry.md5:
            raise Incomplete("INVENTORY_DIGEST_MISMATCH",
                             f"{manifest.location}: data file {entry.key} has MD5 {digest}, the manifest says "
                             f"{entry.md5}: the inventory cannot be relied on")
        paths.append(path)
    return paths


def _md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
