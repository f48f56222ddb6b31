"""S3 Inventory as evidence: the object versions a delivery lists, and each bucket's inventory configurations.

``s3_inventory_object`` is never collected one by one: :mod:`governance.policy.inventory` answers its checks
from the delivery with one query. Its shape is declared here so policies are validated against it like any
other resource. S3 Inventory records the encryption *type* of an object (``SSE-KMS``, ``DSSE-KMS``, ``SSE-S3``,
``SSE-C``, ``NOT-SSE``) but not its KMS key: which key a bucket's objects get is governed at bucket level
(ENC-S3-001), and objects newer than the delivery are read with HeadObject, key included.

``s3_bucket_inventory`` is one bucket's ``ListBucketInventoryConfigurations``: the check that every governed
bucket has a daily inventory carrying the fields the object checks need reads it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from governance.policy.collectors.base import Collector, Evidence, ResourceRef, ScanContext, register
from governance.storage import parse_s3_uri

# The inventory fields the object checks read (the parameter ``inventory_required_fields`` overrides them).
REQUIRED_FIELDS = ("Size", "LastModifiedDate", "EncryptionStatus", "BucketKeyStatus", "ObjectLockMode",
                   "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus", "ChecksumAlgorithm")


def inventory_ref(bucket: str) -> ResourceRef:
    return ResourceRef("s3_bucket_inventory", f"s3://{bucket}")


@register
class S3InventoryObject(Collector):
    resource_type = "s3_inventory_object"
    description = "One current object version as an S3 Inventory delivery lists it (no API call)."
    shape: ClassVar[dict[str, Any]] = {
        "bucket": str,
        "key": str,
        "version_id": str,
        "size": int,
        "last_modified": str,
        "encryption": {"status": str, "algorithm": str, "bucket_key_enabled": bool},
        "lock": {"mode": str, "retain_until": str, "legal_hold": bool, "retained_days": int, "locked_now": bool},
        "checksum": {"algorithm": str},
        "inventory": {"manifest": str, "manifest_sha256": str, "date": str, "delivery": str, "format": str,
                      "source_bucket": str, "files": int},
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        return Evidence.failed(f"{ref.id}: inventory objects are read from an inventory delivery "
                               "(governance scan --inventory MANIFEST), not one by one")


@register
class S3BucketInventory(Collector):
    resource_type = "s3_bucket_inventory"
    description = "A bucket's S3 Inventory configurations (ListBucketInventoryConfigurations)."
    shape: ClassVar[dict[str, Any]] = {
        "bucket": str,
        "configurations": [{"id": str, "enabled": bool, "frequency": str, "format": str, "versions": str,
                            "fields": [str], "missing_fields": [str], "destination": str, "prefix": str}],
        "daily_with_required_fields": bool,
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        bucket = parse_s3_uri(ref.id).bucket
        evidence = Evidence()
        required = list(ctx.parameters.get("inventory_required_fields") or REQUIRED_FIELDS)

        def configurations() -> list[dict]:
            found, token = [], None
            while True:
                params = {"Bucket": bucket, **({"ContinuationToken": token} if token else {})}
                page = ctx.aws.call("s3", "list_bucket_inventory_configurations", evidence.calls, **params)
                found.extend(configuration_summary(c, required) for c in page.get("InventoryConfigurationList") or [])
                if not page.get("IsTruncated"):
                    return found
                token = page.get("NextContinuationToken")

        evidence.data["bucket"] = bucket
        evidence.section("configurations", configurations)
        listed = evidence.data.get("configurations")
        if listed is None:
            evidence.errors["daily_with_required_fields"] = evidence.errors["configurations"]
        else:
            evidence.data["daily_with_required_fields"] = any(is_sufficient(c) for c in listed)
        return evidence


def configuration_summary(config: dict, required: list[str]) -> dict:
    """One ``InventoryConfiguration`` (as S3 returns it) as evidence, with the required fields it lacks."""
    fields = list(config.get("OptionalFields") or [])
    destination = (config.get("Destination") or {}).get("S3BucketDestination") or {}
    return {
        "id": config.get("Id"), "enabled": bool(config.get("IsEnabled")),
        "frequency": (config.get("Schedule") or {}).get("Frequency"), "format": destination.get("Format"),
        "versions": config.get("IncludedObjectVersions"), "fields": fields,
        "missing_fields": [f for f in required if f not in fields], "destination": destination.get("Bucket"),
        "prefix": (config.get("Filter") or {}).get("Prefix") or "",
    }


def is_sufficient(summary: dict) -> bool:
    """An enabled daily inventory of the whole bucket with every required field: every object is checkable."""
    return summary["enabled"] and summary["frequency"] == "Daily" and not summary["missing_fields"] \
        and not summary["prefix"]
