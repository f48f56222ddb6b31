"""The final seal of a registered run: the registration hop, a policy scan over the final lineage, the index.

No check may judge evidence that changes after it. The govern step scans before registration (its verdict gates
registration), when the lineage does not yet hold the registration hop; the scan that stays in the evidence must
judge what is sealed, so it runs again after the hop and before the index is written::

    code = seal_after_registration(run, evidence_signer, "keys/model/signing-key.pub.pem", actor="Jane Doe")
"""

from __future__ import annotations

import os

from governance.signing import Signer


def seal_after_registration(run, signer: Signer, model_public_key: str | os.PathLike, actor: str,
                            evidence_public_key: str | os.PathLike | None = None) -> int | None:
    """Record the registration hop (when the run registered), rescan, and re-seal the evidence with ``signer``.

    ``run`` is the local runner's ``PipelineRun``; ``model_public_key`` is the key the scan trusts for the
    artefact's signature, ``evidence_public_key`` the one for the provenance (default: the same). Returns the final
    scan's exit code (``None`` when nothing was registered, so nothing changed and the govern step's scan stands).
    """
    from governance.evidence import unseal, write_index
    from governance.hashing import sha256_file
    from governance.ledger import Ledger
    from governance.lineage import record_pipeline_run
    from governance.policy import scan_local_run

    evidence = run.evidence_dir
    code = None
    if run.registered:
        unseal(evidence)  # the evidence changes from here on: no check may compare it with the old seal
        ledger = Ledger(evidence / "ledger.jsonl", signer)
        record_pipeline_run(run, evidence, signer, ledger=ledger, actor=actor)
        result = scan_local_run(run.model_path, evidence, parameters={
            "trusted_signer_keys": [str(model_public_key)], "evidence_dir": str(evidence),
            "lineage_signer_keys": [str(evidence_public_key or model_public_key)]})
        code = int(result.exit_code)
        ledger.append("scan", actor=actor, subject=str(evidence.resolve()),
                      digests={"policy.json": sha256_file(evidence / "policy.json")},
                      details={"when": "after the registration hop, before the final seal", "exit_code": code})
    write_index(evidence, signer)
    return code


__all__ = ["seal_after_registration"]
