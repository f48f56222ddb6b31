"""The signer interface and its embedded default, a local ECDSA P-256 key in PEM.

The private key is read encrypted when ``GOVERNANCE_KEY_PASSPHRASE`` is set. A key's *hint* is the sha256 of
its PEM public key bytes — the identifier the OpenSSF Model Signing format puts in a bundle.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from governance.errors import Incomplete, InputError

PASSPHRASE_ENV = "GOVERNANCE_KEY_PASSPHRASE"


@runtime_checkable
class Signer(Protocol):
    """Signs bytes (ECDSA P-256 over SHA-256 of the bytes, DER signature)."""

    def sign(self, data: bytes) -> bytes: ...

    def public_key_pem(self) -> bytes: ...

    @property
    def key_hint(self) -> str: ...

    @property
    def identity(self) -> str:
        """Who signed, for humans and ledgers: a key hint or a KMS key ARN."""
        ...


@runtime_checkable
class Verifier(Protocol):
    def verify(self, signature: bytes, data: bytes) -> bool: ...

    @property
    def key_hint(self) -> str: ...


def key_hint(public_pem: bytes) -> str:
    return hashlib.sha256(public_pem).hexdigest()


def public_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _read(path: str | os.PathLike, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("KEY_NOT_FOUND", f"{path}: no such {what} file") from None
    except PermissionError:
        raise Incomplete("PERMISSION_DENIED", f"{path}: cannot read the {what}") from None
    except IsADirectoryError:
        raise InputError("KEY_NOT_FOUND", f"{path}: is a directory, expected a {what} PEM file") from None


class LocalKeySigner:
    """ECDSA P-256 signer over a private key held in memory (loaded from PEM; never logged)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name != "secp256r1":
            raise InputError("BAD_KEY", "the signing key must be an ECDSA P-256 (secp256r1) private key")
        self._key = private_key
        self._public_pem = public_pem(private_key.public_key())

    @classmethod
    def from_pem_file(cls, path: str | os.PathLike, passphrase: bytes | None = None) -> LocalKeySigner:
        data = _read(path, "private key")
        if passphrase is None and os.environ.get(PASSPHRASE_ENV):
            passphrase = os.environ[PASSPHRASE_ENV].encode("utf-8")
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError:
            if passphrase is None:
                raise InputError("KEY_ENCRYPTED", f"{path}: the key is encrypted; set {PASSPHRASE_ENV}") from None
            raise InputError("BAD_KEY", f"{path}: the key is not encrypted but a passphrase was given") from None
        except ValueError:
            hint = " or the passphrase is wrong" if passphrase else ""
            raise InputError("BAD_KEY", f"{path}: not a readable PEM private key{hint}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InputError("BAD_KEY", f"{path}: not an ECDSA private key (P-256 required)")
        return cls(key)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def public_key_pem(self) -> bytes:
        return self._public_pem

    @property
    def key_hint(self) -> str:
        return key_hint(self._public_pem)

    @property
    def identity(self) -> str:
        return f"key:sha256:{self.key_hint}"

    def __repr__(self) -> str:  # never show key material
        return f"LocalKeySigner(key_hint={self.key_hint[:16]}…)"


class PublicKeyVerifier:
    """Verifies ECDSA P-256 / SHA-256 signatures with a PEM public key."""

    def __init__(self, pem: bytes) -> None:
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            raise InputError("BAD_KEY", "not a readable PEM public key") from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InputError("BAD_KEY", "not an ECDSA public key")
        self._key = key
        self.pem = pem

    @classmethod
    def from_pem_file(cls, path: str | os.PathLike) -> PublicKeyVerifier:
        data = _read(path, "public key")
        if b"PRIVATE KEY" in data:
            raise InputError("BAD_KEY", f"{path}: this is a private key; pass the public key (.pub.pem)")
        try:
            return cls(data)
        except InputError as err:
            raise InputError(err.reason, f"{path}: {err.message}") from None

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self._key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False

    @property
    def key_hint(self) -> str:
        return key_hint(self.pem)


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def load_signer(path: str | os.PathLike) -> LocalKeySigner:
    return LocalKeySigner.from_pem_file(path)


def load_verifier(path: str | os.PathLike) -> PublicKeyVerifier:
    return PublicKeyVerifier.from_pem_file(path)
