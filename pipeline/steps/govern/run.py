"""The check runner: every governance check on one trained model, in order, then the signed verdict.

:func:`govern` is what both callers run: the container adapter (:mod:`pipeline.steps.govern.container`) and the
local hook (:mod:`pipeline.steps.govern.local`) only gather its inputs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from governance import hashing, storage
from governance.errors import InputError
from governance.signing import Signer
from governance.verdict import (
    AUDIT_PACK,
    CHECKS,
    ERROR,
    EVIDENCE_REPORTS,
    PASS,
    SKIPPED,
    VERDICT_FILE,
    CheckOutcome,
    Verdict,
    overall_status,
    summarise,
    write_verdict,
)
from pipeline.steps.govern.checks import GovernChecks, GovernContext, GovernInputs, run_check


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _join(base: str | None, name: str, local: Path) -> str:
    """The published location of ``name``: under ``base`` (an S3 URI) when given, else the local path."""
    return f"{base.rstrip('/')}/{name}" if base else str(local.resolve())


def govern(
    model: str | os.PathLike,
    validation: str | os.PathLike,
    evaluation: str | os.PathLike,
    evidence_dir: str | os.PathLike,
    signer: Signer,
    *,
    out_dir: str | os.PathLike | None = None,
    train: str | os.PathLike | None = None,
    profile: str | os.PathLike | None = None,
    training_metadata: str | os.PathLike | None = None,
    run=None,
    context: GovernContext | None = None,
    key_path: str | os.PathLike | None = None,
    policies_dir: str | os.PathLike | None = None,
    governance_file: str | os.PathLike | None = None,
    ledger_path: str | os.PathLike | None = None,
    skip: Iterable[str] = (),
    on_check: Callable[[str], None] = lambda name: None,
    model_signer: Signer | None = None,
) -> Verdict:
    """Run every governance check on one trained model and write the signed verdict ``OUT_DIR/governance.json``.

    ``run`` is the local runner's :class:`~pipeline.runner.PipelineRun` (its step records feed the lineage), or a
    callable returning the run as the lineage recorder reads it (the container builds it from its inputs).
    ``skip`` names checks (from :data:`~governance.verdict.CHECKS`) not to run; they are reported as SKIPPED. The
    signature is written beside the artefact (``context.artefact_uri``, else ``model``) as ``ARTEFACT.sig``;
    ``ledger_path`` defaults to ``EVIDENCE_DIR/ledger.jsonl``. ``key_path`` (the signer's PEM file) signs the audit
    pack; a KMS signer needs none. ``model_signer`` signs the artefact when its duty is kept apart from sealing the
    evidence (``signer``: provenance, index, ledger, verdict).
    """
    unknown = sorted(set(skip) - set(CHECKS))
    if unknown:
        raise InputError("BAD_PARAMETER", f"unknown check(s) to skip: {', '.join(unknown)}; known: {', '.join(CHECKS)}")
    model, validation, evaluation = Path(model), Path(validation), Path(evaluation)
    for label, path in (("model", model), ("validation", validation), ("evaluation", evaluation)):
        if not path.is_file():
            raise InputError("FILE_NOT_FOUND", f"{path}: no such {label} file")
    evidence = Path(evidence_dir)
    out = Path(out_dir) if out_dir is not None else evidence.parent
    evidence.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    context = context or GovernContext()
    inputs = GovernInputs(
        model, validation, evaluation, evidence, out,
        ledger=Path(ledger_path) if ledger_path else evidence / "ledger.jsonl",
        train=Path(train) if train else None, profile=Path(profile) if profile else None,
        training_metadata=Path(training_metadata) if training_metadata else None,
        key_path=key_path, policies_dir=policies_dir, governance_file=governance_file,
    )
    with tempfile.TemporaryDirectory(prefix="govern-") as scratch:
        state = GovernChecks(inputs, signer, context, run, Path(scratch), model_signer=model_signer)
        actions = state.actions()
        checks: list[CheckOutcome] = []
        for name in CHECKS:
            if name in skip:
                checks.append(CheckOutcome(name, SKIPPED, "turned off by the caller"))
                continue
            if name == "audit_pack" and checks[-1].status != PASS:
                outcome = CheckOutcome(name, ERROR, "not rendered: the evidence index is not sound", "NO_EVIDENCE")
            else:
                on_check(name)
                outcome = run_check(name, actions[name])
            state.record(outcome)
            checks.append(outcome)

    status = overall_status(checks)
    local_signature = not storage.is_s3_uri(state.signature)
    metadata = {
        "artefact_sha256": state.sha256,
        "signature_uri": str(Path(state.signature).resolve()) if local_signature else state.signature,
        "evidence_uri": context.evidence_uri or str(evidence.resolve()),
        "governance_uri": _join(context.publish_uri, VERDICT_FILE, out / VERDICT_FILE),
    }
    if any(c.name == "audit_pack" and c.status == PASS for c in checks):
        metadata["audit_pack_uri"] = _join(context.publish_uri, AUDIT_PACK, out / AUDIT_PACK)
    digests = {key: f"sha256:{hashing.sha256_file(evidence / name)}"
               for key, name in EVIDENCE_REPORTS.items() if (evidence / name).is_file()}
    verdict = Verdict(
        status=status,
        summary=summarise(checks, status),
        artefact={"uri": state.artefact_uri, "sha256": state.sha256, "signature_uri": metadata["signature_uri"],
                  "signer": (model_signer or signer).identity},
        checks=checks,
        customer_metadata=metadata,
        digests=digests,
        context={key: value for key, value in asdict(context).items() if value is not None},
        generated_at=_now(),
    )
    verdict.path = write_verdict(verdict, out, signer)
    return verdict


__all__ = ["govern"]
