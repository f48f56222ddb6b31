"""Build a complete, sealed evidence folder with the toolkit itself, for the audit-pack tests and benchmark.

The pack must render what the other parts actually write, so nothing here is hand-made: the local pipeline
runs on synthetic data, then integrity, fairness, explainability, lineage, the ledger and the policy scan write
their evidence, and the folder is sealed with a signed index. Parts named in ``skip`` write nothing (their
sections then show open items). Tests get the folder through the session fixtures ``pack_evidence`` and
``signed_pack`` (``tests/conftest.py``).

    python -m tests.pack_evidence OUT_DIR [ROWS]      # the same folder, from the command line
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from governance.signing.signer import LocalKeySigner, PublicKeyVerifier

# Small but realistic: every age band has enough applicants to be judged, and building takes seconds.
DEFAULT_ROWS = 5000
FAST_BOOTSTRAP = 200


@dataclass(frozen=True)
class BuiltEvidence:
    root: Path
    evidence: Path
    key: Path
    public_key: Path
    parts: tuple[str, ...]  # which parts wrote evidence (all but those skipped)

    @property
    def signer(self) -> LocalKeySigner:
        return LocalKeySigner.from_pem_file(self.key)

    @property
    def verifier(self) -> PublicKeyVerifier:
        return PublicKeyVerifier.from_pem_file(self.public_key)


PARTS = ("integrity", "explain", "fairness", "ledger", "lineage", "policy")


def build_evidence(root: str | Path, rows: int = DEFAULT_ROWS, *, fast: bool = True,
                   skip: tuple[str, ...] = (), data: Path | None = None,
                   split_column: str | None = None) -> BuiltEvidence:
    """Run the pipeline and every governance part (except those named in ``skip``), then seal the folder.

    ``data``: a raw data file to run on instead of the synthetic one (``rows`` then does not apply);
    ``split_column``: a date column of it to split the test set out of time on.
    """
    from governance.evidence import write_index
    from governance.explain import explain_model, load_inputs, tree_shap
    from governance.fairness import assess_fairness, load_policy
    from governance.integrity import sign_artefact, verify_artefact, write_manifest_evidence
    from governance.ledger import Ledger
    from governance.lineage import record_pipeline_run
    from governance.policy import scan_local_run
    from governance.signing.signer import write_key_pair
    from pipeline import synthetic
    from pipeline.runner import run_pipeline

    unknown = set(skip) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts to skip: {sorted(unknown)}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    key, public = write_key_pair(root / "keys")
    signer = LocalKeySigner.from_pem_file(key)
    if data is None:
        data = root / "data" / "synthetic-cs-training.csv"
        synthetic.write_csv(data, rows=rows, seed=11)
    run = run_pipeline(data, root, hyperparameters={"num_round": 60} if fast else None, split_column=split_column)
    evidence, model, validation = run.evidence_dir, run.model_path, run.validation_path
    parts = [part for part in PARTS if part not in skip]

    if "integrity" in parts:
        sign_artefact(model, signer)
        write_manifest_evidence(evidence, verify_artefact(model, verifier=PublicKeyVerifier(signer.public_key_pem())))
    shap_values = None
    if "explain" in parts:
        shap_values = tree_shap(load_inputs(model, validation))
        explain_model(model, validation, out_dir=evidence, evaluation=run.evaluation_path, shap_values=shap_values,
                      **({"stability_resamples": 3, "stability_applicants": 50} if fast else {}))
    if "fairness" in parts:
        policy = load_policy(None)
        if fast:
            policy = policy.model_copy(update={"bootstrap": policy.bootstrap.model_copy(
                update={"resamples": FAST_BOOTSTRAP})})
        assess_fairness(model, validation, policy=policy, out_dir=evidence, evaluation=run.evaluation_path,
                        shap_values=shap_values)
    ledger = Ledger(evidence / "ledger.jsonl", signer) if "ledger" in parts else None
    if "lineage" in parts:
        record_pipeline_run(run, evidence, signer, ledger=ledger)
    if "policy" in parts:
        scan_local_run(model, evidence, parameters={"trusted_signer_keys": [str(public)]})

    write_index(evidence, signer)
    return BuiltEvidence(root, evidence, key, public, tuple(parts))


def pdf_text(path: str | Path, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text with whitespace collapsed: poppler's ``pdftotext`` when installed, else pypdf."""
    import re
    import shutil
    import subprocess

    if shutil.which("pdftotext"):
        command = ["pdftotext", "-enc", "UTF-8"]
        command += ["-f", str(first)] if first else []
        command += ["-l", str(last)] if last else []
        text = subprocess.run([*command, str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8")
    else:
        from pypdf import PdfReader

        pages = PdfReader(str(path)).pages
        chosen = pages[(first or 1) - 1:last or len(pages)]
        text = "\n".join(page.extract_text() or "" for page in chosen)
    return re.sub(r"\s+", " ", text)


if __name__ == "__main__":
    built = build_evidence(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_ROWS, fast=False)
    print(built.evidence, ", ".join(built.parts))
