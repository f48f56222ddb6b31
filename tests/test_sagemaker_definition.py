"""The SageMaker pipeline definition, built offline: step graph, parameters, the gate, encryption, govern inputs."""

from __future__ import annotations

import json

import pytest

from governance.signing.signer import LocalKeySigner, generate_private_key
from pipeline.sagemaker.config import PipelineSettings
from pipeline.steps import train as train_step

SAGEMAKER_SDK = pytest.importorskip("sagemaker", reason="needs the [sagemaker] extra: pip install -e '.[sagemaker]'")

SETTINGS = PipelineSettings(
    region="eu-west-1",
    role_arn="arn:aws:iam::111122223333:role/quickloan-pipeline",
    bucket="quickloan-artefacts-111122223333",
    kms_key_id="arn:aws:kms:eu-west-1:111122223333:key/0f5c8a52-8a3c-4d55-9a8e-2a9a3c0e1b11",
    signing_key_id="arn:aws:kms:eu-west-1:111122223333:key/7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
    image_uri="111122223333.dkr.ecr.eu-west-1.amazonaws.com/quickloan-governance:0.1.0",
)
OFFLINE_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
               "AWS_REGION", "AWS_DEFAULT_REGION")


def offline_definition(settings: PipelineSettings) -> dict:
    """Built with no credentials, no endpoint and no region in the environment: nothing can reach AWS."""
    from pipeline.sagemaker.definition import pipeline_definition

    with pytest.MonkeyPatch.context() as patch:
        for name in OFFLINE_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        return pipeline_definition(settings)


@pytest.fixture(scope="module")
def definition() -> dict:
    return offline_definition(SETTINGS)


def steps_by_name(definition: dict) -> dict[str, dict]:
    found = {}

    def walk(steps):
        for step in steps:
            found[step["Name"]] = step
            walk(step.get("Arguments", {}).get("IfSteps", []))
            walk(step.get("Arguments", {}).get("ElseSteps", []))

    walk(definition["Steps"])
    return found


def references(node) -> set[str]:
    """Every ``{"Get": ...}`` expression under ``node``."""
    found = set()
    if isinstance(node, dict):
        if set(node) == {"Get"}:
            found.add(node["Get"])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def test_step_graph(definition):
    steps = steps_by_name(definition)
    assert [s["Name"] for s in definition["Steps"]] == ["Process", "Train", "Evaluate", "Govern", "RegistrationGate"]
    assert {name: step["Type"] for name, step in steps.items()} == {
        "Process": "Processing", "Train": "Training", "Evaluate": "Processing", "Govern": "Processing",
        "RegistrationGate": "Condition", "Register": "RegisterModel", "RegistrationRefused": "Fail",
    }
    train = references(steps["Train"]["Arguments"]["InputDataConfig"])
    assert train == {"Steps.Process.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri",
                     "Steps.Process.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri"}
    evaluate = references(steps["Evaluate"]["Arguments"]["ProcessingInputs"])
    assert "Steps.Train.ModelArtifacts.S3ModelArtifacts" in evaluate
    # Evaluate scores the untouched test split; training gets the monotone age constraint.
    assert "Steps.Process.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri" in evaluate
    assert "Steps.Process.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri" not in evaluate
    assert steps["Train"]["Arguments"]["HyperParameters"]["monotone_constraints"] == "(0,-1,0,0,0,0,0,0,0,0)"
    gate = steps["RegistrationGate"]["Arguments"]
    assert [s["Name"] for s in gate["IfSteps"]] == ["Register"]
    assert [s["Name"] for s in gate["ElseSteps"]] == ["RegistrationRefused"]
    # Our own step modules run in our image; training runs SageMaker's XGBoost container.
    for name, module in (("Process", "process"), ("Evaluate", "evaluate"), ("Govern", "govern")):
        app = steps[name]["Arguments"]["AppSpecification"]
        assert app["ContainerEntrypoint"] == ["python3", "-m", f"pipeline.steps.{module}"]
        assert app["ImageUri"] == SETTINGS.image_uri


def test_training_image_matches_the_local_xgboost(definition):
    import xgboost

    major, minor = xgboost.__version__.split(".")[:2]
    steps = steps_by_name(definition)
    training_image = steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
    assert training_image.endswith(f"/sagemaker-xgboost:{major}.{minor}-0")
    assert ".eu-west-1." in training_image
    serving = steps["Register"]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert serving["Image"] == training_image
    assert serving["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


def test_parameters(definition):
    parameters = {p["Name"]: (p["Type"], p["DefaultValue"]) for p in definition["Parameters"]}
    assert parameters["AucThreshold"] == ("Float", 0.75)
    assert parameters["InputData"] == ("String", f"s3://{SETTINGS.bucket}/quickloan/data/")
    assert parameters["DecisionThreshold"] == ("Float", 0.2)
    assert parameters["SplitSeed"] == ("Integer", 42)
    defaults = train_step.DEFAULT_HYPERPARAMETERS
    assert parameters["NumRound"] == ("Integer", defaults["num_round"])
    assert parameters["MaxDepth"] == ("Integer", defaults["max_depth"])
    assert parameters["Eta"] == ("Float", defaults["eta"])
    hyper = steps_by_name(definition)["Train"]["Arguments"]["HyperParameters"]
    assert hyper["objective"] == "binary:logistic" and hyper["seed"] == str(defaults["seed"])
    assert references(hyper["num_round"]) == {"Parameters.NumRound"}
    # Every parameter is used somewhere: none is decoration.
    used = references(definition["Steps"])
    assert {f"Parameters.{name}" for name in parameters} <= used


def test_condition_has_both_terms(definition):
    conditions = steps_by_name(definition)["RegistrationGate"]["Arguments"]["Conditions"]
    assert len(conditions) == 2
    auc, verdict = conditions
    assert auc["Type"] == "GreaterThanOrEqualTo"
    assert auc["LeftValue"]["Std:JsonGet"] == {"PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
                                              "Path": "binary_classification_metrics.auc.value"}
    assert auc["RightValue"] == {"Get": "Parameters.AucThreshold"}
    assert verdict["Type"] == "Equals"
    assert verdict["LeftValue"]["Std:JsonGet"] == {"PropertyFile": {"Get": "Steps.Govern.PropertyFiles.Governance"},
                                                  "Path": "status"}
    assert verdict["RightValue"] == "PASS"
    message = json.dumps(steps_by_name(definition)["RegistrationRefused"]["Arguments"]["ErrorMessage"])
    assert "binary_classification_metrics.auc.value" in message and '"Path": "summary"' in message


def test_encryption_and_isolation(definition):
    steps = steps_by_name(definition)
    for name in ("Process", "Evaluate", "Govern"):
        arguments = steps[name]["Arguments"]
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == SETTINGS.kms_key_id
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == SETTINGS.kms_key_id
        assert arguments["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
        assert arguments["RoleArn"] == SETTINGS.role_arn
        assert arguments["StoppingCondition"]["MaxRuntimeInSeconds"] > 0
    assert steps["Process"]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert steps["Evaluate"]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is True
    # Govern signs through KMS and scans S3/SageMaker: it needs the network.
    assert steps["Govern"]["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is False
    train = steps["Train"]["Arguments"]
    assert train["OutputDataConfig"]["KmsKeyId"] == SETTINGS.kms_key_id
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == SETTINGS.kms_key_id
    assert train["EnableNetworkIsolation"] is True and train["EnableInterContainerTrafficEncryption"] is True
    assert train["RoleArn"] == SETTINGS.role_arn
    # Every output lands under the configured prefix, per execution.
    outputs = [o["S3Output"]["S3Uri"] for n in ("Process", "Evaluate", "Govern")
               for o in steps[n]["Arguments"]["ProcessingOutputConfig"]["Outputs"]]
    for uri in [*outputs, train["OutputDataConfig"]["S3OutputPath"]]:
        values = uri["Std:Join"]["Values"]
        assert values[0] == f"s3://{SETTINGS.bucket}/quickloan" and {"Get": "Execution.PipelineExecutionId"} in values


def test_govern_step_inputs_and_outputs(definition):
    govern = steps_by_name(definition)["Govern"]
    arguments = govern["Arguments"]
    inputs = {i["InputName"]: (i["S3Input"]["LocalPath"], i["S3Input"]["S3Uri"]) for i in arguments["ProcessingInputs"]}
    assert inputs == {
        "model": ("/opt/ml/processing/model", {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}),
        "train": ("/opt/ml/processing/train",
                  {"Get": "Steps.Process.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}),
        "validation": ("/opt/ml/processing/validation",
                       {"Get": "Steps.Process.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri"}),
        # Fairness and explanations are measured on the untouched test split, as the local runner measures them.
        "test": ("/opt/ml/processing/test",
                 {"Get": "Steps.Process.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"}),
        "profile": ("/opt/ml/processing/profile",
                    {"Get": "Steps.Process.ProcessingOutputConfig.Outputs['profile'].S3Output.S3Uri"}),
        "evaluation": ("/opt/ml/processing/evaluation",
                       {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}),
    }
    outputs = {o["OutputName"]: o["S3Output"]["LocalPath"] for o in arguments["ProcessingOutputConfig"]["Outputs"]}
    assert outputs == {"evidence": "/opt/ml/processing/evidence", "governance": "/opt/ml/processing/governance"}
    assert govern["PropertyFiles"] == [{"PropertyFileName": "Governance", "OutputName": "governance",
                                        "FilePath": "governance.json"}]
    args = arguments["AppSpecification"]["ContainerArguments"]
    flags = {args[i]: args[i + 1] for i in range(0, len(args), 2)}
    assert flags["--kms-key-id"] == SETTINGS.signing_key_id
    assert flags["--artefact-uri"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert flags["--training-job"] == {"Get": "Steps.Train.TrainingJobArn"}
    assert flags["--evidence-uri"] == arguments["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert flags["--test"] == "/opt/ml/processing/test/test.csv"
    # The container entry point knows every flag the definition passes.
    from pipeline.steps.govern import build_parser

    known = {option for action in build_parser()._actions for option in action.option_strings}
    assert set(flags) <= known


def test_register_step_metadata_and_metrics(definition):
    register = steps_by_name(definition)["Register"]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert register["ModelPackageGroupName"] == SETTINGS.model_package_group
    metadata = register["CustomerMetadataProperties"]
    assert set(metadata) == {"artefact_sha256", "signature_uri", "evidence_uri", "audit_pack_uri", "governance_uri"}
    for key, value in metadata.items():
        assert value["Std:JsonGet"] == {"PropertyFile": {"Get": "Steps.Govern.PropertyFiles.Governance"},
                                        "Path": f"customer_metadata.{key}"}
    metrics = register["ModelMetrics"]
    sources = {"evaluation.json": metrics["ModelQuality"]["Statistics"], "fairness.json": metrics["Bias"]["Report"],
               "explain.json": metrics["Explainability"]["Report"]}
    for name, source in sources.items():
        assert source["ContentType"] == "application/json"
        assert source["S3Uri"]["Std:Join"]["Values"][-1] == name
        digest = source["ContentDigest"]["Std:JsonGet"]
        assert digest["PropertyFile"] == {"Get": "Steps.Govern.PropertyFiles.Governance"}
        assert digest["Path"].startswith("digests.")


def test_definition_command_offline_and_deterministic(definition, tmp_path, monkeypatch, capsys):
    from governance.cli import main

    for name in OFFLINE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GOVERNANCE_SAGEMAKER_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "definition.json"
    assert main(["pipeline", "definition", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert "example values" in capsys.readouterr().err
    role = steps_by_name(written)["Train"]["Arguments"]["RoleArn"]
    assert role == "arn:aws:iam::123456789012:role/quickloan-pipeline"

    import yaml

    config = tmp_path / "sagemaker.yaml"
    config.write_text(yaml.safe_dump(SETTINGS.model_dump(mode="json")), encoding="utf-8")
    assert main(["pipeline", "definition"]) == 0  # ./sagemaker.yaml is picked up
    captured = capsys.readouterr()
    assert "example values" not in captured.err
    # The same settings give the same definition, byte for byte once serialised.
    assert json.dumps(json.loads(captured.out), sort_keys=True) == json.dumps(definition, sort_keys=True)


def test_definition_command_bad_settings(tmp_path, capsys):
    from governance.cli import main

    config = tmp_path / "s.yaml"
    config.write_text("role_arn: not-an-arn\n", encoding="utf-8")
    assert main(["pipeline", "definition", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("governance pipeline: BAD_CONFIG:") and "role_arn" in err and len(err.splitlines()) == 1


# --- day-one defects: each test fails on the definition as it was before its fix --------------------------------------

def test_govern_scans_with_the_deployments_own_key_and_account(definition):
    """Defect: the Govern step passed no allowed KMS key, so ENC-S3-001/003 failed on objects encrypted with the
    stack's own key and every run ended in the Fail step."""
    args = steps_by_name(definition)["Govern"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    flags = {args[i]: args[i + 1] for i in range(0, len(args), 2)}
    assert flags["--allowed-kms-key"] == SETTINGS.kms_key_id
    assert flags["--trusted-account"] == SETTINGS.account


def test_govern_judges_object_lock_by_the_stacks_settings(tmp_path, monkeypatch):
    """Defect: the Govern step's scan took object_lock_mode and artefact_retention_days from the policy defaults, so
    on a stack deployed with COMPLIANCE (or another period) it judged the bucket by what the stack did not set,
    while the nightly scan used the stack's values. The settings → definition → container → scan parameters path
    now gives the Govern scan exactly the nested stack's values for the same stack."""
    from pipeline.infra.deploy import MAIN_TEMPLATE
    from pipeline.steps.govern.checks import GovernChecks, GovernInputs
    from pipeline.steps.govern.container import context_for
    from pipeline.steps.govern.contract import GovernArgs
    from tests.stack_support import load_template, offline_stack

    stack = offline_stack(load_template(MAIN_TEMPLATE), "quickloan", "eu-west-1", ObjectLockMode="COMPLIANCE",
                          ArtefactRetentionDays=2555)
    nested = json.loads(stack.resolve(stack.template["Resources"]["ScanSchedule"]["Properties"]["Parameters"])[
        "PolicyParameters"])
    settings = PipelineSettings(**{**SETTINGS.model_dump(), "object_lock_mode": "COMPLIANCE",
                                   "artefact_retention_days": 2555})
    container = steps_by_name(offline_definition(settings))["Govern"]["Arguments"]["AppSpecification"][
        "ContainerArguments"]
    # The flags with literal values, as the container receives them (pipeline variables left out: no execution).
    argv = [item for i in range(0, len(container), 2) if isinstance(container[i + 1], str)
            for item in container[i:i + 2]]
    monkeypatch.setenv("GOVERNANCE_ACTOR", "pipeline-role")
    context = context_for(GovernArgs.from_argv(argv))
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    signer = LocalKeySigner(generate_private_key())
    inputs = GovernInputs(model, model, model, tmp_path / "evidence", tmp_path / "out", tmp_path / "ledger.jsonl")
    parameters = GovernChecks(inputs, signer, context, None, tmp_path).policy_parameters()
    for name in ("object_lock_mode", "artefact_retention_days"):
        assert parameters[name] == nested[name], name
    assert (parameters["object_lock_mode"], parameters["artefact_retention_days"]) == ("COMPLIANCE", 2555)


def test_registered_container_serves_in_algorithm_mode(definition):
    """Defect: the Register step put SAGEMAKER_PROGRAM="" on the XGBoost container, which then imports a module
    named "" and fails every request."""
    from pipeline.sagemaker.serving import serving_problems

    specification = steps_by_name(definition)["Register"]["Arguments"]["InferenceSpecification"]
    container = dict(specification["Containers"][0], ModelDataUrl="s3://b/k/output/model.tar.gz")  # resolved
    assert "SAGEMAKER_PROGRAM" not in container.get("Environment", {})
    assert "SAGEMAKER_SUBMIT_DIRECTORY" not in container.get("Environment", {})
    assert serving_problems(container, specification) == []


def test_no_experiment_tracking_the_role_cannot_do(definition):
    """Defect: the SDK's default PipelineExperimentConfig creates experiments and trials on every execution,
    which the stack's role is not allowed to do."""
    assert definition.get("PipelineExperimentConfig") is None


def test_input_data_is_the_data_prefix(definition):
    """Defect: the default InputData named one file (cs-training.csv.gz) that a user's upload need not match."""
    parameters = {p["Name"]: p["DefaultValue"] for p in definition["Parameters"]}
    assert parameters["InputData"].endswith("/data/")
