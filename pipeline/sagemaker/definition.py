"""The QuickLoan pipeline on SageMaker, with governance built in: the definition, built offline.

Process → Train → Evaluate → Govern → Condition (AUC ≥ ``AucThreshold`` *and* the governance verdict is PASS)
→ Register (``PendingManualApproval``) — else a Fail step that says why. Process, Evaluate and Govern run this
package's step modules (``python3 -m pipeline.steps.X``) from one container image; Train runs SageMaker's own
XGBoost container at the version matching the ``xgboost`` we evaluate with.

Building it needs the SageMaker SDK (the ``[sagemaker]`` extra) and settings, so this is not a doctest
(``governance pipeline definition`` prints the same JSON)::

    from pipeline.sagemaker.config import load_settings
    definition = pipeline_definition(load_settings(require=False).values)
    [step["Name"] for step in definition["Steps"]]
    # ['Process', 'Train', 'Evaluate', 'Govern', 'RegistrationGate']

Secure by default, so the toolkit's own policies pass on what it deploys: the customer-managed KMS key encrypts
every job output and volume, traffic between instances is encrypted, Process, Train and Evaluate run with network
isolation (they only read inputs and write outputs), and the role is passed in as an ARN, never looked up. Govern
is the one step that needs the network — it signs through KMS and scans S3 and SageMaker against the policies —
so it runs in the VPC given by ``subnets``/``security_group_ids`` when those are set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from governance.verdict import CUSTOMER_METADATA_KEYS, EVIDENCE_REPORTS, PASS, VERDICT_FILE
from pipeline.sagemaker._sdk import quiet_build, sdk
from pipeline.sagemaker.config import PipelineSettings
from pipeline.steps import evaluate as evaluate_step
from pipeline.steps import process as process_step
from pipeline.steps import train as train_step
from pipeline.steps.govern.contract import (
    GOVERNANCE_FILE_DIR,
    INPUT_DIRS,
    OUTPUT_DIRS,
    PROCESSING,
    GovernArgs,
    input_path,
)

# The untouched test split: written by Process, read by Evaluate and Govern (the Govern container's contract's path).
TEST_DIR = INPUT_DIRS["test"]
MAX_RUNTIME_SECONDS = {"process": 3600, "train": 7200, "evaluate": 3600, "govern": 7200}
STEP_NAMES = ("Process", "Train", "Evaluate", "Govern", "RegistrationGate", "Register", "RegistrationRefused")

# Hyperparameters exposed as pipeline parameters (name, key, type); the rest are fixed for reproducibility.
HYPERPARAMETERS = (
    ("NumRound", "num_round", int),
    ("MaxDepth", "max_depth", int),
    ("Eta", "eta", float),
    ("MinChildWeight", "min_child_weight", float),
    ("Subsample", "subsample", float),
    ("ColsampleBytree", "colsample_bytree", float),
)
FIXED_HYPERPARAMETERS = ("objective", "eval_metric", "tree_method", "seed", "nthread", "monotone_constraints")


@dataclass
class BuiltPipeline:
    """The SDK pipeline object and the session it was built with (deploy upserts it)."""

    pipeline: Any
    session: Any
    settings: PipelineSettings

    def definition(self) -> dict:
        with quiet_build(self.settings.region):
            return json.loads(self.pipeline.definition())


def make_session(settings: PipelineSettings, boto_session=None):
    """A PipelineSession that sends nothing at build time: the bucket is known, the SDK's own config files unused."""
    import boto3

    s = sdk()
    with quiet_build(settings.region):
        boto_session = boto_session or boto3.Session(region_name=settings.region)
        session = s.PipelineSession(boto_session=boto_session, default_bucket=settings.bucket)
    # An empty SDK config keeps a user's ~/.config/sagemaker defaults out of a governed definition (and spares a
    # JSON-schema validation of that config on every lookup, which made a build take seconds).
    session.sagemaker_config = {}
    session._default_bucket = settings.bucket  # else the SDK sends HeadBucket/CreateBucket on first use
    return session


def build_pipeline(settings: PipelineSettings, session=None) -> BuiltPipeline:
    """Build the SDK pipeline object; nothing is sent to AWS."""
    with quiet_build(settings.region):
        return _build(settings, session or make_session(settings))


def pipeline_definition(settings: PipelineSettings, session=None) -> dict:
    """The pipeline definition JSON (as a dict), built offline."""
    return build_pipeline(settings, session).definition()


@dataclass
class _Build:
    """What every step builder shares: the SDK, the settings, the session and the pipeline parameters."""

    s: Any
    settings: PipelineSettings
    session: Any
    parameters: dict[str, Any] = field(default_factory=dict)
    hyper: dict[str, Any] = field(default_factory=dict)

    @property
    def execution(self):
        return self.s.ExecutionVariables.PIPELINE_EXECUTION_ID

    def location(self, *parts: str):
        """``s3://bucket/prefix/executions/<execution id>/<parts>``: every execution writes to its own place."""
        return self.s.Join(on="/", values=[self.settings.root_uri, "executions", self.execution, *parts])

    def network(self) -> dict:
        return {"subnets": list(self.settings.subnets) or None,
                "security_group_ids": list(self.settings.security_group_ids) or None}

    def processor(self, entry: str, instance_type: str, *, isolated: bool):
        s, settings, step = self.s, self.settings, entry.rsplit(".", 1)[-1]
        return s.Processor(
            role=settings.role_arn,
            image_uri=settings.image_uri,
            instance_count=1,
            instance_type=instance_type,
            entrypoint=["python3", "-m", entry],
            volume_kms_key=settings.kms_key_id,
            output_kms_key=settings.kms_key_id,
            max_runtime_in_seconds=MAX_RUNTIME_SECONDS[step],
            base_job_name=f"{settings.pipeline_name}-{step}".lower(),
            sagemaker_session=self.session,
            env={"AWS_DEFAULT_REGION": settings.region, "PYTHONUNBUFFERED": "1"},
            network_config=s.NetworkConfig(enable_network_isolation=isolated, encrypt_inter_container_traffic=True,
                                           **self.network()),
        )

    def s3_input(self, name: str, source, local: str):
        return self.s.ProcessingInput(
            input_name=name,
            s3_input=self.s.ProcessingS3Input(s3_uri=source, local_path=local, s3_data_type="S3Prefix",
                                              s3_input_mode="File"),
        )

    def s3_output(self, name: str, destination, local: str):
        return self.s.ProcessingOutput(
            output_name=name,
            s3_output=self.s.ProcessingS3Output(s3_uri=destination, local_path=local, s3_upload_mode="EndOfJob"),
        )


def _parameters(b: _Build) -> list:
    s, settings = b.s, b.settings
    b.parameters = {
        "input_data": s.ParameterString("InputData", default_value=settings.default_input_data_uri),
        "auc_threshold": s.ParameterFloat("AucThreshold", default_value=0.75),
        "decision_threshold": s.ParameterFloat("DecisionThreshold", default_value=evaluate_step.DEFAULT_THRESHOLD),
        "validation_fraction": s.ParameterFloat("ValidationFraction",
                                                default_value=process_step.DEFAULT_VALIDATION_FRACTION),
        "seed": s.ParameterInteger("SplitSeed", default_value=process_step.DEFAULT_SEED),
    }
    b.hyper = {
        key: (s.ParameterInteger if kind is int else s.ParameterFloat)(
            name, default_value=kind(train_step.DEFAULT_HYPERPARAMETERS[key])
        )
        for name, key, kind in HYPERPARAMETERS
    }
    return [*b.parameters.values(), *b.hyper.values()]


def _process_step(b: _Build):
    """Process: validate, impute, split; our own step module in our image."""
    p = b.parameters
    return b.s.ProcessingStep(
        name="Process",
        description="Validate and remediate the raw credit file, split train/validation/test, impute on train",
        step_args=b.processor("pipeline.steps.process", b.settings.processing_instance_type, isolated=True).run(
            inputs=[b.s3_input("raw", p["input_data"], f"{PROCESSING}/input")],
            outputs=[b.s3_output(name, b.location("process", name), INPUT_DIRS[name])
                     for name in ("train", "validation", "test", "profile")],
            arguments=[
                "--input", f"{PROCESSING}/input",
                "--train-dir", INPUT_DIRS["train"],
                "--validation-dir", INPUT_DIRS["validation"],
                "--test-dir", TEST_DIR,
                "--profile-dir", INPUT_DIRS["profile"],
                "--validation-fraction", p["validation_fraction"].to_string(),
                "--seed", p["seed"].to_string(),
            ],
        ),
    )


def _output_uri(step, name: str):
    return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri


def _train_step(b: _Build, process, xgboost_image: str):
    """Train: SageMaker's XGBoost container in algorithm mode, same hyperparameters as the local train step."""
    s, settings = b.s, b.settings
    fixed = {key: str(train_step.DEFAULT_HYPERPARAMETERS[key]) for key in FIXED_HYPERPARAMETERS}
    trainer = s.ModelTrainer(
        training_image=xgboost_image,
        role=settings.role_arn,
        sagemaker_session=b.session,
        base_job_name=f"{settings.pipeline_name}-train".lower(),
        compute=s.Compute(instance_type=settings.training_instance_type, instance_count=1,
                          volume_kms_key_id=settings.kms_key_id),
        networking=s.Networking(enable_network_isolation=True, enable_inter_container_traffic_encryption=True,
                                **b.network()),
        stopping_condition=s.StoppingCondition(max_runtime_in_seconds=MAX_RUNTIME_SECONDS["train"]),
        output_data_config=s.OutputDataConfig(s3_output_path=b.location("train"), kms_key_id=settings.kms_key_id),
        hyperparameters={**fixed, **{key: parameter.to_string() for key, parameter in b.hyper.items()}},
    )
    return s.TrainingStep(
        name="Train",
        description=f"XGBoost binary:logistic in SageMaker's XGBoost {settings.xgboost_version} container",
        step_args=trainer.train(input_data_config=[
            s.InputData(channel_name=name, data_source=_output_uri(process, name), content_type="text/csv")
            for name in ("train", "validation")
        ]),
    )


def _evaluate_step(b: _Build, process, train):
    """Evaluate: our evaluate step; evaluation.json is read by the condition through a PropertyFile."""
    s = b.s
    evaluation_file = s.PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    step = s.ProcessingStep(
        name="Evaluate",
        description="Score the untouched test split: AUC, KS, Brier, calibration (SageMaker model-quality keys)",
        step_args=b.processor("pipeline.steps.evaluate", b.settings.processing_instance_type, isolated=True).run(
            inputs=[
                b.s3_input("model", train.properties.ModelArtifacts.S3ModelArtifacts, INPUT_DIRS["model"]),
                b.s3_input("test", _output_uri(process, "test"), TEST_DIR),
            ],
            outputs=[b.s3_output("evaluation", b.location("evaluate", "evaluation"), INPUT_DIRS["evaluation"])],
            arguments=[
                "--model", input_path("model"),
                "--test", f"{TEST_DIR}/test.csv",
                "--output-dir", INPUT_DIRS["evaluation"],
                "--threshold", b.parameters["decision_threshold"].to_string(),
            ],
        ),
        property_files=[evaluation_file],
    )
    return step, evaluation_file


def _govern_step(b: _Build, process, train, evaluate, xgboost_image: str):
    """Govern: sign through KMS, lineage, fairness, SHAP, policy scan, audit pack; writes governance.json."""
    s, settings, p = b.s, b.settings, b.parameters
    artefact = train.properties.ModelArtifacts.S3ModelArtifacts
    published = {name: b.location("govern", name) for name in OUTPUT_DIRS}
    sources = {"model": artefact,
               **{name: _output_uri(process, name) for name in ("train", "validation", "test", "profile")},
               "evaluation": _output_uri(evaluate, "evaluation")}
    inputs = [b.s3_input(name, sources[name], INPUT_DIRS[name]) for name in INPUT_DIRS]
    args = GovernArgs(
        kms_key_id=settings.signing_key_id, allowed_kms_key=settings.kms_key_id, trusted_account=settings.account,
        object_lock_mode=settings.object_lock_mode, retention_days=settings.artefact_retention_days,
        artefact_uri=artefact, data_uri=p["input_data"],
        evidence_uri=published["evidence"], publish_uri=published["governance"],
        auc_threshold=p["auc_threshold"].to_string(), decision_threshold=p["decision_threshold"].to_string(),
        training_job=train.properties.TrainingJobArn, image_uri=settings.image_uri,
        training_image_uri=xgboost_image, execution=s.ExecutionVariables.PIPELINE_EXECUTION_ARN,
    )
    if settings.governance_file_uri:
        inputs.append(b.s3_input("governance-file", settings.governance_file_uri, GOVERNANCE_FILE_DIR))
        args.governance_file = f"{GOVERNANCE_FILE_DIR}/{settings.governance_file_uri.rsplit('/', 1)[-1]}"
    verdict_file = s.PropertyFile(name="Governance", output_name="governance", path=VERDICT_FILE)
    step = s.ProcessingStep(
        name="Govern",
        description="Sign (KMS), lineage, fairness, SHAP, policy scan, audit pack: the governance verdict",
        step_args=b.processor("pipeline.steps.govern", settings.govern_instance_type, isolated=False).run(
            inputs=inputs,
            outputs=[b.s3_output(name, published[name], local) for name, local in OUTPUT_DIRS.items()],
            arguments=args.to_argv(),
        ),
        property_files=[verdict_file],
    )
    return step, verdict_file, published["evidence"]


def _register_step(b: _Build, train, verdict, evidence_uri, inference_image: str):
    """Register for manual approval, with the verdict's metadata and the evidence reports' digests."""
    s, settings = b.s, b.settings
    artefact = train.properties.ModelArtifacts.S3ModelArtifacts

    def metrics_source(key: str):
        return s.MetricsSource(content_type="application/json",
                               s3_uri=s.Join(on="/", values=[evidence_uri, EVIDENCE_REPORTS[key]]),
                               content_digest=verdict(f"digests.{key}"))

    builder = s.ModelBuilder(s3_model_data_url=artefact, image_uri=inference_image, role_arn=settings.role_arn,
                             sagemaker_session=b.session)
    _algorithm_mode(builder)
    return s.ModelStep(
        name="Register",
        description="Register for manual approval: `governance approve` verifies before it approves",
        step_args=builder.register(
            model_package_group_name=settings.model_package_group,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=[settings.inference_instance_type],
            transform_instances=[settings.inference_instance_type],
            approval_status="PendingManualApproval",
            model_metrics=s.ModelMetrics(
                model_statistics=metrics_source("evaluation"),
                bias=metrics_source("fairness"),
                explainability=metrics_source("explain"),
            ),
            customer_metadata_properties={key: verdict(f"customer_metadata.{key}") for key in CUSTOMER_METADATA_KEYS},
        ),
    )


def _algorithm_mode(builder) -> None:
    """Serve in the XGBoost container's algorithm mode: no ``SAGEMAKER_PROGRAM``/``SAGEMAKER_SUBMIT_DIRECTORY``.

    The SDK always adds its script-mode variables, empty when there is no user script; the container reads an
    empty ``SAGEMAKER_PROGRAM`` as a user module named "" and every request fails. Absent means algorithm mode.
    """
    script_mode = builder._script_mode_env_vars

    def without_empty() -> dict:
        return {key: value for key, value in script_mode().items() if value not in ("", None)}

    object.__setattr__(builder, "_script_mode_env_vars", without_empty)


def _gate_step(b: _Build, auc, verdict, register):
    """Register only when the AUC clears the gate and the verdict is PASS; else a Fail step that says why."""
    s, auc_threshold = b.s, b.parameters["auc_threshold"]
    refused = s.FailStep(
        name="RegistrationRefused",
        error_message=s.Join(on="", values=[
            "Not registered. AUC ", auc, " (gate ", auc_threshold, "); governance verdict ", verdict("status"),
            ": ", verdict("summary"),
        ]),
    )
    return s.ConditionStep(
        name="RegistrationGate",
        description="Register only when the AUC clears the gate and every blocking governance check passed",
        conditions=[
            s.ConditionGreaterThanOrEqualTo(left=auc, right=auc_threshold),
            s.ConditionEquals(left=verdict("status"), right=PASS),
        ],
        if_steps=[register],
        else_steps=[refused],
    )


def _build(settings: PipelineSettings, session) -> BuiltPipeline:
    s = sdk()
    b = _Build(s, settings, session)
    xgboost_image = s.image_uris.retrieve("xgboost", region=settings.region, version=settings.xgboost_version)
    inference_image = s.image_uris.retrieve("xgboost", region=settings.region, version=settings.xgboost_version,
                                            image_scope="inference")
    parameters = _parameters(b)
    process = _process_step(b)
    train = _train_step(b, process, xgboost_image)
    evaluate, evaluation_file = _evaluate_step(b, process, train)
    govern, verdict_file, evidence_uri = _govern_step(b, process, train, evaluate, xgboost_image)

    def verdict(path: str):
        return s.JsonGet(step_name=govern.name, property_file=verdict_file, json_path=path)

    auc = s.JsonGet(step_name=evaluate.name, property_file=evaluation_file,
                    json_path="binary_classification_metrics.auc.value")
    register = _register_step(b, train, verdict, evidence_uri, inference_image)
    gate = _gate_step(b, auc, verdict, register)
    # No experiment tracking: the default config makes every execution create experiments and trials, which the
    # stack's least-privilege role is not granted (and the ledger and lineage already record each run).
    pipeline = s.Pipeline(name=settings.pipeline_name, parameters=parameters,
                          steps=[process, train, evaluate, govern, gate], sagemaker_session=session,
                          pipeline_experiment_config=None)
    return BuiltPipeline(pipeline, session, settings)
