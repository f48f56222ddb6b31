"""The trusted-signers file: rotation (retired keys keep verifying what they signed in time), expiry, revocation,
artefact prefixes, and bad files."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from governance.cli import main
from governance.errors import CheckFailed, InputError
from governance.integrity import TrustPolicy, sign_artefact, verify_artefact
from governance.signing import load_signer, load_verifier
from governance.signing.signer import write_key_pair
from tests.test_integrity_archive import model_tarball

JAN, JUN, DEC = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 6, 12))


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust-keys")
    return {name: write_key_pair(folder / name) for name in ("old", "new", "leaked", "stranger")}


def write_policy(folder: Path, signers: list[dict]) -> Path:
    path = folder / "trusted-signers.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "signers": signers}))
    return path


def signed_artefact(folder: Path, pair, at: datetime, name: str = "model.tar.gz") -> Path:
    artefact = folder / name
    artefact.parent.mkdir(parents=True, exist_ok=True)
    artefact.write_bytes(model_tarball())
    sign_artefact(artefact, load_signer(pair[0]), signed_at=at)
    return artefact


def outcome(artefact, policy, **kwargs) -> str | None:
    try:
        result = verify_artefact(artefact, trusted=policy, **kwargs)
    except CheckFailed as failure:
        return failure.reason
    return f"OK:{result.trusted_as}"


@pytest.fixture
def rotation(tmp_path, pairs):
    # "old" retired at the start of June, "new" valid from then; "leaked" revoked by hint alone.
    return write_policy(tmp_path, [
        {"name": "old", "public_key_file": str(pairs["old"][1]), "not_after": "2026-06-01T00:00:00Z"},
        {"name": "new", "public_key": pairs["new"][1].read_text(), "not_before": datetime(2026, 6, 1, tzinfo=UTC)},
        {"name": "leaked", "key_hint": load_verifier(pairs["leaked"][1]).key_hint, "revoked": True},
    ])


def test_rotation_keeps_old_artefacts_verifying(tmp_path, pairs, rotation):
    signed_before_retirement = signed_artefact(tmp_path / "a", pairs["old"], JAN)
    assert outcome(signed_before_retirement, rotation, at=DEC) == "OK:old"
    signed_after_retirement = signed_artefact(tmp_path / "b", pairs["old"], DEC)
    assert outcome(signed_after_retirement, rotation, at=DEC) == "SIGNER_EXPIRED"
    assert outcome(signed_artefact(tmp_path / "c", pairs["new"], DEC), rotation, at=DEC) == "OK:new"
    # A new key cannot vouch for a signing time before its validity starts.
    assert outcome(signed_artefact(tmp_path / "d", pairs["new"], JAN), rotation, at=DEC) == "SIGNER_EXPIRED"


def test_revoked_and_unknown_signers(tmp_path, pairs, rotation):
    assert outcome(signed_artefact(tmp_path / "a", pairs["leaked"], JAN), rotation, at=JUN) == "SIGNER_REVOKED"
    assert outcome(signed_artefact(tmp_path / "b", pairs["stranger"], JAN), rotation, at=JUN) == "UNTRUSTED_SIGNER"


def test_revocation_wins_over_a_valid_entry_for_the_same_key(tmp_path, pairs):
    policy = write_policy(tmp_path, [
        {"name": "current", "public_key_file": str(pairs["new"][1])},
        {"name": "incident", "public_key_file": str(pairs["new"][1]), "revoked": True},
    ])
    assert outcome(signed_artefact(tmp_path / "a", pairs["new"], JAN), policy, at=JUN) == "SIGNER_REVOKED"


def test_signing_time_in_the_future_is_not_believed(tmp_path, pairs):
    policy = write_policy(tmp_path, [{"name": "new", "public_key_file": str(pairs["new"][1])}])
    assert outcome(signed_artefact(tmp_path / "a", pairs["new"], DEC), policy, at=JAN) == "SIGNER_EXPIRED"


def test_artefact_prefixes(tmp_path, pairs, monkeypatch):
    policy = write_policy(tmp_path, [
        {"name": "prod", "public_key_file": str(pairs["new"][1]), "artefact_prefixes": ["releases/", "s3://models/"]},
    ])
    inside = signed_artefact(tmp_path / "releases" / "v1", pairs["new"], JAN)
    outside = signed_artefact(tmp_path / "scratch", pairs["new"], JAN)
    assert outcome(inside, policy, at=JUN) == "OK:prod"
    assert outcome(outside, policy, at=JUN) == "UNTRUSTED_SIGNER"
    # Relative prefixes are read from the trust file's folder, not from wherever the command runs.
    monkeypatch.chdir(tmp_path / "scratch")
    assert outcome(inside, policy, at=JUN) == "OK:prod"


def test_signature_without_signing_time_is_judged_now(tmp_path, pairs, rotation):
    """OMS tools record no signing time: a retired key's such signature verifies only inside its window."""
    artefact = signed_artefact(tmp_path, pairs["old"], JAN)
    os.unlink(f"{artefact}.manifest.sig")
    assert outcome(artefact, rotation, at=JAN) == "OK:old"
    assert outcome(artefact, rotation, at=DEC) == "SIGNER_EXPIRED"


def test_cli_verify_with_trusted_file(tmp_path, pairs, rotation, capsys):
    artefact = signed_artefact(tmp_path / "a", pairs["new"], datetime.now(UTC))
    assert main(["verify", str(artefact), "--trusted", str(rotation), "--json"]) == 0
    import json

    verdict = json.loads(capsys.readouterr().out)
    assert verdict["signer"]["trusted_as"] == "new"
    stranger = signed_artefact(tmp_path / "b", pairs["stranger"], datetime.now(UTC))
    assert main(["verify", str(stranger), "--trusted", str(rotation), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["reason"] == "UNTRUSTED_SIGNER"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ("signers: [", "not valid YAML"),
        ("signers: {}", "'signers' list"),
        ("signers: [{name: a}]", "give public_key"),
        ("signers: [{name: a, public_key_file: k.pem, colour: red}]", "colour"),
        ("signers: [{name: a, public_key_file: k.pem, not_before: 2027-01-01, not_after: 2026-01-01}]", "earlier"),
        ("signers: [{name: a, key_hint: 'ab'}]", "cannot verify anything"),
        ("version: 2\nsigners: []", "unsupported version"),
    ],
)
def test_malformed_trust_file_is_bad_input(tmp_path, document, problem):
    path = tmp_path / "trusted.yaml"
    path.write_text(document)
    with pytest.raises(InputError) as failure:
        TrustPolicy.load(path)
    assert failure.value.reason == "MALFORMED_TRUST_FILE" and problem in failure.value.message


def test_trust_file_that_is_a_folder_is_bad_input(tmp_path):
    with pytest.raises(InputError) as failure:
        TrustPolicy.load(tmp_path)
    assert failure.value.reason == "NOT_A_FILE"


def test_key_hint_must_match_the_key(tmp_path, pairs):
    policy = write_policy(tmp_path, [{"name": "x", "public_key_file": str(pairs["new"][1]), "key_hint": "ab" * 32}])
    artefact = signed_artefact(tmp_path, pairs["new"], JAN)
    with pytest.raises(InputError):
        verify_artefact(artefact, trusted=policy, at=JUN)


def test_prefixes_match_at_a_path_boundary(tmp_path, pairs):
    """``releases`` covers ``releases/v1`` but not a sibling folder that merely starts with the same letters."""
    policy = write_policy(tmp_path, [
        {"name": "prod", "public_key_file": str(pairs["new"][1]), "artefact_prefixes": ["releases"]},
    ])
    inside = signed_artefact(tmp_path / "releases" / "v1", pairs["new"], JAN)
    sibling = signed_artefact(tmp_path / "releases-untrusted", pairs["new"], JAN)
    assert outcome(inside, policy, at=JUN) == "OK:prod"
    assert outcome(sibling, policy, at=JUN) == "UNTRUSTED_SIGNER"
