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
