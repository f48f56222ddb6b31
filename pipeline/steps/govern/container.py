"""The Govern step in its SageMaker processing container: read the contract, sign through KMS, run the checks.

    python -m pipeline.steps.govern --kms-key-id alias/quickloan-model-signing \\
        --artefact-uri s3://…/model.tar.gz --evidence-uri s3://…/evidence --publish-uri s3://…/governance

Inputs are under ``/opt/ml/processing/…`` (:mod:`pipeline.steps.govern.contract`). The step exits 0 once the verdict
is written, whatever it says: the pipeline's condition is the gate, and its Fail step quotes the verdict's summary.
``--strict`` exits with the verdict's code instead.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from governance.errors import InputError
from governance.jsonio import read_json
from governance.signing import Signer
from pipeline.steps.govern.checks import GovernContext
from pipeline.steps.govern.contract import GovernArgs
from pipeline.steps.govern.run import govern


def signer_for(args: GovernArgs) -> Signer:
    if args.kms_key_id:
        from governance.signing.kms import KmsSigner

        return KmsSigner(args.kms_key_id)
    if args.key:
        from governance.signing import load_signer

        return load_signer(args.key)
    raise InputError("NO_SIGNER", "give --kms-key-id (in SageMaker) or --key PEM (locally) to sign with")


def dataset_object(uri: str | None) -> str | None:
    """The raw data file behind ``uri``: itself, or the one object under an ``s3://…/`` prefix (as the process
    step reads the one file its input folder holds), so the lineage records the digest of the bytes it read."""
    if not uri or not uri.startswith("s3://") or not uri.endswith("/"):
        return uri
    from botocore.exceptions import BotoCoreError, ClientError

    from governance.storage import aws_error, parse_s3_uri, s3_client

    location = parse_s3_uri(uri)
    try:
        listed = s3_client().list_objects_v2(Bucket=location.bucket, Prefix=location.key, MaxKeys=3)
    except (BotoCoreError, ClientError) as err:
        raise aws_error(err, uri) from None
    keys = [item["Key"] for item in listed.get("Contents", []) if not item["Key"].endswith("/")]
    if len(keys) != 1:
        raise InputError("DATASET_AMBIGUOUS", f"{uri}: expected exactly one data file under the prefix, found "
                                              f"{len(keys)}{'+' if listed.get('IsTruncated') else ''}")
    return f"s3://{location.bucket}/{keys[0]}"


def context_for(args: GovernArgs) -> GovernContext:
    from governance.actor import resolve_actor

    return GovernContext(
        # In SageMaker the job's role is the actor (its ARN from STS); GOVERNANCE_ACTOR overrides it.
        actor=resolve_actor(None, aws=True if args.kms_key_id else None),
        artefact_uri=args.artefact_uri, data_uri=dataset_object(args.data_uri), evidence_uri=args.evidence_uri,
        publish_uri=args.publish_uri, auc_threshold=args.auc_threshold, decision_threshold=args.decision_threshold,
        training_job=args.training_job, execution=args.execution, image_uri=args.image_uri,
        training_image_uri=args.training_image_uri, allowed_kms_key=args.allowed_kms_key,
        trusted_account=args.trusted_account, object_lock_mode=args.object_lock_mode,
        retention_days=args.retention_days,
    )


def container_run(args: GovernArgs, context: GovernContext) -> dict:
    """The pipeline's steps as the lineage recorder reads them, rebuilt from the files this step was given."""
    train, profile = Path(args.train), Path(args.profile)
    if not train.is_file() or not profile.is_file():
        raise InputError("LINEAGE_INPUTS_MISSING", "the train split and the dataset profile are needed to record "
                                                   "the lineage (--train, --profile)")
    split = read_json(profile).get("split", {})
    training = training_job(context.training_job)
    model, validation, test, evaluation = str(args.model), str(args.validation), str(args.test), str(args.evaluation)
    steps = [
        {"name": "process", "module": "pipeline.steps.process",
         "parameters": {"validation_fraction": split.get("validation_fraction"), "seed": split.get("seed")},
         "inputs": {"dataset": context.data_uri} if context.data_uri else {},
         "outputs": {"train": str(train), "validation": validation, "test": test, "profile": str(profile)},
         "image_uri": context.image_uri},
        {"name": "train", "module": "pipeline.steps.train", "parameters": training.get("parameters", {}),
         "inputs": {"train": str(train), "validation": validation}, "outputs": {"model": model},
         "job_arn": context.training_job, "image_uri": context.training_image_uri, **training.get("times", {})},
        {"name": "evaluate", "module": "pipeline.steps.evaluate",
         "parameters": {"decision_threshold": context.decision_threshold},
         "inputs": {"model": model, "test": test}, "outputs": {"evaluation": evaluation},
         "image_uri": context.image_uri},
    ]
    for step in steps:
        for key, empty in (("started_at", ""), ("finished_at", ""), ("seconds", 0.0)):
            step.setdefault(key, empty)
        for key in ("image_uri", "job_arn"):
            if not step.get(key):
                step.pop(key, None)
    return {"steps": steps, "execution": context.execution}


def training_job(arn: str | None) -> dict:
    """Hyperparameters and times of the SageMaker training job, for its provenance; empty when not on SageMaker.

    Only a description is lost if the call fails (the job's ARN and image are recorded either way).
    """
    if not arn or not arn.startswith("arn:"):
        return {}
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        job = boto3.client("sagemaker", region_name=arn.split(":")[3]).describe_training_job(
            TrainingJobName=arn.rsplit("/", 1)[-1])
    except (ClientError, BotoCoreError):
        return {}
    started, finished = job.get("TrainingStartTime"), job.get("TrainingEndTime")
    times = {}
    if started and finished:
        times = {"started_at": started.isoformat(), "finished_at": finished.isoformat(),
                 "seconds": round((finished - started).total_seconds(), 3)}
    return {"parameters": {"hyperparameters": job.get("HyperParameters", {}), "runner": "SageMaker XGBoost algorithm"},
            "times": times}


def training_record(args: GovernArgs, context: GovernContext, into: Path) -> Path | None:
    """``training.json`` for the evidence, from the training job as SageMaker ran it; None off SageMaker.

    The XGBoost algorithm container writes no training record, yet the independent validator retrains with the
    hyperparameters the model was trained with: they are read back from ``DescribeTrainingJob``, coerced as the train
    step coerces them, with the split sizes and digests from the process step's profile.
    """
    job = training_job(context.training_job)
    recorded = job.get("parameters", {}).get("hyperparameters") or {}
    if not recorded:
        return None
    from governance.credit_data import FEATURES
    from governance.hashing import sha256_file
    from governance.jsonio import write_json
    from governance.model_artifact import MODEL_MEMBER
    from pipeline.steps.train import DEFAULT_HYPERPARAMETERS, coerce_hyperparameters

    profile = read_json(args.profile) if Path(args.profile).is_file() else {}
    outputs = profile.get("outputs", {})
    record = {
        "algorithm": "xgboost", "xgboost_version": None, "model_format": "ubj", "member": MODEL_MEMBER,
        "runner": job["parameters"].get("runner"), "training_job": context.training_job,
        "training_image": context.training_image_uri,
        "hyperparameters": coerce_hyperparameters({k: v for k, v in recorded.items() if k in DEFAULT_HYPERPARAMETERS}),
        "features": list(FEATURES),
        "rows": {name: count for name, count in profile.get("rows", {}).items() if name in ("train", "validation")},
        "inputs": {name: outputs[name] for name in ("train", "validation") if name in outputs},
        "model_sha256": sha256_file(args.model),
        **({"started_at": job["times"]["started_at"], "finished_at": job["times"]["finished_at"]}
           if job.get("times") else {}),
    }
    return Path(write_json(into / "training.json", record))


def main(argv: list[str] | None = None) -> int:
    args = GovernArgs.from_argv(argv)
    from pipeline.steps import run_entry_point

    outcome: dict = {}

    def run() -> None:
        context = context_for(args)
        with tempfile.TemporaryDirectory(prefix="govern-training-") as scratch:
            governed(context, training_record(args, context, Path(scratch)))

    def governed(context: GovernContext, training: Path | None) -> None:
        # Fairness and explanations are measured on the untouched test split, as the evaluation is (and locally).
        verdict = govern(
            args.model, args.test, args.evaluation, args.evidence_dir, signer_for(args), out_dir=args.out_dir,
            train=args.train if Path(args.train).is_file() else None,
            profile=args.profile if Path(args.profile).is_file() else None, training_metadata=training,
            run=lambda: container_run(args, context), context=context, key_path=args.key,
            policies_dir=args.policies, governance_file=args.governance_file, skip=args.skip,
            on_check=lambda name: print(f"govern: {name}", file=sys.stderr, flush=True),
        )
        print(f"govern: {verdict.status}: {verdict.summary}", file=sys.stderr, flush=True)
        outcome["verdict"] = verdict

    code = run_entry_point(run)
    if code != 0 or not args.strict:
        return code
    return outcome["verdict"].exit_code


__all__ = ["container_run", "dataset_object", "main", "signer_for", "training_job"]
