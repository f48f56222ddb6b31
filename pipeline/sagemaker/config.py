"""Where the SageMaker pipeline runs: region, role, bucket, KMS keys, image and instance types.

Settings come from a YAML file and the environment (the environment wins), with one flat list of keys so the
two read the same way: ``role_arn`` in the file is ``GOVERNANCE_SAGEMAKER_ROLE_ARN`` in the environment. The
infrastructure template's stack outputs carry the same names.

>>> settings = load_settings(None, environ={}, require=False)        # offline: example values fill the gaps
>>> settings.missing[:3], settings.values.region
(['region', 'role_arn', 'bucket'], 'eu-west-1')

Deploying refuses to guess: every required value must be set, and each missing one is named with the file key
and the environment variable that would set it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from governance.errors import InputError

ENV_PREFIX = "GOVERNANCE_SAGEMAKER_"
CONFIG_ENV = ENV_PREFIX + "CONFIG"
DEFAULT_CONFIG_FILE = "sagemaker.yaml"
EXAMPLE_ACCOUNT = "123456789012"
EXAMPLE_REGION = "eu-west-1"

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
# Key id, key ARN, alias name or alias ARN: what SageMaker and S3 accept for KmsKeyId.
_KMS_KEY = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[\w/_-]+"
    r"|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[\w-]+|alias/[\w/_-]+))$"
)
_BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_IMAGE = re.compile(r"^[\w.-]+(:\d+)?/[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$")

# Values that must be set before anything is sent to AWS, in the order errors list them.
REQUIRED = ("region", "role_arn", "bucket", "kms_key_id", "signing_key_id", "image_uri")


class PipelineSettings(BaseModel):
    """The validated settings; anything unknown in the file is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str = Field(description="AWS region of the pipeline, bucket and keys")
    role_arn: str = Field(description="IAM role the pipeline and its jobs run as (passed in, never looked up)")
    bucket: str = Field(description="artefact bucket (SSE-KMS, versioned, Object Lock)")
    prefix: str = Field(default="quickloan", description="key prefix for everything the pipeline writes")
    kms_key_id: str = Field(description="customer-managed KMS key for job outputs, volumes and uploaded objects")
    signing_key_id: str = Field(description="KMS key (ECC_NIST_P256, SIGN_VERIFY) the govern step signs with")
    image_uri: str = Field(description="container image holding this package (process, evaluate, govern steps)")
    pipeline_name: str = "QuickLoanCreditDefault"
    model_package_group: str = "quickloan-credit-default"
    input_data_uri: str | None = Field(default=None, description="default raw CSV, or a prefix holding one; a "
                                                                 "pipeline parameter at start")
    governance_file_uri: str | None = Field(default=None, description="model governance YAML for the audit pack")
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        default="GOVERNANCE", description="the bucket's Object Lock mode, as the stack set it (what RET-S3 expect)")
    artefact_retention_days: int = Field(default=3650, ge=1, le=36500,
                                         description="the bucket's default retention in days, as the stack set it")
    processing_instance_type: str = "ml.m5.xlarge"
    training_instance_type: str = "ml.m5.xlarge"
    govern_instance_type: str = "ml.m5.2xlarge"
    inference_instance_type: str = "ml.m5.large"
    subnets: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    xgboost_version: str = "3.2-0"

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region name such as eu-west-1")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str) -> str:
        if not _ROLE_ARN.match(value):
            raise ValueError(f"{value!r} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if value.startswith("s3://") or not _BUCKET.match(value):
            raise ValueError(f"{value!r} is not an S3 bucket name (give the name, not an s3:// URI)")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip("/")
        if not value or not re.match(r"^[\w./-]+$", value):
            raise ValueError(f"{value!r} is not a usable S3 key prefix")
        return value

    @field_validator("kms_key_id", "signing_key_id")
    @classmethod
    def _kms(cls, value: str) -> str:
        if not _KMS_KEY.match(value):
            raise ValueError(f"{value!r} is not a KMS key id, key ARN or alias")
        return value

    @field_validator("image_uri")
    @classmethod
    def _image(cls, value: str) -> str:
        if not _IMAGE.match(value):
            raise ValueError(f"{value!r} is not a container image URI with a tag or digest")
        return value

    @field_validator("pipeline_name", "model_package_group")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} must be 1-63 letters, digits and hyphens")
        return value

    @field_validator("processing_instance_type", "training_instance_type", "govern_instance_type",
                     "inference_instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        if not _INSTANCE.match(value):
            raise ValueError(f"{value!r} is not a SageMaker instance type such as ml.m5.xlarge")
        return value

    @field_validator("input_data_uri", "governance_file_uri")
    @classmethod
    def _s3(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("s3://"):
            raise ValueError(f"{value!r} must be an s3:// URI (the jobs read it from S3)")
        return value

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def root_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def default_input_data_uri(self) -> str:
        """The data prefix: the process step reads the one CSV (plain or .gz) found there, whatever its name."""
        return self.input_data_uri or f"{self.root_uri}/data/"


def example_values(region: str = EXAMPLE_REGION) -> dict[str, str]:
    """Placeholders for an offline definition: recognisable, syntactically valid, never deployable by accident."""
    account = EXAMPLE_ACCOUNT
    return {
        "region": region,
        "role_arn": f"arn:aws:iam::{account}:role/quickloan-pipeline",
        "bucket": f"quickloan-artefacts-{account}",
        "kms_key_id": f"arn:aws:kms:{region}:{account}:alias/quickloan-artefacts",
        "signing_key_id": f"arn:aws:kms:{region}:{account}:alias/quickloan-model-signing",
        "image_uri": f"{account}.dkr.ecr.{region}.amazonaws.com/quickloan-governance:latest",
    }


@dataclass(frozen=True)
class LoadedSettings:
    values: PipelineSettings
    sources: dict[str, str]
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


def _read_file(path: Path) -> dict:
    from governance.yaml_lines import load_value

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("CONFIG_NOT_FOUND", f"{path}: no such settings file") from None
    except (IsADirectoryError, UnicodeDecodeError) as err:
        raise InputError("BAD_CONFIG", f"{path}: not a readable YAML file ({err})") from None
    try:
        data = load_value(text, str(path))  # bounded: alias bombs and deep nesting are refused
    except InputError as err:
        raise InputError("BAD_CONFIG", err.message) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError("BAD_CONFIG", f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def _from_env(environ: Mapping[str, str]) -> dict:
    values: dict = {}
    for key in PipelineSettings.model_fields:
        raw = environ.get(env_name(key))
        if raw is None or raw == "":
            continue
        values[key] = tuple(v.strip() for v in raw.split(",") if v.strip()) if key in _LIST_KEYS else raw
    if "region" not in values:
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            if environ.get(name):
                values["region"] = environ[name]
                break
    return values


_LIST_KEYS = {"subnets", "security_group_ids"}


def load_settings(
    path: str | os.PathLike | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    require: bool = True,
) -> LoadedSettings:
    """Merge the settings file (``path``, else ``$GOVERNANCE_SAGEMAKER_CONFIG``, else ``./sagemaker.yaml`` if present)
    with the environment.

    With ``require=True`` (deploy) a missing required value is an :class:`InputError` naming every gap; with
    ``require=False`` (offline definition) the gaps are filled with :func:`example_values` and listed in ``missing``.
    """
    environ = os.environ if environ is None else environ
    file_values: dict = {}
    source_file: Path | None = None
    if path is not None or environ.get(CONFIG_ENV):
        source_file = Path(path if path is not None else environ[CONFIG_ENV])
        file_values = _read_file(source_file)
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        source_file = Path(DEFAULT_CONFIG_FILE)
        file_values = _read_file(source_file)
    unknown = sorted(set(file_values) - set(PipelineSettings.model_fields))
    if unknown:
        raise InputError("BAD_CONFIG", f"{source_file}: unknown setting(s) {', '.join(unknown)}; "
                                       f"known: {', '.join(PipelineSettings.model_fields)}")
    env_values = _from_env(environ)
    merged = {**file_values, **env_values}
    sources = {key: ("environment" if key in env_values else str(source_file)) for key in merged}
    missing = [key for key in REQUIRED if merged.get(key) in (None, "")]
    if missing and require:
        where = str(source_file or f"a settings file (--config FILE, ${CONFIG_ENV} or ./{DEFAULT_CONFIG_FILE})")
        raise InputError(
            "CONFIG_MISSING",
            f"missing pipeline setting(s) {', '.join(missing)}: set them in {where} "
            f"or as {', '.join('$' + env_name(key) for key in missing)}",
        )
    if missing:
        examples = example_values(str(merged.get("region") or EXAMPLE_REGION))
        merged.update({key: examples[key] for key in missing})
        sources.update({key: "example" for key in missing})
    try:
        settings = PipelineSettings(**merged)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            key = ".".join(str(p) for p in error["loc"])
            problems.append(f"{key} ({sources.get(key, 'default')}): {error['msg'].removeprefix('Value error, ')}")
        raise InputError("BAD_CONFIG", "invalid pipeline setting(s): " + "; ".join(problems)) from None
    return LoadedSettings(settings, sources, missing)
