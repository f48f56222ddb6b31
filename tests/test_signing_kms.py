"""The AWS KMS signer against moto's server on 127.0.0.1.

What is covered how:

* RAW messages (≤ 4,096 bytes — every OMS statement and small manifests) are signed by KMS end to end and
  verified with the public key from GetPublicKey, by us and by the stock OMS verifier (test_integrity_aws.py).
* DIGEST messages (longer ones): moto 5.2 hashes a DIGEST message again before signing, which AWS does not,
  so a moto DIGEST signature cannot verify over the original message. The framing is therefore tested on its
  own: the request we send (captured from boto3's own event hooks, not mocked) carries MessageType=DIGEST and
  the message's SHA-256; and a signature made the way AWS makes it (ECDSA over that pre-hashed digest) is
  accepted by our verifier over the original message.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from governance.errors import InputError
from governance.signing import dsse
from governance.signing.kms import MAX_RAW_MESSAGE, KmsSigner, KmsVerifier, kms_client, kms_sign_request
from governance.signing.signer import PublicKeyVerifier, generate_private_key, public_pem

pytestmark = pytest.mark.servers


@pytest.fixture
def kms_key(aws):
    client = kms_client()
    key = client.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    client.create_alias(AliasName="alias/model-signing", TargetKeyId=key["KeyId"])
    return key


def test_sign_request_framing():
    small, large = b"x" * MAX_RAW_MESSAGE, b"x" * (MAX_RAW_MESSAGE + 1)
    assert kms_sign_request(small) == {"Message": small, "MessageType": "RAW"}
    assert kms_sign_request(large) == {"Message": hashlib.sha256(large).digest(), "MessageType": "DIGEST"}


@pytest.mark.parametrize("form", ["id", "arn", "alias", "alias-arn"])
def test_raw_signature_verifies_with_the_public_key(kms_key, form):
    key_id = {"id": kms_key["KeyId"], "arn": kms_key["Arn"], "alias": "alias/model-signing",
              "alias-arn": kms_key["Arn"].rsplit(":", 1)[0] + ":alias/model-signing"}[form]
    signer = KmsSigner(key_id)
    assert signer.identity == kms_key["Arn"]
    message = dsse.pae(dsse.IN_TOTO_PAYLOAD_TYPE, b'{"_type": "statement"}')
    signature = signer.sign(message)
    verifier = KmsVerifier(kms_key["Arn"])
    assert verifier.key_hint == signer.key_hint
    assert verifier.verify(signature, message) and not verifier.verify(signature, message + b" ")
    assert PublicKeyVerifier(signer.public_key_pem()).verify(signature, message)


def test_digest_framing_sent_to_kms(kms_key):
    signer = KmsSigner(kms_key["Arn"])
    sent: list[dict] = []
    signer._client.meta.events.register("provide-client-params.kms.Sign", lambda params, **_: sent.append(params))
    message = b"DSSEv1 " + b"m" * 6000
    signature = signer.sign(message)
    assert sent[-1]["MessageType"] == "DIGEST" and sent[-1]["Message"] == hashlib.sha256(message).digest()
    assert sent[-1]["SigningAlgorithm"] == "ECDSA_SHA_256"
    verifier = PublicKeyVerifier(signer.public_key_pem())
    # moto signs the 32 digest bytes as if they were a RAW message (AWS would sign the digest itself).
    moto_quirk = verifier.verify(signature, hashlib.sha256(message).digest())
    aws_semantics = verifier.verify(signature, message)
    assert moto_quirk or aws_semantics

    small = b"DSSEv1 small"
    signer.sign(small)
    assert sent[-1]["MessageType"] == "RAW" and sent[-1]["Message"] == small


def test_aws_digest_signature_verifies_over_the_message():
    """What AWS returns for MessageType=DIGEST: ECDSA over the given SHA-256, i.e. a normal signature."""
    key = generate_private_key()
    message = b"m" * (MAX_RAW_MESSAGE * 3)
    request = kms_sign_request(message)
    signature = key.sign(request["Message"], ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    assert PublicKeyVerifier(public_pem(key.public_key())).verify(signature, message)


def test_wrong_kind_of_key_is_refused(aws):
    client = kms_client()
    rsa = client.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(InputError) as failure:
        KmsSigner(rsa["Arn"])
    assert failure.value.reason == "BAD_KEY"
    with pytest.raises(InputError) as failure:
        KmsSigner("alias/does-not-exist")
    assert failure.value.reason == "KMS_KEY_NOT_FOUND"
