"""Lineage of a run whose files live in S3 (as on SageMaker), and the optional SageMaker mirror, against moto."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from botocore.config import Config
from botocore.validate import validate_parameters

from governance.errors import CheckFailed
from governance.evidence import write_index
from governance.lineage import load_chain, record_pipeline_run, verify_lineage
from governance.lineage.sagemaker_mirror import lineage_plan, mirror_evidence
from governance.storage import s3_client
from tests.lineage_support import cli, keypair

pytestmark = pytest.mark.servers
BUCKET = "quickloan-ml"
JOB = "arn:aws:sagemaker:us-east-1:123456789012:{kind}-job/quickloan-{step}"


def s3_run(synthetic_run) -> tuple[dict, dict[str, str]]:
    """The synthetic run as SageMaker would leave it: every file in S3, every step with a job ARN; returns the
    run record and the uploads (S3 key → local file)."""
    run = json.loads((synthetic_run.workdir / "run.json").read_text())
    uploaded: dict[str, str] = {}
    uploads: dict[str, str] = {}
    for step in run["steps"]:
        for side in ("inputs", "outputs"):
            for role, path in step[side].items():
                if role == "model_package":
                    continue
                if path not in uploaded:
                    key = f"{step['name']}/{role}/{path.rsplit('/', 1)[-1]}"
                    uploads[key] = path
                    uploaded[path] = f"s3://{BUCKET}/{key}"
                step[side][role] = uploaded[path]
        step["job_arn"] = JOB.format(kind="training" if step["name"] == "train" else "processing", step=step["name"])
    return run, uploads


def upload(client, uploads: dict[str, str]) -> None:
    client.create_bucket(Bucket=BUCKET)
    for key, path in uploads.items():
        client.upload_file(path, BUCKET, key)


@pytest.fixture(scope="module")
def recorded(synthetic_run, moto_server, tmp_path_factory):
    """The lineage of the S3 run, recorded and sealed once for the module (recording is the slow part)."""
    root = tmp_path_factory.mktemp("s3-lineage")
    run, uploads = s3_run(synthetic_run)
    with pytest.MonkeyPatch.context() as patch:
        moto_server.reset()
        patch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.delenv("AWS_PROFILE", raising=False)
        upload(s3_client(), uploads)
        signer, verifier, public = keypair(root / "keys")
        evidence = root / "evidence"
        evidence.mkdir()
        for name in ("dataset.json", "evaluation.json"):
            shutil.copyfile(synthetic_run.evidence_dir / name, evidence / name)
        record_pipeline_run(run, evidence, signer)
        write_index(evidence, signer)
    return evidence, signer, verifier, public, uploads


@pytest.fixture
def s3_evidence(recorded, aws):
    """The recorded evidence, with its files put back in a fresh S3 (each test starts from a clean moto)."""
    evidence, signer, verifier, public, uploads = recorded
    client = s3_client()
    upload(client, uploads)
    return evidence, signer, verifier, public, client


def test_s3_files_are_recorded_and_re_hashed(s3_evidence):
    evidence, _, verifier, _, client = s3_evidence
    report = verify_lineage(evidence, verifier)
    checked = [f for f in report.files if f.role != "code"]
    assert checked and all(f.status == "match" and f.location.startswith("s3://") for f in checked)
    assert report.chain.hop("train").run_details["metadata"]["invocationId"].endswith("training-job/quickloan-train")
    key = "process/validation/validation.csv"
    data = bytearray(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    data[100] ^= 1
    client.put_object(Bucket=BUCKET, Key=key, Body=bytes(data))
    with pytest.raises(CheckFailed) as failed:
        verify_lineage(evidence, verifier)
    assert failed.value.message.startswith(f"validation.csv (s3://{BUCKET}/{key}): the bytes changed")


def test_the_lineage_plan_is_valid_sagemaker_api_input(s3_evidence):
    evidence, _, verifier, _, _ = s3_evidence
    chain, _ = load_chain(evidence, verifier)
    plan = lineage_plan(chain)
    model = boto3.client("sagemaker", region_name="us-east-1")
    for operation, calls in (("CreateArtifact", plan["artifacts"].values()),
                             ("CreateAction", plan["actions"].values())):
        shape = model.meta.service_model.operation_model(operation).input_shape
        for params in calls:
            validate_parameters(params, shape)  # raises ParamValidationError on any bad field
    sources = {p["Properties"]["role"]: p["Source"]["SourceTypes"][0] for p in plan["artifacts"].values()}
    trained = chain.hop("train").subject("model")["digest"]["sha256"]
    assert sources["model"] == {"SourceIdType": "Custom", "Value": f"sha256:{trained}"}
    edges = set(plan["associations"])
    test = chain.hop("process").subject("test")["digest"]["sha256"]  # evaluation reads the untouched test split
    assert (f"test:{test}", "step:evaluate", "ContributedTo") in edges
    assert ("step:train", f"model:{trained}", "Produced") in edges
    assert plan["actions"]["step:train"]["Source"]["SourceUri"].endswith("training-job/quickloan-train")


def test_mirror_annotates_the_model_package_and_reports_unsupported_lineage(s3_evidence, tmp_path):
    evidence, _, verifier, _, _ = s3_evidence
    sagemaker = boto3.client("sagemaker", region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    sagemaker.create_model_package_group(ModelPackageGroupName="quickloan-credit-default")
    arn = sagemaker.create_model_package(ModelPackageGroupName="quickloan-credit-default",
                                         CustomerMetadataProperties={"owner": "credit-risk"})["ModelPackageArn"]
    result = mirror_evidence(evidence, verifier=verifier, model_package_arn=arn, client=sagemaker,
                             signature_uri=f"s3://{BUCKET}/model.tar.gz.sig", evidence_uri=f"s3://{BUCKET}/evidence/")
    assert result["lineage"]["status"] == "unsupported"  # moto implements no ML Lineage calls
    stored = sagemaker.describe_model_package(ModelPackageName=arn)["CustomerMetadataProperties"]
    chain, _ = load_chain(evidence, verifier)
    trained = chain.hop("train").subject("model")["digest"]["sha256"]
    assert stored == {"owner": "credit-risk", "artefact_sha256": trained,
                      "signature_uri": f"s3://{BUCKET}/model.tar.gz.sig", "evidence_uri": f"s3://{BUCKET}/evidence/"}


def test_mirror_refuses_a_folder_that_does_not_verify(s3_evidence, tmp_path, capsys):
    evidence = s3_evidence[0]
    _, other, other_public = keypair(tmp_path / "other")
    with pytest.raises(CheckFailed) as failed:
        mirror_evidence(evidence, verifier=other, model_package_arn="arn:aws:sagemaker:x")
    assert failed.value.reason == "UNTRUSTED_SIGNER"
    code, _, err = cli(capsys, "lineage", "mirror", str(evidence), "--key", str(other_public))
    assert code == 1 and "not mirroring" in err
