"""Local keys: keygen files and permissions, encryption, and verifiers that follow the key's curve."""

from __future__ import annotations

import stat

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from governance.errors import InputError
from governance.signing import dsse, load_signer, load_verifier
from governance.signing.signer import PublicKeyVerifier, key_hint, write_key_pair


def test_keygen_writes_an_owner_only_pair(tmp_path):
    private, public = write_key_pair(tmp_path / "keys")
    assert (private.name, public.name) == ("signing-key.pem", "signing-key.pub.pem")
    for path in (private, public):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    signer, verifier = load_signer(private), load_verifier(public)
    assert signer.key_hint == verifier.key_hint == key_hint(public.read_bytes())
    assert verifier.verify(signer.sign(b"data"), b"data") and not verifier.verify(signer.sign(b"data"), b"date")
    assert "PRIVATE" not in repr(signer) and "BEGIN" not in repr(signer)
    with pytest.raises(InputError):
        write_key_pair(tmp_path / "keys")
    assert not list((tmp_path / "keys").glob(".*.tmp"))


def test_passphrase_encrypts_the_private_key(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVERNANCE_KEY_PASSPHRASE", "s3cret")
    private, public = write_key_pair(tmp_path)
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    assert load_signer(private).key_hint == load_verifier(public).key_hint
    monkeypatch.setenv("GOVERNANCE_KEY_PASSPHRASE", "wrong")
    with pytest.raises(InputError):
        load_signer(private)


def test_hint_is_over_the_canonical_pem(tmp_path):
    _, public = write_key_pair(tmp_path)
    rewrapped = public.read_bytes().replace(b"\n", b"\r\n")
    assert PublicKeyVerifier(rewrapped).key_hint == load_verifier(public).key_hint


@pytest.mark.parametrize(("curve", "digest"), [(ec.SECP384R1(), hashes.SHA384()), (ec.SECP521R1(), hashes.SHA512())])
def test_verifier_uses_the_curve_hash(curve, digest):
    key = ec.generate_private_key(curve)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    verifier = PublicKeyVerifier(pem)
    assert verifier.verify(key.sign(b"m", ec.ECDSA(digest)), b"m")
    assert not verifier.verify(key.sign(b"m", ec.ECDSA(hashes.SHA256())), b"m")


def test_dsse_contract_for_other_callers_still_holds(tmp_path):
    private, public = write_key_pair(tmp_path)
    statement = dsse.statement([{"name": "x", "digest": {"sha256": "00"}}], "https://example/t", {"a": 1})
    envelope = dsse.sign_statement(statement, load_signer(private))
    assert dsse.verify_envelope(envelope, load_verifier(public)) == statement


def test_ed25519_or_rsa_public_keys_are_refused():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(InputError):
        PublicKeyVerifier(pem)


def test_a_folder_given_as_a_key_is_not_a_file_and_a_missing_key_is_not_found(tmp_path, capsys):
    """One mapping of local read errors: a folder is NOT_A_FILE (not KEY_NOT_FOUND); missing is NotFound."""
    from governance.cli import main
    from governance.errors import NotFound

    with pytest.raises(InputError) as folder:
        load_verifier(tmp_path)
    assert folder.value.reason == "NOT_A_FILE" and not isinstance(folder.value, NotFound)
    with pytest.raises(NotFound) as missing:
        load_signer(tmp_path / "absent.pem")
    assert missing.value.reason == "KEY_NOT_FOUND"
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(b"x")
    assert main(["sign", str(artefact), "--key", str(tmp_path)]) == 2
    assert "NOT_A_FILE" in capsys.readouterr().err


def test_not_found_is_one_type_for_files_objects_and_records(tmp_path):
    from governance import storage
    from governance.errors import NotFound
    from governance.jsonio import read_json

    for read in (lambda: storage.read_bytes(tmp_path / "absent"), lambda: read_json(tmp_path / "absent.json")):
        with pytest.raises(NotFound) as missing:
            read()
        assert missing.value.reason == "FILE_NOT_FOUND" and missing.value.exit_code == 2
