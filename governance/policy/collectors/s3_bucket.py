"""S3 bucket configuration, fetched once per bucket however many of its objects a scan covers.

One call per configuration section (encryption, public access block, policy and its status, ACL, ownership
controls, versioning, Object Lock, lifecycle). "Not configured" answers become explicit evidence, with AWS's
meaning of them: no encryption configuration means SSE-S3 (S3 encrypts every new object since January 2023),
SSE-KMS without a key id means the AWS managed key ``alias/aws/s3``, no ownership controls means the legacy
``ObjectWriter`` (ACLs enabled). A section whose call failed is marked unavailable and the checks that read it
report ERROR.
"""

from __future__ import annotations

from typing import Any, ClassVar

from governance.policy.aws import AwsCallError
from governance.policy.collectors._resource_policy import analyse_document, no_policy
from governance.policy.collectors.base import Collector, Evidence, ResourceRef, ScanContext, register
from governance.policy.collectors.kms_key import AWS_MANAGED_S3_ALIAS, key_ref, key_summary

PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)
_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_PAB_SHAPE = {"block_public_acls": bool, "ignore_public_acls": bool, "block_public_policy": bool,
              "restrict_public_buckets": bool, "configured": bool}


def bucket_ref(bucket: str) -> ResourceRef:
    return ResourceRef("s3_bucket", f"s3://{bucket}")


def _absent(call, *codes: str):
    """Run ``call``; the listed error codes mean "not configured" and give ``None``."""
    try:
        return call()
    except AwsCallError as err:
        if err.code in codes:
            return None
        raise


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value else None)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@register
class S3BucketCollector(Collector):
    resource_type = "s3_bucket"
    description = "An S3 bucket: encryption, public access, policy, ACL, ownership, versioning, Object Lock, lifecycle."
    shape: ClassVar[dict[str, Any]] = {
        "bucket": str,
        "encryption": {"configured": bool, "algorithm": str, "kms_key": str, "kms_key_arn": str,
                       "kms_key_manager": str, "bucket_key_enabled": bool},
        "public_access_block": _PAB_SHAPE,
        "account_public_access_block": {**_PAB_SHAPE, "account": str},
        "policy": {"present": bool, "statement_count": int, "denies_insecure_transport": bool, "allows_public": bool,
                   "public_statements": [str], "principal_accounts": [str], "principal_orgs": [str],
                   "notes": [str], "engine": str, "public_engine": str,
                   "validation_findings": [{"finding_type": str, "issue_code": str, "detail": str}]},
        "policy_status": {"is_public": bool},
        "acl": {"owner_id": str, "grants": [{"grantee_type": str, "grantee_uri": str, "grantee_id": str,
                                             "permission": str}]},
        "ownership": {"configured": bool, "object_ownership": str},
        "versioning": {"status": str, "mfa_delete": str},
        "object_lock": {"enabled": bool, "mode": str, "default_retention_days": int},
        "lifecycle": {"rules": [{"id": str, "status": str, "prefix": str, "has_tag_filter": bool,
                                 "expiration_days": int, "expiration_date": str,
                                 "noncurrent_expiration_days": int}]},
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        bucket = ref.id.removeprefix("s3://").split("/", 1)[0]
        evidence = Evidence(data={"bucket": bucket})
        calls = evidence.calls

        def s3(operation: str, **params: Any) -> dict:
            return ctx.aws.call("s3", operation, calls, Bucket=bucket, **params)

        try:  # first, so a missing or unreachable bucket is one ERROR rather than ten
            evidence.data["versioning"] = self._versioning(s3)
        except AwsCallError as err:
            if err.kind in ("not_found", "denied") or err.code == "EndpointUnreachable":
                return Evidence.failed(str(err), calls)
            evidence.data["versioning"], evidence.errors["versioning"] = None, str(err)
        evidence.section("encryption", lambda: self._encryption(s3, ctx, evidence))
        evidence.section("public_access_block", lambda: self._public_access_block(s3))
        evidence.section("account_public_access_block", lambda: self._account_public_access_block(ctx, calls))
        evidence.section("policy", lambda: self._policy(s3, bucket, ctx, evidence))
        evidence.section("policy_status", lambda: self._policy_status(s3))
        evidence.section("acl", lambda: self._acl(s3))
        evidence.section("ownership", lambda: self._ownership(s3))
        evidence.section("object_lock", lambda: self._object_lock(s3))
        evidence.section("lifecycle", lambda: self._lifecycle(s3))
        return evidence

    @staticmethod
    def _encryption(s3, ctx: ScanContext, evidence: Evidence) -> dict:
        response = _absent(lambda: s3("get_bucket_encryption"), "ServerSideEncryptionConfigurationNotFoundError")
        if response is None:
            return {"configured": False, "algorithm": "AES256", "kms_key": None, "kms_key_arn": None,
                    "kms_key_manager": None, "bucket_key_enabled": False}
        rules = response.get("ServerSideEncryptionConfiguration", {}).get("Rules") or [{}]
        default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm")
        kms_key = default.get("KMSMasterKeyID")
        if algorithm in ("aws:kms", "aws:kms:dsse") and not kms_key:
            kms_key = AWS_MANAGED_S3_ALIAS
        summary, error = key_summary(ctx, kms_key, evidence.calls) if algorithm in ("aws:kms", "aws:kms:dsse") \
            else ({"kms_key_arn": None, "kms_key_manager": None}, None)
        if error:
            evidence.transient = evidence.transient or summary["kms_key_arn"] is None
            evidence.errors["encryption.kms_key_manager"] = error
            if summary["kms_key_arn"] is None:
                evidence.errors["encryption.kms_key_arn"] = error
        elif summary["kms_key_arn"]:
            evidence.related.append(key_ref(summary["kms_key_arn"], kms_key if "alias/" in kms_key else None))
        return {"configured": True, "algorithm": algorithm, "kms_key": kms_key, **summary,
                "bucket_key_enabled": bool(rules[0].get("BucketKeyEnabled"))}

    @staticmethod
    def _flags(config: dict | None) -> dict:
        config = config or {}
        return {**{_snake(flag): bool(config.get(flag)) for flag in _PAB_FLAGS}, "configured": bool(config)}

    def _public_access_block(self, s3) -> dict:
        response = _absent(lambda: s3("get_public_access_block"), "NoSuchPublicAccessBlockConfiguration")
        return self._flags((response or {}).get("PublicAccessBlockConfiguration"))

    def _account_public_access_block(self, ctx: ScanContext, calls: list[str]) -> dict:
        # The account-wide setting applies on top of the bucket's; fetched once per scan.
        def fetch() -> dict:
            account = ctx.aws.call("sts", "get_caller_identity", calls)["Account"]
            response = _absent(lambda: ctx.aws.call("s3control", "get_public_access_block", calls, AccountId=account),
                               "NoSuchPublicAccessBlockConfiguration")
            return {**self._flags((response or {}).get("PublicAccessBlockConfiguration")), "account": account}

        value, fresh = ctx.memo.get("s3control:GetPublicAccessBlock", fetch)
        if not fresh:
            calls.append("s3control:GetPublicAccessBlock (cached)")
        return dict(value)

    @staticmethod
    def _policy(s3, bucket: str, ctx: ScanContext, evidence: Evidence) -> dict:
        response = _absent(lambda: s3("get_bucket_policy"), "NoSuchBucketPolicy")
        if response is None:
            return no_policy()
        data, undecided = analyse_document(ctx, response.get("Policy") or "{}", "s3",
                                           [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], evidence.calls)
        for name, reason in undecided.items():
            evidence.errors[f"policy.{name}"] = reason
        return data

    @staticmethod
    def _policy_status(s3) -> dict:
        response = _absent(lambda: s3("get_bucket_policy_status"), "NoSuchBucketPolicy")
        return {"is_public": bool(((response or {}).get("PolicyStatus") or {}).get("IsPublic"))}

    @staticmethod
    def _acl(s3) -> dict:
        response = s3("get_bucket_acl")
        grants = []
        for grant in response.get("Grants") or []:
            grantee = grant.get("Grantee") or {}
            grants.append({"grantee_type": grantee.get("Type"), "grantee_uri": grantee.get("URI"),
                           "grantee_id": grantee.get("ID"), "permission": grant.get("Permission")})
        return {"owner_id": (response.get("Owner") or {}).get("ID"), "grants": grants}

    @staticmethod
    def _ownership(s3) -> dict:
        response = _absent(lambda: s3("get_bucket_ownership_controls"), "OwnershipControlsNotFoundError")
        rules = ((response or {}).get("OwnershipControls") or {}).get("Rules") or []
        if not rules:
            return {"configured": False, "object_ownership": "ObjectWriter"}
        return {"configured": True, "object_ownership": rules[0].get("ObjectOwnership")}

    @staticmethod
    def _versioning(s3) -> dict:
        response = s3("get_bucket_versioning")
        return {"status": response.get("Status") or "Disabled", "mfa_delete": response.get("MFADelete") or "Disabled"}

    @staticmethod
    def _object_lock(s3) -> dict:
        response = _absent(lambda: s3("get_object_lock_configuration"), "ObjectLockConfigurationNotFoundError")
        config = (response or {}).get("ObjectLockConfiguration") or {}
        retention = (config.get("Rule") or {}).get("DefaultRetention") or {}
        # Days and Years are exclusive; a reader may report the unused one as 0, which means "not set".
        days = retention.get("Days") or None
        if days is None and retention.get("Years"):
            days = int(retention["Years"]) * 365
        return {"enabled": config.get("ObjectLockEnabled") == "Enabled", "mode": retention.get("Mode"),
                "default_retention_days": days}

    @staticmethod
    def _lifecycle(s3) -> dict:
        response = _absent(lambda: s3("get_bucket_lifecycle_configuration"), "NoSuchLifecycleConfiguration")
        rules = []
        for rule in (response or {}).get("Rules") or []:
            rule_filter = rule.get("Filter") or {}
            both = rule_filter.get("And") or {}
            prefix = rule_filter.get("Prefix", both.get("Prefix", rule.get("Prefix", ""))) or ""
            rules.append({
                "id": rule.get("ID"),
                "status": rule.get("Status"),
                "prefix": prefix,
                "has_tag_filter": bool(rule_filter.get("Tag") or both.get("Tags")),
                "expiration_days": (rule.get("Expiration") or {}).get("Days"),
                "expiration_date": _iso((rule.get("Expiration") or {}).get("Date")),
                "noncurrent_expiration_days": (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
            })
        return {"rules": rules}
