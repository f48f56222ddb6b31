"""Golden verdicts for every shipped check, on evidence shaped exactly as its collector writes it.

For each check: a compliant resource passes, a non-compliant one fails, unreadable evidence is an ERROR (never
a pass), a live waiver turns the failure into WAIVED, an expired one does not, and ``--ignore-waivers`` shows
the failure. The same checks run against real servers in ``test_scan_moto.py``, ``test_scan_seaweedfs.py`` and
``test_scan_local.py``; this file pins each check's logic down one by one, and fails when a shipped check has no
golden case.
"""

from __future__ import annotations

import copy
from datetime import date

import pytest

from governance.policy import Status, evaluate, load_policies
from governance.policy.collectors.base import COLLECTORS, Evidence, ResourceRef
from governance.policy.schema import SourcedWaiver
from governance.waivers import Waiver

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ACCOUNT = "111122223333"
TODAY = date(2026, 11, 29)
PARAMETERS = {"allowed_kms_keys": [KEY], "trusted_accounts": [ACCOUNT], "log_buckets": ["models-bucket"]}
PUBLIC = "http://acs.amazonaws.com/groups/global/AllUsers"

FLAGS = {"block_public_acls": True, "ignore_public_acls": True, "block_public_policy": True,
         "restrict_public_buckets": True, "configured": True}
KMS = {"kms_key": KEY, "kms_key_arn": KEY, "kms_key_manager": "CUSTOMER"}
VPC = {"subnets": ["subnet-0a"], "security_group_ids": ["sg-0a"]}

COMPLIANT = {
    "s3_bucket": {
        "bucket": "models-bucket",
        "encryption": {"configured": True, "algorithm": "aws:kms", **KMS, "bucket_key_enabled": True},
        "public_access_block": FLAGS,
        "account_public_access_block": {**{k: False for k in FLAGS}, "account": ACCOUNT},
        "policy": {"present": True, "statement_count": 2, "denies_insecure_transport": True, "allows_public": False,
                   "public_statements": [], "principal_accounts": [ACCOUNT], "principal_orgs": [], "notes": [],
                   "engine": "governance local policy analyser v2",
                   "public_engine": "governance local policy analyser v2", "validation_findings": []},
        "policy_status": {"is_public": False},
        "acl": {"owner_id": "c0ffee", "grants": [{"grantee_type": "CanonicalUser", "grantee_uri": None,
                                                  "grantee_id": "c0ffee", "permission": "FULL_CONTROL"}]},
        "ownership": {"configured": True, "object_ownership": "BucketOwnerEnforced"},
        "versioning": {"status": "Enabled", "mfa_delete": "Disabled"},
        "object_lock": {"enabled": True, "mode": "GOVERNANCE", "default_retention_days": 3650},
        "lifecycle": {"rules": [{"id": "logs", "status": "Enabled", "prefix": "logs/", "has_tag_filter": False,
                                 "expiration_days": 400, "expiration_date": None,
                                 "noncurrent_expiration_days": None}]},
    },
    "s3_object": {
        "bucket": "models-bucket", "key": "models/v7/model.tar.gz", "version_id": "3HL4kqtJlcpXroDTDmJ", "etag": '"e"',
        "size": 2048, "last_modified": "2026-11-01T10:00:00+00:00",
        "encryption": {"algorithm": "aws:kms", **KMS, "bucket_key_enabled": True},
        "lock": {"mode": "GOVERNANCE", "retain_until": "2036-10-30T10:00:00+00:00", "legal_hold": False,
                 "retained_days": 3650, "locked_now": True},
        "checksum": {"algorithm": "SHA256", "value": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="},
    },
    "s3_inventory_object": {
        "bucket": "models-bucket", "key": "models/v7/model.tar.gz", "version_id": "3HL4kqtJlcpXroDTDmJ",
        "size": 2048, "last_modified": "2026-11-01T10:00:00+00:00",
        "encryption": {"status": "SSE-KMS", "algorithm": "aws:kms", "bucket_key_enabled": True},
        "lock": {"mode": "GOVERNANCE", "retain_until": "2036-10-30T10:00:00+00:00", "legal_hold": False,
                 "retained_days": 3650, "locked_now": True},
        "checksum": {"algorithm": "SHA256"},
        "inventory": {"manifest": "s3://inventory/models-bucket/daily/2026-11-29T01-00Z/manifest.json",
                      "manifest_sha256": "ab" * 32, "date": "2026-11-29T01:00:00+00:00",
                      "delivery": "2026-11-29T01-00Z", "format": "Parquet", "source_bucket": "models-bucket",
                      "files": 1},
    },
    "s3_bucket_inventory": {
        "bucket": "models-bucket", "daily_with_required_fields": True,
        "configurations": [{"id": "daily", "enabled": True, "frequency": "Daily", "format": "Parquet",
                            "versions": "Current", "fields": ["Size"], "missing_fields": [],
                            "destination": "arn:aws:s3:::inventory", "prefix": ""}],
    },
    "kms_key": {"arn": KEY, "key_id": KEY.rsplit("/", 1)[1], "alias": "alias/models", "account": ACCOUNT,
                "key_manager": "CUSTOMER", "key_state": "Enabled", "enabled": True, "key_spec": "SYMMETRIC_DEFAULT",
                "key_usage": "ENCRYPT_DECRYPT", "origin": "AWS_KMS",
                "rotation": {"enabled": True, "source": "GetKeyRotationStatus"},
                "key_policy": {"present": True, "statement_count": 1, "allows_public": False, "public_statements": [],
                               "principal_accounts": [ACCOUNT], "principal_orgs": [], "notes": [],
                               "engine": "governance local policy analyser v2",
                               "public_engine": "governance local policy analyser v2",
                               "validation_findings": []}},
    "sagemaker_training_job": {"name": "train-7", "arn": "arn:aws:sagemaker:eu-west-1:1:training-job/train-7",
                               "status": "Completed", "instance_type": "ml.m5.xlarge", "instance_count": 2,
                               "output_path": "s3://models-bucket/models/", "output_encryption": KMS,
                               "volume_encryption": KMS, "inter_container_encryption": True,
                               "network_isolation": True, "vpc": VPC, "model_artifacts": "s3://b/k"},
    "sagemaker_model": {"name": "credit", "arn": "arn:aws:sagemaker:eu-west-1:1:model/credit",
                        "execution_role": "arn:aws:iam::1:role/r", "network_isolation": True, "vpc": VPC,
                        "model_data_urls": ["s3://models-bucket/models/v7/model.tar.gz"]},
    "sagemaker_model_package": {
        "arn": "arn:aws:sagemaker:eu-west-1:1:model-package/credit/7", "group": "credit", "version": 7,
        "status": "Completed", "approval_status": "Approved", "encryption": KMS,
        "artefact_encryption": {"uri": "s3://models-bucket/models/v7/model.tar.gz", "algorithm": "aws:kms",
                                "kms_key": KEY},
        "model_data_urls": ["s3://models-bucket/models/v7/model.tar.gz"], "customer_metadata": {},
        "artefact": {"uri": "s3://models-bucket/models/v7/model.tar.gz", "sha256": "ab" * 32,
                     "signature_uri": "s3://models-bucket/models/v7/model.tar.gz.sig", "evidence_uri": None,
                     "verified": True, "checked": True, "reason": None, "signer": "release-2026"},
    },
    "sagemaker_endpoint": {
        "name": "credit-prod", "arn": "arn:aws:sagemaker:eu-west-1:1:endpoint/credit-prod", "status": "InService",
        "endpoint_config": "credit-prod-v7-config", "governed": True,
        "model_packages": ["arn:aws:sagemaker:eu-west-1:1:model-package/credit/7"],
        "data_capture": {"enabled": True, "sampling_percentage": 100, "destination": "s3://models-bucket/capture",
                         "kms_key": KEY, "capture_modes": ["Input", "Output"], "input_and_output": True},
        "capture_retention": {"expires": True, "min_expiration_days": 400, "object_lock_days": None},
    },
    "local_file": {"path": "/srv/keys/signing-key.pem", "name": "signing-key.pem", "size": 241, "sha256": "ab" * 32,
                   "mode": "0600", "owner_uid": 1000, "is_symlink": False, "world_writable": False,
                   "world_readable": False, "group_writable": False, "group_readable": False,
                   "signature_file": None},
    "artefact": {"uri": "/srv/model/model.tar.gz", "sha256": "ab" * 32,
                 "signature": {"present": True, "uri": "/srv/model/model.tar.gz.sig", "valid": True, "trusted": True,
                               "signer": "release-2026", "reason": None},
                 "digest": {"expected": "ab" * 32, "actual": "ab" * 32, "matches": True, "source": "signed digest"},
                 "archive": {"safe": True, "members": 1, "blocking": []},
                 "pickle": {"present": False, "members": []},
                 "lineage": {"complete": True, "missing": [], "reason": None, "evidence_dir": "/srv/evidence"}},
}

# check id -> the change that makes the compliant resource fail it (dotted path -> new value).
NON_COMPLIANT = {
    "ENC-S3-001": {"encryption": {"configured": False, "algorithm": "AES256", "kms_key": None, "kms_key_arn": None,
                                  "kms_key_manager": None, "bucket_key_enabled": False}},
    "ENC-S3-002": {"policy.denies_insecure_transport": False},
    "ENC-S3-004": {"encryption.bucket_key_enabled": False},
    "ACC-KMS-001": {"key_policy.allows_public": True},
    "ACC-KMS-002": {"key_policy.principal_accounts": [ACCOUNT, "999988887777"]},
    "ENC-S3-003": {"encryption.kms_key_manager": "AWS"},
    "ENC-KMS-001": {"rotation.enabled": False},
    "ENC-KMS-002": {"key_state": "PendingDeletion", "enabled": False},
    "ENC-SM-001": {"volume_encryption.kms_key": None},
    "ENC-SM-002": {"inter_container_encryption": False},
    "ENC-SM-003": {"artefact_encryption.algorithm": "AES256"},
    "ACC-S3-001": {"public_access_block.restrict_public_buckets": False},
    "ACC-S3-002": {"policy.allows_public": True},
    "ACC-S3-003": {"acl.grants": [{"grantee_type": "Group", "grantee_uri": PUBLIC, "grantee_id": None,
                                   "permission": "READ"}]},
    "ACC-S3-004": {"ownership.object_ownership": "ObjectWriter"},
    "ACC-S3-005": {"policy.principal_accounts": [ACCOUNT, "999988887777"]},
    "ACC-SM-001": {"network_isolation": False, "vpc.subnets": []},
    "ACC-SM-002": {"network_isolation": False, "vpc.subnets": []},
    "ACC-SM-003": {"artefact.verified": False},
    "ACC-FILE-001": {"world_writable": True},
    "ACC-FILE-002": {"group_readable": True},
    "ART-001": {"signature.trusted": False},
    "ART-002": {"digest.matches": False},
    "ART-003": {"archive.safe": False},
    "ART-004": {"pickle.present": True},
    "ART-005": {"lineage.complete": False},
    "DEP-SM-001": {"data_capture.capture_modes": ["Input"], "data_capture.input_and_output": False},
    "DEP-SM-002": {"data_capture.kms_key": None},
    "DEP-SM-003": {"capture_retention.min_expiration_days": 30},
    "RET-S3-001": {"versioning.status": "Suspended"},
    "RET-S3-002": {"object_lock.default_retention_days": 365},
    "RET-S3-003": {"lock.retained_days": 30},
    "INV-ENC-001": {"encryption.status": "SSE-S3", "encryption.algorithm": "AES256"},
    "INV-RET-001": {"lock.mode": None},
    "INV-S3-001": {"daily_with_required_fields": False},
    "RET-S3-004": {"lifecycle.rules": [{"id": "tidy", "status": "Enabled", "prefix": "", "has_tag_filter": False,
                                        "expiration_days": 90, "expiration_date": None,
                                        "noncurrent_expiration_days": None}]},
    "RET-S3-005": {"lifecycle.rules": [{"id": "logs", "status": "Enabled", "prefix": "logs/",
                                        "has_tag_filter": False, "expiration_days": 30, "expiration_date": None,
                                        "noncurrent_expiration_days": None}]},
}

# checks with a `when`: the change that makes them not applicable.
NOT_APPLICABLE = {
    "ENC-S3-004": {"encryption.algorithm": "aws:kms:dsse"},
    "ENC-KMS-001": {"key_manager": "AWS"},
    "ENC-SM-002": {"instance_count": 1},
    "ACC-FILE-002": {"name": "signing-key.pub.pem"},
    "RET-S3-003": {"key": "scratch/tmp.bin"},
    "INV-RET-001": {"key": "logs/2026-11-29.log"},
    "RET-S3-005": {"bucket": "another-bucket"},
}

# More ways to pass or fail, for the quirks the checks exist for.
MORE_CASES = [
    ("ENC-S3-001", {"encryption.algorithm": "aws:kms:dsse"}, Status.PASS),
    ("ENC-S3-001", {"encryption.kms_key_manager": "AWS", "encryption.kms_key": "alias/aws/s3"}, Status.FAIL),
    ("ENC-S3-001", {"encryption.kms_key_arn": KEY.replace("1234abcd", "9999ffff")}, Status.FAIL),
    ("ACC-S3-001", {"public_access_block.configured": False, "public_access_block.block_public_acls": False,
                    "account_public_access_block": {**FLAGS, "account": ACCOUNT}}, Status.PASS),
    ("ACC-S3-002", {"policy_status.is_public": True}, Status.FAIL),
    ("ACC-S3-005", {"policy.principal_orgs": ["o-untrusted"]}, Status.FAIL),
    ("ACC-KMS-002", {"key_policy.principal_orgs": ["o-untrusted"]}, Status.FAIL),
    ("ACC-SM-001", {"network_isolation": False}, Status.PASS),
    ("ENC-SM-003", {"encryption": {"kms_key": None, "kms_key_arn": None, "kms_key_manager": None}}, Status.PASS),
    ("ENC-SM-003", {"encryption.kms_key_manager": "AWS"}, Status.FAIL),
    ("ACC-SM-003", {"approval_status": "PendingManualApproval", "artefact.verified": None}, Status.PASS),
    ("DEP-SM-001", {"governed": False, "data_capture.enabled": False}, Status.PASS),
    ("DEP-SM-003", {"capture_retention.expires": False, "capture_retention.min_expiration_days": None}, Status.PASS),
    ("DEP-SM-003", {"data_capture.enabled": False, "capture_retention.expires": False}, Status.FAIL),
    ("RET-S3-003", {"lock.legal_hold": True, "lock.mode": None, "lock.retained_days": None}, Status.PASS),
    ("RET-S3-003", {"lock.mode": "COMPLIANCE"}, Status.FAIL),
    ("RET-S3-004", {"lifecycle.rules": [{"id": "old", "status": "Disabled", "prefix": "", "has_tag_filter": False,
                                         "expiration_days": 1, "expiration_date": None,
                                         "noncurrent_expiration_days": None}]}, Status.PASS),
    ("RET-S3-004", {"lifecycle.rules": [{"id": "nc", "status": "Enabled", "prefix": "models/",
                                         "has_tag_filter": False, "expiration_days": None,
                                         "expiration_date": None, "noncurrent_expiration_days": 30}]}, Status.FAIL),
    ("RET-S3-005", {"lifecycle.rules": [{"id": "logs", "status": "Enabled", "prefix": "logs/",
                                         "has_tag_filter": False, "expiration_days": 4000, "expiration_date": None,
                                         "noncurrent_expiration_days": None}]}, Status.FAIL),
]

BUNDLE = load_policies(parameters=PARAMETERS)
CHECKS = {check.id: check for check in BUNDLE.checks}


def patched(resource_type: str, changes: dict) -> dict:
    data = copy.deepcopy(COMPLIANT[resource_type])
    for dotted, new in changes.items():
        *parents, leaf = dotted.split(".")
        target = data
        for part in parents:
            target = target[part]
        target[leaf] = copy.deepcopy(new)
    return data


def run(check_id: str, data: dict, *, errors: dict | None = None, waivers=(), ignore_waivers: bool = False):
    check = CHECKS[check_id]
    ref = ResourceRef(check.resource, "res-" + check.resource)
    return evaluate(check, ref, Evidence(data, dict(errors or {})), list(waivers), ignore_waivers=ignore_waivers,
                    today=TODAY)


def test_every_shipped_check_has_golden_cases():
    assert set(NON_COMPLIANT) == set(CHECKS)
    assert set(NOT_APPLICABLE) == {c.id for c in BUNDLE.checks if c.when is not None}


def test_compliant_evidence_matches_each_collector_shape():
    def paths(shape, prefix=""):
        for key, sub in shape.items():
            if isinstance(sub, dict):
                yield from paths(sub, f"{prefix}{key}.")
            else:
                yield f"{prefix}{key}"

    for resource_type, data in COMPLIANT.items():
        for path in paths(COLLECTORS[resource_type].shape):
            target = data
            for part in path.split("."):
                assert part in target, f"{resource_type}: golden evidence lacks {path}"
                target = target[part]


@pytest.mark.parametrize("check_id", sorted(NON_COMPLIANT))
def test_compliant_resource_passes(check_id):
    finding = run(check_id, COMPLIANT[CHECKS[check_id].resource])
    assert finding.status is Status.PASS, finding.message


@pytest.mark.parametrize("check_id", sorted(NON_COMPLIANT))
def test_non_compliant_resource_fails_with_its_reason(check_id):
    finding = run(check_id, patched(CHECKS[check_id].resource, NON_COMPLIANT[check_id]))
    assert finding.status is Status.FAIL
    assert finding.message and finding.message != "assertion false"
    assert finding.trace.get("assert", finding.trace)["result"] == "false"


@pytest.mark.parametrize("check_id", sorted(NON_COMPLIANT))
def test_unreadable_evidence_is_an_error_never_a_pass(check_id):
    finding = run(check_id, {}, errors={"*": "s3:GetBucketEncryption: access denied (AccessDenied)"})
    assert finding.status is Status.ERROR
    assert "access denied" in finding.message


@pytest.mark.parametrize("check_id", sorted(NON_COMPLIANT))
def test_live_waiver_applies_and_expired_one_does_not(check_id):
    data = patched(CHECKS[check_id].resource, NON_COMPLIANT[check_id])
    live = SourcedWaiver(Waiver(check=check_id, resource="res-*", reason="migration planned", approver="J. Doe",
                                expires=date(2027, 3, 31)), "waivers.yaml:3")
    expired = SourcedWaiver(Waiver(check=check_id[:3] + "-*", resource="*", reason="pilot", approver="A. Smith",
                                   expires=date(2026, 11, 28)), "waivers.yaml:9")
    waived = run(check_id, data, waivers=[live])
    assert waived.status is Status.WAIVED
    assert waived.waiver["approver"] == "J. Doe" and waived.waiver["source"] == "waivers.yaml:3"
    not_waived = run(check_id, data, waivers=[expired])
    assert not_waived.status is Status.FAIL
    assert not_waived.waiver["expired"] is True and "expired on 2026-11-28" in not_waived.message
    audited = run(check_id, data, waivers=[live], ignore_waivers=True)
    assert audited.status is Status.FAIL and audited.waiver["ignored"] is True


@pytest.mark.parametrize("check_id", sorted(NON_COMPLIANT))
def test_a_waiver_never_covers_an_error(check_id):
    waiver = SourcedWaiver(Waiver(check="*", resource="*", reason="everything", approver="J. Doe",
                                  expires=date(2030, 1, 1)), "w.yaml:1")
    finding = run(check_id, {}, errors={"*": "throttled"}, waivers=[waiver])
    assert finding.status is Status.ERROR


@pytest.mark.parametrize("check_id", sorted(NOT_APPLICABLE))
def test_not_applicable_when_the_condition_excludes_the_resource(check_id):
    finding = run(check_id, patched(CHECKS[check_id].resource, NOT_APPLICABLE[check_id]))
    assert finding.status is Status.NA
    assert finding.message.startswith("not applicable")


@pytest.mark.parametrize(("check_id", "changes", "expected"), MORE_CASES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(MORE_CASES)])
def test_quirks(check_id, changes, expected):
    finding = run(check_id, patched(CHECKS[check_id].resource, changes))
    assert finding.status is expected, finding.message


def test_one_unreadable_section_only_affects_the_checks_that_read_it():
    data = patched("s3_bucket", {"public_access_block": None, "account_public_access_block": None})
    errors = {"public_access_block": "s3:GetPublicAccessBlock: API not available on this endpoint (NotImplemented)",
              "account_public_access_block": "s3control:GetPublicAccessBlock: API not available"}
    assert run("ACC-S3-001", data, errors=errors).status is Status.ERROR
    assert run("RET-S3-001", data, errors=errors).status is Status.PASS
