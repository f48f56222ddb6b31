"""Build a complete, sealed evidence folder with the toolkit itself, for the audit-pack tests and benchmark.

The pack must render what the other parts actually write, so nothing here is hand-made: the local pipeline
runs on synthetic data, then integrity, fairness, explainability, lineage, the ledger and the policy scan write
their evidence, and the folder is sealed with a signed index. A part that is not installed is skipped (its
section then shows an open item), which keeps the pack testable on its own.

    python -m tests.pack_evidence OUT_DIR [ROWS]      # the same folder, from the command line
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from governance.signing.signer import LocalKeySigner, PublicKeyVerifier, generate_private_key

# Small but realistic: every age band has enough applicants to be judged, and building takes seconds.
DEFAULT_ROWS = 5000
FAST_BOOTSTRAP = 200


@dataclass(frozen=True)
class BuiltEvidence:
    root: Path
    evidence: Path
    key: Path
    public_key: Path
    parts: tuple[str, ...]  # which optional parts wrote evidence

    @property
    def signer(self) -> LocalKeySigner:
        return LocalKeySigner.from_pem_file(self.key)

    @property
    def verifier(self) -> PublicKeyVerifier:
        return PublicKeyVerifier.from_pem_file(self.public_key)


def write_keys(folder: Path) -> tuple[Path, Path]:
    key = generate_private_key()
    private, public = folder / "signing-key.pem", folder / "signing-key.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    public.write_bytes(LocalKeySigner(key).public_key_pem())
    return private, public


def build_evidence(root: str | Path, rows: int = DEFAULT_ROWS, *, fast: bool = True,
                   skip: tuple[str, ...] = ()) -> BuiltEvidence:
    """Run the pipeline and every governance part (except those named in ``skip``), then seal the folder."""
    from governance.evidence import write_index
    from pipeline import synthetic
    from pipeline.runner import run_pipeline

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    key, public = write_keys(root)
    signer = LocalKeySigner.from_pem_file(key)
    data = root / "data" / "synthetic-cs-training.csv"
    synthetic.write_csv(data, rows=rows, seed=11)
    run = run_pipeline(data, root, hyperparameters={"num_round": 60} if fast else None)
    evidence, model, validation = run.evidence_dir, run.model_path, run.validation_path
    parts: list[str] = []

    try:
        if "integrity" in skip:
            raise ImportError("integrity skipped")
        from governance.integrity import sign_artefact, verify_artefact, write_manifest_evidence
    except ImportError:
        pass
    else:
        sign_artefact(model, signer)
        write_manifest_evidence(evidence, verify_artefact(model, verifier=PublicKeyVerifier(signer.public_key_pem())))
        parts.append("integrity")

    shap_values = None
    try:
        if "explain" in skip:
            raise ImportError("explain skipped")
        from governance.explain import explain_model, load_inputs, tree_shap
    except ImportError:
        pass
    else:
        shap_values = tree_shap(load_inputs(model, validation))
        explain_model(model, validation, out_dir=evidence, evaluation=run.evaluation_path, shap_values=shap_values,
                      **({"stability_resamples": 3, "stability_applicants": 50} if fast else {}))
        parts.append("explain")

    try:
        if "fairness" in skip:
            raise ImportError("fairness skipped")
        from governance.fairness import assess_fairness, load_policy
    except ImportError:
        pass
    else:
        policy = load_policy(None)
        if fast:
            policy = policy.model_copy(update={"bootstrap": policy.bootstrap.model_copy(
                update={"resamples": FAST_BOOTSTRAP})})
        assess_fairness(model, validation, policy=policy, out_dir=evidence, evaluation=run.evaluation_path,
                        shap_values=shap_values)
        parts.append("fairness")

    ledger = None
    try:
        if "ledger" in skip:
            raise ImportError("ledger skipped")
        from governance.ledger import Ledger
    except ImportError:
        pass
    else:
        ledger = Ledger(evidence / "ledger.jsonl", signer)
        parts.append("ledger")
    try:
        if "lineage" in skip:
            raise ImportError("lineage skipped")
        from governance.lineage import record_pipeline_run
    except ImportError:
        pass
    else:
        record_pipeline_run(run, evidence, signer, ledger=ledger)
        parts.append("lineage")

    try:
        if "policy" in skip:
            raise ImportError("policy skipped")
        from governance.policy import scan_local_run
    except ImportError:
        pass
    else:
        scan_local_run(model, evidence, parameters={"trusted_signer_keys": [str(public)]})
        parts.append("policy")

    write_index(evidence, signer)
    return BuiltEvidence(root, evidence, key, public, tuple(parts))


if __name__ == "__main__":
    built = build_evidence(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_ROWS, fast=False)
    print(built.evidence, ", ".join(built.parts))


_SHARED: dict[str, object] = {}


def shared_evidence(tmp_path_factory) -> BuiltEvidence:
    """One full evidence folder per test session, shared by every audit-pack test module."""
    if "full" not in _SHARED:
        _SHARED["full"] = build_evidence(tmp_path_factory.mktemp("pack-evidence"))
    return _SHARED["full"]


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


def shared_pack(tmp_path_factory) -> Path:
    """The signed audit pack of :func:`shared_evidence`, rendered once per session through the command line."""
    if "pack" not in _SHARED:
        from governance.cli import main
        from reports import example_path

        built = shared_evidence(tmp_path_factory)
        out = tmp_path_factory.mktemp("pack") / "audit-pack.pdf"
        code = main(["pack", str(built.evidence), "-o", str(out), "--key", str(built.key),
                     "--governance", str(example_path())])
        if code != 0:
            raise AssertionError(f"governance pack exited {code}")
        _SHARED["pack"] = out
    return _SHARED["pack"]
