"""A ledger on S3 under Object Lock: each record is its own object, written once and kept until its retention ends.

Records live at ``s3://BUCKET/PREFIX/000000000001.json``, ``…002.json`` … (zero-padded, so key order is record
order). Every object is written with ``ObjectLockMode`` and ``ObjectLockRetainUntilDate`` and with
``If-None-Match: *``, so two writers can never claim the same sequence number (the loser retries on the next
one) and nobody — the account root included, in COMPLIANCE mode — can change or remove a record's bytes before
its retention date. On a versioned bucket a rewrite or a delete still *looks* possible (a new version, a delete
marker); verification lists every version and reports both, while the locked original stays readable.

The bucket must have been created with Object Lock enabled (``ObjectLockEnabledForBucket=True``).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from governance.errors import CheckFailed, Incomplete, InputError
from governance.ledger._file import Entry, parse_record
from governance.ledger._record import encode, record_hash
from governance.signing import Signer
from governance.storage import aws_error, parse_s3_uri, s3_client

# None: follow the bucket's Object Lock default retention (mode and period), which the stack sets from the same
# value as the retention policy, so a ledger record is kept exactly as long as every other governed object.
DEFAULT_LOCK_MODE: str | None = None
DEFAULT_RETENTION_DAYS: int | None = None
_KEY = re.compile(r"^(\d{12})\.json$")
_MAX_ATTEMPTS = 50
_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


class S3Store:
    has_head = False

    def __init__(self, uri: str, *, lock_mode: str | None = DEFAULT_LOCK_MODE,
                 retention_days: int | None = DEFAULT_RETENTION_DAYS) -> None:
        location = parse_s3_uri(uri)
        if lock_mode is not None and lock_mode not in ("COMPLIANCE", "GOVERNANCE"):
            raise InputError("BAD_PARAMETER", f"Object Lock mode must be COMPLIANCE or GOVERNANCE, got {lock_mode!r}")
        if retention_days is not None and retention_days < 1:
            raise InputError("BAD_PARAMETER", "the ledger's retention must be at least one day")
        self.bucket = location.bucket
        self.prefix = location.key if not location.key or location.key.endswith("/") else location.key + "/"
        self.location = f"s3://{self.bucket}/{self.prefix}"
        self.lock_mode, self.retention_days = lock_mode, retention_days
        self._client = None
        self._lock_checked = False
        self._last_key = ""
        self._problems: list[tuple[str, int | None, str, str]] = []

    @property
    def client(self):
        if self._client is None:
            self._client = s3_client()
        return self._client

    def key(self, seq: int) -> str:
        return f"{self.prefix}{seq:012d}.json"

    def _call(self, what: str, action: Callable[[], dict]) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except (ClientError, BotoCoreError) as err:
            raise aws_error(err, what) from None

    def _ensure_object_lock(self) -> None:
        if self._lock_checked:
            return
        from botocore.exceptions import ClientError

        try:
            config = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ObjectLockConfigurationNotFoundError":
                config = {}
            else:
                raise aws_error(err, f"s3://{self.bucket}") from None
        lock = config.get("ObjectLockConfiguration", {})
        if lock.get("ObjectLockEnabled") != "Enabled":
            raise InputError("OBJECT_LOCK_DISABLED", f"s3://{self.bucket}: Object Lock is not enabled on the bucket; "
                                                     "create it with Object Lock to hold a ledger")
        default = lock.get("Rule", {}).get("DefaultRetention", {})
        days = default.get("Days") or (365 * default["Years"] if default.get("Years") else None)
        self.retention_days = self.retention_days or days
        # An explicit period on a bucket without a default rule is locked in GOVERNANCE mode, the stack's default.
        self.lock_mode = self.lock_mode or default.get("Mode") or ("GOVERNANCE" if self.retention_days else None)
        if not self.lock_mode or not self.retention_days:
            raise InputError("NO_RETENTION", f"s3://{self.bucket}: the bucket has no Object Lock default retention "
                                             "to follow; give the ledger's lock mode and retention days")
        self._lock_checked = True

    def _last(self) -> dict | None:
        paginator = self.client.get_paginator("list_objects_v2")
        last_key = self._last_key
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix, StartAfter=self._last_key or self.prefix)
        for page in self._call(self.location, lambda: list(pages)):
            for item in page.get("Contents", []):
                if _KEY.match(item["Key"][len(self.prefix):]):
                    last_key = max(last_key, item["Key"])
        if not last_key:
            return None
        body = self._call(last_key, lambda: self.client.get_object(Bucket=self.bucket, Key=last_key)["Body"].read())
        record = parse_record(body)
        if record is None or record.get("hash") != record_hash(record):
            raise CheckFailed("LEDGER_TAMPERED", f"s3://{self.bucket}/{last_key}: the last record does not match its "
                                                 "hash; nothing appended — run `governance ledger verify`")
        self._last_key = last_key
        return record

    def _put(self, record: dict) -> bool:
        """Write one record object; ``False`` when another writer already holds that sequence number."""
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.key(record["seq"])
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=encode(record), ContentType="application/json",
                ChecksumAlgorithm="SHA256", IfNoneMatch="*", ObjectLockMode=self.lock_mode,
                ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=self.retention_days),
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in _CONFLICT_CODES:
                return False
            raise aws_error(err, f"s3://{self.bucket}/{key}") from None
        except BotoCoreError as err:
            raise aws_error(err, f"s3://{self.bucket}/{key}") from None
        self._last_key = max(self._last_key, key)
        return True

    def check_appendable(self, signer: Signer | None) -> None:
        """Nothing to check before an append: an S3 ledger has no head object (see :meth:`append`)."""

    def append(self, build: Callable[[dict | None], list[dict]], signer: Signer | None) -> list[dict]:
        """Optimistic append: build on the newest record, write with If-None-Match, retry when another writer won."""
        del signer  # deletes leave markers under Object Lock: no separate head object is needed
        self._ensure_object_lock()
        for attempt in range(_MAX_ATTEMPTS):
            records = build(self._last())
            written: list[dict] = []
            for record in records:
                if not self._put(record):
                    break
                written.append(record)
            if written:
                # A checkpoint that lost its race is simply taken at a later append.
                return written
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
        raise Incomplete("LEDGER_CONTENDED", f"{self.location}: gave up after {_MAX_ATTEMPTS} conflicting writers")

    def entries(self) -> Iterator[Entry]:
        """Every record in key order, read from its *oldest* version: the one Object Lock protects."""
        self._problems = []
        versions: dict[str, list[dict]] = {}
        markers: dict[str, list[dict]] = {}
        paginator = self.client.get_paginator("list_object_versions")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in self._call(self.location, lambda: list(pages)):
            for item in page.get("Versions", []):
                versions.setdefault(item["Key"], []).append(item)
            for item in page.get("DeleteMarkers", []):
                markers.setdefault(item["Key"], []).append(item)
        if not versions and not markers:
            self._call(self.location, lambda: self.client.head_bucket(Bucket=self.bucket))
            # Like a missing ledger file: a mistyped prefix must not verify as an intact (empty) ledger.
            raise InputError("FILE_NOT_FOUND", f"{self.location}: no ledger records under this prefix")
        for key in sorted(set(versions) | set(markers)):
            match = _KEY.match(key[len(self.prefix):])
            if not match:
                self._problems.append(("unexpected", None, key, f"{key}: an object under the ledger prefix that is "
                                                                 "not a ledger record"))
                continue
            seq = int(match.group(1))
            if key in markers:
                self._problems.append(("deleted", seq, key, f"record {seq} ({key}) was deleted (a delete marker hides "
                                                           "it; the locked original is still stored)"))
            stored = versions.get(key, [])
            if len(stored) > 1:
                self._problems.append(("edited", seq, key, f"record {seq} ({key}) was rewritten: {len(stored)} "
                                                          "versions; the oldest is the original"))
            if not stored:
                continue
            # S3 lists a key's versions newest first; LastModified breaks no ties at one-second resolution.
            original = stored[-1]
            response = self._call(key, lambda k=key, v=original["VersionId"]: self.client.get_object(
                Bucket=self.bucket, Key=k, VersionId=v))
            raw = response["Body"].read()
            if not response.get("ObjectLockMode") or not response.get("ObjectLockRetainUntilDate"):
                self._problems.append(("unlocked", seq, key, f"record {seq} ({key}) is not under Object Lock: it can "
                                                            "be deleted or overwritten"))
            yield _KeyedEntry(key, raw, seq)

    def head(self) -> dict | None:
        return None

    def storage_problems(self) -> list[tuple[str, int | None, str, str]]:
        return list(self._problems)


class _KeyedEntry(Entry):
    """An S3 record also knows the sequence number its key claims."""

    __slots__ = ("key_seq",)

    def __init__(self, key: str, raw: bytes, seq: int) -> None:
        super().__init__(key, raw.rstrip(b"\n"), raw.endswith(b"\n"))
        self.key_seq = seq
