"""DSSE envelopes (Dead Simple Signing Envelope v1) over in-toto Statement v1 payloads.

The signature covers the pre-authentication encoding ``PAE(type, body)``, never the bare JSON, so a payload
cannot be reinterpreted under another type.

>>> pae("application/vnd.in-toto+json", b"{}")
b'DSSEv1 28 application/vnd.in-toto+json 2 {}'
"""

from __future__ import annotations

import base64
import binascii

from governance.errors import CheckFailed, InputError
from governance.jsonio import canonical
from governance.signing.signer import Signer, Verifier

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def statement(subjects: list[dict], predicate_type: str, predicate: dict) -> dict:
    """An in-toto Statement v1; ``subjects`` are ``{"name": ..., "digest": {"sha256": ...}}``."""
    return {"_type": STATEMENT_TYPE, "subject": subjects, "predicateType": predicate_type, "predicate": predicate}


def sign_payload(payload: bytes, signer: Signer, payload_type: str = IN_TOTO_PAYLOAD_TYPE,
                 keyid: str | None = None) -> dict:
    """A DSSE envelope over ``payload``. Its ``keyid`` is the signer's key hint (the sha256 of its public-key PEM,
    as the Sigstore bundle's ``publicKey.hint``) unless given, so verifiers that match keyids (securesystemslib)
    find the key for every envelope the toolkit writes; verifiers that ignore keyids (model_signing) are unaffected."""
    keyid = signer.key_hint if keyid is None else keyid
    signature = signer.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"sig": base64.b64encode(signature).decode("ascii"), "keyid": keyid}],
    }


def sign_statement(stmt: dict, signer: Signer, keyid: str | None = None) -> dict:
    return sign_payload(canonical(stmt), signer, keyid=keyid)


def decode_envelope(envelope: dict) -> tuple[str, bytes, list[bytes]]:
    """``(payload type, payload bytes, signatures)``; malformed envelopes are bad input."""
    try:
        payload_type = envelope["payloadType"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        signatures = [base64.b64decode(s["sig"], validate=True) for s in envelope["signatures"]]
    except (KeyError, TypeError, binascii.Error, ValueError) as err:
        raise InputError("MALFORMED_ENVELOPE", f"not a DSSE envelope ({err})") from None
    if not isinstance(payload_type, str):
        raise InputError("MALFORMED_ENVELOPE", "not a DSSE envelope (payloadType is not a string)")
    if not signatures:
        raise CheckFailed("SIGNATURE_INVALID", "the envelope carries no signature")
    return payload_type, payload, signatures


def verify_envelope(envelope: dict, verifier: Verifier) -> dict:
    """Return the verified statement, or raise ``CheckFailed(SIGNATURE_INVALID)``."""
    payload_type, payload, signatures = decode_envelope(envelope)
    message = pae(payload_type, payload)
    if not any(verifier.verify(sig, message) for sig in signatures):
        raise CheckFailed("SIGNATURE_INVALID", "the envelope's signature does not verify with the given key")
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise CheckFailed("SIGNATURE_INVALID", f"unexpected payload type {payload_type!r}")
    from governance.jsonio import loads

    return loads(payload, what="the signed payload", error=CheckFailed)
