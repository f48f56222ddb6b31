"""SageMaker model packages seen the way the local registry shows them: artefact, status, governance metadata.

Plain boto3 (no SageMaker SDK import), so ``governance approve`` stays fast::

    package = describe_package("arn:aws:sagemaker:eu-west-1:123456789012:model-package/quickloan-credit-default/3")
    package.artefact_uri, package.customer_metadata["artefact_sha256"]
    set_approval(package, "Approved", description="Approved by J. Doe", expected_status="PendingManualApproval")
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field

from governance.errors import CheckFailed, InputError
from governance.storage import aws_error

PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):model-package/"
    r"(?P<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?P<version>\d+)$"
)


# CustomerMetadataProperties values: letters, separators, numbers and _ . : / = + - @ only, at most 256 characters.
METADATA_VALUE_MAX = 256
_METADATA_PUNCTUATION = set("_.:/=+-@")


def metadata_value_allowed(char: str) -> bool:
    """Whether SageMaker accepts ``char`` in a CustomerMetadataProperties value (``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``)."""
    return unicodedata.category(char)[0] in "LZN" or char in _METADATA_PUNCTUATION


def metadata_value(text: str) -> str:
    """``text`` as SageMaker accepts it: every other character becomes ``-``, cut to 256 characters.

    >>> metadata_value("O'Brien"), metadata_value("Doe, Jane"), metadata_value("Zoë Ørsted")
    ('O-Brien', 'Doe- Jane', 'Zoë Ørsted')

    The exact text stays in the ledger and in the approval description, which take any characters.
    """
    return "".join(c if metadata_value_allowed(c) else "-" for c in str(text))[:METADATA_VALUE_MAX]


def is_package_arn(value: str) -> bool:
    return bool(PACKAGE_ARN.match(value))


@dataclass(frozen=True)
class SageMakerPackage:
    arn: str
    group_name: str
    version: int
    approval_status: str
    artefact_uri: str
    customer_metadata: dict[str, str] = field(default_factory=dict)
    model_metrics: dict = field(default_factory=dict)
    approval_description: str | None = None


def sagemaker_client(region: str | None = None):
    """A SageMaker client; ``AWS_ENDPOINT_URL`` points it at a local server in tests."""
    import boto3

    return boto3.client("sagemaker", region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")


def _region(arn: str) -> str:
    match = PACKAGE_ARN.match(arn)
    if not match:
        raise InputError("BAD_ARN", f"{arn}: not a SageMaker model package version ARN "
                                    "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)")
    return match["region"]


def describe_package(arn: str, client=None) -> SageMakerPackage:
    from botocore.exceptions import BotoCoreError, ClientError

    client = client or sagemaker_client(_region(arn))
    try:
        response = client.describe_model_package(ModelPackageName=arn)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in {"ValidationException", "ResourceNotFound"}:
            raise InputError("NOT_FOUND", f"{arn}: no such model package") from None
        raise aws_error(err, arn) from None
    except BotoCoreError as err:
        raise aws_error(err, arn) from None
    containers = response.get("InferenceSpecification", {}).get("Containers", [])
    if len(containers) != 1 or not containers[0].get("ModelDataUrl"):
        raise InputError("BAD_PACKAGE", f"{arn}: expected one inference container with a ModelDataUrl")
    return SageMakerPackage(
        arn=response["ModelPackageArn"],
        group_name=response.get("ModelPackageGroupName", ""),
        version=int(response.get("ModelPackageVersion", 0)),
        approval_status=response.get("ModelApprovalStatus", ""),
        artefact_uri=containers[0]["ModelDataUrl"],
        customer_metadata=dict(response.get("CustomerMetadataProperties", {})),
        model_metrics=response.get("ModelMetrics", {}),
        approval_description=response.get("ApprovalDescription"),
    )


def set_approval(
    package: SageMakerPackage,
    status: str,
    *,
    description: str,
    metadata: dict[str, str] | None = None,
    client=None,
    expected_status: str | None = None,
) -> SageMakerPackage:
    """UpdateModelPackage: the new status, a description, and metadata merged into the existing properties.

    The whole merged set is sent, so the outcome is the same whether the service merges or replaces.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    client = client or sagemaker_client(_region(package.arn))
    # UpdateModelPackage has no condition: read the package as it is now, refuse if it was decided since
    # ``package`` was read, and merge onto its current metadata (the window left is one request long).
    current = describe_package(package.arn, client)
    if expected_status is not None and current.approval_status != expected_status:
        raise CheckFailed("STATUS_CHANGED", f"{package.arn} is {current.approval_status} now, not {expected_status}: "
                                            "it was decided in the meantime")
    merged = {**current.customer_metadata, **{key: metadata_value(value) for key, value in (metadata or {}).items()}}
    try:
        client.update_model_package(
            ModelPackageArn=package.arn,
            ModelApprovalStatus=status,
            ApprovalDescription=description[:1024],
            CustomerMetadataProperties=merged,
        )
    except (ClientError, BotoCoreError) as err:
        raise aws_error(err, f"update {package.arn}") from None
    return describe_package(package.arn, client)
