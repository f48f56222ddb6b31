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

Reused evidence is never re-read, so the file is sealed: its sha256 over everything else it holds, and with a
state key (``--state-key FILE`` or ``GOVERNANCE_STATE_KEY``) an HMAC-SHA256 under that key. A file whose seal
does not match is refused (``STATE_TAMPERED``, exit 1) — never trusted, never silently skipped. The digest alone
catches corruption and edits by tools that do not know the format; only the keyed HMAC stops someone who can write
the file from forging evidence, so give a key wherever the state lives beside people or jobs you do not trust.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "state.json")
>>> state = ScanState(path, key=b"k" * 32)
>>> state.entries
{}
>>> state.save(); sorted(json.loads(open(path).read())["seal"])
['hmac_sha256', 'sha256']
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.errors import CheckFailed, InputError, reading
from governance.hashing import sha256_bytes
from governance.jsonio import canonical, dumps
from governance.policy.collectors.base import Evidence, ResourceRef
from governance.storage import write_bytes_atomic

STATE_VERSION = 2
STATE_KEY_ENV = "GOVERNANCE_STATE_KEY"
MIN_KEY_BYTES = 32
CONFIG_TYPES = frozenset({"s3_bucket", "s3_bucket_inventory", "kms_key", "sagemaker_training_job", "sagemaker_model",
                          "sagemaker_model_package"})
VERSIONED_TYPES = frozenset({"s3_object"})


def _parse(stamp: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def state_key(path: str | os.PathLike | None = None) -> bytes | None:
    """The HMAC key for scan state: the bytes of ``path`` when given, else ``$GOVERNANCE_STATE_KEY``, else none.

    A key file is taken byte for byte (a random key may end in whitespace bytes that stripping would cut off).
    """
    if path is not None:
        with reading(path, "state key file", missing="KEY_NOT_FOUND"):
            key = Path(path).read_bytes()
    else:
        key = os.environ.get(STATE_KEY_ENV, "").strip().encode()
        if not key:
            return None
    if len(key) < MIN_KEY_BYTES:
        raise InputError("BAD_STATE_KEY", f"the scan state key must be at least {MIN_KEY_BYTES} bytes of secret "
                                          "(e.g. head -c 32 /dev/urandom | base64)")
    return key


def seal(body: dict[str, Any], key: bytes | None) -> dict[str, str]:
    """The seal of a state document's ``body`` (everything but the seal): sha256, and an HMAC when keyed."""
    data = canonical(body)
    sealed = {"sha256": sha256_bytes(data)}
    if key is not None:
        sealed["hmac_sha256"] = hmac.new(key, data, hashlib.sha256).hexdigest()
    return sealed


def _check_seal(path: Path, data: dict[str, Any], key: bytes | None) -> None:
    body = {k: v for k, v in data.items() if k != "seal"}
    stored = data.get("seal")
    if not isinstance(stored, dict):
        raise CheckFailed("STATE_TAMPERED", f"{path}: the scan state carries no seal; it cannot be trusted")
    expected = seal(body, key)
    if not hmac.compare_digest(str(stored.get("sha256", "")), expected["sha256"]):
        raise CheckFailed("STATE_TAMPERED", f"{path}: the scan state changed after it was written (sha256 differs)")
    if key is None and "hmac_sha256" in stored:
        raise InputError("STATE_KEY_REQUIRED", f"{path}: the scan state was sealed with a key; give the same "
                                               f"--state-key (or {STATE_KEY_ENV})")
    if key is not None and not hmac.compare_digest(str(stored.get("hmac_sha256", "")), expected["hmac_sha256"]):
        raise CheckFailed("STATE_TAMPERED", f"{path}: the scan state's HMAC does not verify with this key (edited, "
                                            "or sealed with another key or none)")


class ScanState:
    """A JSON file of evidence by resource; :meth:`lookup` says what may be reused, :meth:`save` writes atomically.

    ``key`` (see :func:`state_key`) authenticates the file with an HMAC; a file that fails its seal is refused.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        object_max_age: timedelta = timedelta(days=7),
        config_max_age: timedelta = timedelta(hours=1),
        key: bytes | None = None,
    ) -> None:
        self.path = Path(path)
        self.key = key
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
        _check_seal(self.path, data, self.key)
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
        document: dict[str, Any] = {"version": STATE_VERSION, "parameters_sha256": self.parameters_sha256,
                                    "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                    "resources": self.entries}
        document["seal"] = seal(document, self.key)
        write_bytes_atomic(self.path, dumps(document, indent=None))
