"""Incremental scans: evidence kept between runs, reused while it still describes the resource.

* An S3 object version is immutable: evidence keyed by its VersionId and ETag (both in the listing) is reused
  as long as the listing shows the same pair — the rescan of an unchanged bucket makes only listing calls. Object
  Lock retention and legal hold *can* change on the same version, so object evidence is refreshed anyway once it
  is older than ``object_max_age`` (default 7 days).
* Bucket, KMS key and SageMaker configuration have no change token; their evidence is reused for
  ``config_max_age`` (default 1 hour: back-to-back scans in one deployment share it, a nightly scan re-reads it).
* Local files and artefacts are always read again (they are cheap, or their bytes are the point).
* Evidence also depends on the policy parameters (trusted signers, for instance): a different parameter set
  discards the state.

>>> import tempfile, os
>>> state = ScanState(os.path.join(tempfile.mkdtemp(), "state.json"))
>>> state.entries
{}
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.errors import InputError
from governance.hashing import sha256_bytes
from governance.jsonio import canonical, dumps
from governance.policy.collectors.base import Evidence, ResourceRef
from governance.storage import write_bytes_atomic

STATE_VERSION = 1
CONFIG_TYPES = frozenset({"s3_bucket", "s3_bucket_inventory", "kms_key", "sagemaker_training_job", "sagemaker_model",
                          "sagemaker_model_package"})
VERSIONED_TYPES = frozenset({"s3_object"})


def _parse(stamp: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ScanState:
    """A JSON file of evidence by resource; :meth:`lookup` says what may be reused, :meth:`save` writes atomically."""

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        object_max_age: timedelta = timedelta(days=7),
        config_max_age: timedelta = timedelta(hours=1),
    ) -> None:
        self.path = Path(path)
        self.object_max_age = object_max_age
        self.config_max_age = config_max_age
        self.entries: dict[str, dict[str, Any]] = {}
        self.parameters_sha256: str | None = None
        self._lock = threading.Lock()
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError("BAD_STATE", f"{self.path}: not a scan state file ({err})") from None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise InputError("BAD_STATE", f"{self.path}: unsupported scan state (expected version {STATE_VERSION})")
        resources = data.get("resources") or {}
        if not isinstance(resources, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("evidence", {}), dict) for v in resources.values()):
            raise InputError("BAD_STATE", f"{self.path}: not a scan state file ('resources' is not a mapping of "
                                          "entries)")
        self.entries = dict(resources)
        self.parameters_sha256 = data.get("parameters_sha256")

    def bind_parameters(self, parameters: dict[str, Any]) -> None:
        """Drop everything if the policy parameters changed since the state was written."""
        digest = sha256_bytes(canonical(parameters))
        if self.parameters_sha256 not in (None, digest):
            self.entries = {}
        self.parameters_sha256 = digest

    def lookup(self, ref: ResourceRef, now: datetime | None = None) -> Evidence | None:
        """Stored evidence for ``ref`` if it still applies, else ``None``."""
        if ref.type not in CONFIG_TYPES | VERSIONED_TYPES:
            return None
        with self._lock:
            entry = self.entries.get(ref.key)
        stored = (entry or {}).get("evidence") or {}
        if not stored or stored.get("transient") or "*" in (stored.get("errors") or {}):
            return None  # a failure that may pass by itself is asked again
        collected = _parse(stored.get("collected_at", ""))
        if collected is None:
            return None
        age = (now or datetime.now(UTC)) - collected
        if ref.type in VERSIONED_TYPES:
            listed = (ref.hints.get("version_id"), ref.hints.get("etag"))
            if None in listed or listed != (entry.get("version_id"), entry.get("etag")) or age > self.object_max_age:
                return None
        elif age > self.config_max_age:
            return None
        evidence = Evidence.from_dict(stored)
        evidence.reused = True
        return evidence

    def record(self, ref: ResourceRef, evidence: Evidence) -> None:
        if ref.type not in CONFIG_TYPES | VERSIONED_TYPES:
            return
        entry: dict[str, Any] = {"evidence": {k: v for k, v in evidence.to_dict().items() if k != "sha256"}}
        if ref.type in VERSIONED_TYPES:
            entry["version_id"] = ref.hints.get("version_id")
            entry["etag"] = ref.hints.get("etag")
        with self._lock:
            self.entries[ref.key] = entry

    def _fresh(self, key: str, entry: dict, now: datetime) -> bool:
        collected = _parse(entry.get("evidence", {}).get("collected_at", ""))
        limit = self.object_max_age if key.split(":", 1)[0] in VERSIONED_TYPES else self.config_max_age
        return collected is not None and now - collected <= limit

    def save(self) -> None:
        """Write the state (dropping entries too old to be reused, so deleted objects do not pile up)."""
        now = datetime.now(UTC)
        with self._lock:
            self.entries = {k: v for k, v in self.entries.items() if self._fresh(k, v, now)}
        document = {"version": STATE_VERSION, "parameters_sha256": self.parameters_sha256,
                    "saved_at": datetime.now(UTC).isoformat(timespec="seconds"), "resources": self.entries}
        write_bytes_atomic(self.path, dumps(document, indent=None))
