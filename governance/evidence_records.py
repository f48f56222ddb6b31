"""Records added to a model's evidence folder after its run — a deployment, a monitoring run — by the operator.

    from governance.evidence_records import add_to_evidence
    add_to_evidence("evidence/", operator, "deploy", actor="governance deploy", subject=package_arn,
                    digests={"model.tar.gz": sha256}, details=record_details)

The audit pack reads the evidence folder as sealed: a record appended to its ledger after the seal is not
evidence until the index is sealed again. So the record goes into the folder's ``ledger.jsonl`` and the index is
re-sealed with the operator's key — the way an independent validation re-seals with the validator's key; the pack
then takes the operator's public key as ``--evidence-key`` and ``ledger verify`` as ``--anchor-key``.

Before anything is written, every file the current index seals must still hash as sealed (the ledger: its sealed
prefix) and no unsealed file may lie beside them: a re-seal never adopts a file changed or added since the seal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from governance import hashing
from governance.errors import InputError
from governance.jsonio import dumps
from governance.signing import Signer, dsse
from governance.storage import write_bytes_atomic

LEDGER_FILE = "ledger.jsonl"


def evidence_folder(evidence_dir: str | os.PathLike) -> Path:
    root = Path(evidence_dir)
    if not root.is_dir():
        raise InputError("NOT_FOUND", f"{evidence_dir}: no such evidence folder")
    return root


def check_sealed(evidence_dir: str | os.PathLike, ledger_signer: Signer | None = None) -> Path:
    """The folder, once every file its index seals is shown unchanged, nothing unsealed lies beside them, and its
    ledger takes a record signed by ``ledger_signer`` (a signed head refuses an append with another key)."""
    from governance.evidence import INDEX, verify_index
    from governance.ledger import Ledger

    root = evidence_folder(evidence_dir)
    if not (root / INDEX).is_file():
        raise InputError("EVIDENCE_NOT_SEALED", f"{root}: no {INDEX}; records are added only to a sealed folder")
    verify_index(root, None)  # digests only: the previous sealer may be anyone the reader trusts
    Ledger(root / LEDGER_FILE, ledger_signer).check_appendable()
    return root


def write_signed_json(folder: str | os.PathLike, name: str, document: dict, predicate_type: str,
                      predicate: dict, signer: Signer, subjects: list[dict] = ()) -> dict[str, str]:
    """``name`` and ``name.sig`` (a DSSE envelope over an in-toto statement naming it and ``subjects``), atomically;
    returns ``{name: sha256}``."""
    root = Path(folder)
    data = dumps(document)
    statement = dsse.statement([{"name": name, "digest": {"sha256": hashing.sha256_bytes(data)}}, *subjects],
                               predicate_type, predicate)
    envelope = dsse.sign_statement(statement, signer, keyid=signer.key_hint)
    write_bytes_atomic(root / name, data)
    write_bytes_atomic(root / f"{name}.sig", dumps(envelope))
    return {name: hashing.sha256_bytes(data)}


def add_to_evidence(evidence_dir: str | os.PathLike, signer: Signer, event: str, *, actor: str, subject: str,
                    digests: dict, details: dict, write: Callable[[Path], dict[str, str]] | None = None,
                    ledger_signer: Signer | None = None, append: bool = True) -> dict | None:
    """Check the seal, write the record's files (``write`` returns their ``{name: sha256}``, added to the ledger
    record's digests), append ``event`` to the folder's ledger (head signed by ``ledger_signer`` or ``signer``) and
    re-seal the index with ``signer``. ``append=False``: the record is already in that ledger (it was the one the
    command recorded in); only the files are written and the index re-sealed."""
    from governance.evidence import write_index
    from governance.ledger import Ledger

    root = check_sealed(evidence_dir, ledger_signer or signer)
    written = write(root) if write else {}
    record = Ledger(root / LEDGER_FILE, ledger_signer or signer).append(
        event, actor=actor, subject=subject, digests={**digests, **written}, details=details) if append else None
    write_index(root, signer)
    return record
