"""The Govern step in the local runner: the runner's ``govern=`` hook over :func:`~pipeline.steps.govern.run.govern`.

    run_pipeline(data, workdir, govern=govern_hook(key="keys/signing-key.pem", audit_pack=True))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from governance.errors import InputError
from governance.signing import Signer
from pipeline.steps.govern.checks import GovernContext
from pipeline.steps.govern.run import govern

# The step is recorded under its entry-point module, the same name locally and in SageMaker.
STEP_MODULE = "pipeline.steps.govern"


def local_govern(
    run,
    *,
    signer: Signer | None = None,
    key: str | os.PathLike | None = None,
    audit_pack: bool = False,
    policies_dir: str | os.PathLike | None = None,
    governance_file: str | os.PathLike | None = None,
    skip: Iterable[str] = (),
    on_check: Callable[[str], None] = lambda name: None,
    model_key: str | os.PathLike | None = None,
    actor: str | None = None,
):
    """:func:`govern` on a local :class:`~pipeline.runner.PipelineRun`.

    Lays out the work folder as ``governance demo`` shows it: ``model/model.tar.gz.sig``, ``evidence/``,
    ``governance.json`` (+ ``.sig``) and, with ``audit_pack=True``, ``audit-pack.pdf`` (+ ``.sig``) at the top.
    Sign with ``key`` (a private key PEM path; needed to sign the audit pack) or a ``signer``; with ``model_key``
    the artefact is signed by that key instead, keeping model signing and evidence sealing apart. ``actor`` names
    who runs it in every ledger record (default: :func:`governance.actor.resolve_actor`).
    """
    from governance.actor import resolve_actor
    from pipeline.runner import GovernVerdict

    if signer is None:
        if key is None:
            raise InputError("NO_SIGNER", "local_govern needs a signing key (key=PEM path) or a signer")
        from governance.signing import load_signer

        signer = load_signer(key)
    model_signer = None
    if model_key is not None:
        from governance.signing import load_signer

        model_signer = load_signer(model_key)

    training_metadata = Path(run.model_path).parent / "training.json"
    verdict = govern(
        # Fairness and explanations are measured on the untouched test split, as the evaluation is.
        run.model_path, run.test_path or run.validation_path, run.evaluation_path, run.evidence_dir, signer,
        out_dir=run.workdir, train=run.train_path, profile=run.evidence_dir / "dataset.json",
        training_metadata=training_metadata if training_metadata.is_file() else None, run=run,
        context=GovernContext(data_uri=str(run.data), auc_threshold=run.auc_threshold, actor=resolve_actor(actor)),
        model_signer=model_signer,
        key_path=key, policies_dir=policies_dir, governance_file=governance_file,
        skip=tuple(skip) + (() if audit_pack else ("audit_pack",)), on_check=on_check,
    )
    return GovernVerdict(passed=verdict.passed, reasons=verdict.reasons, customer_metadata=verdict.customer_metadata)


def govern_hook(**options) -> Callable:
    """:func:`local_govern` with its options bound, as the runner's ``govern=`` hook."""

    def hook(run):
        return local_govern(run, **options)

    hook.__module__ = STEP_MODULE
    return hook


__all__ = ["govern_hook", "local_govern"]
