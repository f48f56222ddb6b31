"""A policy-analysis scenario on moto: 17 buckets, 7 objects and 4 KMS keys, each bucket differing from a
compliant baseline in one setting that a statement-by-statement reader gets wrong (or right).

Shared by the scan tests, the differential test against Cloud Custodian and ``bench/bench_policy_custodian.py``.
``EXPECTED`` is the verdict a policy analyst reaches by reading each resource's real configuration.
"""

from __future__ import annotations

import json

ACCOUNT = "123456789012"  # moto's account
TRUSTED = "111122223333"
FOREIGN = "444455556666"
TRUSTED_ORG = "o-trusted1234"
FOREIGN_KEY = f"arn:aws:kms:us-east-1:{FOREIGN}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PAB = {f: True for f in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
PREFIX = "pa-"


def arns(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def deny_plain_http(bucket: str, **extra_conditions: dict) -> dict:
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": arns(bucket), "Condition": {"Bool": {"aws:SecureTransport": "false"}, **extra_conditions}}


def allow(bucket: str, sid: str, principal, condition: dict | None = None, **extra) -> dict:
    statement = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{bucket}/*", **extra}
    if condition:
        statement["Condition"] = condition
    return statement


# bucket suffix -> statements after the TLS Deny (None: the TLS Deny is replaced by the first statement)
def _bucket_policies() -> dict[str, list[dict]]:
    b = {name: PREFIX + name for name in (
        "compliant", "tls-one-account", "notprincipal", "star-foreign-account", "sourceip-any-v4",
        "sourceip-any-v6", "sourcevpce-ifexists", "org-trusted", "sourcevpce", "log-delivery", "principalarn-foreign",
        "unsupported-key", "guard-org", "foreign-key", "no-bucket-key", "lock-years", "public-key")}
    trusted_reader = allow(b["compliant"], "TrustedReader", {"AWS": f"arn:aws:iam::{TRUSTED}:root"})
    return {
        "compliant": [deny_plain_http(b["compliant"]), trusted_reader],
        # The TLS Deny also requires aws:PrincipalAccount = FOREIGN: only that account is refused plain HTTP.
        "tls-one-account": [deny_plain_http(b["tls-one-account"],
                                            StringEquals={"aws:PrincipalAccount": FOREIGN})],
        # Allow to everyone except one account: public, and open to every foreign account.
        "notprincipal": [deny_plain_http(b["notprincipal"]),
                         {**allow(b["notprincipal"], "AllButOne", None), "Principal": None,
                          "NotPrincipal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"}}],
        # Principal "*" pinned to one foreign account by a condition: not public, but cross-account.
        "star-foreign-account": [deny_plain_http(b["star-foreign-account"]),
                                 allow(b["star-foreign-account"], "ForeignByCondition", "*",
                                       {"StringEquals": {"aws:PrincipalAccount": FOREIGN}})],
        # aws:SourceIp 0.0.0.0/0 (and ::/0) is every address: public.
        "sourceip-any-v4": [deny_plain_http(b["sourceip-any-v4"]),
                            allow(b["sourceip-any-v4"], "AnyIPv4", "*", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})],
        "sourceip-any-v6": [deny_plain_http(b["sourceip-any-v6"]),
                            allow(b["sourceip-any-v6"], "AnyIPv6", "*", {"IpAddress": {"aws:SourceIp": "::/0"}})],
        # IfExists: a request that does not come through a VPC endpoint has no aws:SourceVpce and gets in.
        "sourcevpce-ifexists": [deny_plain_http(b["sourcevpce-ifexists"]),
                                allow(b["sourcevpce-ifexists"], "VpceIfExists", "*",
                                      {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0a1b2c3d"}})],
        # Pinned to a trusted organisation: compliant.
        "org-trusted": [deny_plain_http(b["org-trusted"]),
                        allow(b["org-trusted"], "Org", "*", {"StringEquals": {"aws:PrincipalOrgID": TRUSTED_ORG}})],
        # Pinned to a VPC endpoint: not public.
        "sourcevpce": [deny_plain_http(b["sourcevpce"]),
                       allow(b["sourcevpce"], "Vpce", "*", {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}})],
        # S3 server access log delivery for our own account's bucket (service principal, confused-deputy guard).
        "log-delivery": [deny_plain_http(b["log-delivery"]),
                         {**allow(b["log-delivery"], "LogDelivery", {"Service": "logging.s3.amazonaws.com"},
                                  {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{b['compliant']}"},
                                   "StringEquals": {"aws:SourceAccount": ACCOUNT}}), "Action": "s3:PutObject"}],
        # Principal "*" pinned to a role in a foreign account: cross-account.
        "principalarn-foreign": [deny_plain_http(b["principalarn-foreign"]),
                                 allow(b["principalarn-foreign"], "ForeignRole", "*",
                                       {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{FOREIGN}:role/reader"}})],
        # A condition key the local analyser does not know decides this statement: ERROR, never PASS.
        "unsupported-key": [deny_plain_http(b["unsupported-key"]),
                            allow(b["unsupported-key"], "Unknown", "*",
                                  {"StringEquals": {"aws:SourceIdentity": "batch-reader"}})],
        # An unconditioned Allow to everyone, closed by a Deny to everyone outside the trusted organisation.
        "guard-org": [deny_plain_http(b["guard-org"]), allow(b["guard-org"], "Read", "*"),
                      {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": arns(b["guard-org"]),
                       "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": TRUSTED_ORG}}}],
        "foreign-key": [deny_plain_http(b["foreign-key"])],
        # No policy at all: it holds the objects, which moto would refuse to plain-HTTP reads under a TLS Deny
        # (moto enforces that Deny without its other conditions, so even pa-tls-one-account's objects are refused).
        "no-bucket-key": [],
        "lock-years": [deny_plain_http(b["lock-years"])],
        "public-key": [deny_plain_http(b["public-key"])],
    }


def _key_policy(*statements: dict) -> str:
    own = {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
           "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [own, *statements]})


def build(s3, kms) -> dict:
    """Create the scenario; returns the bucket names, key ARNs and scan parameters."""
    keys = {}
    for name, extra in {
        "good": [],
        # kms:Decrypt to everyone, unconditioned.
        "public": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                    "Resource": "*"}],
        # kms:Decrypt to a foreign account.
        "foreign-grant": [{"Sid": "Foreign", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                           "Action": "kms:Decrypt", "Resource": "*"}],
        # Everyone, but only callers of this account through S3 (the AWS managed key pattern): not public.
        "via-s3": [{"Sid": "ViaS3", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
                    "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT,
                                                                     "kms:ViaService": "s3.us-east-1.amazonaws.com"}}}],
    }.items():
        arn = kms.create_key(Description=f"scenario {name}", Policy=_key_policy(*extra))["KeyMetadata"]["Arn"]
        kms.enable_key_rotation(KeyId=arn)
        keys[name] = arn
    kms.create_alias(AliasName="alias/pa-good", TargetKeyId=keys["good"])

    buckets = {}
    for suffix, statements in _bucket_policies().items():
        bucket = PREFIX + suffix
        buckets[suffix] = bucket
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
        key = {"foreign-key": FOREIGN_KEY, "public-key": keys["public"]}.get(suffix, keys["good"])
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
            "BucketKeyEnabled": suffix != "no-bucket-key"}]})
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PAB)
        s3.put_bucket_ownership_controls(Bucket=bucket,
                                         OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        # Years only: moto reports it as {"Days": 0, "Years": 10}, as some S3 implementations do.
        retention = {"Years": 10} if suffix == "lock-years" else {"Days": 3650}
        # GOVERNANCE: the mode the shipped retention policy expects (object_lock_mode), as the stack sets it.
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", **retention}}})
        # The 7 objects, SSE-KMS under the bucket's default key.
        for index in range(7 if suffix == "no-bucket-key" else 0):
            s3.put_object(Bucket=bucket, Key=f"models/m{index}.bin", Body=b"x" * (index + 1))
        cleaned = [{k: v for k, v in s.items() if v is not None} for s in statements]
        if cleaned:
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": cleaned}))
    return {"buckets": buckets, "keys": keys, "parameters": {
        "allowed_kms_keys": ["alias/pa-good"], "trusted_accounts": [ACCOUNT, TRUSTED], "trusted_orgs": [TRUSTED_ORG]}}


# The analyst's verdicts, bucket suffix -> check -> status (checks not listed are not asserted here).
EXPECTED = {
    "compliant": {"ENC-S3-001": "PASS", "ENC-S3-002": "PASS", "ENC-S3-004": "PASS", "ACC-S3-002": "PASS",
                  "ACC-S3-005": "PASS", "RET-S3-002": "PASS"},
    "tls-one-account": {"ENC-S3-002": "FAIL"},
    "notprincipal": {"ACC-S3-002": "FAIL", "ACC-S3-005": "FAIL"},
    "star-foreign-account": {"ACC-S3-002": "PASS", "ACC-S3-005": "FAIL"},
    "sourceip-any-v4": {"ACC-S3-002": "FAIL", "ACC-S3-005": "FAIL"},
    "sourceip-any-v6": {"ACC-S3-002": "FAIL", "ACC-S3-005": "FAIL"},
    "sourcevpce-ifexists": {"ACC-S3-002": "FAIL", "ACC-S3-005": "FAIL"},
    "org-trusted": {"ACC-S3-002": "PASS", "ACC-S3-005": "PASS"},
    "sourcevpce": {"ACC-S3-002": "PASS", "ACC-S3-005": "PASS"},
    "log-delivery": {"ACC-S3-002": "PASS", "ACC-S3-005": "PASS"},
    "principalarn-foreign": {"ACC-S3-002": "PASS", "ACC-S3-005": "FAIL"},
    "unsupported-key": {"ACC-S3-002": "ERROR", "ACC-S3-005": "ERROR"},
    # ACC-S3-002 also reads S3's own policy status, which moto computes without the Deny (public): not asserted.
    "guard-org": {"ACC-S3-005": "PASS"},
    "foreign-key": {"ENC-S3-001": "FAIL"},
    "no-bucket-key": {"ENC-S3-004": "FAIL", "ENC-S3-001": "PASS", "ENC-S3-002": "FAIL", "ACC-S3-002": "PASS",
                      "ACC-S3-005": "PASS"},
    "lock-years": {"RET-S3-002": "PASS"},
    "public-key": {"ENC-S3-001": "FAIL"},
}
EXPECTED_KEYS = {
    "good": {"ACC-KMS-001": "PASS", "ACC-KMS-002": "PASS"},
    "public": {"ACC-KMS-001": "FAIL", "ACC-KMS-002": "FAIL"},
    "foreign-grant": {"ACC-KMS-001": "PASS", "ACC-KMS-002": "FAIL"},
    "via-s3": {"ACC-KMS-001": "PASS", "ACC-KMS-002": "PASS"},
}
