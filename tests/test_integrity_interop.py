"""Interoperability both ways with the stock OpenSSF ``model_signing`` package (the OMS reference)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from governance.errors import CheckFailed, InputError
from governance.integrity import sign_artefact, verify_artefact
from governance.signing import load_signer, load_verifier
from governance.signing.signer import write_key_pair
from tests.test_integrity_archive import member, model_tarball, small_booster_bytes, tar_gz

model_signing = pytest.importorskip("model_signing", reason="the interop tests need the model-signing package")
pytest.importorskip("OpenSSL", reason="model_signing imports pyopenssl without declaring it")
from model_signing import signing as ms_signing  # noqa: E402
from model_signing import verifying as ms_verifying  # noqa: E402

MODEL_SIGNING_CLI = Path(sys.executable).parent / "model_signing"


@pytest.fixture
def setup(tmp_path):
    private, public = write_key_pair(tmp_path / "keys")
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(model_tarball())
    return artefact, private, public


def stock_verify(artefact, signature, public) -> None:
    ms_verifying.Config().use_elliptic_key_verifier(public_key=public).verify(artefact, signature)


def test_stock_verifier_accepts_our_signature(setup):
    artefact, private, public = setup
    result = sign_artefact(artefact, load_signer(private))
    stock_verify(artefact, result.signature, public)


def test_stock_cli_accepts_our_signature(setup):
    artefact, private, public = setup
    sign_artefact(artefact, load_signer(private))
    command = [str(MODEL_SIGNING_CLI), "verify", "key", str(artefact), "--signature", f"{artefact}.sig",
               "--public_key", str(public)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_stock_verifier_rejects_a_tampered_artefact_under_our_signature(setup):
    artefact, private, public = setup
    sign_artefact(artefact, load_signer(private))
    artefact.write_bytes(artefact.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="mismatch"):
        stock_verify(artefact, f"{artefact}.sig", public)


def test_stock_verifier_rejects_our_signature_under_another_key(setup, tmp_path):
    artefact, private, _ = setup
    sign_artefact(artefact, load_signer(private))
    _, other_public = write_key_pair(tmp_path / "other")
    with pytest.raises(ValueError):
        stock_verify(artefact, f"{artefact}.sig", other_public)


def test_we_accept_a_stock_signature(setup, tmp_path):
    artefact, private, public = setup
    signature = tmp_path / "stock.sig"
    ms_signing.Config().use_elliptic_key_signer(private_key=private).sign(artefact, signature)
    result = verify_artefact(artefact, signature, verifier=load_verifier(public))
    assert result.passed and result.manifest_source == "inspected"
    assert result.members[0].name == "xgboost-model"


def test_we_reject_a_tampered_artefact_under_a_stock_signature(setup, tmp_path):
    artefact, private, public = setup
    signature = tmp_path / "stock.sig"
    ms_signing.Config().use_elliptic_key_signer(private_key=private).sign(artefact, signature)
    artefact.write_bytes(model_tarball({"code/requirements.txt": b"x\n"}))
    with pytest.raises(CheckFailed) as failure:
        verify_artefact(artefact, signature, verifier=load_verifier(public))
    assert failure.value.reason == "DIGEST_MISMATCH"


def test_stock_signature_on_an_unsafe_archive_is_gated_by_inspection(tmp_path):
    private, public = write_key_pair(tmp_path / "keys")
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(tar_gz(member("xgboost-model", small_booster_bytes()),
                                member("extra.bin", pickle.dumps(os.system, protocol=2))))
    ms_signing.Config().use_elliptic_key_signer(private_key=private).sign(artefact, tmp_path / "stock.sig")
    with pytest.raises(CheckFailed) as failure:
        verify_artefact(artefact, tmp_path / "stock.sig", verifier=load_verifier(public))
    assert failure.value.reason == "UNSAFE_ARCHIVE"


def test_we_accept_stock_signatures_with_p384_keys(tmp_path):
    """model_signing signs with SHA-384 for P-384 keys; our verifier follows the curve."""
    key = ec.generate_private_key(ec.SECP384R1())
    private = tmp_path / "p384.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public = tmp_path / "p384.pub.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(model_tarball())
    ms_signing.Config().use_elliptic_key_signer(private_key=private).sign(artefact, tmp_path / "m.sig")
    assert verify_artefact(artefact, tmp_path / "m.sig", verifier=load_verifier(public)).passed


def test_stock_directory_signature_is_reported_as_unsupported(tmp_path):
    private, public = write_key_pair(tmp_path / "keys")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "xgboost-model").write_bytes(small_booster_bytes())
    (model_dir / "notes.txt").write_text("hi")
    ms_signing.Config().use_elliptic_key_signer(private_key=private).sign(model_dir, tmp_path / "dir.sig")
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(model_tarball())
    with pytest.raises(InputError) as failure:
        verify_artefact(artefact, tmp_path / "dir.sig", verifier=load_verifier(public))
    assert failure.value.reason == "UNSUPPORTED_SIGNATURE"


def test_bundle_with_an_extra_field_is_refused_by_the_stock_reader(setup):
    """Why the manifest is a file of its own: the OMS reader forbids extra bundle fields."""
    artefact, private, public = setup
    result = sign_artefact(artefact, load_signer(private))
    bundle = json.loads(Path(result.signature).read_text())
    bundle["manifest"] = json.loads(Path(result.manifest).read_text())
    Path(result.signature).write_text(json.dumps(bundle))
    with pytest.raises(Exception, match=r"[Ee]xtra"):
        stock_verify(artefact, result.signature, public)
