"""The ledger's ``scan`` event: what a scan decided, and the digest of the report it wrote.

One function for the command line and the scheduled scan, so both record the same fields. A ledger whose head
is signed takes only signed appends: pass the ledger's ``signer`` (a local key or a KMS key).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.hashing import sha256_bytes
from governance.policy.findings import ScanResult
from governance.signing.signer import Signer


def record_scan(ledger_location: str, result: ScanResult, reports: Mapping[str, bytes], *, actor: str,
                signer: Signer | None = None, details: Mapping[str, Any] | None = None) -> dict:
    """Append a ``scan`` record (verdict, counts, exit code, sha256 of each report by name); return the record."""
    from governance.ledger import Ledger

    return Ledger(ledger_location, signer).append(
        "scan", actor=actor, subject=" ".join(result.targets)[:500],
        digests={name: sha256_bytes(data) for name, data in reports.items()},
        details={"verdict": result.verdict, "summary": result.counts, "exit_code": result.exit_code,
                 **(details or {})},
    )


def ledger_signer_for(ledger_location: str | None, key: str | None = None,
                      kms_key_id: str | None = None) -> Signer | None:
    """The signer for ``ledger_location``'s records, after checking an append with it would be accepted.

    A command that writes a report and then records it refuses here, before any work (a signed ledger and no key).
    """
    signer = open_ledger_signer(key, kms_key_id)
    if ledger_location:
        from governance.ledger import Ledger

        Ledger(ledger_location, signer).check_appendable()
    return signer


def open_ledger_signer(key: str | None = None, kms_key_id: str | None = None) -> Signer | None:
    """The signer for a ledger's records: a PEM private key file, or an AWS KMS key id, ARN or alias."""
    if key and kms_key_id:
        from governance.errors import InputError

        raise InputError("BAD_USAGE", "give a ledger key file or a KMS key id, not both")
    if kms_key_id:
        from governance.signing.kms import KmsSigner

        return KmsSigner(kms_key_id)
    if key:
        from governance.signing import load_signer

        return load_signer(key)
    return None
