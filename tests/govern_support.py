"""The governed local pipeline run shared by the govern-step and approval tests (the ``governed`` fixture).

Built once per session by :func:`build_governed_run` (a small synthetic data set, every governance check, the
audit pack); tests that change files work on a copy (:func:`copy_run`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GovernedRun:
    root: Path
    data: Path
    key: Path  # private key PEM
    public_key: Path
    run: object  # pipeline.runner.PipelineRun
    validator_key: Path | None = None  # the independent validator's private key PEM (not the model signer's)
    validator_public_key: Path | None = None

    @property
    def workdir(self) -> Path:
        return self.root / "work"


def build_governed_run(root: Path) -> GovernedRun:
    from governance.signing.signer import write_key_pair
    from pipeline.runner import run_pipeline
    from pipeline.steps.govern import govern_hook
    from pipeline.synthetic import write_csv

    data = root / "synthetic.csv"
    write_csv(data, rows=5000, seed=7)
    private, public = write_key_pair(root / "keys")
    run = run_pipeline(data, root / "work", hyperparameters={"num_round": 40},
                       govern=govern_hook(key=private, audit_pack=True))
    return GovernedRun(root, data, private, public, run)


def build_validated_run(governed: GovernedRun, root: Path) -> GovernedRun:
    """A copy of the governed run with an independent validation in its evidence (what approval needs): signed by
    a validator's own key, the ledger's head kept on the ledger's key, the index re-sealed by the validator."""
    from dataclasses import replace

    from governance.signing import load_signer
    from governance.signing.signer import write_key_pair
    from governance.validation import validate

    work = copy_run(governed, root / "work")
    validator, validator_public = write_key_pair(root / "validator")
    validate(work / "model" / "model.tar.gz", work / "evidence", load_signer(validator),
             ledger_signer=load_signer(governed.key))
    return replace(governed, root=root, validator_key=validator, validator_public_key=validator_public)


def copy_run(governed: GovernedRun, target: Path) -> Path:
    """A private copy of the governed work folder; the registry inside still names the original paths, so the
    copy's registry is rewritten to point at the copy."""
    import sqlite3

    source = governed.workdir
    shutil.copytree(source, target)
    with sqlite3.connect(target / "registry.db") as db:
        for column in ("artefact_uri", "customer_metadata"):
            db.execute(f"UPDATE model_package SET {column} = REPLACE({column}, ?, ?)", (str(source), str(target)))
    return target
