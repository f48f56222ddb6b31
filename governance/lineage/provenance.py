"""One signed in-toto Statement v1 with a SLSA Provenance v1 predicate per pipeline step, chained by digest.

Each step's ``subject`` lists the files it produced; each step's ``resolvedDependencies`` lists the files it
consumed (plus its code and the package), so a hop is linked to the one before it when a dependency's digest
equals that step's subject digest::

    process  subject: train.csv, validation.csv, test.csv, profile.json
    train    resolvedDependencies: train.csv, validation.csv          subject: model.tar.gz, training.json
    evaluate resolvedDependencies: model.tar.gz, test.csv             subject: evaluation.json
    register resolvedDependencies: model.tar.gz, evaluation.json      subject: <model package id> = model digest

Each statement is DSSE-signed and stored as ``evidence/provenance/<step>.intoto.json``.

>>> from governance.lineage.record import record_steps
>>> paths = write_provenance(record_steps("run.json"), "evidence", signer)
>>> [path.name for path in paths]
['process.intoto.json', 'train.intoto.json', 'evaluate.intoto.json', 'register.intoto.json']
"""

from __future__ import annotations

import os
from pathlib import Path

from governance.jsonio import dumps
from governance.lineage.record import REGISTER_STEP, StepLineage
from governance.signing import Signer, dsse
from governance.storage import write_bytes_atomic

SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
_NAMESPACE = "https://quickloan-governance.dev"
STEP_BUILD_TYPE = f"{_NAMESPACE}/lineage/pipeline-step/v1"
REGISTRATION_BUILD_TYPE = f"{_NAMESPACE}/lineage/model-registration/v1"
LOCAL_BUILDER = f"{_NAMESPACE}/builders/local-runner/v1"
SAGEMAKER_BUILDER = f"{_NAMESPACE}/builders/sagemaker-pipeline/v1"
BUILD_TYPES = (STEP_BUILD_TYPE, REGISTRATION_BUILD_TYPE)
PROVENANCE_DIR = "provenance"
STATEMENT_SUFFIX = ".intoto.json"
# Roles that describe how a step ran rather than the data it consumed.
NON_DATA_ROLES = {"code", "package"}


def statement_path(step_name: str) -> str:
    return f"{PROVENANCE_DIR}/{step_name}{STATEMENT_SUFFIX}"


def _image_descriptor(image_uri: str) -> dict:
    descriptor: dict = {"name": "container image", "uri": image_uri}
    if "@sha256:" in image_uri:
        descriptor["digest"] = {"sha256": image_uri.rsplit("@sha256:", 1)[1]}
    return descriptor


def _run_details(step: StepLineage) -> dict:
    builder: dict = {"id": SAGEMAKER_BUILDER if step.job_arn or step.image_uri else LOCAL_BUILDER,
                     "version": {"quickloan-governance": step.code.package_version}}
    if step.image_uri:
        builder["builderDependencies"] = [_image_descriptor(step.image_uri)]
    metadata = {"invocationId": step.job_arn or f"local:{step.name}@{step.started_at}",
                "startedOn": step.started_at, "finishedOn": step.finished_at}
    return {"builder": builder, "metadata": {k: v for k, v in metadata.items() if v}}


def step_statement(step: StepLineage) -> dict:
    """The in-toto statement for one producing step (process, train, evaluate)."""
    predicate = {
        "buildDefinition": {
            "buildType": STEP_BUILD_TYPE,
            "externalParameters": {
                "step": step.name,
                "parameters": step.parameters,
                "inputs": {r.role: r.uri for r in step.inputs},
            },
            "internalParameters": {"runtime": step.runtime, "seconds": step.seconds},
            "resolvedDependencies": [r.descriptor() for r in step.inputs] + step.code.descriptors(),
        },
        "runDetails": _run_details(step),
    }
    return dsse.statement([r.descriptor() for r in step.outputs], SLSA_PROVENANCE_V1, predicate)


def registration_statement(step: StepLineage) -> dict:
    """Binds the model package id to the artefact digest it was registered with."""
    model = step.input("model")
    if model is None or not step.model_package:
        from governance.errors import InputError

        raise InputError("BAD_RUN", "the registration step names no model artefact or no model package")
    subject = {"name": step.model_package, "uri": step.model_package, "digest": {"sha256": model.sha256},
               "annotations": {"role": "model_package", "artefact": model.uri}}
    predicate = {
        "buildDefinition": {
            "buildType": REGISTRATION_BUILD_TYPE,
            "externalParameters": {"step": step.name, "model_package": step.model_package,
                                   "parameters": step.parameters},
            "internalParameters": {"runtime": step.runtime},
            "resolvedDependencies": [r.descriptor() for r in step.inputs] + step.code.descriptors(),
        },
        "runDetails": _run_details(step),
    }
    return dsse.statement([subject], SLSA_PROVENANCE_V1, predicate)


def statement_for(step: StepLineage) -> dict:
    return registration_statement(step) if step.name == REGISTER_STEP else step_statement(step)


def write_provenance(steps: list[StepLineage], evidence_dir: str | os.PathLike, signer: Signer) -> list[Path]:
    """Sign and write one envelope per step; statements left over from an earlier recording are removed."""
    root = Path(evidence_dir)
    written = []
    for step in steps:
        envelope = dsse.sign_statement(statement_for(step), signer, keyid=signer.key_hint)
        path = root / statement_path(step.name)
        write_bytes_atomic(path, dumps(envelope))
        written.append(path)
    for stale in (root / PROVENANCE_DIR).glob(f"*{STATEMENT_SUFFIX}"):
        if stale not in written:
            stale.unlink()
    return written
