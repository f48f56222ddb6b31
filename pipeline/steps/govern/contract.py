"""The Govern container's contract: where SageMaker puts its inputs and outputs, and the flags it is called with.

The pipeline definition writes a :class:`GovernArgs` with :meth:`GovernArgs.to_argv` (values may be SageMaker
pipeline variables, passed through untouched); the container entry point reads it back with
:meth:`GovernArgs.from_argv`. One list of flags, so the two cannot drift; no SageMaker SDK import::

    >>> args = GovernArgs(kms_key_id="alias/signing", artefact_uri="s3://b/model.tar.gz")
    >>> GovernArgs.from_argv(args.to_argv()) == args
    True
    >>> INPUT_DIRS["model"], GovernArgs().model
    ('/opt/ml/processing/model', '/opt/ml/processing/model/model.tar.gz')
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any

from governance.verdict import CHECKS

PROCESSING = "/opt/ml/processing"
# Processing inputs (name → the folder SageMaker downloads it to) and the file each one holds.
INPUT_DIRS = {name: f"{PROCESSING}/{name}"
              for name in ("model", "train", "validation", "test", "profile", "evaluation")}
INPUT_FILES = {"model": "model.tar.gz", "train": "train.csv", "validation": "validation.csv", "test": "test.csv",
               "profile": "profile.json", "evaluation": "evaluation.json"}
GOVERNANCE_FILE_DIR = f"{PROCESSING}/governance-file"
# Processing outputs (name → the folder SageMaker uploads from).
OUTPUT_DIRS = {"evidence": f"{PROCESSING}/evidence", "governance": f"{PROCESSING}/governance"}


def input_path(name: str) -> str:
    """The file the Govern container reads for input ``name`` (e.g. ``model`` → .../model/model.tar.gz)."""
    return f"{INPUT_DIRS[name]}/{INPUT_FILES[name]}"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass
class GovernArgs:
    """Every flag of ``python -m pipeline.steps.govern``; ``help`` in each field's metadata."""

    model: Any = field(default=input_path("model"), metadata={"help": "the trained model.tar.gz"})
    train: Any = field(default=input_path("train"), metadata={"help": "the train split (for the lineage)"})
    validation: Any = field(default=input_path("validation"), metadata={"help": "the validation split (for the "
                                                                                "lineage)"})
    test: Any = field(default=input_path("test"), metadata={"help": "the untouched test split: fairness and "
                                                                    "explanations are measured on it"})
    profile: Any = field(default=input_path("profile"), metadata={"help": "the process step's dataset profile"})
    evaluation: Any = field(default=input_path("evaluation"), metadata={"help": "the evaluate step's evaluation.json"})
    evidence_dir: Any = field(default=OUTPUT_DIRS["evidence"], metadata={"help": "the evidence folder"})
    out_dir: Any = field(default=OUTPUT_DIRS["governance"], metadata={"help": "the verdict and the audit pack"})
    kms_key_id: Any = field(default=None, metadata={"help": "KMS key (ECC_NIST_P256, SIGN_VERIFY): id, ARN or alias",
                                                    "group": "signer"})
    key: Any = field(default=None, metadata={"help": "local ECDSA P-256 private key PEM", "group": "signer"})
    allowed_kms_key: Any = field(default=None, metadata={"help": "the stack's artefact key (policy allowed_kms_keys)"})
    trusted_account: Any = field(default=None, metadata={"help": "the stack's account (policy trusted_accounts)"})
    object_lock_mode: Any = field(default=None, metadata={"help": "the stack's Object Lock mode (object_lock_mode)"})
    retention_days: Any = field(default=None, metadata={"help": "the stack's default retention in days "
                                                                "(artefact_retention_days)", "type": int})
    artefact_uri: Any = field(default=None, metadata={"help": "the artefact as it will be registered"})
    data_uri: Any = field(default=None, metadata={"help": "the raw data the process step read"})
    evidence_uri: Any = field(default=None, metadata={"help": "where the evidence folder is published"})
    publish_uri: Any = field(default=None, metadata={"help": "where --out-dir is published"})
    auc_threshold: Any = field(default=None, metadata={"help": "the registration AUC gate", "type": float})
    decision_threshold: Any = field(default=None, metadata={"help": "the evaluate step's threshold", "type": float})
    training_job: Any = field(default=None, metadata={"help": "training job ARN"})
    execution: Any = field(default=None, metadata={"help": "pipeline execution ARN"})
    image_uri: Any = field(default=None, metadata={"help": "the image the process, evaluate and govern steps ran"})
    training_image_uri: Any = field(default=None, metadata={"help": "the image the training job ran"})
    policies: Any = field(default=None, metadata={"help": "policy folder (default: the shipped policies)"})
    governance_file: Any = field(default=None, metadata={"help": "model governance YAML for the audit pack"})
    skip: list[str] = field(default_factory=list, metadata={"help": "turn a check off (reported)"})
    strict: bool = field(default=False, metadata={"help": "exit with the verdict's code (default: 0 once written)"})

    def to_argv(self) -> list:
        """The container arguments: every field that is set, as ``--flag value`` (the paths too, so a definition
        shows where each input is read)."""
        argv: list = []
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "skip":
                argv += [item for check in value for item in ("--skip", check)]
            elif spec.name == "strict":
                argv += ["--strict"] if value else []
            elif value is not None:
                argv += [_flag(spec.name), value if not isinstance(value, int | float) else str(value)]
        return argv

    @classmethod
    def from_argv(cls, argv: list[str] | None = None) -> GovernArgs:
        """Parse the container's arguments (exit 2 with a usage line on a bad call, as argparse does)."""
        return cls(**vars(build_parser().parse_args(argv)))


def build_parser() -> argparse.ArgumentParser:
    """The container entry point's flags, one per :class:`GovernArgs` field."""
    parser = argparse.ArgumentParser(prog="pipeline.steps.govern",
                                     description="Govern step: run the governance checks and write the verdict")
    signer = parser.add_mutually_exclusive_group()
    for spec in fields(GovernArgs):
        target = signer if spec.metadata.get("group") == "signer" else parser
        options: dict = {"dest": spec.name, "help": spec.metadata["help"]}
        if spec.name == "skip":
            target.add_argument(_flag(spec.name), action="append", default=[], choices=CHECKS, **options)
        elif spec.name == "strict":
            target.add_argument(_flag(spec.name), action="store_true", **options)
        else:
            target.add_argument(_flag(spec.name), default=spec.default, type=spec.metadata.get("type", str),
                                **options)
    return parser


__all__ = [
    "GOVERNANCE_FILE_DIR",
    "INPUT_DIRS",
    "INPUT_FILES",
    "OUTPUT_DIRS",
    "PROCESSING",
    "GovernArgs",
    "build_parser",
    "input_path",
]
