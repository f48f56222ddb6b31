"""Who may sign what, and when: the trusted-signers file.

A YAML file lists signing keys with a validity window, a revocation flag and the artefact locations each key
may sign for. Keys rotate by adding the new key and giving the old one a ``not_after``: artefacts signed while
the old key was valid keep verifying (the signing time is the one recorded in the signed manifest), and
nothing new verifies with it afterwards. A revoked key verifies nothing, whenever it signed.

.. code-block:: yaml

    version: 1
    signers:
      - name: release-2026
        public_key_file: keys/release-2026.pub.pem   # relative to this file; or public_key: "-----BEGIN …"
        not_before: 2026-01-01T00:00:00Z
        artefact_prefixes: ["s3://quickloan-models/", "models/"]
      - name: release-2025                           # retired: old artefacts still verify
        public_key_file: keys/release-2025.pub.pem
        not_after: 2026-01-31T00:00:00Z
      - name: kms-ci
        kms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/…   # public key fetched with GetPublicKey
      - name: leaked
        key_hint: 5d41…                              # sha256 of the PEM public key; no key material needed
        revoked: true

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "trusted.yaml")
>>> _ = open(path, "w").write("signers: [{name: old, key_hint: '00', revoked: true}]")
>>> TrustPolicy.load(path).signers[0].revoked
True
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from governance.errors import CheckFailed, Incomplete, InputError
from governance.signing.signer import PublicKeyVerifier, Verifier

_MAX_TRUST_BYTES = 1 << 20


class TrustedSigner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    key_hint: str | None = None
    public_key: str | None = None
    public_key_file: str | None = None
    kms_key_arn: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    revoked: bool = False
    artefact_prefixes: list[str] = Field(default_factory=list)

    @field_validator("not_before", "not_after", mode="before")
    @classmethod
    def _dates_are_utc_days(cls, value):
        # YAML reads "2026-01-01" as a date: take it as midnight UTC.
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value

    @field_validator("not_before", "not_after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @field_validator("key_hint")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.lower().removeprefix("sha256:")
            int(value, 16)
        return value

    @model_validator(mode="after")
    def _has_a_key(self) -> TrustedSigner:
        if not (self.public_key or self.public_key_file or self.kms_key_arn or self.key_hint):
            raise ValueError("give public_key, public_key_file, kms_key_arn or (to revoke) key_hint")
        if not (self.public_key or self.public_key_file or self.kms_key_arn) and not self.revoked:
            raise ValueError("a signer named only by key_hint cannot verify anything; add its key or revoke it")
        if self.public_key and self.public_key_file:
            raise ValueError("give public_key or public_key_file, not both")
        if self.not_before and self.not_after and self.not_before >= self.not_after:
            raise ValueError("not_before must be earlier than not_after")
        return self

    def within(self, moment: datetime) -> bool:
        return (self.not_before is None or moment >= self.not_before) and (
            self.not_after is None or moment <= self.not_after)

    def covers(self, uri: str) -> bool:
        """Whether the artefact's location starts with one of the allowed prefixes (no prefixes: anywhere)."""
        if not self.artefact_prefixes:
            return True
        location = _location(uri)
        return any(_under(location, prefix) for prefix in self._prefixes)

    _prefixes: list[str] = PrivateAttr(default_factory=list)


def _under(location: str, prefix: str) -> bool:
    """Prefix match at a path boundary: ``s3://models`` covers ``s3://models/a`` but not ``s3://models-evil/a``."""
    if prefix.endswith("/"):
        return location.startswith(prefix)
    return location == prefix or location.startswith(prefix + "/")


def _location(uri: str, base: Path | None = None) -> str:
    if uri.startswith("s3://"):
        return uri
    path = Path(uri)
    resolved = str((base / path) if base is not None and not path.is_absolute() else path.absolute())
    resolved = os.path.normpath(resolved)
    return resolved + ("/" if uri.endswith("/") else "")


class Candidate:
    """A trusted entry together with the verifier for its key."""

    def __init__(self, signer: TrustedSigner, verifier: Verifier) -> None:
        self.signer = signer
        self.verifier = verifier

    @property
    def identity(self) -> str:
        return self.signer.kms_key_arn or f"key:sha256:{self.verifier.key_hint}"


class TrustPolicy:
    """The parsed trusted-signers file; :meth:`candidates` finds keys by hint, :meth:`admit` applies the rules."""

    def __init__(self, signers: list[TrustedSigner], base: Path, source: str = "<memory>") -> None:
        self.signers = signers
        self.base = base
        self.source = source
        for signer in signers:
            signer._prefixes = [_location(p, base) for p in signer.artefact_prefixes]
        self._verifiers: dict[int, Verifier] = {}
        for signer in signers:  # local keys are read now, so a bad file or a wrong key_hint fails at once
            if signer.public_key or signer.public_key_file:
                self._verifier(signer)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrustPolicy:
        from governance.storage import read_bytes
        from governance.yaml_lines import load_value

        file = Path(path)
        try:
            document = load_value(read_bytes(file, max_bytes=_MAX_TRUST_BYTES).decode("utf-8"), str(file))
        except InputError as err:
            if err.reason in ("FILE_NOT_FOUND", "NOT_A_FILE", "NOT_A_REGULAR_FILE", "INPUT_TOO_LARGE"):
                raise
            raise InputError("MALFORMED_TRUST_FILE", f"not valid YAML: {err.message}") from None
        except UnicodeDecodeError:
            raise InputError("MALFORMED_TRUST_FILE", f"{file}: not UTF-8 text") from None
        if not isinstance(document, dict) or not isinstance(document.get("signers"), list):
            raise InputError("MALFORMED_TRUST_FILE", f"{file}: expected a mapping with a 'signers' list")
        if document.get("version", 1) != 1:
            raise InputError("MALFORMED_TRUST_FILE", f"{file}: unsupported version {document.get('version')!r}")
        signers = []
        for index, entry in enumerate(document["signers"]):
            try:
                signers.append(TrustedSigner.model_validate(entry))
            except ValidationError as err:
                problem = err.errors()[0]
                where = ".".join(str(p) for p in problem.get("loc", ())) or "entry"
                raise InputError("MALFORMED_TRUST_FILE",
                                 f"{file}: signers[{index}] {where}: {problem.get('msg')}") from None
        names = [s.name for s in signers]
        if len(set(names)) != len(names):
            raise InputError("MALFORMED_TRUST_FILE", f"{file}: signer names must be unique")
        return cls(signers, file.parent.absolute(), str(file))

    def _verifier(self, signer: TrustedSigner) -> Verifier | None:
        key = id(signer)
        if key not in self._verifiers:
            if signer.public_key:
                verifier = PublicKeyVerifier(signer.public_key.encode("utf-8"))
            elif signer.public_key_file:
                file = Path(signer.public_key_file)
                verifier = PublicKeyVerifier.from_pem_file(file if file.is_absolute() else self.base / file)
            elif signer.kms_key_arn:
                from governance.signing.kms import KmsVerifier

                verifier = KmsVerifier(signer.kms_key_arn)
            else:
                return None
            if signer.key_hint and signer.key_hint != verifier.key_hint:
                raise InputError("MALFORMED_TRUST_FILE", f"{self.source}: signer {signer.name!r}: key_hint does not "
                                                         f"match its key ({verifier.key_hint})")
            self._verifiers[key] = verifier
        return self._verifiers[key]

    def revoked(self) -> dict[str, list[str]]:
        """Revoked key hints → the names of the entries that revoke them."""
        found: dict[str, list[str]] = {}
        for signer in self.signers:
            if not signer.revoked:
                continue
            verifier = None if signer.key_hint else self._safe_verifier(signer)
            hint = signer.key_hint or (verifier.key_hint if verifier is not None else None)
            if hint:
                found.setdefault(hint, []).append(signer.name)
        return found

    def _safe_verifier(self, signer: TrustedSigner) -> Verifier | None:
        try:
            return self._verifier(signer)
        except Incomplete:
            return None

    def candidates(self, hint: str | None) -> list[Candidate]:
        """Entries whose key has ``hint`` (every entry with a key when the bundle names none)."""
        found = []
        for signer in self.signers:
            if hint and signer.key_hint and signer.key_hint != hint:
                continue  # skip without fetching a KMS key we already know is another one
            verifier = self._verifier(signer)
            if verifier is not None and (hint is None or verifier.key_hint == hint):
                found.append(Candidate(signer, verifier))
        return found

    def admit(self, hint: str, uri: str, signed_at: datetime) -> TrustedSigner:
        """The entry that allows key ``hint`` to have signed ``uri`` at ``signed_at``; else raise with the reason."""
        revoked = self.revoked().get(hint)
        if revoked:
            raise CheckFailed("SIGNER_REVOKED", f"the signing key ({', '.join(revoked)}) is revoked in {self.source}")
        entries = self.candidates(hint)
        if not entries:
            raise CheckFailed("UNTRUSTED_SIGNER", f"the signing key {hint[:16]}… is not in {self.source}")
        located = [c.signer for c in entries if c.signer.covers(uri)]
        if not located:
            prefixes = sorted({p for c in entries for p in c.signer.artefact_prefixes})
            raise CheckFailed("UNTRUSTED_SIGNER", f"{', '.join(c.signer.name for c in entries)} may sign only under "
                                                  f"{', '.join(prefixes)}; not {uri}")
        for signer in located:
            if signer.within(signed_at):
                return signer
        windows = "; ".join(f"{s.name}: {_when(s.not_before)} to {_when(s.not_after)}" for s in located)
        raise CheckFailed("SIGNER_EXPIRED", f"signed at {signed_at.isoformat()}, outside the validity of the key "
                                            f"({windows})")


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "open"
