"""``governance approve``: refuses unless the artefact verifies and the governance checks passed; records who.

Local registry packages on a copy of one governed run; SageMaker packages registered in moto's model registry
with the definition's own Register step request (its expressions resolved the way the pipeline service would).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import boto3
import pytest

from governance.cli import main
from governance.registry import LocalRegistry
from governance.signing.signer import write_key_pair
from tests.govern_support import copy_run


@pytest.fixture
def work(validated, tmp_path):
    # Approval needs an independent validation: a copy of the validated run.
    return copy_run(validated, tmp_path / "work")


def approve(governed, *args: str) -> int:
    """``governance approve`` on the governed run, signing its ledger record with the ledger's own key."""
    return main(["approve", *args, "--ledger-key", str(governed.key)])


def ledger_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def package(work: Path):
    return LocalRegistry(work / "registry.db").get("quickloan-credit-default")


def test_approves_a_governed_local_package(governed, validated, work, capsys):
    assert approve(governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                   str(governed.public_key), "--reason", "reviewed the audit pack", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["approved"] is True and result["approved_by"] == "Jane Doe"
    assert set(result["checks"]) == {"integrity", "segregation", "governance", "evidence", "validation"}
    assert result["checks"]["segregation"].startswith("approver is not the model's signer")
    approved = package(work)
    assert approved.approval_status == "Approved" and approved.approved_by == "Jane Doe"
    assert "reviewed the audit pack" in approved.approval_description
    assert approved.customer_metadata["approved_by"] == "Jane Doe"
    last = ledger_records(work / "evidence" / "ledger.jsonl")[-1]
    assert (last["event"], last["actor"], last["subject"]) == ("approve", "Jane Doe", approved.arn)
    assert last["details"]["outcome"] == "approved" and last["seq"] == result["ledger"]["seq"]
    # The approval leaves the evidence and its ledger verifiable.
    ledger = str(work / "evidence" / "ledger.jsonl")
    # The validator re-sealed the index that anchors the ledger: its key checks the anchor, and no other key does.
    assert main(["ledger", "verify", ledger, "--key", str(governed.public_key)]) == 1
    assert main(["ledger", "verify", ledger, "--key", str(governed.public_key),
                 "--anchor-key", str(validated.validator_public_key)]) == 0
    from governance.evidence import verify_index
    from governance.signing import load_verifier

    # The validator re-sealed the index (with validation.json in it).
    verify_index(work / "evidence", load_verifier(validated.validator_public_key))


def test_refuses_the_person_who_signed_the_model_unless_the_governance_file_allows_it(governed, work, tmp_path,
                                                                                       capsys):
    import yaml

    from reports import example_path

    signed = [r for r in ledger_records(work / "evidence" / "ledger.jsonl") if r["event"] == "sign"]
    signer = signed[-1]["actor"]
    assert signer not in ("governance-demo", "governance-pipeline")  # a named actor, not the tool
    model = str(work / "model" / "model.tar.gz")
    outcome = refused(capsys, governed, model, "--by", signer.upper(), "--key", str(governed.public_key))
    assert outcome["reason"] == "SELF_APPROVAL" and "segregation of duties" in outcome["message"]
    assert_not_approved_and_recorded(work, signer.upper(), "SELF_APPROVAL")
    document = yaml.safe_load(example_path().read_text())
    document["oversight"]["allow_self_approval"] = True
    allowing = tmp_path / "allowing.yaml"
    allowing.write_text(yaml.safe_dump(document))
    assert approve(governed, model, "--by", signer, "--key", str(governed.public_key), "--governance-file",
                   str(allowing), "--json") == 0
    assert "allowed by the model governance file" in json.loads(capsys.readouterr().out)["checks"]["segregation"]


def test_approves_by_local_arn_with_a_trusted_signers_file(governed, work, tmp_path):
    trusted = tmp_path / "trusted.yaml"
    trusted.write_text(f"version: 1\nsigners:\n  - name: pipeline\n    public_key_file: {governed.public_key}\n")
    arn = package(work).arn
    assert approve(governed, arn, "--registry", str(work / "registry.db"), "--by", "Jane Doe",
                   "--trusted", str(trusted)) == 0
    assert package(work).approval_status == "Approved"


def refused(capsys, governed, *args: str) -> dict:
    assert approve(governed, *args, "--json") == 1
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    return json.loads(captured.out)


def assert_not_approved_and_recorded(work: Path, who: str, reason: str) -> None:
    assert package(work).approval_status == "PendingManualApproval"
    last = ledger_records(work / "evidence" / "ledger.jsonl")[-1]
    assert (last["event"], last["actor"]) == ("approve", who)
    assert last["details"]["outcome"] == "refused" and last["details"]["reason"] == reason


def test_refuses_a_tampered_artefact(governed, work, capsys):
    model = work / "model" / "model.tar.gz"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    outcome = refused(capsys, governed, str(model), "--by", "Eve Mallory", "--key", str(governed.public_key))
    assert outcome["approved"] is False and outcome["reason"] == "DIGEST_MISMATCH"
    assert_not_approved_and_recorded(work, "Eve Mallory", "DIGEST_MISMATCH")


def test_refuses_an_untrusted_signer(governed, work, tmp_path, capsys):
    _, stranger = write_key_pair(tmp_path / "stranger")
    outcome = refused(capsys, governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe",
                      "--key", str(stranger))
    assert outcome["reason"] in {"SIGNATURE_INVALID", "UNTRUSTED_SIGNER"}
    assert_not_approved_and_recorded(work, "Jane Doe", outcome["reason"])


def rewrite_verdict(governed, work: Path, change) -> None:
    from governance.signing import load_signer
    from governance.verdict import VERDICT_FILE, verdict_statement

    path = work / VERDICT_FILE
    verdict = json.loads(path.read_text())
    change(verdict)
    from governance.jsonio import dumps
    from governance.signing import dsse

    (work / "governance.json.sig").write_bytes(dumps(dsse.sign_statement(verdict_statement(verdict),
                                                                         load_signer(governed.key))))
    path.write_text(json.dumps(verdict))


def test_refuses_when_a_blocking_check_failed(governed, work, capsys):
    def failed(verdict):
        verdict["status"], verdict["passed"], verdict["summary"] = "FAIL", False, "fairness FAIL (FAIRNESS_RED)"

    rewrite_verdict(governed, work, failed)
    outcome = refused(capsys, governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                      str(governed.public_key))
    assert outcome["reason"] == "GOVERNANCE_FAILED" and "FAIRNESS_RED" in outcome["message"]
    assert_not_approved_and_recorded(work, "Jane Doe", "GOVERNANCE_FAILED")


def test_refuses_a_pass_verdict_whose_blocking_checks_were_skipped(governed, work, capsys):
    def skipped_policy(verdict):
        for check in verdict["checks"]:
            if check["name"] == "policy":
                check.update(status="SKIPPED", message="turned off by the caller")

    rewrite_verdict(governed, work, skipped_policy)
    outcome = refused(capsys, governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                      str(governed.public_key))
    assert outcome["reason"] == "CHECKS_NOT_RUN" and "policy SKIPPED" in outcome["message"]
    assert_not_approved_and_recorded(work, "Jane Doe", "CHECKS_NOT_RUN")


def test_refuses_a_verdict_about_another_artefact(governed, work, capsys):
    rewrite_verdict(governed, work, lambda verdict: verdict["artefact"].update(sha256="0" * 64))
    outcome = refused(capsys, governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                      str(governed.public_key))
    assert outcome["reason"] == "DIGEST_MISMATCH"


def test_refuses_an_edited_verdict(governed, work, capsys):
    path = work / "governance.json"
    verdict = json.loads(path.read_text())
    verdict["checks"][0]["message"] = "all good, trust me"
    path.write_text(json.dumps(verdict))
    outcome = refused(capsys, governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                      str(governed.public_key))
    assert outcome["reason"] == "VERDICT_TAMPERED"


def test_refuses_changed_evidence(governed, work, capsys):
    fairness = work / "evidence" / "fairness.json"
    fairness.write_text(fairness.read_text().replace('"verdict": "amber"', '"verdict": "green"', 1) + " ")
    outcome = refused(capsys, governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                      str(governed.public_key))
    assert outcome["reason"] and "fairness.json" in outcome["message"]
    assert package(work).approval_status == "PendingManualApproval"


def test_refuses_a_package_without_a_verdict(governed, work, capsys):
    (work / "governance.json").unlink()
    outcome = refused(capsys, governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                      str(governed.public_key))
    assert outcome["reason"] == "NO_GOVERNANCE_VERDICT"


def test_a_malformed_verdict_is_refused_and_recorded(governed, work, capsys):
    (work / "governance.json").write_text("{not json")
    model = str(work / "model" / "model.tar.gz")
    assert approve(governed, model, "--by", "Jane Doe", "--key", str(governed.public_key)) == 2
    assert "MALFORMED_VERDICT" in capsys.readouterr().err
    assert_not_approved_and_recorded(work, "Jane Doe", "MALFORMED_VERDICT")


def test_an_unreachable_store_is_refused_and_recorded(governed, work, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: the verdict cannot be read
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    code = approve(governed, str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                   str(governed.public_key), "--governance", "s3://unreachable/governance.json")
    assert code == 3 and "ENDPOINT_UNREACHABLE" in capsys.readouterr().err
    assert_not_approved_and_recorded(work, "Jane Doe", "ENDPOINT_UNREACHABLE")


def test_a_decided_package_is_not_decided_again(governed, work, capsys):
    model = str(work / "model" / "model.tar.gz")
    assert approve(governed, model, "--by", "Jane Doe", "--key", str(governed.public_key)) == 0
    capsys.readouterr()
    first = package(work)
    outcome = refused(capsys, governed, model, "--by", "John Roe", "--key", str(governed.public_key),
                      "--reason", "again")
    assert outcome["reason"] == "ALREADY_DECIDED"
    again = package(work)
    assert (again.approval_status, again.approved_by, again.approval_description) == \
        ("Approved", "Jane Doe", first.approval_description)
    last = ledger_records(work / "evidence" / "ledger.jsonl")[-1]
    assert (last["actor"], last["details"]["outcome"], last["details"]["reason"]) == \
        ("John Roe", "refused", "ALREADY_DECIDED")
    registry = LocalRegistry(work / "registry.db")
    rejected = registry.register("other", "m.tar.gz", "0" * 64, {}, approval_status="Rejected")
    outcome = refused(capsys, governed, rejected.arn, "--registry", str(work / "registry.db"), "--by", "Jane Doe",
                      "--key", str(governed.public_key), "--ledger", str(work / "other-ledger.jsonl"))
    assert outcome["reason"] == "ALREADY_DECIDED" and registry.get("other").approval_status == "Rejected"


def test_bad_calls(governed, work, capsys):
    model = str(work / "model" / "model.tar.gz")
    with pytest.raises(SystemExit) as caught:
        approve(governed, model, "--key", str(governed.public_key))  # --by is required
    assert caught.value.code == 2
    assert approve(governed, model, "--by", " J ", "--key", str(governed.public_key)) == 2
    assert "BAD_APPROVER" in capsys.readouterr().err
    assert approve(governed, model, "--by", "Jane Doe") == 2
    assert "NO_TRUST" in capsys.readouterr().err
    assert approve(governed, "local:model-package/quickloan-credit-default/9", "--registry", str(work / "registry.db"),
                   "--by", "Jane Doe", "--key", str(governed.public_key)) == 2
    assert "NOT_FOUND" in capsys.readouterr().err
    assert approve(governed, str(governed.data), "--registry", str(work / "registry.db"), "--by", "Jane Doe", "--key",
                   str(governed.public_key)) == 2
    assert "NOT_REGISTERED" in capsys.readouterr().err
    assert package(work).approval_status == "PendingManualApproval"


# --- SageMaker: registered in moto's model registry, approved with UpdateModelPackage --------------------------------

EXECUTION = "execution-1"


def resolve(node, values: dict):
    """Evaluate a definition expression the way the pipeline service does, from known step outputs."""
    if isinstance(node, list):
        return [resolve(v, values) for v in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Get"}:
        return values[node["Get"]]
    if set(node) == {"Std:Join"}:
        join = node["Std:Join"]
        return join["On"].join(str(resolve(v, values)) for v in join["Values"])
    if set(node) == {"Std:JsonGet"}:
        found = values[node["Std:JsonGet"]["PropertyFile"]["Get"]]
        for part in re.findall(r"[^.\[\]]+", node["Std:JsonGet"]["Path"]):
            found = found[part]
        return found
    return {key: resolve(value, values) for key, value in node.items()}


def upload_folder(s3, folder: Path, uri: str) -> None:
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{path.relative_to(folder).as_posix()}", Body=path.read_bytes())


@pytest.mark.servers
def test_sagemaker_registration_and_approval(aws, governed, tmp_path, capsys):
    pytest.importorskip("sagemaker", reason="needs the [sagemaker] extra: pip install -e '.[sagemaker]'")
    from pipeline.sagemaker.config import PipelineSettings
    from pipeline.sagemaker.definition import pipeline_definition
    from tests.test_sagemaker_govern import container_arguments, container_layout

    settings = PipelineSettings(
        region="us-east-1", role_arn="arn:aws:iam::123456789012:role/quickloan-pipeline",
        bucket="quickloan-artefacts-123456789012", kms_key_id="alias/quickloan-artefacts",
        signing_key_id="alias/quickloan-model-signing",
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/quickloan-governance:0.1.0",
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=settings.bucket, ObjectLockEnabledForBucket=True)
    # As the stack sets it: the S3 ledger follows the bucket's default retention.
    s3.put_object_lock_configuration(Bucket=settings.bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3650}}})
    root = f"{settings.root_uri}/executions/{EXECUTION}"
    artefact = f"{root}/train/pipelines-abc-Train/output/model.tar.gz"
    s3.put_object(Bucket=settings.bucket, Key=artefact.split("/", 3)[3], Body=governed.run.model_path.read_bytes())

    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    job = sagemaker.create_training_job(
        TrainingJobName="pipelines-abc-Train", RoleArn=settings.role_arn,
        AlgorithmSpecification={"TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.2-0",
                                "TrainingInputMode": "File"},
        HyperParameters={"num_round": "40", "objective": "binary:logistic"},
        OutputDataConfig={"S3OutputPath": f"{root}/train"}, StoppingCondition={"MaxRuntimeInSeconds": 3600},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    )["TrainingJobArn"]

    # The govern step as the container runs it, then SageMaker's upload of its outputs at the end of the job.
    # The policy scan runs the artefact policy only: the bucket our storage policies require denies plain HTTP
    # (TLS-only), and moto enforces bucket policies, so a compliant bucket cannot be reached on 127.0.0.1 without
    # TLS. (Skipping the scan instead would make the gate refuse: a skipped check is not a passed one.)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "artefact.yaml").write_bytes((Path(__file__).parents[1] / "policies" / "artefact.yaml").read_bytes())
    local = container_layout(tmp_path / "processing", governed.run)
    arguments = container_arguments(local, governed.key, "--artefact-uri", artefact, "--data-uri", str(governed.data),
                                    "--evidence-uri", f"{root}/govern/evidence",
                                    "--publish-uri", f"{root}/govern/governance", "--training-job", job,
                                    "--policies", str(policies))
    assert main_govern(arguments) == 0
    upload_folder(s3, local / "evidence", f"{root}/govern/evidence")
    upload_folder(s3, local / "governance", f"{root}/govern/governance")
    verdict = json.loads((local / "governance" / "governance.json").read_text())
    assert verdict["status"] == "PASS" and verdict["customer_metadata"]["signature_uri"] == f"{artefact}.sig"
    train = json.loads((local / "evidence" / "provenance" / "train.intoto.json").read_text())
    statement = json.loads(base64.b64decode(train["payload"]))
    parameters = statement["predicate"]["buildDefinition"]["externalParameters"]["parameters"]
    assert parameters["hyperparameters"]["num_round"] == "40"  # read from the training job itself
    assert statement["predicate"]["runDetails"]["metadata"]["invocationId"] == job

    # The Register step's request from the definition, resolved like the service resolves it.
    definition = pipeline_definition(settings)
    gate = next(s for s in definition["Steps"] if s["Name"] == "RegistrationGate")
    register = gate["Arguments"]["IfSteps"][0]["Arguments"]
    values = {
        "Steps.Train.ModelArtifacts.S3ModelArtifacts": artefact,
        "Execution.PipelineExecutionId": EXECUTION,
        "Steps.Govern.PropertyFiles.Governance": verdict,
    }
    request = resolve(register, values)
    sagemaker.create_model_package_group(ModelPackageGroupName=settings.model_package_group)
    arn = sagemaker.create_model_package(**request)["ModelPackageArn"]
    ledger = f"{settings.root_uri}/ledger/"

    # This evidence has no independent validation: refused by the default policy, approved under a policy that
    # does not require one (the rule is the policy's).
    assert main(["approve", arn, "--by", "Jane Doe", "--key", str(governed.public_key), "--ledger", ledger]) == 1
    lenient = tmp_path / "validation.yaml"
    from importlib import resources

    lenient.write_text(resources.files("policies").joinpath("validation.yaml").read_text(encoding="utf-8")
                       .replace("require_validation: true", "require_validation: false"))
    assert main(["approve", arn, "--by", "Jane Doe", "--key", str(governed.public_key), "--ledger", ledger,
                 "--validation-policy", str(lenient)]) == 0
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert "Jane Doe" in described["ApprovalDescription"]
    metadata = described["CustomerMetadataProperties"]
    assert metadata["approved_by"] == "Jane Doe" and metadata["artefact_sha256"] == verdict["artefact"]["sha256"]
    from governance.ledger import verify_ledger

    assert verify_ledger(ledger).passed
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=settings.bucket, Prefix="quickloan/ledger/")["Contents"]]
    assert keys  # the approval is an object under Object Lock in the ledger prefix

    # Evidence changed after the govern step: a second registration of the same run is refused.
    second = sagemaker.create_model_package(**request)["ModelPackageArn"]
    evidence_key = f"{root}/govern/evidence/fairness.json".split("/", 3)[3]
    s3.put_object(Bucket=settings.bucket, Key=evidence_key, Body=b'{"verdict": "green"}')
    capsys.readouterr()
    assert main(["approve", second, "--by", "Jane Doe", "--key", str(governed.public_key), "--ledger", ledger]) == 1
    assert "DIGEST_MISMATCH" in capsys.readouterr().err
    assert sagemaker.describe_model_package(ModelPackageName=second)["ModelApprovalStatus"] == "PendingManualApproval"


def main_govern(arguments: list[str]) -> int:
    from pipeline.steps.govern import main as govern_main

    return govern_main(arguments)


def test_approving_into_a_signed_ledger_without_its_key_is_refused(governed, work, capsys):
    """The evidence ledger's head is signed; an unsigned approval record would break its keyed verification."""
    ledger = work / "evidence" / "ledger.jsonl"
    before = ledger.read_bytes()
    assert main(["approve", str(work / "model" / "model.tar.gz"), "--by", "Jane Doe",
                 "--key", str(governed.public_key)]) == 2
    assert "LEDGER_SIGNED" in capsys.readouterr().err
    assert ledger.read_bytes() == before
    assert package(work).approval_status == "PendingManualApproval"


def test_approver_names_fit_the_sagemaker_metadata_pattern():
    """Defect: `approve --by "O'Brien"` (or "Doe, Jane") broke CustomerMetadataProperties' value pattern after the
    ledger already said approved."""
    from governance.sagemaker_registry import METADATA_VALUE_MAX, metadata_value, metadata_value_allowed

    for name in ("O'Brien", "Doe, Jane", "Zoë (risk) <zoe@example.com>", "x" * 300):
        value = metadata_value(name)
        assert value and all(metadata_value_allowed(c) for c in value) and len(value) <= METADATA_VALUE_MAX
    assert metadata_value("J. Doe") == "J. Doe"


def test_a_sagemaker_approval_never_overrides_a_decision_taken_since_the_package_was_read(aws):
    from governance.errors import CheckFailed
    from governance.sagemaker_registry import describe_package, set_approval

    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_model_package_group(ModelPackageGroupName="quickloan")
    arn = sagemaker.create_model_package(
        ModelPackageGroupName="quickloan", ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"artefact_sha256": "0" * 64},
        InferenceSpecification={"Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1",
                                                "ModelDataUrl": "s3://b/model.tar.gz"}],
                                "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]},
    )["ModelPackageArn"]
    stale = describe_package(arn)
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected",
                                   ApprovalDescription="Rejected by A. Officer")
    with pytest.raises(CheckFailed) as caught:
        set_approval(stale, "Approved", description="Approved by J. Doe", metadata={"approved_by": "J. Doe"},
                     expected_status=stale.approval_status)
    assert caught.value.reason == "STATUS_CHANGED"
    assert describe_package(arn).approval_status == "Rejected"


def test_the_lineage_scan_accepts_the_index_the_validator_re_sealed_and_nothing_else(governed, work):
    """ART-005 (the nightly scan's lineage check) on a validated folder: the index is the validator's, the
    statements the evidence key's; a changed validation fails it."""
    from governance.policy import scan

    def art_005() -> list[str]:
        result = scan([str(work / "model" / "model.tar.gz")], parameters={
            "trusted_signer_keys": [str(governed.public_key)], "evidence_dir": str(work / "evidence")})
        return [f"{f.status} {f.message}" for f in result.findings if f.check.id == "ART-005"]

    assert [line.split()[0] for line in art_005()] == ["PASS"], art_005()
    validation = work / "evidence" / "validation.json"
    validation.write_bytes(validation.read_bytes().replace(b'"status": "PASS"', b'"status": "PASS" '))
    found = art_005()
    assert [line.split()[0] for line in found] == ["FAIL"], found
