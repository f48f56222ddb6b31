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

from governance.errors import Incomplete, InputError, reading

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
    with reading(path, f"{what} PEM file", missing="KEY_NOT_FOUND"):
        return Path(path).read_bytes()


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


# The hash that goes with each curve (Sigstore's convention, which the OMS tools follow for P-384/P-521 keys).
_CURVE_HASH = {"secp256r1": hashes.SHA256, "secp384r1": hashes.SHA384, "secp521r1": hashes.SHA512}


class PublicKeyVerifier:
    """Verifies ECDSA signatures with a PEM public key: P-256 / SHA-256 (ours), or P-384 / P-521 (OMS tools)."""

    def __init__(self, pem: bytes) -> None:
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError:
            raise InputError("BAD_KEY", "not a readable PEM public key") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVE_HASH:
            raise InputError("BAD_KEY", "not an ECDSA P-256, P-384 or P-521 public key")
        self._key = key
        self.pem = pem
        self._hash = _CURVE_HASH[key.curve.name]
        # The hint is taken over the canonical PEM, as the OMS tools do, so a re-wrapped file keeps its hint.
        self._hint = key_hint(public_pem(key))

    @classmethod
    def from_public_key(cls, key: ec.EllipticCurvePublicKey) -> PublicKeyVerifier:
        return cls(public_pem(key))

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
            self._key.verify(signature, data, ec.ECDSA(self._hash()))
            return True
        except InvalidSignature:
            return False

    @property
    def key_hint(self) -> str:
        return self._hint

    @property
    def identity(self) -> str:
        return f"key:sha256:{self._hint}"

    def __repr__(self) -> str:
        return f"PublicKeyVerifier(key_hint={self._hint[:16]}…)"


def generate_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def load_signer(path: str | os.PathLike) -> LocalKeySigner:
    return LocalKeySigner.from_pem_file(path)


def load_verifier(path: str | os.PathLike) -> PublicKeyVerifier:
    return PublicKeyVerifier.from_pem_file(path)


PRIVATE_KEY_FILE = "signing-key.pem"
PUBLIC_KEY_FILE = "signing-key.pub.pem"


def duty_keys(folder: str | os.PathLike, duties: tuple[str, ...]) -> dict[str, Path]:
    """One key pair per duty in ``FOLDER/DUTY/``, created once and reused (never overwritten); private key paths.

    Separate keys keep duties apart: whoever signs a model cannot also seal its evidence or sign its audit pack.
    """
    keys = {}
    for duty in duties:
        private = Path(folder) / duty / PRIVATE_KEY_FILE
        if not private.exists():
            write_key_pair(private.parent)
        keys[duty] = private
    return keys


def write_key_pair(out_dir: str | os.PathLike, passphrase: bytes | None = None) -> tuple[Path, Path]:
    """Generate an ECDSA P-256 pair into ``out_dir``: ``signing-key.pem`` (owner-only) and ``signing-key.pub.pem``.

    The private key is encrypted (PKCS#8, best available cipher) when a passphrase is given or
    ``GOVERNANCE_KEY_PASSPHRASE`` is set. Existing keys are never overwritten: losing a signing key is worse
    than a failed command. Both files appear whole or not at all (temporary file + rename); the private key is
    owner-only from the moment it exists.

    >>> import tempfile
    >>> private, public = write_key_pair(tempfile.mkdtemp())
    >>> oct(private.stat().st_mode & 0o777), load_signer(private).key_hint == load_verifier(public).key_hint
    ('0o600', True)
    """
    from governance.storage import write_bytes_atomic

    folder = Path(out_dir)
    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            raise InputError("KEY_EXISTS", f"{path}: already exists; refusing to overwrite a key")
    if passphrase is None and os.environ.get(PASSPHRASE_ENV):
        passphrase = os.environ[PASSPHRASE_ENV].encode("utf-8")
    key = generate_private_key()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_bytes_atomic(private_path, private_pem, mode=0o600)
        write_bytes_atomic(public_path, public_pem(key.public_key()), mode=0o600)
    except (FileExistsError, NotADirectoryError):
        raise InputError("BAD_OUTPUT", f"{folder}: is not a folder (or a parent of it is a file)") from None
    except PermissionError as err:
        raise Incomplete("PERMISSION_DENIED", f"{folder}: cannot write the key pair ({err.strerror})") from None
    return private_path, public_path
