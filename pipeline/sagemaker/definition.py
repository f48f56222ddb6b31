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
from dataclasses import dataclass
from typing import Any

from pipeline.sagemaker._sdk import quiet_build, sdk
from pipeline.sagemaker.config import PipelineSettings
from pipeline.steps import evaluate as evaluate_step
from pipeline.steps import process as process_step
from pipeline.steps import train as train_step

PROCESSING = "/opt/ml/processing"
MAX_RUNTIME_SECONDS = {"process": 3600, "train": 7200, "evaluate": 3600, "govern": 7200}
# The verdict keys the Register step reads from governance.json (pipeline.steps.govern writes them).
CUSTOMER_METADATA_KEYS = ("artefact_sha256", "signature_uri", "evidence_uri", "audit_pack_uri", "governance_uri")
PASS = "PASS"
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
FIXED_HYPERPARAMETERS = ("objective", "eval_metric", "tree_method", "seed", "nthread")


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


def _build(settings: PipelineSettings, session) -> BuiltPipeline:
    s = sdk()
    xgboost_image = s.image_uris.retrieve("xgboost", region=settings.region, version=settings.xgboost_version)
    xgboost_inference_image = s.image_uris.retrieve(
        "xgboost", region=settings.region, version=settings.xgboost_version, image_scope="inference"
    )

    input_data = s.ParameterString("InputData", default_value=settings.default_input_data_uri)
    auc_threshold = s.ParameterFloat("AucThreshold", default_value=0.75)
    decision_threshold = s.ParameterFloat("DecisionThreshold", default_value=evaluate_step.DEFAULT_THRESHOLD)
    validation_fraction = s.ParameterFloat("ValidationFraction",
                                           default_value=process_step.DEFAULT_VALIDATION_FRACTION)
    seed = s.ParameterInteger("SplitSeed", default_value=process_step.DEFAULT_SEED)
    hyper = {
        key: (s.ParameterInteger if kind is int else s.ParameterFloat)(
            name, default_value=kind(train_step.DEFAULT_HYPERPARAMETERS[key])
        )
        for name, key, kind in HYPERPARAMETERS
    }
    parameters = [input_data, auc_threshold, decision_threshold, validation_fraction, seed, *hyper.values()]

    execution = s.ExecutionVariables.PIPELINE_EXECUTION_ID

    def location(*parts: str):
        """``s3://bucket/prefix/executions/<execution id>/<parts>``: every execution writes to its own place."""
        return s.Join(on="/", values=[settings.root_uri, "executions", execution, *parts])

    network = {
        "subnets": list(settings.subnets) or None,
        "security_group_ids": list(settings.security_group_ids) or None,
    }

    def processor(entry: str, instance_type: str, *, isolated: bool, env: dict | None = None):
        return s.Processor(
            role=settings.role_arn,
            image_uri=settings.image_uri,
            instance_count=1,
            instance_type=instance_type,
            entrypoint=["python3", "-m", entry],
            volume_kms_key=settings.kms_key_id,
            output_kms_key=settings.kms_key_id,
            max_runtime_in_seconds=MAX_RUNTIME_SECONDS[entry.rsplit(".", 1)[-1]],
            base_job_name=f"{settings.pipeline_name}-{entry.rsplit('.', 1)[-1]}".lower(),
            sagemaker_session=session,
            env={"AWS_DEFAULT_REGION": settings.region, "PYTHONUNBUFFERED": "1", **(env or {})},
            network_config=s.NetworkConfig(
                enable_network_isolation=isolated,
                encrypt_inter_container_traffic=True,
                **network,
            ),
        )

    def s3_input(name: str, source, local: str):
        return s.ProcessingInput(
            input_name=name,
            s3_input=s.ProcessingS3Input(s3_uri=source, local_path=local, s3_data_type="S3Prefix",
                                         s3_input_mode="File"),
        )

    def s3_output(name: str, destination, local: str):
        return s.ProcessingOutput(
            output_name=name,
            s3_output=s.ProcessingS3Output(s3_uri=destination, local_path=local, s3_upload_mode="EndOfJob"),
        )

    # Process: validate, impute, split; our own step module in our image.
    process = s.ProcessingStep(
        name="Process",
        description="Validate the raw credit file, impute on the training split, split 80/20 stratified",
        step_args=processor("pipeline.steps.process", settings.processing_instance_type, isolated=True).run(
            inputs=[s3_input("raw", input_data, f"{PROCESSING}/input")],
            outputs=[
                s3_output("train", location("process", "train"), f"{PROCESSING}/train"),
                s3_output("validation", location("process", "validation"), f"{PROCESSING}/validation"),
                s3_output("profile", location("process", "profile"), f"{PROCESSING}/profile"),
            ],
            arguments=[
                "--input", f"{PROCESSING}/input",
                "--train-dir", f"{PROCESSING}/train",
                "--validation-dir", f"{PROCESSING}/validation",
                "--profile-dir", f"{PROCESSING}/profile",
                "--validation-fraction", validation_fraction.to_string(),
                "--seed", seed.to_string(),
            ],
        ),
    )

    def process_output(name: str):
        return process.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    # Train: SageMaker's XGBoost container in algorithm mode, same hyperparameters as the local train step.
    fixed = {key: str(train_step.DEFAULT_HYPERPARAMETERS[key]) for key in FIXED_HYPERPARAMETERS}
    trainer = s.ModelTrainer(
        training_image=xgboost_image,
        role=settings.role_arn,
        sagemaker_session=session,
        base_job_name=f"{settings.pipeline_name}-train".lower(),
        compute=s.Compute(instance_type=settings.training_instance_type, instance_count=1,
                          volume_kms_key_id=settings.kms_key_id),
        networking=s.Networking(enable_network_isolation=True, enable_inter_container_traffic_encryption=True,
                                **network),
        stopping_condition=s.StoppingCondition(max_runtime_in_seconds=MAX_RUNTIME_SECONDS["train"]),
        output_data_config=s.OutputDataConfig(s3_output_path=location("train"), kms_key_id=settings.kms_key_id),
        hyperparameters={**fixed, **{key: parameter.to_string() for key, parameter in hyper.items()}},
    )
    train = s.TrainingStep(
        name="Train",
        description=f"XGBoost binary:logistic in SageMaker's XGBoost {settings.xgboost_version} container",
        step_args=trainer.train(
            input_data_config=[
                s.InputData(channel_name="train", data_source=process_output("train"), content_type="text/csv"),
                s.InputData(channel_name="validation", data_source=process_output("validation"),
                            content_type="text/csv"),
            ]
        ),
    )
    artefact = train.properties.ModelArtifacts.S3ModelArtifacts

    # Evaluate: our evaluate step; evaluation.json is read by the condition through a PropertyFile.
    evaluation_file = s.PropertyFile(name="Evaluation", output_name="evaluation", path="evaluation.json")
    evaluate = s.ProcessingStep(
        name="Evaluate",
        description="Score the validation split: AUC, KS, Brier, calibration (SageMaker model-quality keys)",
        step_args=processor("pipeline.steps.evaluate", settings.processing_instance_type, isolated=True).run(
            inputs=[
                s3_input("model", artefact, f"{PROCESSING}/model"),
                s3_input("validation", process_output("validation"), f"{PROCESSING}/validation"),
            ],
            outputs=[s3_output("evaluation", location("evaluate", "evaluation"), f"{PROCESSING}/evaluation")],
            arguments=[
                "--model", f"{PROCESSING}/model/model.tar.gz",
                "--validation", f"{PROCESSING}/validation/validation.csv",
                "--output-dir", f"{PROCESSING}/evaluation",
                "--threshold", decision_threshold.to_string(),
            ],
        ),
        property_files=[evaluation_file],
    )

    # Govern: sign through KMS, lineage, fairness, SHAP, policy scan, audit pack; writes governance.json.
    evidence_uri = location("govern", "evidence")
    governance_uri = location("govern", "governance")
    governance_file = s.PropertyFile(name="Governance", output_name="governance", path="governance.json")
    govern_inputs = [
        s3_input("model", artefact, f"{PROCESSING}/model"),
        s3_input("train", process_output("train"), f"{PROCESSING}/train"),
        s3_input("validation", process_output("validation"), f"{PROCESSING}/validation"),
        s3_input("profile", process_output("profile"), f"{PROCESSING}/profile"),
        s3_input("evaluation", evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
                 f"{PROCESSING}/evaluation"),
    ]
    govern_arguments = [
        "--model", f"{PROCESSING}/model/model.tar.gz",
        "--train", f"{PROCESSING}/train/train.csv",
        "--validation", f"{PROCESSING}/validation/validation.csv",
        "--profile", f"{PROCESSING}/profile/profile.json",
        "--evaluation", f"{PROCESSING}/evaluation/evaluation.json",
        "--evidence-dir", f"{PROCESSING}/evidence",
        "--out-dir", f"{PROCESSING}/governance",
        "--kms-key-id", settings.signing_key_id,
        "--artefact-uri", artefact,
        "--data-uri", input_data,
        "--evidence-uri", evidence_uri,
        "--publish-uri", governance_uri,
        "--auc-threshold", auc_threshold.to_string(),
        "--decision-threshold", decision_threshold.to_string(),
        "--training-job", train.properties.TrainingJobArn,
        "--image-uri", settings.image_uri,
        "--training-image-uri", xgboost_image,
        "--execution", s.ExecutionVariables.PIPELINE_EXECUTION_ARN,
    ]
    if settings.governance_file_uri:
        govern_inputs.append(s3_input("governance-file", settings.governance_file_uri, f"{PROCESSING}/governance-file"))
        name = settings.governance_file_uri.rsplit("/", 1)[-1]
        govern_arguments += ["--governance-file", f"{PROCESSING}/governance-file/{name}"]
    govern = s.ProcessingStep(
        name="Govern",
        description="Sign (KMS), lineage, fairness, SHAP, policy scan, audit pack: the governance verdict",
        step_args=processor("pipeline.steps.govern", settings.govern_instance_type, isolated=False).run(
            inputs=govern_inputs,
            outputs=[
                s3_output("evidence", evidence_uri, f"{PROCESSING}/evidence"),
                s3_output("governance", governance_uri, f"{PROCESSING}/governance"),
            ],
            arguments=govern_arguments,
        ),
        property_files=[governance_file],
    )

    def verdict(path: str):
        return s.JsonGet(step_name=govern.name, property_file=governance_file, json_path=path)

    auc = s.JsonGet(step_name=evaluate.name, property_file=evaluation_file,
                    json_path="binary_classification_metrics.auc.value")

    def evidence_file(name: str):
        return s.Join(on="/", values=[evidence_uri, name])

    def metrics_source(name: str, digest_key: str):
        return s.MetricsSource(content_type="application/json", s3_uri=evidence_file(name),
                               content_digest=verdict(f"digests.{digest_key}"))

    builder = s.ModelBuilder(
        s3_model_data_url=artefact,
        image_uri=xgboost_inference_image,
        role_arn=settings.role_arn,
        sagemaker_session=session,
    )
    register = s.ModelStep(
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
                model_statistics=metrics_source("evaluation.json", "evaluation"),
                bias=metrics_source("fairness.json", "fairness"),
                explainability=metrics_source("explain.json", "explain"),
            ),
            customer_metadata_properties={key: verdict(f"customer_metadata.{key}") for key in CUSTOMER_METADATA_KEYS},
        ),
    )
    refused = s.FailStep(
        name="RegistrationRefused",
        error_message=s.Join(on="", values=[
            "Not registered. AUC ", auc, " (gate ", auc_threshold, "); governance verdict ", verdict("status"),
            ": ", verdict("summary"),
        ]),
    )
    gate = s.ConditionStep(
        name="RegistrationGate",
        description="Register only when the AUC clears the gate and every blocking governance check passed",
        conditions=[
            s.ConditionGreaterThanOrEqualTo(left=auc, right=auc_threshold),
            s.ConditionEquals(left=verdict("status"), right=PASS),
        ],
        if_steps=[register],
        else_steps=[refused],
    )
    pipeline = s.Pipeline(
        name=settings.pipeline_name,
        parameters=parameters,
        steps=[process, train, evaluate, govern, gate],
        sagemaker_session=session,
    )
    return BuiltPipeline(pipeline, session, settings)
