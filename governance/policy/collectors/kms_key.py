"""KMS keys: who manages the key, its state, whether automatic rotation is on, and who its key policy lets in.

Buckets and objects name their key in several spellings (key id, key ARN, alias name, alias ARN, or nothing at
all for SSE-KMS with the AWS managed key ``alias/aws/s3``); :func:`describe_key` resolves any of them once per
scan and remembers the answer for every other resource that names the same key.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from governance.policy.aws import AwsCallError
from governance.policy.collectors._resource_policy import analyse_document
from governance.policy.collectors.base import Collector, Evidence, ResourceRef, ScanContext, register

AWS_MANAGED_S3_ALIAS = "alias/aws/s3"
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


def describe_key(ctx: ScanContext, key_ref: str, calls: list[str]) -> dict[str, Any]:
    """KeyMetadata for ``key_ref`` (memoised per scan); ``KeyManager`` is AWS for ``alias/aws/*`` aliases.

    The AWS managed aliases are fixed by AWS: a key reached through one is AWS managed whatever a local emulator
    reports, so the alias decides. The answer is remembered under the key's ARN too.
    """

    def fetch() -> dict[str, Any]:
        meta = dict(ctx.aws.call("kms", "describe_key", calls, KeyId=key_ref)["KeyMetadata"])
        alias = key_ref.split(":alias/", 1)[1] if ":alias/" in key_ref else key_ref.removeprefix("alias/")
        if key_ref.startswith("alias/") or ":alias/" in key_ref:
            meta["_alias"] = f"alias/{alias}"
            if alias.startswith("aws/"):
                meta["KeyManager"] = "AWS"
        if meta.get("Arn") and meta["Arn"] != key_ref:
            ctx.memo.seed(("kms:DescribeKey", meta["Arn"]), meta)
        return meta

    meta, fresh = ctx.memo.get(("kms:DescribeKey", key_ref), fetch)
    if not fresh:
        calls.append("kms:DescribeKey (cached)")
    return meta


def key_summary(ctx: ScanContext, key_ref: str | None, calls: list[str]) -> tuple[dict[str, Any], str | None]:
    """``({kms_key_arn, kms_key_manager}, error)`` for evidence that embeds a key reference.

    A full key ARN is the key's identity whether or not DescribeKey answers (a key in another account usually does
    not): it is kept, so an allow-list of key ARNs decides without it, and only the manager stays unknown.
    """
    if not key_ref:
        return {"kms_key_arn": None, "kms_key_manager": None}, None
    try:
        meta = describe_key(ctx, key_ref, calls)
    except AwsCallError as err:
        return {"kms_key_arn": key_ref if _KEY_ARN.match(key_ref) else None, "kms_key_manager": None}, str(err)
    return {"kms_key_arn": meta.get("Arn"), "kms_key_manager": meta.get("KeyManager")}, None


def key_ref(arn: str | None, alias: str | None = None) -> ResourceRef | None:
    if not arn:
        return None
    return ResourceRef("kms_key", arn, {"alias": alias} if alias else {})


@register
class KmsKeyCollector(Collector):
    resource_type = "kms_key"
    description = ("A KMS key named by a bucket, an object or a SageMaker resource, or listed by --discover "
                   "(DescribeKey, GetKeyRotationStatus, GetKeyPolicy).")
    shape: ClassVar[dict[str, Any]] = {
        "arn": str,
        "key_id": str,
        "alias": str,
        "account": str,
        "key_manager": str,
        "key_state": str,
        "enabled": bool,
        "key_spec": str,
        "key_usage": str,
        "origin": str,
        "rotation": {"enabled": bool, "source": str},
        "key_policy": {"present": bool, "statement_count": int, "allows_public": bool, "public_statements": [str],
                       "principal_accounts": [str], "principal_orgs": [str], "notes": [str], "engine": str,
                       "public_engine": str,
                       "validation_findings": [{"finding_type": str, "issue_code": str, "detail": str}]},
    }

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:
        evidence = Evidence()
        try:
            meta = describe_key(ctx, ref.id, evidence.calls)
        except AwsCallError as err:
            return Evidence.failed(str(err), evidence.calls)
        evidence.data.update(
            arn=meta.get("Arn"),
            key_id=meta.get("KeyId"),
            alias=ref.hints.get("alias") or meta.get("_alias"),
            account=meta.get("AWSAccountId"),
            key_manager=meta.get("KeyManager"),
            key_state=meta.get("KeyState"),
            enabled=meta.get("Enabled"),
            key_spec=meta.get("KeySpec") or meta.get("CustomerMasterKeySpec"),
            key_usage=meta.get("KeyUsage"),
            origin=meta.get("Origin"),
        )
        evidence.section("rotation", lambda: self._rotation(meta, ctx, evidence.calls))
        evidence.section("key_policy", lambda: self._key_policy(meta, ctx, evidence))
        return evidence

    @staticmethod
    def _key_policy(meta: dict, ctx: ScanContext, evidence: Evidence) -> dict:
        response = ctx.aws.call("kms", "get_key_policy", evidence.calls, KeyId=meta["Arn"], PolicyName="default")
        data, undecided = analyse_document(ctx, response.get("Policy") or "{}", "kms", ["*"], evidence.calls)
        data.pop("denies_insecure_transport", None)  # KMS is reached over TLS only
        for name, reason in undecided.items():
            evidence.errors[f"key_policy.{name}"] = reason
        return data

    @staticmethod
    def _rotation(meta: dict, ctx: ScanContext, calls: list[str]) -> dict:
        if meta.get("KeyManager") == "AWS":
            # AWS rotates its managed keys every year and does not let anyone turn that off.
            return {"enabled": True, "source": "aws-managed"}
        if (meta.get("KeySpec") or meta.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            return {"enabled": False, "source": "not-supported-for-key-spec"}
        response = ctx.aws.call("kms", "get_key_rotation_status", calls, KeyId=meta["Arn"])
        return {"enabled": bool(response.get("KeyRotationEnabled")), "source": "GetKeyRotationStatus"}
