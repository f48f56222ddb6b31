"""The ledger on S3 under Object Lock, against real local servers: moto's and SeaweedFS."""

from __future__ import annotations

import threading
import uuid

import pytest

from governance.errors import InputError
from governance.ledger import Ledger, check_ledger, verify_ledger
from governance.storage import s3_client
from tests.lineage_support import keypair

pytestmark = pytest.mark.servers


@pytest.fixture(params=["moto", "seaweedfs"])
def s3(request, monkeypatch):
    """Point boto3 at one of the two stores; yields a client."""
    if request.param == "moto":
        request.getfixturevalue("aws")
    else:
        store = request.getfixturevalue("seaweedfs")
        monkeypatch.setenv("AWS_ENDPOINT_URL", store.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "weed")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "weed")
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_client()


def locked_bucket(client) -> str:
    name = f"ledger-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def test_records_are_locked_objects_and_verify(s3):
    bucket = locked_bucket(s3)
    signer, verifier, _ = keypair()
    ledger = Ledger(f"s3://{bucket}/governance/ledger", signer, checkpoint_every=3, retention_days=1)
    for number in range(5):
        ledger.append("sign", "ci", f"model-{number}", {"model": f"{number:064x}"})
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="governance/ledger/")["Contents"]]
    assert keys == [f"governance/ledger/{n:012d}.json" for n in range(1, 8)]  # 5 records + 2 checkpoints
    head = s3.head_object(Bucket=bucket, Key=keys[0])
    # An explicit period on a bucket with no default rule: GOVERNANCE mode, the stack's default.
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"]
    report = verify_ledger(f"s3://{bucket}/governance/ledger/", verifier)
    assert (report.records, report.checkpoints_verified) == (7, 2)


def test_retention_follows_the_bucket_so_the_retention_policy_accepts_ledger_records(aws):
    """The ledger used to lock each record for its own 2,557 days, overriding a 3,650-day bucket default: RET-S3-003
    then failed on every record the nightly scan wrote."""
    from governance.policy import scan

    client = s3_client()
    bucket = locked_bucket(client)
    client.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3650}}})
    Ledger(f"s3://{bucket}/quickloan/ledger/").append("scan", "nightly", "s3://b/quickloan/")
    head = client.head_object(Bucket=bucket, Key="quickloan/ledger/000000000001.json")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    result = scan([f"s3://{bucket}/quickloan/ledger/000000000001.json"],
                  parameters={"object_lock_mode": "GOVERNANCE", "artefact_retention_days": 3650})
    retention = [f for f in result.findings if f.check.id == "RET-S3-003"]
    assert [str(f.status) for f in retention] == ["PASS"], [f.message for f in retention]


def test_a_ledger_with_nothing_to_follow_is_refused(aws):
    bucket = locked_bucket(s3_client())
    with pytest.raises(InputError) as caught:
        Ledger(f"s3://{bucket}/l/").append("scan", "ci", "x")
    assert caught.value.reason == "NO_RETENTION"


def test_a_rewritten_or_deleted_record_is_named(s3):
    bucket = locked_bucket(s3)
    ledger = Ledger(f"s3://{bucket}/l/", retention_days=1)
    for number in range(4):
        ledger.append("scan", "ci", f"bucket-{number}")
    key = "l/000000000002.json"
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=original.replace(b'"ci"', b'"xx"'))  # a new version on top
    problems = check_ledger(f"s3://{bucket}/l/").problems
    assert [(p.kind, p.seq) for p in problems] == [("edited", 2)]
    assert "rewritten" in problems[0].message
    s3.delete_object(Bucket=bucket, Key="l/000000000003.json")  # leaves a delete marker; the locked data stays
    problems = check_ledger(f"s3://{bucket}/l/").problems
    assert [(p.kind, p.seq) for p in problems] == [("edited", 2), ("deleted", 3)]


def test_the_locked_original_cannot_be_removed(s3):
    from botocore.exceptions import ClientError

    bucket = locked_bucket(s3)
    Ledger(f"s3://{bucket}/l/", retention_days=1).append("approve", "risk-officer")
    version = s3.list_object_versions(Bucket=bucket, Prefix="l/")["Versions"][0]
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    assert verify_ledger(f"s3://{bucket}/l/").records == 1


def test_concurrent_writers_never_share_a_sequence_number(s3):
    bucket = locked_bucket(s3)
    errors: list[Exception] = []

    def writer(name: str) -> None:
        ledger = Ledger(f"s3://{bucket}/l/", retention_days=1)  # each with its own client and cache
        try:
            for _ in range(8):
                ledger.append("verify", name)
        except Exception as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    report = verify_ledger(f"s3://{bucket}/l/")
    assert report.records == 24
    assert all(len(v) == 1 for v in _versions(s3, bucket).values())


def _versions(client, bucket):
    found: dict[str, list] = {}
    for item in client.list_object_versions(Bucket=bucket, Prefix="l/").get("Versions", []):
        found.setdefault(item["Key"], []).append(item)
    return found


def test_a_bucket_without_object_lock_is_refused(s3):
    bucket = f"plain-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(InputError) as failed:
        Ledger(f"s3://{bucket}/l/").append("sign", "ci")
    assert failed.value.reason == "OBJECT_LOCK_DISABLED"


def test_a_prefix_without_records_is_not_an_intact_ledger(s3):
    bucket = locked_bucket(s3)
    Ledger(f"s3://{bucket}/ledger/", retention_days=1).append("sign", "ci")
    with pytest.raises(InputError) as failed:
        verify_ledger(f"s3://{bucket}/ledgr/")  # a mistyped prefix
    assert failed.value.reason == "FILE_NOT_FOUND"
