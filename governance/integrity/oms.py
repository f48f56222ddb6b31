"""OpenSSF Model Signing (OMS) signatures for a single-file artefact: Sigstore bundle v0.3 → DSSE → in-toto.

The bundle is what ``model_signing sign key`` writes and ``model_signing verify key`` reads::

    {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
     "verificationMaterial": {"publicKey": {"hint": sha256(PEM public key)}, "tlogEntries": []},
     "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": …, "signatures": [{"sig": …}]}}

and its statement names the file once, as the resource ``"."``. The subject digest is a digest of digests
(SHA-256 over the raw resource digests, in name order), so for one file it is ``sha256(sha256(file))`` — not
the file's own SHA-256, which is recorded beside it wherever we report it.

>>> statement = oms_statement("model.tar.gz", "ab" * 32)
>>> statement["predicate"]["resources"][0]["name"], statement["subject"][0]["digest"]["sha256"][:12]
('.', '9a2db2e23f15')
>>> file_digest(statement)
'abababababababababababababababababababababababababababababababab'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from governance.errors import CheckFailed, InputError
from governance.jsonio import canonical, dumps, loads
from governance.signing import dsse
from governance.signing.signer import Signer, Verifier

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
# The serialization block the OMS verifier reads back to re-hash the model; for one file only "." is hashed.
SERIALIZATION = {"method": "files", "hash_type": "sha256", "allow_symlinks": False, "ignore_paths": []}


def subject_digest(file_sha256: str) -> str:
    """The OMS subject digest of a single file: SHA-256 over the file's raw SHA-256."""
    return hashlib.sha256(bytes.fromhex(file_sha256)).hexdigest()


def oms_statement(name: str, file_sha256: str) -> dict:
    return dsse.statement(
        [{"name": name, "digest": {"sha256": subject_digest(file_sha256)}}],
        PREDICATE_TYPE,
        {"serialization": dict(SERIALIZATION),
         "resources": [{"name": ".", "algorithm": "sha256", "digest": file_sha256}]},
    )


def file_digest(statement: dict) -> str:
    """The signed file SHA-256 from a verified OMS statement (single file, sha256), checked for consistency."""
    try:
        if statement.get("_type") != dsse.STATEMENT_TYPE:
            raise CheckFailed("SIGNATURE_INVALID", f"not an in-toto Statement v1 ({statement.get('_type')!r})")
        if statement["predicateType"] != PREDICATE_TYPE:
            raise InputError("UNSUPPORTED_SIGNATURE",
                             f"predicate type {statement['predicateType']!r} is not {PREDICATE_TYPE}")
        predicate = statement["predicate"]
        method = predicate["serialization"]["method"]
        resources = predicate["resources"]
        subjects = statement["subject"]
    except (KeyError, TypeError, AttributeError):
        raise CheckFailed("SIGNATURE_INVALID", "the signed statement is not an OMS model signature") from None
    if method != "files" or len(resources) != 1 or resources[0].get("name") != ".":
        names = ", ".join(str(r.get("name")) for r in resources[:3])
        raise InputError("UNSUPPORTED_SIGNATURE", f"the signature covers a directory or shards ({method}: {names}); "
                                                  "a model.tar.gz is signed as one file")
    resource = resources[0]
    if resource.get("algorithm") != "sha256":
        raise InputError("UNSUPPORTED_SIGNATURE", f"hash {resource.get('algorithm')!r} is not supported (sha256 only)")
    digest = str(resource.get("digest", ""))
    try:
        expected_subject = subject_digest(digest)
    except ValueError:
        raise CheckFailed("SIGNATURE_INVALID", "the signed resource digest is not hexadecimal") from None
    if len(subjects) != 1 or subjects[0].get("digest", {}).get("sha256") != expected_subject:
        raise CheckFailed("SIGNATURE_INVALID", "the statement's subject digest does not match its resources")
    return digest


@dataclass(frozen=True)
class Bundle:
    """A parsed Sigstore bundle v0.3 carrying a DSSE envelope and a public-key hint."""

    key_hint: str | None
    envelope: dict

    @property
    def payload_type(self) -> str:
        return str(self.envelope.get("payloadType", ""))

    def to_dict(self) -> dict:
        return {
            "mediaType": BUNDLE_MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": self.key_hint or ""}, "tlogEntries": []},
            "dsseEnvelope": self.envelope,
        }

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())

    def open(self, verifier: Verifier) -> dict:
        """Verify the envelope's first signature (the one OMS tools check) and return the statement."""
        payload_type, payload, signatures = dsse.decode_envelope(self.envelope)
        if not verifier.verify(signatures[0], dsse.pae(payload_type, payload)):
            raise CheckFailed("SIGNATURE_INVALID", "the signature does not verify with the signer's key "
                                                   "(the statement or signature was altered)")
        if payload_type != dsse.IN_TOTO_PAYLOAD_TYPE:
            raise CheckFailed("SIGNATURE_INVALID", f"unexpected payload type {payload_type!r}")
        statement = loads(payload, what="the signed payload", error=CheckFailed)
        if not isinstance(statement, dict):
            raise CheckFailed("SIGNATURE_INVALID", "the signed payload is not a statement")
        return statement


def sign_bundle(statement: dict, signer: Signer) -> Bundle:
    """DSSE-sign ``statement`` into a bundle that names the signer by its key hint."""
    envelope = dsse.sign_payload(canonical(statement), signer)
    return Bundle(signer.key_hint, envelope)


def parse_bundle(data: bytes, label: str) -> Bundle:
    """Parse a bundle file (ours or the OMS tools'); malformed files are bad input with one clear line."""
    try:
        document = loads(data, what=label)
    except InputError as err:
        raise InputError("MALFORMED_SIGNATURE", f"not a JSON signature bundle: {err.message}") from None
    if not isinstance(document, dict) or document.get("mediaType") != BUNDLE_MEDIA_TYPE:
        media = document.get("mediaType") if isinstance(document, dict) else None
        raise InputError("MALFORMED_SIGNATURE", f"{label}: not a Sigstore bundle v0.3 (mediaType {media!r})")
    material = document.get("verificationMaterial")
    envelope = document.get("dsseEnvelope")
    if not isinstance(material, dict) or not isinstance(envelope, dict):
        raise InputError("MALFORMED_SIGNATURE", f"{label}: the bundle has no verification material or DSSE envelope")
    if "publicKey" not in material:
        kinds = ", ".join(sorted(material)) or "nothing"
        raise InputError("UNSUPPORTED_SIGNATURE", f"{label}: signed with {kinds}, not a public key; certificate and "
                                                  "keyless bundles are verified with model_signing itself")
    public_key = material["publicKey"] if isinstance(material["publicKey"], dict) else {}
    hint = public_key.get("hint") or None
    if hint is not None and not isinstance(hint, str):
        raise InputError("MALFORMED_SIGNATURE", f"{label}: the public key hint is not a string")
    dsse.decode_envelope(envelope)  # fail early, as bad input, on a malformed envelope
    return Bundle(hint, envelope)
