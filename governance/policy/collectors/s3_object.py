"""One S3 object version: its encryption, Object Lock state and checksum, from a single HeadObject.

The listing that found the object already gave its VersionId and ETag; HeadObject is asked for exactly that
version, so the evidence describes the bytes that were listed. Object Lock fields come back on HeadObject only
when the caller may read them (``s3:GetObjectRetention`` and ``s3:GetObjectLegalHold``): grant both to the
scanning role, or an unlocked object and an unreadable lock look the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from governance.policy.aws import AwsCallError
from governance.policy.collectors.base import Collector, Evidence, ResourceRef, ScanContext, register
from governance.policy.collectors.kms_key import key_ref, key_summary
from governance.storage import parse_s3_uri

_CHECKSUMS = ("ChecksumSHA256", "ChecksumSHA1", "ChecksumCRC32C", "ChecksumCRC32", "ChecksumCRC64NVME")
# A retain-until date set by a bucket's default retention lands a moment after the object's LastModified;
# an hour of slack keeps "3650 days" from reading as 3649.
_CLOCK_SLACK = timedelta(hours=1)


def object_ref(bucket: str, key: str, **hints: Any) -> ResourceRef:
    return ResourceRef("s3_object", f"s3://{bucket}/{key}", {k: v for k, v in hints.items() if v is not None})


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return str(value)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def lock_evidence(mode: str | None, retain_until: Any, legal_hold: str | None, last_modified: Any) -> dict:
    until = _as_datetime(retain_until)
    created = _as_datetime(last_modified)
    retained_days = None
    if until is not None and created is not None:
        retained_days = (until - created + _CLOCK_SLACK) // timedelta(days=1)
    return {
        "mode": mode,
        "retain_until": _iso(until),
        "legal_hold": (legal_hold or "").upper() == "ON",
        "retained_days": retained_days,
        "locked_now": until is not None and until > datetime.now(UTC),
    }


@register
class S3ObjectCollector(Collector):
    resource_type = "s3_object"
    description = "One S3 object version (HeadObject): encryption and KMS key, Object Lock retention and legal hold."
    shape: ClassVar[dict[str, Any]] = {
        "bucket": str,
        "key": str,
        "version_id": str,
        "etag": str,
        "size": int,
        "last_modified": str,
        "encryption": {"algorithm": str, "kms_key": str, "kms_key_arn": str, "kms_key_manager": str,
                       "bucket_key_enabled": bool},
        "lock": {"mode": str, "retain_until": str, "legal_hold": bool, "retained_days": int, "locked_now": bool},
        "checksum": {"algorithm": str, "value": str},
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        location = parse_s3_uri(ref.id)
        evidence = Evidence()
        params: dict[str, Any] = {"Bucket": location.bucket, "Key": location.key, "ChecksumMode": "ENABLED"}
        version = ref.hints.get("version_id")
        if version and (version == "null" or version.startswith("modified:")):
            version = None  # unversioned, or listed without versions: ask for the current object
        if version:
            params["VersionId"] = version
        try:
            head = ctx.aws.call("s3", "head_object", evidence.calls, **params)
        except AwsCallError as err:
            return Evidence.failed(str(err), evidence.calls)
        algorithm = head.get("ServerSideEncryption")
        kms_key = head.get("SSEKMSKeyId") if algorithm in ("aws:kms", "aws:kms:dsse") else None
        summary, error = key_summary(ctx, kms_key, evidence.calls)
        if error:
            evidence.transient = evidence.transient or summary["kms_key_arn"] is None
            evidence.errors["encryption.kms_key_manager"] = error
            if summary["kms_key_arn"] is None:
                evidence.errors["encryption.kms_key_arn"] = error
        elif summary["kms_key_arn"]:
            evidence.related.append(key_ref(summary["kms_key_arn"]))
        checksum = next((name for name in _CHECKSUMS if head.get(name)), None)
        evidence.data.update(
            bucket=location.bucket,
            key=location.key,
            version_id=head.get("VersionId") or version or "null",
            etag=head.get("ETag"),
            size=head.get("ContentLength"),
            last_modified=_iso(head.get("LastModified")),
            encryption={"algorithm": algorithm, "kms_key": kms_key, **summary,
                        "bucket_key_enabled": bool(head.get("BucketKeyEnabled"))},
            lock=lock_evidence(head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate"),
                               head.get("ObjectLockLegalHoldStatus"), head.get("LastModified")),
            checksum={"algorithm": checksum.removeprefix("Checksum") if checksum else None,
                      "value": head.get(checksum) if checksum else None},
        )
        return evidence
