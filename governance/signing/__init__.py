"""Signers behind one interface, and DSSE envelopes over in-toto statements.

A :class:`~governance.signing.signer.Signer` signs bytes with ECDSA P-256 / SHA-256 — a local key (the
embedded default) or an AWS KMS key — and a :class:`~governance.signing.signer.Verifier` checks them::

    from governance.signing import dsse, load_signer, load_verifier
    signer = load_signer("keys/signing-key.pem")
    envelope = dsse.sign_statement(statement, signer)
    dsse.verify_envelope(envelope, load_verifier("keys/signing-key.pub.pem"))  # -> the statement
"""

from governance.signing.signer import LocalKeySigner, PublicKeyVerifier, Signer, Verifier, load_signer, load_verifier

__all__ = ["LocalKeySigner", "PublicKeyVerifier", "Signer", "Verifier", "load_signer", "load_verifier"]
