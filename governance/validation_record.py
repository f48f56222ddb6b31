"""A signed independent validation as its readers see it: the approval gate and the policy scan.

Kept apart from :mod:`governance.validation` (which fits models and needs scikit-learn and SciPy) so that the
nightly scan function, which bundles only what a scan imports, can read a validation too::

    document = read_validation("evidence", model_sha256)         # raises CheckFailed when absent or bad
    anchor = validator_verifier("evidence", model_sha256)        # the key that may have re-sealed the index
"""

from __future__ import annotations

import os
from pathlib import Path

from governance import hashing
from governance.errors import CheckFailed, GovernanceError
from governance.jsonio import read_json
from governance.signing import dsse

VALIDATION_FILE = "validation.json"
VALIDATION_SIGNATURE = "validation.json.sig"
PREDICATE_TYPE = "https://quickloan-governance.dev/validation/v1"


def read_validation(folder: str | os.PathLike, model_sha256: str) -> dict:
    """The validation in ``folder``, its signature verified with the key it names; raises if absent or bad."""
    from governance.signing import PublicKeyVerifier

    path, signature = Path(folder) / VALIDATION_FILE, Path(folder) / VALIDATION_SIGNATURE
    if not path.is_file() or not signature.is_file():
        raise CheckFailed("NO_VALIDATION", f"{path}: no signed independent validation")
    data = path.read_bytes()
    document = read_json(path)
    pem = document.get("validator", {}).get("public_key_pem", "").encode("ascii")
    try:
        verifier = PublicKeyVerifier(pem)
        statement = dsse.verify_envelope(read_json(signature), verifier)
    except Exception as err:  # any failure to verify is a refusal, never a pass
        raise CheckFailed("VALIDATION_SIGNATURE_INVALID", f"{signature}: does not verify ({err})") from None
    digests = {s.get("name"): s.get("digest", {}).get("sha256") for s in statement.get("subject", [])}
    if digests.get(VALIDATION_FILE) != hashing.sha256_bytes(data):
        raise CheckFailed("DIGEST_MISMATCH", f"{path}: changed since the validator signed it")
    if digests.get("model.tar.gz") != model_sha256 or document.get("model", {}).get("sha256") != model_sha256:
        raise CheckFailed("DIGEST_MISMATCH", f"{path}: validates another model")
    return document


def validator_verifier(folder: str | os.PathLike, model_sha256: str | None):
    """The verifier of the validator whose signed validation of this model is in ``folder`` (it re-sealed the
    index), or None when there is no validation; a validation that does not verify raises, as
    :func:`read_validation` does."""
    if not model_sha256 or not (Path(folder) / VALIDATION_FILE).is_file():
        return None
    from governance.signing import PublicKeyVerifier

    document = read_validation(folder, model_sha256)
    try:
        return PublicKeyVerifier(document["validator"]["public_key_pem"].encode("ascii"))
    except (GovernanceError, KeyError, TypeError, ValueError, AttributeError):
        return None


__all__ = ["PREDICATE_TYPE", "VALIDATION_FILE", "VALIDATION_SIGNATURE", "read_validation", "validator_verifier"]
