"""Rehearse a pipeline definition as SageMaker would run it, before paying for it.

The definition JSON is read, not rebuilt: each step's container entry point runs with exactly the arguments and
environment the definition names; its inputs are downloaded from the S3 URIs the definition names into the
``/opt/ml/processing/...`` folders it names, and its outputs are uploaded back to the S3 URIs it names,
encrypted under the definition's KMS key. The property files and the condition (``Std:JsonGet``, the
comparisons, ``And``/``Or``/``Not``) are evaluated from the definition itself, and the run ends by sending the
Register step's ``CreateModelPackage`` request, or in the Fail step with its message::

    result = rehearse(json.load(open("definition.json")), on_event=print)
    result.outcome, result.model_package_arn           # ("Register", "arn:aws:sagemaker:...:model-package/...")

What cannot run here is substituted, and every substitution is reported (``result.substitutions``):

* the folders under ``/opt/ml`` live under a work folder (the same layout, rooted elsewhere);
* ``python3`` is this interpreter;
* SageMaker's XGBoost training container is replaced by this project's train step (``pipeline.steps.train``),
  given the definition's channels and hyperparameters in the same ``/opt/ml/input`` layout; its
  ``model.tar.gz`` is uploaded where SageMaker would put the job's output, and the training job is recorded
  through ``CreateTrainingJob`` with the definition's request so later steps can describe it;
* a KMS alias in an output's ``KmsKeyId`` is resolved to its key ARN before the upload, as S3 reports it;
* with ``as_role`` (``--as-role``), each processing step runs with temporary credentials of its ``RoleArn``,
  assumed by the caller through STS (SageMaker would assume it itself; the role's trust policy must let the
  caller in), so a permission the role lacks fails the step. ``role_credentials(role_arn, session)`` supplies
  them another way.

Pointed at AWS (``--endpoint-url`` unset), the rehearsal uses the caller's credentials and writes real objects.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from governance.errors import Incomplete, InputError
from governance.storage import aws_error, parse_s3_uri, s3_client

_AWS_ERRORS = (BotoCoreError, ClientError)
OPT_ML = "/opt/ml"
REGISTER, FAIL = "Register", "Fail"
_OUTPUT = re.compile(r"^ProcessingOutputConfig\.Outputs\['(?P<name>[^']+)'\]\.S3Output\.S3Uri$")
_PROPERTY_FILE = re.compile(r"^PropertyFiles\.(?P<name>\w+)$")
_INDEX = re.compile(r"^(?P<key>[^\[]*)\[(?P<index>\d+)\]$")


@dataclass
class RehearsalResult:
    """How the rehearsal ended (``Register`` or ``Fail``), and what it did on the way."""

    outcome: str
    message: str
    execution_id: str
    steps: list[dict] = field(default_factory=list)
    substitutions: list[str] = field(default_factory=list)
    model_package_arn: str | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.outcome == REGISTER else 1

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "message": self.message, "execution_id": self.execution_id,
                "model_package_arn": self.model_package_arn, "steps": self.steps,
                "substitutions": self.substitutions}


class _Rehearsal:
    def __init__(self, definition: dict, parameters: dict[str, Any], workdir: Path, region: str,
                 on_event: Callable[[str], None], pipeline_name: str,
                 role_credentials: Callable[[str, str], dict[str, str]] | None = None) -> None:
        self.definition, self.workdir, self.region, self.say = definition, workdir, region, on_event
        self.role_credentials = role_credentials
        self.parameters = _parameters(definition, parameters)
        self.execution_id = uuid.uuid4().hex[:12]
        account = _account_of(definition)
        self.pipeline_name = pipeline_name
        self.execution = {
            "PipelineExecutionId": self.execution_id,
            "PipelineExecutionArn": f"arn:aws:sagemaker:{region}:{account}:pipeline/{pipeline_name.lower()}/"
                                    f"execution/{self.execution_id}",
            "PipelineName": pipeline_name,
        }
        self.resolved: dict[str, dict] = {}  # step name -> its resolved Arguments (+ what ran)
        self.substitutions: list[str] = []
        self.steps: list[dict] = []
        self._s3 = s3_client()
        self._clients: dict[str, Any] = {}

    # --- AWS ----------------------------------------------------------------------------------------------------

    def client(self, service: str):
        if service not in self._clients:
            import boto3

            # A session of its own: boto3's default session keeps the credentials it first found.
            self._clients[service] = boto3.session.Session().client(service, region_name=self.region)
        return self._clients[service]

    def substitute(self, text: str) -> None:
        if text not in self.substitutions:
            self.substitutions.append(text)
            self.say(f"substituted: {text}")

    # --- expressions --------------------------------------------------------------------------------------------

    def value(self, node: Any) -> Any:
        """Evaluate a definition expression (Get, Std:Join, Std:JsonGet) or walk a structure evaluating each."""
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Get"}:
            return self.get(node["Get"])
        if set(node) == {"Std:Join"}:
            join = node["Std:Join"]
            return str(join["On"]).join(_text(self.value(v)) for v in join["Values"])
        if set(node) == {"Std:JsonGet"}:
            spec = node["Std:JsonGet"]
            return self.json_get(spec["PropertyFile"], spec["Path"])
        return {key: self.value(value) for key, value in node.items()}

    def get(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head == "Parameters":
            if rest not in self.parameters:
                raise InputError("BAD_DEFINITION", f"the definition refers to an undeclared parameter {rest}")
            return self.parameters[rest]
        if head == "Execution":
            if rest not in self.execution:
                raise InputError("BAD_DEFINITION", f"unknown execution variable {rest}")
            return self.execution[rest]
        if head == "Steps":
            step, _, prop = rest.partition(".")
            if step not in self.resolved:
                raise InputError("BAD_DEFINITION", f"{path}: step {step} has not run before it is referred to")
            return self.step_property(step, prop)
        raise InputError("BAD_DEFINITION", f"cannot evaluate the property {path}")

    def step_property(self, step: str, prop: str) -> Any:
        state = self.resolved[step]
        match = _OUTPUT.match(prop)
        if match:
            for output in state["Arguments"]["ProcessingOutputConfig"]["Outputs"]:
                if output["OutputName"] == match["name"]:
                    return output["S3Output"]["S3Uri"]
            raise InputError("BAD_DEFINITION", f"step {step} has no output {match['name']}")
        if prop in ("ModelArtifacts.S3ModelArtifacts", "TrainingJobArn", "TrainingJobName", "ProcessingJobArn"):
            if prop not in state:
                raise InputError("BAD_DEFINITION", f"step {step} has no property {prop}")
            return state[prop]
        if _PROPERTY_FILE.match(prop):
            return {"step": step, "file": _PROPERTY_FILE.match(prop)["name"]}
        raise InputError("BAD_DEFINITION", f"cannot evaluate Steps.{step}.{prop}")

    def json_get(self, property_file: Any, path: str) -> Any:
        reference = self.value(property_file)
        if not isinstance(reference, dict) or "step" not in reference:
            raise InputError("BAD_DEFINITION", "Std:JsonGet names no property file")
        step = reference["step"]
        spec = next((p for p in self.definition_step(step).get("PropertyFiles", [])
                     if p["PropertyFileName"] == reference["file"]), None)
        if spec is None:
            raise InputError("BAD_DEFINITION", f"step {step} declares no property file {reference['file']}")
        uri = self.step_property(step, f"ProcessingOutputConfig.Outputs['{spec['OutputName']}'].S3Output.S3Uri")
        document = json.loads(self.read(f"{uri.rstrip('/')}/{spec['FilePath']}"))
        return _json_path(document, path, f"{reference['file']}:{path}")

    def definition_step(self, name: str) -> dict:
        for step in _all_steps(self.definition["Steps"]):
            if step["Name"] == name:
                return step
        raise InputError("BAD_DEFINITION", f"no step named {name}")

    # --- S3 -----------------------------------------------------------------------------------------------------

    def read(self, uri: str) -> bytes:
        location = parse_s3_uri(uri)
        try:
            return self._s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()
        except _AWS_ERRORS as err:
            raise aws_error(err, uri) from None

    def download(self, uri: str, folder: Path) -> int:
        """S3Prefix semantics: every object under the prefix, placed relative to it (a single object by its name)."""
        location = parse_s3_uri(uri)
        folder.mkdir(parents=True, exist_ok=True)
        count = 0
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.key)
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"]
                    relative = key[len(location.key):].lstrip("/") or key.rsplit("/", 1)[-1]
                    target = (folder / relative).resolve()
                    if not target.is_relative_to(folder.resolve()) or key.endswith("/"):
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self._s3.download_file(location.bucket, key, str(target))
                    count += 1
        except _AWS_ERRORS as err:
            raise aws_error(err, uri) from None
        if not count:
            raise Incomplete("INPUT_MISSING", f"{uri}: no objects to download for this input")
        return count

    def key_arn(self, key: str | None) -> str | None:
        from governance.policy.stack_parameters import is_kms_key_arn, resolve_kms_key_arn

        if not key or is_kms_key_arn(key):
            return key
        arn = resolve_kms_key_arn(key, self.client("kms"))
        self.substitute(f"KmsKeyId {key} resolved to {arn} before uploading (S3 records the key ARN)")
        return arn

    def upload(self, folder: Path, uri: str, kms_key: str | None) -> int:
        location = parse_s3_uri(uri)
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
        count = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = f"{location.key.rstrip('/')}/{path.relative_to(folder).as_posix()}"
            try:
                self._s3.upload_file(str(path), location.bucket, key, ExtraArgs=extra)
            except _AWS_ERRORS as err:
                raise aws_error(err, f"s3://{location.bucket}/{key}") from None
            count += 1
        return count

    # --- steps --------------------------------------------------------------------------------------------------

    def local(self, path: str) -> Path:
        """A container path under /opt/ml, rooted in the work folder."""
        if not path.startswith(OPT_ML + "/"):
            raise InputError("BAD_DEFINITION", f"{path}: a container path outside {OPT_ML}")
        return self.workdir / "opt" / "ml" / path[len(OPT_ML) + 1:]

    def local_argument(self, value: str) -> str:
        if value.startswith(OPT_ML + "/"):
            self.substitute(f"{OPT_ML}/... is {self.workdir / 'opt' / 'ml'}/...")
            return str(self.local(value))
        return value

    def role_environment(self, step: str, role_arn: str | None) -> dict[str, str]:
        """Credentials of the step's role (when asked for), so the job's permissions are the role's."""
        if self.role_credentials is None or not role_arn:
            return {}
        self.substitute("steps run with credentials of their RoleArn, obtained by the caller (SageMaker would "
                        "assume the role itself)")
        return self.role_credentials(role_arn, f"rehearsal-{step}"[:64])

    def assume(self, role_arn: str, session: str) -> dict[str, str]:
        """``--as-role``: STS AssumeRole as the caller (the role's trust policy must allow it)."""
        try:
            credentials = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
        except _AWS_ERRORS as err:
            raise aws_error(err, f"AssumeRole {role_arn} (its trust policy must let you assume it)") from None
        return {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                "AWS_SESSION_TOKEN": credentials["SessionToken"]}

    def run_container(self, step: str, entry: list[str], arguments: list[str], environment: dict[str, str]) -> None:
        command = [*entry, *arguments]
        if command[:1] == ["python3"]:
            self.substitute(f"python3 is {sys.executable}")
            command[0] = sys.executable
        env = {**os.environ, **{k: str(v) for k, v in environment.items()}}
        self.say(f"{step}: {' '.join(command[1:4])} ...")
        done = subprocess.run(command, cwd=self.workdir, env=env, capture_output=True, text=True, check=False)
        log = self.workdir / "logs" / f"{step}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(done.stdout + done.stderr, encoding="utf-8")
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise Incomplete("STEP_FAILED", f"step {step} exited {done.returncode}: {tail} (log: {log})")

    def processing(self, step: dict) -> None:
        name = step["Name"]
        arguments = self.value(step["Arguments"])
        for item in arguments.get("ProcessingInputs", []):
            source = item["S3Input"]
            self.download(source["S3Uri"], self.local(source["LocalPath"]))
        app = arguments["AppSpecification"]
        argv = [self.local_argument(_text(a)) for a in app.get("ContainerArguments", [])]
        outputs = arguments.get("ProcessingOutputConfig", {})
        for item in outputs.get("Outputs", []):
            self.local(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        environment = {**arguments.get("Environment", {}), **self.role_environment(name, arguments.get("RoleArn"))}
        self.run_container(name, list(app["ContainerEntrypoint"]), argv, environment)
        kms_key = self.key_arn(outputs.get("KmsKeyId"))
        for item in outputs.get("Outputs", []):
            self.upload(self.local(item["S3Output"]["LocalPath"]), item["S3Output"]["S3Uri"], kms_key)
        self.resolved[name] = {"Arguments": arguments}

    def training(self, step: dict) -> None:
        name = step["Name"]
        arguments = self.value(step["Arguments"])
        image = arguments["AlgorithmSpecification"].get("TrainingImage", "")
        self.substitute(f"training image {image} is replaced by pipeline.steps.train (the project's train step) "
                        "with the definition's channels and hyperparameters")
        channels = {}
        for channel in arguments.get("InputDataConfig", []):
            folder = self.local(f"{OPT_ML}/input/data/{channel['ChannelName']}")
            self.download(channel["DataSource"]["S3DataSource"]["S3Uri"], folder)
            channels[channel["ChannelName"]] = folder
        config = self.local(f"{OPT_ML}/input/config/hyperparameters.json")
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(json.dumps({k: _text(v) for k, v in arguments.get("HyperParameters", {}).items()}))
        model_dir = self.local(f"{OPT_ML}/model")
        model_dir.mkdir(parents=True, exist_ok=True)
        argv = ["--train", str(channels.get("train", "")), "--model-dir", str(model_dir), "--hyperparameters",
                str(config)]
        if "validation" in channels:
            argv += ["--validation", str(channels["validation"])]
        self.run_container(name, ["python3", "-m", "pipeline.steps.train"], argv, {})
        job_name = f"pipelines-{self.execution_id}-{name}"[:63]
        output = arguments["OutputDataConfig"]
        artefact = f"{output['S3OutputPath'].rstrip('/')}/{job_name}/output/model.tar.gz"
        kms_key = self.key_arn(output.get("KmsKeyId"))
        location = parse_s3_uri(artefact)
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}
        try:
            self._s3.upload_file(str(model_dir / "model.tar.gz"), location.bucket, location.key, ExtraArgs=extra)
        except _AWS_ERRORS as err:
            raise aws_error(err, artefact) from None
        request = {key: value for key, value in arguments.items()
                   if key in ("AlgorithmSpecification", "RoleArn", "HyperParameters", "InputDataConfig",
                              "OutputDataConfig", "ResourceConfig", "StoppingCondition", "EnableNetworkIsolation",
                              "EnableInterContainerTrafficEncryption", "VpcConfig")}
        request["HyperParameters"] = {k: _text(v) for k, v in request.get("HyperParameters", {}).items()}
        try:
            created = self.client("sagemaker").create_training_job(TrainingJobName=job_name, **request)
            job_arn = created["TrainingJobArn"]
        except _AWS_ERRORS as err:
            raise aws_error(err, f"CreateTrainingJob {job_name}") from None
        self.resolved[name] = {"Arguments": arguments, "ModelArtifacts.S3ModelArtifacts": artefact,
                               "TrainingJobArn": job_arn, "TrainingJobName": job_name}

    def condition(self, step: dict) -> bool:
        arguments = step["Arguments"]
        return all(self.holds(c) for c in arguments["Conditions"])

    def holds(self, condition: dict) -> bool:
        kind = condition["Type"]
        if kind == "And":
            return all(self.holds(c) for c in condition["Arguments"]["Conditions"])
        if kind == "Or":
            return any(self.holds(c) for c in condition["Arguments"]["Conditions"])
        if kind == "Not":
            return not self.holds(condition["Arguments"]["Expression"])
        if kind == "In":
            return self.value(condition["QueryValue"]) in [self.value(v) for v in condition["Values"]]
        left, right = self.value(condition["LeftValue"]), self.value(condition["RightValue"])
        comparisons = {
            "Equals": lambda a, b: a == b,
            "GreaterThan": lambda a, b: float(a) > float(b),
            "GreaterThanOrEqualTo": lambda a, b: float(a) >= float(b),
            "LessThan": lambda a, b: float(a) < float(b),
            "LessThanOrEqualTo": lambda a, b: float(a) <= float(b),
        }
        if kind not in comparisons:
            raise InputError("BAD_DEFINITION", f"condition type {kind} is not supported by the rehearsal")
        try:
            return comparisons[kind](left, right)
        except (TypeError, ValueError):
            raise InputError("BAD_DEFINITION", f"{kind}: cannot compare {left!r} with {right!r}") from None

    def register(self, step: dict) -> str:
        request = self.value(step["Arguments"])
        request = {key: value for key, value in request.items() if value not in (None, "None")}
        try:
            return self.client("sagemaker").create_model_package(**request)["ModelPackageArn"]
        except _AWS_ERRORS as err:
            raise aws_error(err, "CreateModelPackage") from None

    def run(self) -> RehearsalResult:
        for step in self.definition["Steps"]:
            ended = self.run_step(step)
            if ended is not None:
                return ended
        return RehearsalResult(REGISTER, "no Register step was reached", self.execution_id, self.steps,
                               self.substitutions)

    def run_step(self, step: dict) -> RehearsalResult | None:
        kind, name = step["Type"], step["Name"]
        self.say(f"step {name} ({kind})")
        if kind == "Processing":
            self.processing(step)
        elif kind == "Training":
            self.training(step)
        elif kind == "Condition":
            met = self.condition(step)
            branch = step["Arguments"]["IfSteps" if met else "ElseSteps"]
            self.steps.append({"name": name, "type": kind, "outcome": "true" if met else "false"})
            for inner in branch:
                ended = self.run_step(inner)
                if ended is not None:
                    return ended
            return None
        elif kind == "Fail":
            message = _text(self.value(step["Arguments"].get("ErrorMessage", "")))
            self.steps.append({"name": name, "type": kind, "outcome": "failed", "message": message})
            return RehearsalResult(FAIL, message, self.execution_id, self.steps, self.substitutions)
        elif kind == "RegisterModel":
            arn = self.register(step)
            self.steps.append({"name": name, "type": kind, "outcome": "registered", "arn": arn})
            return RehearsalResult(REGISTER, f"registered {arn}", self.execution_id, self.steps,
                                   self.substitutions, arn)
        else:
            raise InputError("BAD_DEFINITION", f"step {name}: type {kind} is not supported by the rehearsal")
        self.steps.append({"name": name, "type": kind, "outcome": "succeeded"})
        return None


def _all_steps(steps: list[dict]):
    for step in steps:
        yield step
        arguments = step.get("Arguments", {})
        if step.get("Type") == "Condition":
            yield from _all_steps(arguments.get("IfSteps", []))
            yield from _all_steps(arguments.get("ElseSteps", []))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _json_path(document: Any, path: str, where: str) -> Any:
    value = document
    for part in path.split("."):
        match = _INDEX.match(part)
        key, index = (match["key"], int(match["index"])) if match else (part, None)
        try:
            value = value[key] if key else value
            value = value[index] if index is not None else value
        except (KeyError, IndexError, TypeError):
            raise Incomplete("PROPERTY_MISSING", f"{where}: not found in the property file") from None
    return value


def _parameters(definition: dict, overrides: dict[str, Any]) -> dict[str, Any]:
    declared = {p["Name"]: p for p in definition.get("Parameters", [])}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise InputError("BAD_PARAMETER", f"unknown pipeline parameter(s) {', '.join(unknown)}; "
                                          f"declared: {', '.join(declared)}")
    values = {}
    casts = {"Integer": int, "Float": float, "String": str, "Boolean": lambda v: str(v).lower() == "true"}
    for name, spec in declared.items():
        raw = overrides.get(name, spec.get("DefaultValue"))
        if raw is None:
            raise InputError("BAD_PARAMETER", f"pipeline parameter {name} has no default: give it a value")
        try:
            values[name] = casts.get(spec.get("Type", "String"), str)(raw)
        except ValueError:
            raise InputError("BAD_PARAMETER", f"pipeline parameter {name}={raw!r} is not a {spec['Type']}") from None
    return values


def _account_of(definition: dict) -> str:
    text = json.dumps(definition)
    match = re.search(r"arn:aws[a-z-]*:iam::(\d{12}):role/", text)
    return match.group(1) if match else "000000000000"


def _region_of(definition: dict) -> str | None:
    for step in _all_steps(definition.get("Steps", [])):
        region = step.get("Arguments", {}).get("Environment", {}).get("AWS_DEFAULT_REGION")
        if region:
            return region
    return None


def rehearse(
    definition: dict,
    *,
    parameters: dict[str, Any] | None = None,
    region: str | None = None,
    workdir: str | os.PathLike | None = None,
    pipeline_name: str = "rehearsal",
    as_role: bool = False,
    role_credentials: Callable[[str, str], dict[str, str]] | None = None,
    on_event: Callable[[str], None] = lambda message: None,
) -> RehearsalResult:
    """Run ``definition`` step by step as SageMaker would; see the module docstring for what is substituted."""
    if not isinstance(definition, dict) or not isinstance(definition.get("Steps"), list):
        raise InputError("BAD_DEFINITION", "not a SageMaker pipeline definition (no Steps list)")
    _parameters(definition, parameters or {})  # a bad call is refused before anything is looked up
    region = region or _region_of(definition) or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise InputError("NO_REGION", "no region: the definition names none; set AWS_REGION")
    with tempfile.TemporaryDirectory(prefix="rehearsal-") as scratch:
        root = Path(workdir) if workdir is not None else Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        rehearsal = _Rehearsal(definition, parameters or {}, root, region, on_event, pipeline_name,
                               role_credentials)
        if as_role and role_credentials is None:
            rehearsal.role_credentials = rehearsal.assume
        return rehearsal.run()


__all__ = ["FAIL", "REGISTER", "RehearsalResult", "rehearse"]
