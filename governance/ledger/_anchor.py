"""Rollback detection: compare a local ledger with the copy of it sealed into an evidence index.

A writer who keeps an old signed head and the shorter file that went with it can roll a ledger back, and the
ledger alone cannot tell: both are consistent and signed. The evidence index (``index.json``, signed when the
folder is sealed) lists the ledger with the size and sha256 of its bytes at sealing time, out of the writer's
reach once the index is signed. The ledger must still start with exactly those bytes.
"""

from __future__ import annotations

from pathlib import Path

from governance.errors import CheckFailed, InputError
from governance.signing import Verifier

INDEX = "index.json"


def anchor_problems(ledger: Path, anchor: Path | None, verifier: Verifier | None) -> list[tuple[str, str, str]]:
    """``[(kind, reason, message)]`` for a ledger that does not extend what ``anchor`` (an index) sealed.

    With ``anchor`` ``None``, an ``index.json`` beside the ledger is used when it lists the ledger.
    """
    from governance import evidence
    from governance.hashing import sha256_bytes
    from governance.jsonio import MAX_BYTES, loads, read_json
    from governance.storage import read_bytes

    explicit = anchor is not None
    anchor = anchor if explicit else ledger.parent / INDEX
    if not explicit and not anchor.is_file():
        return []
    data = read_bytes(anchor, max_bytes=MAX_BYTES)
    index = loads(data, what=str(anchor))
    files = index.get("files") if isinstance(index, dict) else None
    if not isinstance(files, list):
        raise InputError("MALFORMED_INDEX", f"{anchor}: not an evidence index")
    entry = next((f for f in files if isinstance(f, dict) and f.get("path") == ledger.name), None)
    if entry is None:
        if explicit:
            raise InputError("NOT_ANCHORED", f"{anchor}: does not list {ledger.name}")
        return []
    problems = []
    if verifier is not None:
        signature = anchor.with_name(evidence.INDEX_SIGNATURE)
        try:
            statement = evidence.open_statement(read_json(signature), verifier, signature.name)
            subject = (statement.get("subject") or [{}])[0]
            if subject.get("digest", {}).get("sha256") != sha256_bytes(data):
                raise CheckFailed("DIGEST_MISMATCH", f"{anchor.name}: changed after it was signed")
        except (CheckFailed, InputError) as err:
            return [("anchor", err.reason, f"the evidence index that anchors the ledger does not verify: "
                                           f"{err.message}")]
    size, sealed = entry.get("size"), entry.get("sha256")
    if not isinstance(size, int) or not isinstance(sealed, str):
        return [("anchor", "MALFORMED_INDEX", f"{anchor.name}: its entry for {ledger.name} has no size or sha256")]
    current = ledger.stat().st_size
    if current < size:
        problems.append(("rolled-back", "LEDGER_ROLLED_BACK",
                         f"the ledger is {current:,} bytes, shorter than the {size:,} sealed in {anchor.name}: it "
                         "was rolled back (or cut) after the folder was sealed"))
    elif evidence.prefix_sha256(ledger, size) != sealed:
        problems.append(("rolled-back", "LEDGER_ROLLED_BACK",
                         f"the ledger's first {size:,} bytes are not the ones sealed in {anchor.name}: records "
                         "written before sealing were replaced"))
    return problems
