"""The AWS paths on day one, rehearsed in moto: the stack from its templates, the pipeline definition run as SageMaker
would run it with the full shipped policies, the approved package, and the nightly scan with the nested stack's
environment.

Only what a user gives is set: the stack's defaults, its outputs as the pipeline settings, and the data uploaded
under the default InputData prefix. moto stands in for AWS (see tests/stack_support.py for what it cannot do).
"""

from __future__ import annotations

import gzip
import json
import os

import boto3
import pytest

from tests.stack_support import (
    ACCOUNT,
    MAIN_TEMPLATE,
    SCAN_TEMPLATE,
    admin_credentials,
    cloudformation_stack,
    create_stack,
    iam_enforced,
    kms_cloudformation_key_specs,
    kms_digest_signing,
    kms_key_resources,
    outputs,
    role_credentials,
    s3_inventory_fields,
    sagemaker_resources,
    tls_requests,
)

pytestmark = [pytest.mark.servers, pytest.mark.filterwarnings("ignore:Tried to parse AWS::")]
REGION = "us-east-1"
FEW_ROUNDS = {"NumRound": "60"}
VALIDATORS = f"arn:aws:iam::{ACCOUNT}:role/model-risk-validators"


def clients(service: str):
    return boto3.client(service, region_name=REGION)


@pytest.fixture
def stack(aws, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    tls_requests(monkeypatch)
    kms_digest_signing(monkeypatch)
    kms_key_resources(monkeypatch)
    sagemaker_resources(monkeypatch, REGION)
    s3_inventory_fields(monkeypatch)
    kms_cloudformation_key_specs(monkeypatch)
    # The main stack through moto's CloudFormation, completed from the template where moto stops short; the
    # validators' federated role may assume the stack's ValidatorRole.
    return cloudformation_stack(MAIN_TEMPLATE, "quickloan", REGION, clients,
                                {"ValidatorPrincipalArn": VALIDATORS})


def settings_from(stack):
    """The pipeline settings a user copies from the stack outputs (the template's Metadata says which)."""
    from pipeline.sagemaker.config import PipelineSettings

    out = outputs(stack)
    return PipelineSettings(region=REGION, role_arn=out["PipelineRoleArn"], bucket=out["ArtefactBucketName"],
                            prefix=out["ArtefactPrefix"], kms_key_id=out["ArtefactKeyArn"],
                            signing_key_id=out["SigningKeyArn"], image_uri=f"{out['ImageRepositoryUri']}:rehearsal",
                            model_package_group=out["ModelPackageGroupName"], pipeline_name=out["PipelineName"])


def upload_data(settings, synthetic_csv, **encryption) -> str:
    """The user's data upload: gzipped, under the default InputData prefix, with the bucket's default encryption."""
    key = f"{settings.prefix}/data/cs-training.csv.gz"
    clients("s3").put_object(Bucket=settings.bucket, Key=key, Body=gzip.compress(synthetic_csv.read_bytes()),
                             **encryption)
    return f"s3://{settings.bucket}/{key}"


def undecided(settings) -> list[str]:
    """The latest scheduled scan's findings that did not pass, for an assertion message."""
    latest = json.loads(clients("s3").get_object(
        Bucket=settings.bucket, Key=f"{settings.prefix}/policy-scans/latest/policy.json")["Body"].read())
    return [f"{f['check']} {f['status']} {f['resource']}: {f['message']}" for f in latest["findings"]
            if f["status"] not in ("PASS", "N/A")]


def deployer_with_pipeline_role(settings, monkeypatch) -> dict:
    """The person deploying (an admin) in the environment; returns the pipeline role's credentials for each step.

    The role's credentials are obtained before moto enforces IAM, as SageMaker's service principal would obtain them:
    the role's trust policy admits only SageMaker.
    """
    pipeline_role = role_credentials(settings.role_arn, "sagemaker", REGION)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in admin_credentials().items():
        monkeypatch.setenv(name, value)
    return pipeline_role


def definition_for(settings) -> dict:
    pytest.importorskip("sagemaker")
    from pipeline.sagemaker.definition import pipeline_definition

    return pipeline_definition(settings)


def test_rehearsal_registers_then_approval_and_the_nightly_scan_pass(stack, synthetic_csv, tmp_path, monkeypatch,
                                                                     aws, capsys):
    from governance.approval import Trust, approve
    from governance.cli import main
    from governance.errors import CheckFailed
    from governance.policy.lambda_handler import handler
    from governance.policy.scheduled import ScheduledScanFailed
    from governance.signing.signer import write_key_pair
    from pipeline.sagemaker.rehearse import REGISTER, rehearse
    from pipeline.sagemaker.serving import serving_problems

    settings = settings_from(stack)
    upload_data(settings, synthetic_csv)
    definition = definition_for(settings)
    pipeline_role = deployer_with_pipeline_role(settings, monkeypatch)
    events: list[str] = []
    with iam_enforced(aws):
        result = rehearse(definition, parameters=FEW_ROUNDS, workdir=tmp_path / "rehearsal",
                          role_credentials=lambda role, session: pipeline_role, on_event=events.append)
    assert result.outcome == REGISTER, result.message
    assert any("pipeline.steps.train" in s for s in result.substitutions), result.substitutions
    assert any("credentials of their RoleArn" in s for s in result.substitutions), result.substitutions
    assert [s["name"] for s in result.steps] == ["Process", "Train", "Evaluate", "Govern", "RegistrationGate",
                                                 "Register"]

    # The registered package, read back: pending approval, servable by the XGBoost container.
    sagemaker = clients("sagemaker")
    package = sagemaker.describe_model_package(ModelPackageName=result.model_package_arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    container = package["InferenceSpecification"]["Containers"][0]
    assert serving_problems(container, package["InferenceSpecification"]) == []
    artefact = container["ModelDataUrl"]
    assert artefact.endswith("/output/model.tar.gz")

    # A named person approves; the name has characters SageMaker's metadata pattern refuses. The shipped validation
    # policy blocks approval until an independent validator has validated the model where its evidence lives.
    ledger = f"s3://{settings.bucket}/{settings.prefix}/ledger/"
    trust = Trust(kms_key_id=settings.signing_key_id)
    with pytest.raises(CheckFailed) as refused:
        approve(result.model_package_arn, "Siobhán O'Brien", trust, ledger=ledger)
    assert refused.value.reason == "NO_VALIDATION", refused.value.message
    assert sagemaker.describe_model_package(ModelPackageName=result.model_package_arn)[
        "ModelApprovalStatus"] == "PendingManualApproval"
    evidence = package["CustomerMetadataProperties"]["evidence_uri"]
    bucket, _, key = evidence.removeprefix("s3://").partition("/")

    def evidence_file(name: str) -> dict:
        return json.loads(clients("s3").get_object(Bucket=bucket, Key=f"{key.rstrip('/')}/{name}")["Body"].read())

    # Govern measured fairness and explanations on the untouched test split the Process step wrote, and says so.
    test_split = evidence_file("dataset.json")["outputs"]["test"]
    for name in ("fairness.json", "explain.json"):
        assert evidence_file(name)["data"]["sha256"] == test_split["sha256"], name
    validator, _ = write_key_pair(tmp_path / "validator")  # the validator's own key, not the KMS model signer
    # The evidence ledger's head is signed with the pipeline's KMS key, which the validator does not hold: the
    # validate record goes to the deployment's ledger, where approvals of SageMaker packages go too. The validator
    # runs under the stack's ValidatorRole, with moto enforcing IAM: a permission the role lacks fails the command.
    deployer = {name: os.environ[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    use_credentials(monkeypatch, role_credentials(outputs(stack)["ValidatorRoleArn"], "model-validator", REGION))
    with iam_enforced(aws):
        assert main(["validate", "--model", artefact, "--evidence", evidence, "--key", str(validator),
                     "--ledger", ledger, "--endpoint-url", aws.endpoint]) == 0, capsys.readouterr().err
        capsys.readouterr()
        validator_cannot_sign_approve_or_rewrite(stack, settings, result.model_package_arn, key.rstrip("/"),
                                                 deployer)
    use_credentials(monkeypatch, deployer)
    head = clients("s3").head_object(Bucket=bucket, Key=f"{key.rstrip('/')}/validation.json")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == settings.kms_key_id
    # A named person approves with the stack's ModelApproverPolicy on their own principal, moto enforcing IAM.
    use_credentials(monkeypatch, approver_credentials(stack, deployer))
    with iam_enforced(aws):
        approved = approve(result.model_package_arn, "Siobhán O'Brien", trust, ledger=ledger)
    use_credentials(monkeypatch, deployer)
    assert approved.checks["validation"].startswith("independent validation PASS"), approved.checks
    assert approved.ledger["seq"] >= 1
    package = sagemaker.describe_model_package(ModelPackageName=result.model_package_arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"]["approved_by"] == "Siobhán O-Brien"

    # The nightly scan, with exactly the environment the nested stack gives the function.
    nested = stack.resolve(stack.template["Resources"]["ScanSchedule"]["Properties"]["Parameters"])
    scan_stack = create_stack(SCAN_TEMPLATE, "quickloan-ScanSchedule-1A2B3C4D5E6F", REGION, nested, clients,
                              only={"ScanRole", "LedgerAppendPolicy", "TrustedSignerPolicy", "FailureQueue",
                                    "ScanLogGroup"})
    environment = scan_stack.properties("ScanFunction")["Environment"]["Variables"]
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    summary = handler({}, None)
    assert summary["verdict"] == "pass", summary
    latest = json.loads(clients("s3").get_object(
        Bucket=settings.bucket, Key=f"{settings.prefix}/policy-scans/latest/policy.json")["Body"].read())
    statuses = {(f["check"], f["resource"]): f["status"] for f in latest["findings"]}
    ledger_records = [r for (check, r), s in statuses.items() if check == "RET-S3-003" and "/ledger/" in r]
    assert ledger_records and all(statuses[("RET-S3-003", r)] == "PASS" for r in ledger_records)
    assert statuses[("ART-001", artefact)] == "PASS" and statuses[("ART-005", artefact)] == "PASS"
    assert statuses[("ACC-SM-003", result.model_package_arn)] == "PASS"
    # The scan's own run is in the ledger, locked as the bucket's default says.
    keys = [o["Key"] for o in clients("s3").list_objects_v2(
        Bucket=settings.bucket, Prefix=f"{settings.prefix}/ledger/")["Contents"]]
    assert len(keys) >= 2

    # Again under the function's own role, with moto enforcing IAM: a permission the role lacks fails the run.
    for name, value in role_credentials(scan_stack.get_att("ScanRole", "Arn"), "nightly-scan", REGION).items():
        monkeypatch.setenv(name, value)
    with iam_enforced(aws):
        try:
            summary = handler({}, None)
        except ScheduledScanFailed as failed:
            summary = failed.summary
    assert summary["verdict"] == "pass", undecided(settings)


def use_credentials(monkeypatch, credentials: dict[str, str]) -> None:
    """Make every client built from now on use ``credentials`` (a role's temporary ones or a user's keys)."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it keeps the credentials it read first
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)


def approver_credentials(stack, deployer: dict[str, str]) -> dict[str, str]:
    """Temporary credentials of an approvers' role holding only the stack's ModelApproverPolicy."""
    iam = boto3.client("iam", region_name=REGION, aws_access_key_id=deployer["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=deployer["AWS_SECRET_ACCESS_KEY"])
    trust = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    role = iam.create_role(RoleName="model-approvers", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [trust]}))["Role"]
    iam.attach_role_policy(RoleName="model-approvers", PolicyArn=outputs(stack)["ModelApproverPolicyArn"])
    return role_credentials(role["Arn"], "approver", REGION)


def forbidden(call) -> str:
    """``STATUS CODE MESSAGE`` of an AWS call that must be refused (moto answers a JSON-protocol service's denial in
    XML, which botocore keeps whole as the message: it names the action refused)."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        call()
    status, error = refused.value.response["ResponseMetadata"]["HTTPStatusCode"], refused.value.response["Error"]
    return f"{status} {error['Code']} {error['Message']}"


def validator_cannot_sign_approve_or_rewrite(stack, settings, package_arn: str, evidence_key: str,
                                             deployer: dict[str, str]) -> None:
    """Separation of duties, under the validator role: no signature with the model signing key, no approval, no
    rewriting what the pipeline wrote — not even with a broad grant added to the role beside the stack's policy."""
    session = boto3.session.Session(region_name=REGION)  # the validator's credentials (boto3's default session
    kms, sagemaker, s3 = (session.client(s) for s in ("kms", "sagemaker", "s3"))  # keeps the first ones it read)

    def sign_and_approve_refused() -> None:
        signed = forbidden(lambda: kms.sign(KeyId=settings.signing_key_id, Message=b"\0" * 32, MessageType="DIGEST",
                                            SigningAlgorithm="ECDSA_SHA_256"))
        assert signed.startswith("403 ") and "not authorized to perform: kms:Sign" in signed, signed
        approved = forbidden(lambda: sagemaker.update_model_package(ModelPackageArn=package_arn,
                                                                    ModelApprovalStatus="Approved"))
        assert approved.startswith("403 ") and "perform: sagemaker:UpdateModelPackage" in approved, approved

    sign_and_approve_refused()
    for key in (f"{evidence_key}/verdict.json", f"{settings.prefix}/data/cs-training.csv.gz"):
        # what the pipeline wrote is not the validator's to replace; the raw data set is not the validator's to read
        assert forbidden(lambda k=key: s3.put_object(Bucket=settings.bucket, Key=k, Body=b"{}")).startswith(
            "403 AccessDenied"), key
    assert forbidden(lambda: s3.get_object(Bucket=settings.bucket, Key=f"{settings.prefix}/data/cs-training.csv.gz")
                     ).startswith("403 AccessDenied")
    # The explicit denies hold whatever else the validators' principal is given (e.g. a platform-wide grant added
    # by the deployer, whose keys sign the IAM calls).
    iam = boto3.client("iam", region_name=REGION, aws_access_key_id=deployer["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=deployer["AWS_SECRET_ACCESS_KEY"])
    role = outputs(stack)["ValidatorRoleArn"].rsplit("/", 1)[-1]
    iam.put_role_policy(RoleName=role, PolicyName="platform-wide-grant", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    try:
        sign_and_approve_refused()
    finally:
        iam.delete_role_policy(RoleName=role, PolicyName="platform-wide-grant")


def test_an_unencrypted_input_object_ends_in_the_fail_step_naming_enc_s3_003(stack, synthetic_csv, tmp_path, aws,
                                                                            capsys):
    """The commands a user runs: `pipeline definition` then `pipeline rehearse` against moto's endpoint."""
    pytest.importorskip("sagemaker")
    from governance.cli import main

    settings = settings_from(stack)
    # Written with SSE-S3 (e.g. copied in before the bucket policy refused such uploads).
    data = upload_data(settings, synthetic_csv, ServerSideEncryption="AES256")
    config = tmp_path / "sagemaker.yaml"
    config.write_text(json.dumps(settings.model_dump(mode="json")))  # JSON is YAML
    assert main(["pipeline", "definition", "--config", str(config), "--out", str(tmp_path / "definition.json")]) == 0
    capsys.readouterr()
    code = main(["pipeline", "rehearse", "--definition", str(tmp_path / "definition.json"), "--endpoint-url",
                 aws.endpoint, "--parameter", "NumRound=60", "--json"])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    # (moto's in-process server prints its own notices to stdout before our JSON: read from the JSON's first line)
    result = json.loads(captured.out[captured.out.index("{\n"):])
    assert result["outcome"] == "Fail" and result["steps"][-1]["name"] == "RegistrationRefused"
    assert "governance verdict FAIL" in result["message"]
    assert f"ENC-S3-003 FAIL on {data}" in result["message"], result["message"]
    assert "substituted: training image" in captured.err
    assert not clients("sagemaker").list_model_packages(ModelPackageGroupName=settings.model_package_group)[
        "ModelPackageSummaryList"]


def test_a_permission_the_pipeline_role_lacks_fails_the_govern_step(stack, synthetic_csv, tmp_path, aws,
                                                                     monkeypatch):
    """The IAM-enforced rehearsal is a real control: without the template's kms:Sign grant, Govern cannot sign."""
    from governance.errors import Incomplete
    from pipeline.sagemaker.rehearse import rehearse

    settings = settings_from(stack)
    policy = stack.properties("PipelineRolePolicy")
    document = policy["PolicyDocument"]
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "SignWithTheModelSigningKey"]
    clients("iam").put_role_policy(RoleName=policy["RoleName"], PolicyName=policy["PolicyName"],
                                   PolicyDocument=json.dumps(document))
    upload_data(settings, synthetic_csv)
    definition = definition_for(settings)
    pipeline_role = deployer_with_pipeline_role(settings, monkeypatch)
    # The verdict itself is signed with that key: the step fails, as the SageMaker job would (exit 3, never a pass).
    with iam_enforced(aws), pytest.raises(Incomplete) as caught:
        rehearse(definition, parameters=FEW_ROUNDS, workdir=tmp_path / "rehearsal",
                 role_credentials=lambda role, session: pipeline_role)
    assert caught.value.reason == "STEP_FAILED" and "step Govern" in caught.value.message
    assert "not authorized to perform: kms:Sign" in caught.value.message


def test_rehearse_bad_calls(tmp_path, capsys):
    from governance.cli import main

    assert main(["pipeline", "rehearse", "--definition", str(tmp_path / "missing.json")]) == 2
    assert "FILE_NOT_FOUND" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["pipeline", "rehearse", "--definition", str(tmp_path / "bad.json")]) == 2
    assert "MALFORMED_JSON" in capsys.readouterr().err  # read by the bounded JSON reader
    (tmp_path / "empty.json").write_text("{}")
    assert main(["pipeline", "rehearse", "--definition", str(tmp_path / "empty.json")]) == 2
    (tmp_path / "params.json").write_text(json.dumps({"Parameters": [], "Steps": []}))
    assert main(["pipeline", "rehearse", "--definition", str(tmp_path / "params.json"), "--parameter",
                 "Nope=1"]) == 2
    assert "BAD_PARAMETER" in capsys.readouterr().err
