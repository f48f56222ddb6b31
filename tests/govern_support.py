"""One governed local pipeline run per test session, shared by the govern-step and approval tests.

Built once (a small synthetic data set, every governance check, the audit pack) in a temporary folder removed
at exit; tests that change files work on a copy (:func:`copy_run`).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization


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


def write_key_pair(folder: Path, name: str = "signing-key") -> tuple[Path, Path]:
    from governance.signing.signer import generate_private_key

    key = generate_private_key()
    private = folder / f"{name}.pem"
    public = folder / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


@cache
def governed_run() -> GovernedRun:
    from pipeline.runner import run_pipeline
    from pipeline.steps.govern import govern_hook
    from pipeline.synthetic import write_csv

    root = Path(tempfile.mkdtemp(prefix="governed-run-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    data = root / "synthetic.csv"
    write_csv(data, rows=5000, seed=7)
    private, public = write_key_pair(root)
    run = run_pipeline(data, root / "work", hyperparameters={"num_round": 40},
                       govern=govern_hook(key=private, audit_pack=True))
    # Approval needs an independent validation (policies/validation.yaml): a validator with its own key.
    from governance.signing import load_signer
    from governance.validation import validate

    validator, validator_public = write_key_pair(root, "validator-key")
    validate(run.model_path, run.evidence_dir, load_signer(validator), ledger_signer=load_signer(private))
    return GovernedRun(root, data, private, public, run, validator, validator_public)


def copy_run(target: Path) -> Path:
    """A private copy of the governed work folder; the registry inside still names the original paths, so the
    copy's registry is rewritten to point at the copy."""
    import sqlite3

    source = governed_run().workdir
    shutil.copytree(source, target)
    with sqlite3.connect(target / "registry.db") as db:
        for column in ("artefact_uri", "customer_metadata"):
            db.execute(f"UPDATE model_package SET {column} = REPLACE({column}, ?, ?)", (str(source), str(target)))
    return target
