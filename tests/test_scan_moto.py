"""Scans against moto's server on 127.0.0.1: S3 bucket configuration, objects, KMS keys and SageMaker resources.

One scenario is built once — compliant and non-compliant buckets, objects, keys, training jobs, models and model
packages — and scanned once; the golden table below is the verdict every check must reach on each resource.
Where moto differs from AWS the scenario says so (its tests cover the behaviour on SeaweedFS or at evidence level
in ``test_policy_checks.py``):

* moto drops a model package's ``SecurityConfig`` (ENC-SM-003 reads the artefact's encryption here; the
  metadata key is covered at evidence level);
* moto's ``DescribeModel`` always says ``EnableNetworkIsolation=False``: the compliant model is in a VPC;
* moto applies a bucket's deny-non-TLS policy to object reads over plain HTTP, so the objects of the compliant
  bucket are unreadable — which is this file's real-server ERROR case (access denied → ERROR, never PASS).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from governance.policy import ScanState, Status, output, scan
from governance.policy.aws import RetryPolicy
from tests.servers import LOOPBACK, free_port
from tests.test_scan_local import signed_pipeline_run

ACCOUNT = "123456789012"  # moto's account
TRUSTED_ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker"
PAB = {f: True for f in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
AWS_MANAGED = "AWS-managed"


def deny_insecure(bucket: str, operator: str = "Bool") -> dict:
    return {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {operator: {"aws:SecureTransport": "false"}}}


def allow_account(bucket: str, account: str) -> dict:
    return {"Sid": f"Read{account}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}


def key_policy(*statements: dict) -> dict:
    """A key policy: the account's own administrators (the default statement), then ``statements``."""
    own = {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
           "Action": "kms:*", "Resource": "*"}
    return {"Version": "2012-10-17", "Statement": [own, *statements]}


def put_policy(s3, bucket: str, *statements: dict) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def lifecycle(s3, bucket: str, *rules: tuple[str, str, int]) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": rule_id, "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": days}}
        for rule_id, prefix, days in rules]})


def training_job(sm, name: str, *, key: str | None, secure: bool, count: int) -> str:
    extra = {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True} if secure else {}
    resources = {"InstanceType": "ml.m5.xlarge", "InstanceCount": count, "VolumeSizeInGB": 10}
    if key and secure:
        resources["VolumeKmsKeyId"] = key
    output = {"S3OutputPath": "s3://gov-good-models/models/", **({"KmsKeyId": key} if key else {})}
    return sm.create_training_job(
        TrainingJobName=name, RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "xgb:3.2", "TrainingInputMode": "File"},
        OutputDataConfig=output, ResourceConfig=resources, StoppingCondition={"MaxRuntimeInSeconds": 600}, **extra,
    )["TrainingJobArn"]


def build_scenario(tmp: Path, raw_csv: Path) -> dict:
    s3, kms, sm = boto3.client("s3"), boto3.client("kms"), boto3.client("sagemaker")
    good_key = kms.create_key(Description="models")["KeyMetadata"]["Arn"]
    kms.enable_key_rotation(KeyId=good_key)
    kms.create_alias(AliasName="alias/models", TargetKeyId=good_key)
    stale_key = kms.create_key(Description="no rotation")["KeyMetadata"]["Arn"]
    doomed_key = kms.create_key(Description="pending deletion")["KeyMetadata"]["Arn"]
    # Key policies: the stale key also lets in an untrusted account, the doomed one lets in everyone.
    kms.put_key_policy(KeyId=stale_key, PolicyName="default", Policy=json.dumps(key_policy(
        {"Sid": "Foreign", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
         "Action": "kms:Decrypt", "Resource": "*"})))
    kms.put_key_policy(KeyId=doomed_key, PolicyName="default", Policy=json.dumps(key_policy(
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"})))

    # Compliant configuration; its objects are unreadable over plain HTTP because of its own TLS policy.
    s3.create_bucket(Bucket="gov-good-models", ObjectLockEnabledForBucket=True)
    s3.put_bucket_encryption(Bucket="gov-good-models", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/models"},
        "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket="gov-good-models", PublicAccessBlockConfiguration=PAB)
    s3.put_bucket_ownership_controls(Bucket="gov-good-models",
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_object_lock_configuration(Bucket="gov-good-models", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 3650}}})
    lifecycle(s3, "gov-good-models", ("logs", "logs/", 400))
    s3.put_object(Bucket="gov-good-models", Key="models/v1/weights.bin", Body=b"w")
    put_policy(s3, "gov-good-models", deny_insecure("gov-good-models"),
               allow_account("gov-good-models", TRUSTED_ACCOUNT))

    # DSSE-KMS and BoolIfExists: the other spellings of compliant.
    s3.create_bucket(Bucket="gov-dsse")
    s3.put_bucket_encryption(Bucket="gov-dsse", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse", "KMSMasterKeyID": good_key}}]})
    put_policy(s3, "gov-dsse", deny_insecure("gov-dsse", "BoolIfExists"))

    # SSE-KMS with the AWS managed key (no key id given).
    s3.create_bucket(Bucket="gov-aws-key")
    s3.put_bucket_encryption(Bucket="gov-aws-key", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})

    # Objects: Object Lock by default retention, one with a short GOVERNANCE lock under legal hold.
    s3.create_bucket(Bucket="gov-objects", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket="gov-objects", ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 3650}}})
    s3.put_object(Bucket="gov-objects", Key="models/good.bin", Body=b"g", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=good_key)
    s3.put_object(Bucket="gov-objects", Key="models/sse-s3.bin", Body=b"s", ServerSideEncryption="AES256")
    s3.put_object(Bucket="gov-objects", Key="models/stale-key.bin", Body=b"k", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=stale_key)
    s3.put_object(Bucket="gov-objects", Key="models/doomed-key.bin", Body=b"d", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=doomed_key)
    s3.put_object(Bucket="gov-objects", Key="models/held.bin", Body=b"h", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=good_key, ObjectLockMode="GOVERNANCE", ObjectLockLegalHoldStatus="ON",
                  ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=1))
    kms.schedule_key_deletion(KeyId=doomed_key.rsplit("/", 1)[1], PendingWindowInDays=7)  # moto: id, not ARN

    # Non-compliant in every way.
    s3.create_bucket(Bucket="gov-bad")
    s3.put_bucket_acl(Bucket="gov-bad", ACL="public-read")
    put_policy(s3, "gov-bad", {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                               "Resource": "arn:aws:s3:::gov-bad/*"}, allow_account("gov-bad", "999988887777"))
    lifecycle(s3, "gov-bad", ("tidy", "", 30))
    s3.put_object(Bucket="gov-bad", Key="models/plain.bin", Body=b"p")
    s3.put_object(Bucket="gov-bad", Key="logs/app.log", Body=b"l")

    # SageMaker: jobs, models, a package group with an approved package whose artefact verifies and one whose
    # artefact does not.
    good_job = training_job(sm, "train-secure", key=good_key, secure=True, count=2)
    bad_job = training_job(sm, "train-open", key=None, secure=False, count=2)
    single_job = training_job(sm, "train-single", key=good_key, secure=True, count=1)
    vpc = {"SecurityGroupIds": ["sg-0a"], "Subnets": ["subnet-0a"]}
    good_model = sm.create_model(ModelName="model-vpc", ExecutionRoleArn=ROLE, VpcConfig=vpc,
                                 PrimaryContainer={"Image": "xgb:3.2"})["ModelArn"]
    bad_model = sm.create_model(ModelName="model-open", ExecutionRoleArn=ROLE,
                                PrimaryContainer={"Image": "xgb:3.2"})["ModelArn"]

    run = signed_pipeline_run(tmp, raw_csv)
    s3.create_bucket(Bucket="gov-registry")
    s3.put_bucket_encryption(Bucket="gov-registry", ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": good_key}}]})
    for suffix in ("", ".sig", ".manifest.sig"):
        s3.upload_file(f"{run['artefact']}{suffix}", "gov-registry", f"v1/model.tar.gz{suffix}")
    # never signed, and written with SSE-S3
    s3.upload_file(str(run["artefact"]), "gov-registry", "v2/model.tar.gz",
                   ExtraArgs={"ServerSideEncryption": "AES256"})
    sm.create_model_package_group(ModelPackageGroupName="credit-default")
    packages = []
    for version in ("v1", "v2"):
        packages.append(sm.create_model_package(
            ModelPackageGroupName="credit-default", ModelApprovalStatus="Approved",
            InferenceSpecification={"Containers": [{"Image": "xgb:3.2",
                                                    "ModelDataUrl": f"s3://gov-registry/{version}/model.tar.gz"}],
                                    "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
            CustomerMetadataProperties={"signature_uri": f"s3://gov-registry/{version}/model.tar.gz.sig"},
        )["ModelPackageArn"])
    group_arn = sm.describe_model_package_group(ModelPackageGroupName="credit-default")["ModelPackageGroupArn"]
    return {
        "keys": {"good": good_key, "stale": stale_key, "doomed": doomed_key},
        "jobs": {"good": good_job, "bad": bad_job, "single": single_job},
        "models": {"good": good_model, "bad": bad_model},
        "packages": packages,
        "group": group_arn,
        "public_key": str(run["public_key"]),
        "targets": ["s3://gov-good-models/", "s3://gov-dsse", "s3://gov-aws-key", "s3://gov-objects/models/",
                    "s3://gov-bad", group_arn, good_job, bad_job, single_job, good_model, bad_model],
    }


@pytest.fixture(scope="module")
def moto_env(moto_server):
    with pytest.MonkeyPatch.context() as patch:
        moto_server.reset()
        patch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        yield moto_server


@pytest.fixture(scope="module")
def scenario(moto_env, tmp_path_factory, synthetic_csv):
    built = build_scenario(tmp_path_factory.mktemp("moto-scenario"), synthetic_csv)
    # The allow-list names the key by alias, as deployment settings do; evidence holds key ARNs.
    parameters = {"allowed_kms_keys": ["alias/models"], "trusted_accounts": [ACCOUNT, TRUSTED_ACCOUNT],
                  "log_buckets": ["gov-good-models", "gov-bad"], "trusted_signer_keys": [built["public_key"]],
                  "object_lock_mode": "COMPLIANCE"}  # these buckets hold the stricter of the two modes
    built["parameters"] = parameters
    built["result"] = scan(built["targets"], parameters=parameters)
    return built


def verdicts(result) -> dict[tuple[str, str], str]:
    return {(f.check.id, f.resource.id): str(f.status) for f in result.findings}


def test_bucket_configuration_golden_verdicts(scenario):
    got = verdicts(scenario["result"])
    expected = {
        "s3://gov-good-models": {
            "ENC-S3-001": "PASS", "ENC-S3-002": "PASS", "ENC-S3-004": "PASS", "ACC-S3-001": "PASS",
            "ACC-S3-002": "PASS", "ACC-S3-003": "PASS", "ACC-S3-004": "PASS", "ACC-S3-005": "PASS",
            "RET-S3-001": "PASS", "RET-S3-002": "PASS", "RET-S3-004": "PASS", "RET-S3-005": "PASS"},
        "s3://gov-bad": {
            "ENC-S3-001": "FAIL", "ENC-S3-002": "FAIL", "ACC-S3-001": "FAIL", "ACC-S3-002": "FAIL",
            "ACC-S3-003": "FAIL", "ACC-S3-004": "FAIL", "ACC-S3-005": "FAIL", "RET-S3-001": "FAIL",
            "RET-S3-002": "FAIL", "RET-S3-004": "FAIL", "RET-S3-005": "FAIL"},
        "s3://gov-dsse": {"ENC-S3-001": "PASS", "ENC-S3-002": "PASS", "RET-S3-005": "N/A",
                          "ENC-S3-004": "N/A"},  # DSSE-KMS has no Bucket Keys
        "s3://gov-registry": {"ENC-S3-004": "FAIL"},  # SSE-KMS without a Bucket Key
        "s3://gov-aws-key": {"ENC-S3-001": "FAIL", "ENC-S3-002": "FAIL"},
    }
    for bucket, checks in expected.items():
        for check, status in checks.items():
            assert got[(check, bucket)] == status, (check, bucket, _message(scenario, check, bucket))


def test_object_golden_verdicts(scenario):
    got = verdicts(scenario["result"])
    expected = {
        "s3://gov-objects/models/good.bin": {"ENC-S3-003": "PASS", "RET-S3-003": "PASS"},
        "s3://gov-objects/models/held.bin": {"ENC-S3-003": "PASS", "RET-S3-003": "PASS"},  # legal hold
        "s3://gov-objects/models/sse-s3.bin": {"ENC-S3-003": "FAIL", "RET-S3-003": "PASS"},
        "s3://gov-objects/models/stale-key.bin": {"ENC-S3-003": "FAIL"},  # a customer key, not allow-listed
        "s3://gov-bad/models/plain.bin": {"ENC-S3-003": "FAIL", "RET-S3-003": "FAIL"},
        "s3://gov-bad/logs/app.log": {"RET-S3-003": "N/A"},
        # The bucket's own deny-non-TLS policy refuses HeadObject over plain HTTP: unreadable, so ERROR.
        "s3://gov-good-models/models/v1/weights.bin": {"ENC-S3-003": "ERROR", "RET-S3-003": "ERROR"},
    }
    for resource, checks in expected.items():
        for check, status in checks.items():
            assert got[(check, resource)] == status, (check, resource, _message(scenario, check, resource))
    denied = next(f for f in scenario["result"].findings if f.resource.id.endswith("weights.bin"))
    assert "access denied" in denied.message


def test_kms_and_sagemaker_golden_verdicts(scenario):
    got = verdicts(scenario["result"])
    keys, jobs, models = scenario["keys"], scenario["jobs"], scenario["models"]
    good_package, unsigned_package = scenario["packages"]
    expected = {
        keys["good"]: {"ENC-KMS-001": "PASS", "ENC-KMS-002": "PASS", "ACC-KMS-001": "PASS", "ACC-KMS-002": "PASS"},
        keys["stale"]: {"ENC-KMS-001": "FAIL", "ENC-KMS-002": "PASS", "ACC-KMS-001": "PASS", "ACC-KMS-002": "FAIL"},
        keys["doomed"]: {"ENC-KMS-002": "FAIL", "ACC-KMS-001": "FAIL", "ACC-KMS-002": "FAIL"},
        jobs["good"]: {"ENC-SM-001": "PASS", "ENC-SM-002": "PASS", "ACC-SM-001": "PASS"},
        jobs["bad"]: {"ENC-SM-001": "FAIL", "ENC-SM-002": "FAIL", "ACC-SM-001": "FAIL"},
        jobs["single"]: {"ENC-SM-002": "N/A"},
        models["good"]: {"ACC-SM-002": "PASS"},
        models["bad"]: {"ACC-SM-002": "FAIL"},
        good_package: {"ACC-SM-003": "PASS", "ENC-SM-003": "PASS"},
        unsigned_package: {"ACC-SM-003": "FAIL", "ENC-SM-003": "FAIL"},
    }
    for resource, checks in expected.items():
        for check, status in checks.items():
            assert got[(check, resource)] == status, (check, resource, _message(scenario, check, resource))


def test_every_check_that_moto_can_exercise_both_passes_and_fails(scenario):
    by_check: dict[str, set[str]] = {}
    for finding in scenario["result"].findings:
        by_check.setdefault(finding.check.id, set()).add(str(finding.status))
    # INV-S3-001: moto 5.2.5 answers ListBucketInventoryConfigurations with OptionalFields ["Field"], so a
    # complete configuration cannot pass here (its PASS is tested on the configuration's evidence).
    for check in {c for c in by_check if not c.startswith(("ART-", "ACC-FILE", "INV-S3-"))}:
        assert {"PASS", "FAIL"} <= by_check[check], (check, by_check[check])


def test_bucket_evidence_is_fetched_once_per_bucket(scenario):
    result = scenario["result"]
    calls = result.stats["api_calls"]
    buckets = result.stats["resources"]["s3_bucket"]
    assert calls["s3:GetBucketEncryption"] == calls["s3:GetBucketAcl"] == buckets
    # one HeadObject per object, and one per model package for its artefact's encryption
    assert calls["s3:HeadObject"] == result.stats["resources"]["s3_object"] + len(scenario["packages"])
    assert calls["sts:GetCallerIdentity"] == calls["s3control:GetPublicAccessBlock"] == 1
    # each distinct KMS key is described once, however many buckets, objects and jobs name it
    assert calls["kms:DescribeKey"] <= result.stats["resources"]["kms_key"] + 1  # + the alias/models spelling


def test_findings_record_calls_evidence_hash_and_trace(scenario):
    result = scenario["result"]
    finding = next(f for f in result.findings if f.check.id == "ENC-S3-001" and f.resource.id == "s3://gov-bad")
    _, evidence = result.evidence[f"s3_bucket:{finding.resource.id}"]
    assert finding.evidence_sha256 == evidence.sha256
    assert "s3:GetBucketEncryption" in finding.api_calls
    assert evidence.data["encryption"] == {"configured": False, "algorithm": "AES256", "kms_key": None,
                                           "kms_key_arn": None, "kms_key_manager": None, "bucket_key_enabled": False}
    leaves = finding.trace["conditions"]
    assert leaves[0] == {"op": "in", "path": "encryption.algorithm", "expected": ["aws:kms", "aws:kms:dsse"],
                         "actual": "AES256", "result": "false"}
    aws_key = result.evidence["s3_bucket:s3://gov-aws-key"][1].data["encryption"]
    assert aws_key["kms_key"] == "alias/aws/s3" and aws_key["kms_key_manager"] == "AWS"


def test_outputs_sarif_junit_csv(scenario, tmp_path):
    import csv
    import xml.etree.ElementTree as ET

    result = scenario["result"]
    sarif = json.loads(output.render(result, "sarif"))
    run = sarif["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    assert len(rules) == len(set(rules))
    listed = [f for f in result.findings if f.status in (Status.FAIL, Status.WAIVED, Status.ERROR)]
    assert len(run["results"]) == len(listed)
    for item in run["results"]:
        assert rules[item["ruleIndex"]] == item["ruleId"]
        assert item["kind"] in ("fail", "open")
        # SARIF 2.1.0 (3.27.10): a result that is not a failure has level "none".
        assert item["level"] in (("error", "warning", "note") if item["kind"] == "fail" else ("none",))
        assert item["message"]["text"] and item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert run["invocations"][0]["executionSuccessful"] is False  # the TLS-denied objects
    junit = ET.fromstring(output.render(result, "junit"))
    cases = junit.findall(".//testcase")
    assert len(cases) == len(result.findings)
    assert int(junit.get("failures")) == len(junit.findall(".//failure")) == result.counts["FAIL"]
    assert int(junit.get("errors")) == len(junit.findall(".//error")) == result.counts["ERROR"]
    rows = list(csv.DictReader(output.render(result, "csv").decode().splitlines()))
    assert len(rows) == len(result.findings) and {r["status"] for r in rows} >= {"PASS", "FAIL", "ERROR", "N/A"}
    assert result.exit_code == 1


def _message(scenario, check: str, resource: str) -> str:
    found = [f.message for f in scenario["result"].findings if f.check.id == check and f.resource.id == resource]
    return found[0] if found else "no finding"


# ----------------------------------------------------------------------------------------------------------------
# Incremental scans, throttling, and the scheduled (Lambda) scan, each on a fresh moto state.


def _bucket(s3, name: str, objects: int) -> None:
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for i in range(objects):
        s3.put_object(Bucket=name, Key=f"models/{i:03d}.bin", Body=bytes([i]))


def test_incremental_rescan_makes_only_listing_calls(aws, tmp_path):
    s3 = boto3.client("s3")
    _bucket(s3, "inc-a", 30)
    _bucket(s3, "inc-b", 20)
    targets = ["s3://inc-a/", "s3://inc-b/"]
    state_file = tmp_path / "state.json"
    first = scan(targets, state=ScanState(state_file))
    assert first.stats["api_calls"]["s3:HeadObject"] == 50
    assert first.stats["reused_evidence"] == 0
    assert first.stats["api_calls_per_object"] <= 1.6  # 2 buckets' configuration over only 50 objects

    again = scan(targets, state=ScanState(state_file))
    assert again.stats["api_calls"] == {"s3:ListObjectVersions": 2}
    assert again.stats["reused_evidence"] == 54  # 50 objects, 2 buckets, 2 bucket inventory configurations
    assert verdicts(again) == verdicts(first)

    s3.put_object(Bucket="inc-a", Key="models/007.bin", Body=b"changed")  # a new version of one object
    changed = scan(targets, state=ScanState(state_file))
    assert changed.stats["api_calls"] == {"s3:ListObjectVersions": 2, "s3:HeadObject": 1}

    stale = scan(targets, state=ScanState(state_file, config_max_age=timedelta(0)))
    assert stale.stats["api_calls"]["s3:GetBucketEncryption"] == 2  # configuration re-read once too old
    assert stale.stats["api_calls"].get("s3:HeadObject", 0) == 0


class _ThrottlingProxy:
    """A loopback HTTP proxy to moto that answers the first ``throttle`` requests with 503 SlowDown."""

    def __init__(self, upstream: str, throttle: int, deny: str | None = None) -> None:
        self.upstream, self.remaining, self.throttled, self.deny = upstream, throttle, 0, deny
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    throttle = proxy.remaining > 0
                    if throttle:
                        proxy.remaining -= 1
                        proxy.throttled += 1
                denied = proxy.deny is not None and proxy.deny in self.path
                if throttle or denied:
                    code, text = ("AccessDenied", "Access Denied") if denied else ("SlowDown", "Please slow down.")
                    payload = f"<Error><Code>{code}</Code><Message>{text}</Message></Error>".encode()
                    self.send_response(403 if denied else 503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(proxy.upstream + self.path, data=body or None, headers=headers,
                                                 method=self.command)
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, reply, reply_headers = response.status, response.read(), response.headers
                except urllib.error.HTTPError as err:
                    status, reply, reply_headers = err.code, err.read(), err.headers
                self.send_response(status)
                for key, value in reply_headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _relay

        self.server = ThreadingHTTPServer((LOOPBACK, free_port()), Handler)
        self.endpoint = f"http://{LOOPBACK}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_throttling_is_retried_with_backoff_then_reported_as_error(aws, monkeypatch):
    s3 = boto3.client("s3")
    _bucket(s3, "slow-bucket", 3)
    proxy = _ThrottlingProxy(aws.endpoint, throttle=4)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
        fast = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)
        result = scan(["s3://slow-bucket/"], retry=fast, workers=1)
        assert proxy.throttled == 4
        assert result.counts["ERROR"] == 0  # every throttled call succeeded on a later attempt
        # 4 retries, 3 heads, listing, bucket, account, bucket inventory configurations
        assert result.stats["api_calls_total"] == 4 + 3 + 1 + 9 + 2 + 1

        proxy.remaining = 10_000  # now it never lets up
        result = scan(["s3://slow-bucket/"], retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))
        assert result.exit_code == 3
        assert result.counts["PASS"] == 0 and result.counts["FAIL"] == 0
        # (RET-S3-005 is N/A: whether a bucket holds logs is known from its name, without asking S3)
        bad = [f.message for f in result.findings
               if f.status is not Status.NA and "throttled after 3 attempts" not in f.message]
        assert not bad, bad
    finally:
        proxy.close()


def test_listing_without_list_bucket_versions_falls_back_to_list_objects(aws, monkeypatch, tmp_path):
    s3 = boto3.client("s3")
    _bucket(s3, "plain-listing", 3)
    proxy = _ThrottlingProxy(aws.endpoint, throttle=0, deny="?versions")  # the ListObjectVersions request
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", proxy.endpoint)
        state = tmp_path / "state.json"
        result = scan(["s3://plain-listing/"], state=ScanState(state))
        assert result.stats["api_calls"]["s3:ListObjectsV2"] == 1
        assert result.stats["api_calls"]["s3:HeadObject"] == 3
        objects = [ev for ref, ev in result.evidence.values() if ref.type == "s3_object"]
        assert len(objects) == 3 and all(ev.data["version_id"] not in (None, "null") for ev in objects)
        again = scan(["s3://plain-listing/"], state=ScanState(state))
        assert again.stats["api_calls"] == {"s3:ListObjectVersions": 1, "s3:ListObjectsV2": 1}
    finally:
        proxy.close()


def test_lambda_handler_writes_results_to_s3_and_fails_loudly(aws, monkeypatch, tmp_path):
    from governance.policy import lambda_handler
    from governance.policy.scheduled import ScheduledScanFailed

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="scan-results")
    _bucket(s3, "nightly-models", 2)
    monkeypatch.setenv("SCAN_TARGETS", "s3://nightly-models/")
    monkeypatch.setenv("SCAN_OUTPUT_URI", "s3://scan-results/scans")
    monkeypatch.setenv("SCAN_STATE_URI", "s3://scan-results/scans/state.json")
    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv("SCAN_LEDGER_URI", str(ledger))
    with pytest.raises(ScheduledScanFailed) as failed:
        lambda_handler.handler({}, None)
    summary = failed.value.summary
    assert summary["verdict"] == "fail" and summary["summary"]["FAIL"] > 0
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="scan-results")["Contents"]}
    assert {"scans/latest/policy.json", "scans/latest/policy.sarif", "scans/latest/policy.junit.xml",
            "scans/state.json"} <= keys
    assert summary["results"]["json"] in {f"s3://scan-results/{k}" for k in keys}
    stored = json.loads(s3.get_object(Bucket="scan-results", Key="scans/latest/policy.json")["Body"].read())
    assert stored["verdict"] == "fail"
    record = json.loads(ledger.read_text().splitlines()[-1])
    assert record["event"] == "scan" and record["details"]["verdict"] == "fail"

    # a target that passes: the handler returns the summary instead of raising
    passing = tmp_path / "ok.txt"
    passing.write_text("fine")
    passing.chmod(0o644)
    result = lambda_handler.handler({"targets": [str(passing)], "state_uri": ""}, None)
    assert result["verdict"] == "pass"

    monkeypatch.delenv("SCAN_TARGETS")
    with pytest.raises(lambda_handler.ScanConfigurationError, match="no scan targets"):
        lambda_handler.handler({}, None)


def test_sagemaker_model_package_group_target_expands_to_versions(scenario):
    packages = {f.resource.id for f in scenario["result"].findings if f.resource.type == "sagemaker_model_package"}
    assert packages == set(scenario["packages"])
    related = {f.resource.id for f in scenario["result"].findings if f.resource.id.startswith("s3://gov-registry")}
    assert {"s3://gov-registry", "s3://gov-registry/v1/model.tar.gz"} <= related


def test_bad_target_is_an_input_error(moto_env):
    from governance.errors import InputError

    with pytest.raises(InputError, match="not a SageMaker"):
        scan(["arn:aws:iam::123456789012:role/x"])

