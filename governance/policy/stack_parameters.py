"""The policy parameters a deployment already implies, derived in one place for every scan it runs.

A user who deploys the stack names its artefact key, its account and its model-signing key once. The Govern
step's scan and the nightly scheduled scan must judge the same objects the same way, so both take their
parameters from :func:`deployment_parameters` (the nested stack's ``PolicyParameters`` is the same mapping
written in CloudFormation; a test holds the two equal)::

    >>> deployment_parameters(kms_key_arns=["arn:aws:kms:eu-west-1:111122223333:key/k"],
    ...                       account_ids=["111122223333"],
    ...                       signing_keys=["arn:aws:kms:eu-west-1:111122223333:key/s"])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'allowed_kms_keys': ['arn:aws:kms:eu-west-1:111122223333:key/k'], 'trusted_accounts': ['111122223333'],
     'trusted_signer_keys': ['arn:aws:kms:eu-west-1:111122223333:key/s']}

A ``trusted_signer_keys`` entry may be a PEM public key path, a trusted-signers YAML file, or a KMS key ARN
(the collector reads its public key through ``kms:GetPublicKey``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[\w-]+$")
_KMS_REFERENCE = re.compile(r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/_-]+|alias/[\w/_-]+)$")


def is_kms_key_reference(value: str) -> bool:
    """A KMS key ARN, alias ARN or alias name (not a file path)."""
    return bool(_KMS_REFERENCE.match(str(value)))


def is_kms_key_arn(value: str) -> bool:
    return bool(_KMS_KEY_ARN.match(str(value)))


def deployment_parameters(
    *,
    kms_key_arns: Iterable[str] = (),
    account_ids: Iterable[str] = (),
    signing_keys: Iterable[str] = (),
    object_lock_mode: str | None = None,
    retention_days: int | None = None,
) -> dict[str, Any]:
    """Policy parameter overrides for a deployment: only the ones given; lists keep their order, without repeats.

    ``object_lock_mode`` and ``retention_days`` are the bucket's Object Lock default, so the retention checks
    expect what the stack actually set.
    """
    parameters: dict[str, Any] = {}
    for name, values in (("allowed_kms_keys", kms_key_arns), ("trusted_accounts", account_ids),
                         ("trusted_signer_keys", signing_keys)):
        kept = list(dict.fromkeys(str(v) for v in values if v))
        if kept:
            parameters[name] = kept
    if object_lock_mode:
        parameters["object_lock_mode"] = object_lock_mode
    if retention_days:
        parameters["artefact_retention_days"] = int(retention_days)
    return parameters


def resolve_kms_key_arn(key: str, client=None) -> str:
    """The key ARN behind a key id, alias or alias ARN (HeadObject reports the key ARN, never the alias)."""
    if is_kms_key_arn(key):
        return key
    from botocore.exceptions import BotoCoreError, ClientError

    from governance.storage import aws_error

    if client is None:
        import boto3

        region = key.split(":")[3] if key.startswith("arn:") else None
        client = boto3.client("kms", region_name=region)
    try:
        return client.describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    except (ClientError, BotoCoreError) as err:
        raise aws_error(err, f"KMS key {key}") from None


__all__ = ["deployment_parameters", "is_kms_key_arn", "is_kms_key_reference", "resolve_kms_key_arn"]
