"""AWS KMS as a signer: an ``ECC_NIST_P256`` key with ``ECDSA_SHA_256``, behind the same interface as a local key.

The private key never leaves KMS. What gets signed is a DSSE pre-authentication encoding: it goes to KMS as
``MessageType=RAW`` when it fits KMS's 4,096-byte message limit, and as its SHA-256 with ``MessageType=DIGEST``
otherwise — the same ECDSA-SHA256 signature either way, so verifiers never need to know which was used. The
public key comes from ``GetPublicKey``; its hint (sha256 of the PEM) is what the OMS bundle names, so the
stock ``model_signing verify key`` accepts KMS signatures given the exported public key.

>>> kms_sign_request(b"x" * 10)["MessageType"]
'RAW'
>>> kms_sign_request(b"x" * 5000)["MessageType"], len(kms_sign_request(b"x" * 5000)["Message"])
('DIGEST', 32)

With credentials (and ``AWS_ENDPOINT_URL`` for a local server)::

    signer = KmsSigner("alias/model-signing")          # key id, key ARN, alias name or alias ARN
    signer.identity                                     # 'arn:aws:kms:eu-west-1:123456789012:key/…'
    KmsVerifier(signer.identity).verify(signer.sign(b"data"), b"data")   # True
"""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from governance.errors import Incomplete, InputError, NotFound
from governance.signing.signer import PublicKeyVerifier, key_hint, public_pem

KEY_SPEC = "ECC_NIST_P256"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
# KMS Sign takes at most 4,096 bytes of RAW message; longer messages must be sent as their digest.
MAX_RAW_MESSAGE = 4096


def kms_client(region: str | None = None):
    """A boto3 KMS client; ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_KMS`` point it at a local server."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"})
    # A session of its own: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client("kms", region_name=region or os.environ.get("AWS_DEFAULT_REGION")
                                          or "us-east-1", config=config)


def kms_sign_request(message: bytes) -> dict:
    """The ``Message`` / ``MessageType`` pair for KMS ``Sign`` (RAW when it fits, else the SHA-256 DIGEST)."""
    if len(message) <= MAX_RAW_MESSAGE:
        return {"Message": message, "MessageType": "RAW"}
    return {"Message": hashlib.sha256(message).digest(), "MessageType": "DIGEST"}


def _aws_error(err: Exception, what: str) -> Exception:
    from governance.storage import aws_error

    code = getattr(err, "response", {}).get("Error", {}).get("Code", "")
    if code in {"NotFoundException", "InvalidArnException"}:
        return NotFound("KMS_KEY_NOT_FOUND", f"{what}: no such KMS key ({code})")
    if code in {"DisabledException", "KMSInvalidStateException"}:
        return Incomplete("KMS_KEY_DISABLED", f"{what}: the KMS key is disabled or pending deletion ({code})")
    return aws_error(err, what)


def _public_key(client, key_id: str) -> tuple[str, ec.EllipticCurvePublicKey]:
    """``(key ARN, public key)`` after checking the key is a P-256 signing key that allows ECDSA_SHA_256."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        metadata = client.describe_key(KeyId=key_id)["KeyMetadata"]
        response = client.get_public_key(KeyId=key_id)
    except (ClientError, BotoCoreError) as err:
        raise _aws_error(err, f"KMS key {key_id}") from None
    spec = response.get("KeySpec") or response.get("CustomerMasterKeySpec") or metadata.get("KeySpec")
    if spec != KEY_SPEC:
        raise InputError("BAD_KEY", f"KMS key {key_id} is {spec}; model signing needs {KEY_SPEC}")
    if response.get("KeyUsage", metadata.get("KeyUsage")) != "SIGN_VERIFY":
        raise InputError("BAD_KEY", f"KMS key {key_id} is not a SIGN_VERIFY key")
    if SIGNING_ALGORITHM not in (response.get("SigningAlgorithms") or metadata.get("SigningAlgorithms") or []):
        raise InputError("BAD_KEY", f"KMS key {key_id} does not allow {SIGNING_ALGORITHM}")
    key = serialization.load_der_public_key(response["PublicKey"])
    if not isinstance(key, ec.EllipticCurvePublicKey):  # pragma: no cover - KMS keeps spec and key in step
        raise InputError("BAD_KEY", f"KMS key {key_id} did not return an EC public key")
    return metadata["Arn"], key


class KmsSigner:
    """Signs with an AWS KMS asymmetric key; accepts a key id, key ARN, alias name or alias ARN."""

    def __init__(self, key_id: str, *, client=None) -> None:
        if not key_id:
            raise InputError("BAD_KEY", "a KMS key id, ARN or alias is required")
        self._client = client or kms_client(_region_of(key_id))
        self.key_arn, public_key = _public_key(self._client, key_id)
        self._public_pem = public_pem(public_key)

    def sign(self, data: bytes) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.sign(KeyId=self.key_arn, SigningAlgorithm=SIGNING_ALGORITHM,
                                         **kms_sign_request(data))
        except (ClientError, BotoCoreError) as err:
            raise _aws_error(err, f"KMS Sign with {self.key_arn}") from None
        return response["Signature"]

    def public_key_pem(self) -> bytes:
        return self._public_pem

    @property
    def key_hint(self) -> str:
        return key_hint(self._public_pem)

    @property
    def identity(self) -> str:
        return self.key_arn

    def __repr__(self) -> str:
        return f"KmsSigner({self.key_arn})"


class KmsVerifier(PublicKeyVerifier):
    """Verifies locally with the public key fetched once through ``GetPublicKey`` (no KMS call per signature)."""

    def __init__(self, key_id: str, *, client=None) -> None:
        self.key_arn, public_key = _public_key(client or kms_client(_region_of(key_id)), key_id)
        super().__init__(public_pem(public_key))

    @property
    def identity(self) -> str:
        return self.key_arn

    def __repr__(self) -> str:
        return f"KmsVerifier({self.key_arn})"


def _region_of(key_id: str) -> str | None:
    # arn:aws:kms:REGION:ACCOUNT:key/ID — a key in another region must be called there.
    parts = key_id.split(":")
    return parts[3] if key_id.startswith("arn:") and len(parts) > 3 and parts[3] else None
