"""Every ledger record names who acted: ``--actor``, ``GOVERNANCE_ACTOR``, the AWS principal, else user@host."""

from __future__ import annotations

import getpass

import pytest

from governance.actor import resolve_actor
from governance.errors import InputError


def test_explicit_then_environment_then_the_user(monkeypatch):
    monkeypatch.setenv("GOVERNANCE_ACTOR", "Env Person")
    assert resolve_actor("Jane Doe") == "Jane Doe"
    assert resolve_actor(None) == "Env Person"
    monkeypatch.delenv("GOVERNANCE_ACTOR")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    assert resolve_actor(None).startswith(getpass.getuser() + "@")


def test_the_aws_principal_names_the_actor(aws, monkeypatch):
    monkeypatch.delenv("GOVERNANCE_ACTOR", raising=False)
    assert resolve_actor(None).startswith("arn:aws:")


def test_a_blank_actor_is_refused():
    with pytest.raises(InputError, match=r"person or principal"):
        resolve_actor(" ")
