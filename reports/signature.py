"""The pack's own signature: a DSSE envelope over an in-toto statement whose subject is the PDF's sha256.

The predicate repeats the digests that tie the PDF to its evidence (index, artefact, governance file), so a
verifier can check them without trusting anything inside the PDF first. Same envelope format as the evidence
index's ``index.json.sig``.
"""

from __future__ import annotations

from governance.hashing import sha256_bytes
from governance.signing import Signer, dsse

PACK_PREDICATE_TYPE = "https://quickloan-governance.dev/audit-pack/v1"


def pack_statement(pdf_name: str, pdf_bytes: bytes, facts: dict) -> dict:
    return dsse.statement([{"name": pdf_name, "digest": {"sha256": sha256_bytes(pdf_bytes)}}], PACK_PREDICATE_TYPE,
                          dict(facts))


def sign_pack(pdf_name: str, pdf_bytes: bytes, facts: dict, signer: Signer) -> dict:
    return dsse.sign_statement(pack_statement(pdf_name, pdf_bytes, facts), signer, keyid=signer.key_hint)
