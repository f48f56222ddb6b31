"""Object-level retention checks against SeaweedFS, a real S3 store (``weed mini`` on 127.0.0.1).

SeaweedFS enforces Object Lock: a locked version cannot be deleted, and GetObjectRetention answers (moto's
server does not implement it), so the evidence the scan reads from HeadObject can be cross-checked here. It has
no Public Access Block (NotImplemented) and refuses GetBucketOwnershipControls: the checks that need them are
ERROR on this store — never PASS — and are covered against moto in ``test_scan_moto.py``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from governance.policy import Status, scan

RETENTION_DAYS = 2  # a short stand-in for the 3650 days of the shipped policy


@pytest.fixture(scope="module")
def store(seaweedfs):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", seaweedfs.endpoint)
        patch.setenv("AWS_ACCESS_KEY_ID", "weed")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "weed")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
            patch.delenv(name, raising=False)
        yield seaweedfs


@pytest.fixture(scope="module")
def locked(store):
    """A bucket with Object Lock (COMPLIANCE default retention) and one without, with objects in both."""
    s3 = store.client()
    suffix = uuid.uuid4().hex[:8]
    locked, plain = f"locked-{suffix}", f"plain-{suffix}"
    s3.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": RETENTION_DAYS}}})
    versions = {
        "default": s3.put_object(Bucket=locked, Key="models/default.bin", Body=b"d")["VersionId"],
        "held": s3.put_object(Bucket=locked, Key="models/held.bin", Body=b"h", ObjectLockMode="GOVERNANCE",
                              ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(hours=1),
                              ObjectLockLegalHoldStatus="ON")["VersionId"],
        "short": s3.put_object(Bucket=locked, Key="models/short.bin", Body=b"s", ObjectLockMode="GOVERNANCE",
                               ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(hours=1))["VersionId"],
    }
    s3.create_bucket(Bucket=plain)
    s3.put_object(Bucket=plain, Key="models/unlocked.bin", Body=b"u")
    s3.put_object(Bucket=plain, Key="tmp/scratch.bin", Body=b"t")
    # This store is checked against COMPLIANCE-mode retention (the stricter of the two modes).
    parameters = {"artefact_retention_days": RETENTION_DAYS, "object_lock_mode": "COMPLIANCE"}
    result = scan([f"s3://{locked}/", f"s3://{plain}/"], parameters=parameters)
    return {"client": s3, "locked": locked, "plain": plain, "versions": versions, "result": result}


def status(result, check: str, resource: str) -> str:
    found = [f for f in result.findings if f.check.id == check and f.resource.id == resource]
    assert found, f"no {check} finding for {resource}"
    return str(found[0].status)


def test_object_lock_verdicts(locked):
    result, bucket, plain = locked["result"], locked["locked"], locked["plain"]
    assert status(result, "RET-S3-003", f"s3://{bucket}/models/default.bin") == "PASS"  # default retention
    assert status(result, "RET-S3-003", f"s3://{bucket}/models/held.bin") == "PASS"  # legal hold
    assert status(result, "RET-S3-003", f"s3://{bucket}/models/short.bin") == "FAIL"  # GOVERNANCE, one hour
    assert status(result, "RET-S3-003", f"s3://{plain}/models/unlocked.bin") == "FAIL"
    assert status(result, "RET-S3-003", f"s3://{plain}/tmp/scratch.bin") == "N/A"
    assert status(result, "RET-S3-001", f"s3://{bucket}") == "PASS"  # Object Lock turns versioning on
    assert status(result, "RET-S3-001", f"s3://{plain}") == "FAIL"
    assert status(result, "RET-S3-002", f"s3://{bucket}") == "PASS"
    assert status(result, "RET-S3-002", f"s3://{plain}") == "FAIL"
    short = next(f for f in result.findings if f.check.id == "RET-S3-003" and f.resource.id.endswith("short.bin"))
    assert "lock.mode is 'GOVERNANCE', expected 'COMPLIANCE'" in short.message


def test_head_object_lock_evidence_agrees_with_get_object_retention(locked):
    s3, bucket = locked["client"], locked["locked"]
    _, evidence = locked["result"].evidence[f"s3_object:s3://{bucket}/models/default.bin"]
    retention = s3.get_object_retention(Bucket=bucket, Key="models/default.bin")["Retention"]
    assert evidence.data["lock"]["mode"] == retention["Mode"] == "COMPLIANCE"
    assert evidence.data["lock"]["retain_until"] == retention["RetainUntilDate"].astimezone(UTC).isoformat(
        timespec="seconds")
    assert evidence.data["lock"]["retained_days"] == RETENTION_DAYS
    assert evidence.data["version_id"] == locked["versions"]["default"]
    held = locked["result"].evidence[f"s3_object:s3://{bucket}/models/held.bin"][1].data["lock"]
    assert held["legal_hold"] is True
    assert s3.get_object_legal_hold(Bucket=bucket, Key="models/held.bin")["LegalHold"]["Status"] == "ON"


def test_a_locked_version_cannot_be_deleted(locked):
    # What RET-S3-003's PASS promises: the store itself refuses to delete the version.
    s3, bucket = locked["client"], locked["locked"]
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key="models/default.bin", VersionId=locked["versions"]["default"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.head_object(Bucket=bucket, Key="models/default.bin",
                          VersionId=locked["versions"]["default"])["ContentLength"] == 1


def test_apis_this_store_lacks_are_errors_never_passes(locked):
    result, bucket = locked["result"], locked["locked"]
    _, evidence = result.evidence[f"s3_bucket:s3://{bucket}"]
    assert "NotImplemented" in evidence.errors["public_access_block"]
    assert status(result, "ACC-S3-001", f"s3://{bucket}") == "ERROR"
    assert status(result, "ACC-S3-004", f"s3://{bucket}") == "ERROR"
    assert result.exit_code == 1  # the FAILs above outrank the ERRORs
    errors = [f for f in result.findings if f.status is Status.ERROR]
    assert errors and all(f.check.id in ("ACC-S3-001", "ACC-S3-004") for f in errors), \
        sorted({f.check.id for f in errors})
