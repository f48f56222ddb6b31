"""Who is acting: the named person or principal every ledger record carries.

In order: the ``--actor`` a command was given, the ``GOVERNANCE_ACTOR`` environment variable, the AWS principal
of the credentials in use (only when credentials are configured), else the operating-system user on this host.
The tool's own name is never an actor: a record must say who ran it.

>>> resolve_actor("Jane Doe (model owner)")
'Jane Doe (model owner)'
"""

from __future__ import annotations

import getpass
import os
import socket

from governance.errors import InputError

ENVIRONMENT = "GOVERNANCE_ACTOR"


def resolve_actor(explicit: str | None = None, *, aws: bool | None = None) -> str:
    """The actor's name. ``aws``: ask STS for the principal (True), never (False), or only when the environment
    names credentials (None: a SageMaker job's instance role is not in the environment, so pass True there)."""
    for candidate in (explicit, os.environ.get(ENVIRONMENT)):
        if candidate is not None:
            name = candidate.strip()
            if len(name) < 2:
                raise InputError("BAD_ACTOR", f"the actor must name a person or principal, got {candidate!r}")
            return name
    principal = _aws_principal(force=bool(aws)) if aws is not False else None
    if principal:
        return principal
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _aws_principal(force: bool = False) -> str | None:
    """The caller's ARN when AWS credentials are configured (or ``force``); ``None`` when STS cannot say."""
    if not force and not any(os.environ.get(name) for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_ROLE_ARN",
                                                               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")):
        return None
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client("sts", config=Config(connect_timeout=3, read_timeout=3, retries={"max_attempts": 1}))
        return str(client.get_caller_identity()["Arn"])
    except (ImportError, BotoCoreError, ClientError, KeyError):
        return None


__all__ = ["ENVIRONMENT", "resolve_actor"]
