"""Upsert the QuickLoan pipeline in SageMaker, optionally start it, and describe what is there.

It talks to an AWS account, so this is not a doctest (``governance pipeline deploy --start`` does the same)::

    from pipeline.sagemaker.config import load_settings
    result = deploy(load_settings().values, start=True)
    result.pipeline_arn, result.execution_status
    # ('arn:aws:sagemaker:eu-west-1:…:pipeline/QuickLoanCreditDefault', 'Executing')

The model package group is created when missing, so the Register step and ``governance approve`` have a group
to work with, tagged like the pipeline. The definition's sha256 is returned (and tagged on a new pipeline), so a
reviewer can match what runs against the JSON that ``governance pipeline definition`` printed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from governance import __version__
from governance.errors import GovernanceError, Incomplete, InputError
from governance.hashing import sha256_bytes
from governance.jsonio import canonical
from governance.storage import aws_error
from pipeline.sagemaker._sdk import quiet_build
from pipeline.sagemaker.config import PipelineSettings
from pipeline.sagemaker.definition import BuiltPipeline, build_pipeline

DESCRIPTION = "QuickLoan credit-default model with governance built in: process, train, evaluate, govern, register"


@dataclass(frozen=True)
class DeployResult:
    pipeline_arn: str
    pipeline_name: str
    definition_sha256: str
    model_package_group_arn: str
    model_package_group_created: bool
    execution_arn: str | None = None
    execution_status: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def tags(settings: PipelineSettings, definition_sha256: str | None = None) -> list[dict[str, str]]:
    values = {"project": "quickloan", "managed-by": f"quickloan-governance/{__version__}"}
    if definition_sha256:
        values["definition-sha256"] = definition_sha256
    return [{"Key": key, "Value": value} for key, value in values.items()]


def definition_digest(definition: dict) -> str:
    return sha256_bytes(canonical(definition))


def _client(built: BuiltPipeline):
    return built.session.sagemaker_client


def _call(what: str, action):
    """Run one AWS call; botocore's and the SDK's errors become the toolkit's, with what was being done."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except (ClientError, BotoCoreError) as err:
        raise aws_error(err, what) from None
    except GovernanceError:
        raise
    except Exception as err:  # the SDK raises plain exceptions for service errors it wraps
        raise Incomplete("AWS_ERROR", f"{what}: {type(err).__name__}: {str(err).splitlines()[0]}") from None


def ensure_model_package_group(built: BuiltPipeline) -> tuple[str, bool]:
    """``(group ARN, created)``: create the group when it does not exist yet."""
    from botocore.exceptions import ClientError

    settings, client = built.settings, _client(built)
    name = settings.model_package_group
    try:
        return client.describe_model_package_group(ModelPackageGroupName=name)["ModelPackageGroupArn"], False
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code not in {"ValidationException", "ResourceNotFound", "ResourceNotFoundException"}:
            raise aws_error(err, f"model package group {name}") from None
    response = _call(
        f"create model package group {name}",
        lambda: client.create_model_package_group(
            ModelPackageGroupName=name,
            ModelPackageGroupDescription="QuickLoan credit-default models; approval through `governance approve`",
            Tags=tags(settings),
        ),
    )
    return response["ModelPackageGroupArn"], True


def deploy(
    settings: PipelineSettings,
    *,
    start: bool = False,
    parameters: Mapping[str, object] | None = None,
    session=None,
) -> DeployResult:
    """Upsert the pipeline (and its model package group); with ``start`` begin an execution."""
    built = build_pipeline(settings, session)
    definition = built.definition()
    known = [p["Name"] for p in definition["Parameters"]]
    unknown = sorted(set(parameters or {}) - set(known))
    if unknown:
        raise InputError("BAD_PARAMETER", f"unknown pipeline parameter(s) {', '.join(unknown)}; "
                                          f"known: {', '.join(known)}")
    digest = definition_digest(definition)
    group_arn, group_created = ensure_model_package_group(built)
    with quiet_build(settings.region):
        response = _call(
            f"upsert pipeline {settings.pipeline_name}",
            lambda: built.pipeline.upsert(role_arn=settings.role_arn, description=DESCRIPTION,
                                          tags=tags(settings, digest)),
        )
        result = DeployResult(
            pipeline_arn=response["PipelineArn"],
            pipeline_name=settings.pipeline_name,
            definition_sha256=digest,
            model_package_group_arn=group_arn,
            model_package_group_created=group_created,
        )
        if not start:
            return result
        execution = _call(
            f"start pipeline {settings.pipeline_name}",
            lambda: built.pipeline.start(parameters=dict(parameters or {})),
        )
        status = _call(f"describe execution {execution.arn}", execution.describe)["PipelineExecutionStatus"]
    return DeployResult(**{**result.to_dict(), "execution_arn": execution.arn, "execution_status": status})


def describe(settings: PipelineSettings, session=None, *, executions: int = 5) -> dict:
    """The deployed pipeline: ARN, status, its definition's sha256, and the latest executions."""
    from pipeline.sagemaker.definition import make_session

    client = (session or make_session(settings)).sagemaker_client
    name = settings.pipeline_name
    pipeline = _call(f"describe pipeline {name}", lambda: client.describe_pipeline(PipelineName=name))
    listed = _call(
        f"list executions of {name}",
        lambda: client.list_pipeline_executions(PipelineName=name, SortBy="CreationTime", SortOrder="Descending",
                                                MaxResults=executions),
    )
    return {
        "pipeline_arn": pipeline["PipelineArn"],
        "pipeline_name": pipeline["PipelineName"],
        "status": pipeline.get("PipelineStatus"),
        "role_arn": pipeline.get("RoleArn"),
        "definition_sha256": definition_digest(json.loads(pipeline["PipelineDefinition"])),
        "executions": [
            {
                "arn": item["PipelineExecutionArn"],
                "status": item.get("PipelineExecutionStatus"),
                "started": str(item.get("StartTime", "")),
            }
            for item in listed.get("PipelineExecutionSummaries", [])
        ],
    }
