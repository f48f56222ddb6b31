"""The governance checks on one trained model: integrity, lineage, fairness, explain, policy, evidence, audit pack.

:class:`GovernChecks` holds what the checks share (the signer's public key, the ledger, the SHAP values);
:func:`run_check` turns whatever a check raises into FAIL (it ran and found a problem) or ERROR (it could not run).
The order and the verdict are :func:`pipeline.steps.govern.run.govern`'s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from governance import hashing, storage
from governance.errors import CheckFailed, GovernanceError, Incomplete, InputError
from governance.signing import PublicKeyVerifier, Signer
from governance.verdict import AUDIT_PACK, ERROR, FAIL, PASS, SKIPPED, CheckOutcome

# The ledger event each check's outcome is recorded under.
LEDGER_EVENTS = {"integrity": "sign", "lineage": "pipeline-run", "fairness": "fairness", "explain": "explain",
                 "policy": "scan", "evidence": "evidence", "audit_pack": "pack"}
# Checks whose success is appended by what they run; only their failures are recorded by the runner.
RECORDED_BY_PRODUCER = ("lineage", "audit_pack")


@dataclass
class GovernContext:
    """Where things live outside this process (S3 URIs in a pipeline) and what produced them."""

    artefact_uri: str | None = None  # the artefact as it will be registered; defaults to the local model path
    data_uri: str | None = None  # the raw data the process step read
    evidence_uri: str | None = None  # where the evidence folder is published
    publish_uri: str | None = None  # where out_dir (the verdict and the audit pack) is published
    auc_threshold: float | None = None
    decision_threshold: float | None = None
    training_job: str | None = None
    execution: str | None = None
    image_uri: str | None = None
    training_image_uri: str | None = None
    allowed_kms_key: str | None = None  # the deployment's artefact key: what ENC-S3-00x accept
    trusted_account: str | None = None  # the deployment's account: what ACC-S3-005 accepts
    object_lock_mode: str | None = None  # the bucket's Object Lock default as deployed: what RET-S3 expect
    retention_days: int | None = None
    actor: str = "governance-pipeline"


@dataclass
class GovernInputs:
    """The files one run governs: the step outputs, and where the evidence, verdict and ledger go."""

    model: Path
    validation: Path
    evaluation: Path
    evidence: Path
    out: Path
    ledger: Path
    train: Path | None = None
    profile: Path | None = None
    training_metadata: Path | None = None
    key_path: str | os.PathLike | None = None  # the signer's PEM, to sign the audit pack (KMS needs none)
    policies_dir: str | os.PathLike | None = None
    governance_file: str | os.PathLike | None = None


def run_check(name: str, action: Callable[[], CheckOutcome]) -> CheckOutcome:
    """Run one check; anything it raises becomes FAIL (a check failed) or ERROR (it could not run)."""
    start = time.perf_counter()
    try:
        outcome = action()
    except CheckFailed as err:
        outcome = CheckOutcome(name, FAIL, err.message, err.reason)
    except GovernanceError as err:
        outcome = CheckOutcome(name, ERROR, err.message, err.reason)
    except ImportError as err:
        outcome = CheckOutcome(name, ERROR, f"this check is not available in this installation ({err})",
                               "CHECK_UNAVAILABLE")
    except Exception as err:  # a defect in a check is an ERROR, never a pass
        outcome = CheckOutcome(name, ERROR, f"{type(err).__name__}: {err}", "INTERNAL_ERROR")
    outcome.seconds = round(time.perf_counter() - start, 3)
    return outcome


def _copy_into(evidence: Path, source: str | os.PathLike | None, name: str) -> None:
    """Put a step's output into the evidence folder under its contract name, unless it is already there."""
    if source is None or not Path(source).is_file():
        return
    target = evidence / name
    if target.exists() and target.resolve() == Path(source).resolve():
        return
    storage.write_bytes_atomic(target, Path(source).read_bytes())


def _relative(paths: Iterable[str | os.PathLike], evidence: Path) -> list[str]:
    found = []
    for path in paths:
        try:
            found.append(Path(path).resolve().relative_to(evidence.resolve()).as_posix())
        except ValueError:
            found.append(str(path))
    return found


def _policy_summary(result, named: int = 5) -> str:
    """Counts by status, then the checks that failed or could not run (the Fail step quotes this line)."""
    findings = list(getattr(result, "findings", []))
    counts = Counter(str(getattr(f, "status", "?")) for f in findings)
    text = "policy scan: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings")
    blocking = [f"{f.check.id} {f.status} on {f.resource.id}" for f in findings if str(f.status) in (FAIL, ERROR)]
    if blocking:
        more = f" and {len(blocking) - named} more" if len(blocking) > named else ""
        text += "; " + "; ".join(blocking[:named]) + more
    return text


class GovernChecks:
    """The checks in order, sharing what each one learnt (the signer's public key, the ledger, the SHAP values)."""

    def __init__(self, inputs: GovernInputs, signer: Signer, context: GovernContext, run, scratch: Path,
                 model_signer: Signer | None = None) -> None:
        from governance.integrity.paths import signature_path

        # Two duties, two keys when given: ``model_signer`` signs the artefact; ``signer`` seals the evidence
        # (provenance, index, ledger, verdict). One key for both is allowed, and the audit pack then says so.
        self.inputs, self.signer, self.context, self.run = inputs, signer, context, run
        self.model_signer = model_signer or signer
        self.evidence = inputs.evidence
        self.artefact_uri = context.artefact_uri or str(inputs.model.resolve())
        # The signature lives beside the artefact (ARTEFACT.sig, on S3 too), where `governance verify`, scheduled
        # policy scans and the deployment gate look for it by default.
        self.signature = signature_path(self.artefact_uri)
        self.sha256 = hashing.sha256_file(inputs.model)
        self.verifier = PublicKeyVerifier(signer.public_key_pem())
        self.model_verifier = PublicKeyVerifier(self.model_signer.public_key_pem())
        self.public_key = scratch / "signer.pub.pem"
        self.public_key.write_bytes(signer.public_key_pem())
        self.model_public_key = scratch / "model-signer.pub.pem"
        self.model_public_key.write_bytes(self.model_signer.public_key_pem())
        self._ledger = None
        self._shap_values = None

    def actions(self) -> dict[str, Callable[[], CheckOutcome]]:
        return {"integrity": self.integrity, "lineage": self.lineage, "fairness": self.fairness,
                "explain": self.explain, "policy": self.policy, "evidence": self.evidence_index,
                "audit_pack": self.audit_pack}

    # --- the ledger: every check's outcome is one record --------------------------------------------------------------

    def ledger(self):
        if self._ledger is None:
            from governance.ledger import Ledger

            self._ledger = Ledger(self.inputs.ledger, self.signer)
        return self._ledger

    def record(self, outcome: CheckOutcome) -> None:
        """Append the outcome — PASS, FAIL or ERROR — to the ledger, with the digests of the evidence it wrote.

        A passing lineage or audit pack is already recorded by what produced it (the lineage recorder, ``governance
        pack``); every other outcome is recorded here, so a refusal is on the audit trail as surely as a pass. A
        ledger that cannot be written turns a PASS into ERROR (an unrecorded pass is no pass).
        """
        if outcome.status == SKIPPED or (outcome.status == PASS and outcome.name in RECORDED_BY_PRODUCER):
            return
        digests = {"model.tar.gz": self.sha256}
        for name in outcome.evidence:
            path = self.evidence / name
            if not Path(name).is_absolute() and path.is_file():
                digests[name] = hashing.sha256_file(path)
        try:
            self.ledger().append(LEDGER_EVENTS[outcome.name], actor=self.context.actor, subject=self.artefact_uri,
                                 digests=digests,
                                 details={"check": outcome.name, "status": outcome.status, "reason": outcome.reason,
                                          "message": outcome.message[:500]})
        except GovernanceError as err:
            outcome.message = f"{outcome.message}; the ledger could not record it: {err.message}"
            if outcome.status == PASS:
                outcome.status, outcome.reason = ERROR, err.reason

    # --- checks ---------------------------------------------------------------------------------------------------

    def integrity(self) -> CheckOutcome:
        from governance.integrity import sign_artefact, verify_artefact, write_manifest_evidence

        model = str(self.inputs.model)
        sign_artefact(model, self.model_signer, out=self.signature)  # refuses an unsafe archive
        verified = verify_artefact(model, signature=self.signature, verifier=self.model_verifier,
                                   raise_on_failure=False)
        write_manifest_evidence(self.evidence, verified)
        if not verified.passed:
            raise CheckFailed(verified.reason or "SIGNATURE_INVALID", verified.message)
        return CheckOutcome("integrity", PASS, f"archive safe; signed by {self.model_signer.identity} and verified",
                            evidence=["manifest.json"])

    def lineage(self) -> CheckOutcome:
        from governance.lineage import record_pipeline_run

        if self.run is None:
            raise InputError("LINEAGE_INPUTS_MISSING", "no pipeline run to record the lineage of")
        _copy_into(self.evidence, self.inputs.profile, "dataset.json")
        _copy_into(self.evidence, self.inputs.evaluation, "evaluation.json")
        _copy_into(self.evidence, self.inputs.training_metadata, "training.json")
        run = self.run() if callable(self.run) else self.run  # the container builds its run from the inputs
        # The recorder appends the pipeline-run event (with the chain's digests) to the ledger itself.
        written = record_pipeline_run(run, self.evidence, self.signer, ledger=self.ledger(),
                                      actor=self.context.actor)
        return CheckOutcome("lineage", PASS, "provenance recorded and signed, one statement per step",
                            evidence=_relative(written, self.evidence))

    def _shap(self):
        """TreeSHAP on the validation split, computed once and shared by the fairness and explain checks."""
        if self._shap_values is None:
            from governance.explain import load_inputs, tree_shap

            self._shap_values = tree_shap(load_inputs(str(self.inputs.model), str(self.inputs.validation)))
        return self._shap_values

    def _fairness_policy(self):
        """``fairness.yaml`` from the policy folder when it has one, else the packaged default."""
        from governance.fairness import load_policy

        folder = self.inputs.policies_dir
        candidate = Path(folder) / "fairness.yaml" if folder else None
        return load_policy(candidate if candidate is not None and candidate.is_file() else None)

    def fairness(self) -> CheckOutcome:
        from governance.fairness import assess_fairness

        result = assess_fairness(str(self.inputs.model), str(self.inputs.validation), self._fairness_policy(),
                                 self.evidence, str(self.inputs.evaluation), shap_values=self._shap())
        return self._graded("fairness", result, "fairness.json", "FAIRNESS_RED")

    def explain(self) -> CheckOutcome:
        from governance.explain import explain_model

        result = explain_model(str(self.inputs.model), str(self.inputs.validation), self.evidence,
                               evaluation=str(self.inputs.evaluation), shap_values=self._shap(),
                               bands=self._fairness_policy().age.age_bands())
        return self._graded("explain", result, "explain.json", "EXPLAIN_RED")

    def _graded(self, name: str, result: dict, file: str, red_reason: str) -> CheckOutcome:
        grade = str(result.get("verdict", "")).lower() if isinstance(result, dict) else ""
        if grade not in ("green", "amber", "red"):
            raise Incomplete("NO_VERDICT", f"the {name} result carries no green/amber/red verdict")
        note = {"green": "within policy", "amber": "review advised (not blocking)",
                "red": "outside policy (blocking unless waived)"}[grade]
        return CheckOutcome(name, FAIL if grade == "red" else PASS, f"{name} verdict {grade}: {note}",
                            red_reason if grade == "red" else None, grade, [file])

    def policy_parameters(self) -> dict:
        """The deployment's own settings (its key, account and Object Lock default) and the model signer just
        used are what this scan trusts, exactly as the scheduled scan does; the lineage is in this run's evidence
        folder, signed by the evidence key. (An alias in the allow-list is resolved to its key ARN by the scan.)"""
        from governance.policy.stack_parameters import deployment_parameters

        return {
            **deployment_parameters(kms_key_arns=[self.context.allowed_kms_key or ""],
                                    account_ids=[self.context.trusted_account or ""],
                                    signing_keys=[str(self.model_public_key)],
                                    object_lock_mode=self.context.object_lock_mode,
                                    retention_days=self.context.retention_days),
            "evidence_dir": str(self.evidence),
            "lineage_signer_keys": [str(self.public_key)],
        }

    def policy(self) -> CheckOutcome:
        from governance.policy import scan, write_outputs

        targets = [self.artefact_uri, str(self.evidence)]
        # The data the model was trained on is governed too: an unencrypted input object is a finding.
        if self.context.data_uri and storage.is_s3_uri(self.context.data_uri):
            targets.append(self.context.data_uri)
        if self.context.training_job:
            targets.append(self.context.training_job)
        # The deployment's own settings (its key, its account) and the model signer just used are what this scan
        # trusts, exactly as the scheduled scan does; the lineage is in this run's evidence folder, signed by the
        # evidence key. (An alias in the allow-list is resolved to its key ARN by the scan itself.)
        result = scan(targets, self.inputs.policies_dir, parameters=self.policy_parameters())
        written = write_outputs(result, self.evidence)
        code = int(result.exit_code)
        status = {0: PASS, 1: FAIL}.get(code, ERROR)
        reason = {1: "POLICY_VIOLATION", 2: "BAD_POLICY", 3: "POLICY_SCAN_INCOMPLETE"}.get(code)
        return CheckOutcome("policy", status, _policy_summary(result), reason,
                            evidence=_relative(written.values(), self.evidence))

    def evidence_index(self) -> CheckOutcome:
        from governance.evidence import verify_index, write_index

        write_index(self.evidence, self.signer)
        listed = verify_index(self.evidence, self.verifier)
        return CheckOutcome("evidence", PASS, f"{len(listed)} evidence files indexed, signed and re-verified",
                            evidence=["index.json", "index.json.sig"])

    def audit_pack(self) -> CheckOutcome:
        """Rendered by the ``governance pack`` command (the pipeline never imports the report renderer)."""
        pack = self.inputs.out / AUDIT_PACK
        command = [sys.executable, "-m", "governance", "pack", str(self.evidence), "-o", str(pack),
                   "--evidence-key", str(self.public_key), "--ledger", str(self.inputs.ledger)]
        key_arn = getattr(self.signer, "key_arn", None)
        if key_arn:
            command += ["--kms-key-id", key_arn]
        elif self.inputs.key_path:
            command += ["--key", str(self.inputs.key_path)]
        else:
            raise InputError("NO_PACK_KEY", "the audit pack must be signed: give the signing key's PEM path "
                                            "(key_path) or sign with KMS")
        if self.inputs.governance_file:
            command += ["--governance", str(self.inputs.governance_file)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not pack.is_file():
            line = (done.stderr.strip().splitlines() or ["no message"])[-1]
            error = CheckFailed if done.returncode == 1 else Incomplete
            raise error("AUDIT_PACK_FAILED", f"governance pack exited {done.returncode}: {line}")
        return CheckOutcome("audit_pack", PASS, "audit pack rendered from the signed evidence and signed",
                            evidence=[str(pack.resolve()), f"{pack.resolve()}.sig"])


__all__ = ["LEDGER_EVENTS", "GovernChecks", "GovernContext", "GovernInputs", "run_check"]
