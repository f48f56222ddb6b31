"""Govern step: sign, record lineage, assess fairness and explanations, scan against policy, render the audit pack —
then write ``governance.json``, the verdict the registration condition reads.

The same function runs in the SageMaker processing container and in the local runner. In a container::

    python -m pipeline.steps.govern --kms-key-id alias/quickloan-model-signing \\
        --artefact-uri s3://…/model.tar.gz --evidence-uri s3://…/evidence --publish-uri s3://…/governance

(inputs under ``/opt/ml/processing/…``; see :func:`main`). Locally, through the runner's ``govern=`` hook::

    run_pipeline(data, workdir, govern=govern_hook(key="keys/signing-key.pem", audit_pack=True))

Every check ends as PASS, FAIL (it ran and found a problem), ERROR (it could not run — never a pass) or SKIPPED
(the caller turned it off; reported, never silently). The verdict is PASS only when no check FAILed or ERRORed.
``governance.json`` is signed too (``governance.json.sig``, a DSSE envelope whose subject is the artefact), so the
deployment gate (``governance approve``) can tell a real verdict from an edited one.

In the container the step exits 0 once the verdict is written, whatever it says: the pipeline's condition is the
gate, and its Fail step quotes the verdict's summary. ``--strict`` exits with the verdict's code instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from governance import __version__, hashing, storage
from governance.errors import CheckFailed, GovernanceError, Incomplete, InputError
from governance.jsonio import read_json, write_json
from governance.signing import PublicKeyVerifier, Signer, dsse

VERDICT_FILE = "governance.json"
VERDICT_SIGNATURE = "governance.json.sig"
VERDICT_FORMAT = "quickloan-governance/verdict/v1"
VERDICT_PREDICATE_TYPE = "https://quickloan-governance.dev/verdict/v1"
AUDIT_PACK = "audit-pack.pdf"
PASS, FAIL, ERROR, SKIPPED = "PASS", "FAIL", "ERROR", "SKIPPED"
# In the order they run; each later check can use what the earlier ones wrote into the evidence folder.
CHECKS = ("integrity", "lineage", "fairness", "explain", "policy", "evidence", "audit_pack")

PROCESSING = "/opt/ml/processing"
DEFAULTS = {
    "model": f"{PROCESSING}/model/model.tar.gz",
    "train": f"{PROCESSING}/train/train.csv",
    "validation": f"{PROCESSING}/validation/validation.csv",
    "profile": f"{PROCESSING}/profile/profile.json",
    "evaluation": f"{PROCESSING}/evaluation/evaluation.json",
    "evidence_dir": f"{PROCESSING}/evidence",
    "out_dir": f"{PROCESSING}/governance",
}


@dataclass
class CheckOutcome:
    """One check's result: what ran, how it ended, why, and which evidence files it wrote."""

    name: str
    status: str
    message: str
    reason: str | None = None
    verdict: str | None = None  # green | amber | red, for checks that grade rather than pass/fail
    evidence: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def blocking(self) -> bool:
        return self.status in (FAIL, ERROR)

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value not in (None, [])}


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
    actor: str = "governance-pipeline"


@dataclass
class Verdict:
    """The content of ``governance.json`` and where it was written."""

    status: str
    summary: str
    artefact: dict
    checks: list[CheckOutcome]
    customer_metadata: dict[str, str]
    digests: dict[str, str]
    context: dict
    generated_at: str
    path: Path | None = None

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def exit_code(self) -> int:
        return {PASS: 0, FAIL: CheckFailed.exit_code}.get(self.status, Incomplete.exit_code)

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.reason or c.status}: {c.message}" for c in self.checks if c.blocking]

    def to_dict(self) -> dict:
        return {
            "format": VERDICT_FORMAT,
            "status": self.status,
            "passed": self.passed,
            "summary": self.summary,
            "reasons": self.reasons,
            "artefact": self.artefact,
            "checks": [c.to_dict() for c in self.checks],
            "customer_metadata": self.customer_metadata,
            "digests": self.digests,
            "context": self.context,
            "generated_at": self.generated_at,
            "generator": {"package": "quickloan-governance", "version": __version__},
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _join(base: str | None, name: str, local: Path) -> str:
    """The published location of ``name``: under ``base`` (an S3 URI) when given, else the local path."""
    return f"{base.rstrip('/')}/{name}" if base else str(local.resolve())


def _run_check(name: str, action: Callable[[], CheckOutcome]) -> CheckOutcome:
    """Run one check; anything it raises becomes FAIL (a check failed) or ERROR (it could not run)."""
    import time

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


class _Govern:
    """The checks in order, sharing what each one learnt (the signer's public key, the ledger)."""

    def __init__(self, model: Path, validation: Path, evaluation: Path, evidence: Path, out: Path, signer: Signer,
                 scratch: Path, *, train, profile, training_metadata, run, context: GovernContext, policies_dir,
                 governance_file, ledger_path: Path, key_path) -> None:
        from governance.integrity.paths import signature_path

        self.model, self.validation, self.evaluation = model, validation, evaluation
        self.evidence, self.out, self.signer = evidence, out, signer
        self.train, self.profile, self.training_metadata, self.run = train, profile, training_metadata, run
        self.context, self.key_path = context, key_path
        self.policies_dir, self.governance_file, self.ledger_path = policies_dir, governance_file, ledger_path
        self.artefact_uri = context.artefact_uri or str(model.resolve())
        # The signature lives beside the artefact (ARTEFACT.sig, on S3 too), where `governance verify`, scheduled
        # policy scans and the deployment gate look for it by default.
        self.signature = signature_path(self.artefact_uri)
        self.sha256 = hashing.sha256_file(model)
        self.verifier = PublicKeyVerifier(signer.public_key_pem())
        self.public_key = scratch / "signer.pub.pem"
        self.public_key.write_bytes(signer.public_key_pem())
        self._ledger = None
        self._shap_values = None

    # --- the ledger: every check's outcome is one record --------------------------------------------------------------

    def ledger(self):
        if self._ledger is None:
            from governance.ledger import Ledger

            self._ledger = Ledger(self.ledger_path, self.signer)
        return self._ledger

    def record(self, event: str, outcome: CheckOutcome, digests: dict[str, str] | None = None) -> None:
        """Append the outcome to the ledger; a ledger that cannot be written makes the check an ERROR."""
        try:
            self.ledger().append(event, actor=self.context.actor, subject=self.artefact_uri,
                                 digests={"model.tar.gz": self.sha256, **(digests or {})},
                                 details={"check": outcome.name, "status": outcome.status, "reason": outcome.reason,
                                          "message": outcome.message[:500]})
        except GovernanceError as err:
            outcome.status, outcome.reason = ERROR, err.reason
            outcome.message = f"{outcome.message}; the ledger could not record it: {err.message}"

    # --- checks ---------------------------------------------------------------------------------------------------

    def integrity(self) -> CheckOutcome:
        from governance.integrity import sign_artefact, verify_artefact, write_manifest_evidence

        sign_artefact(str(self.model), self.signer, out=self.signature)  # refuses an unsafe archive
        verified = verify_artefact(str(self.model), signature=self.signature, verifier=self.verifier,
                                   raise_on_failure=False)
        write_manifest_evidence(self.evidence, verified)
        if not verified.passed:
            raise CheckFailed(verified.reason or "SIGNATURE_INVALID", verified.message)
        outcome = CheckOutcome("integrity", PASS, f"archive safe; signed by {self.signer.identity} and verified",
                               evidence=["manifest.json"])
        self.record("sign", outcome)
        return outcome

    def lineage(self) -> CheckOutcome:
        from governance.lineage import record_pipeline_run

        _copy_into(self.evidence, self.profile, "dataset.json")
        _copy_into(self.evidence, self.evaluation, "evaluation.json")
        _copy_into(self.evidence, self.training_metadata, "training.json")
        # The recorder appends the pipeline-run event (with the chain's digests) to the ledger itself.
        written = record_pipeline_run(self.run if self.run is not None else self._container_run(), self.evidence,
                                      self.signer, ledger=self.ledger(), actor=self.context.actor)
        files = _relative(written, self.evidence)  # the record iterates over the files it wrote
        return CheckOutcome("lineage", PASS, "provenance recorded and signed, one statement per step",
                            evidence=files)

    def _shap(self):
        """TreeSHAP on the validation split, computed once and shared by the fairness and explain checks."""
        if self._shap_values is None:
            from governance.explain import load_inputs, tree_shap

            self._shap_values = tree_shap(load_inputs(str(self.model), str(self.validation)))
        return self._shap_values

    def _fairness_policy(self):
        """``fairness.yaml`` from the policy folder when it has one, else the packaged default."""
        from governance.fairness import load_policy

        candidate = Path(self.policies_dir) / "fairness.yaml" if self.policies_dir else None
        return load_policy(candidate if candidate is not None and candidate.is_file() else None)

    def fairness(self) -> CheckOutcome:
        from governance.fairness import assess_fairness

        result = assess_fairness(str(self.model), str(self.validation), self._fairness_policy(), self.evidence,
                                 str(self.evaluation), shap_values=self._shap())
        return self._graded("fairness", result, "fairness.json", "FAIRNESS_RED")

    def explain(self) -> CheckOutcome:
        from governance.explain import explain_model

        result = explain_model(str(self.model), str(self.validation), self.evidence, evaluation=str(self.evaluation),
                               shap_values=self._shap(), bands=self._fairness_policy().age.age_bands())
        return self._graded("explain", result, "explain.json", "EXPLAIN_RED")

    def _graded(self, name: str, result: dict, file: str, red_reason: str) -> CheckOutcome:
        grade = str(result.get("verdict", "")).lower() if isinstance(result, dict) else ""
        if grade not in ("green", "amber", "red"):
            raise Incomplete("NO_VERDICT", f"the {name} result carries no green/amber/red verdict")
        status = FAIL if grade == "red" else PASS
        note = {"green": "within policy", "amber": "review advised (not blocking)",
                "red": "outside policy (blocking unless waived)"}[grade]
        outcome = CheckOutcome(name, status, f"{name} verdict {grade}: {note}", red_reason if grade == "red" else None,
                               grade, [file])
        self.record(name, outcome, {file: hashing.sha256_file(self.evidence / file)})
        return outcome

    def policy(self) -> CheckOutcome:
        from governance.policy import scan, write_outputs

        targets = [self.artefact_uri, str(self.evidence)]
        if self.context.training_job:
            targets.append(self.context.training_job)
        # The signer just used is the trusted one for this scan; the lineage is in this run's evidence folder.
        parameters = {"trusted_signer_keys": [str(self.public_key)], "evidence_dir": str(self.evidence)}
        result = scan(targets, self.policies_dir, parameters=parameters)
        written = write_outputs(result, self.evidence)
        code = int(result.exit_code)
        status = {0: PASS, 1: FAIL}.get(code, ERROR)
        reason = {1: "POLICY_VIOLATION", 2: "BAD_POLICY", 3: "POLICY_SCAN_INCOMPLETE"}.get(code)
        outcome = CheckOutcome("policy", status, _policy_summary(result), reason,
                               evidence=_relative(written.values(), self.evidence))
        self.record("scan", outcome, {"policy.json": hashing.sha256_file(self.evidence / "policy.json")})
        return outcome

    def evidence_index(self) -> CheckOutcome:
        from governance.evidence import verify_index, write_index

        write_index(self.evidence, self.signer)
        listed = verify_index(self.evidence, self.verifier)
        return CheckOutcome("evidence", PASS, f"{len(listed)} evidence files indexed, signed and re-verified",
                            evidence=["index.json", "index.json.sig"])

    def audit_pack(self) -> CheckOutcome:
        """Rendered by the ``governance pack`` command (the pipeline never imports the report renderer)."""
        pack = self.out / AUDIT_PACK
        command = [sys.executable, "-m", "governance", "pack", str(self.evidence), "-o", str(pack),
                   "--evidence-key", str(self.public_key), "--ledger", str(self.ledger_path)]
        key_arn = getattr(self.signer, "key_arn", None)
        if key_arn:
            command += ["--kms-key-id", key_arn]
        elif self.key_path:
            command += ["--key", str(self.key_path)]
        else:
            raise InputError("NO_PACK_KEY", "the audit pack must be signed: give the signing key's PEM path "
                                            "(key_path) or sign with KMS")
        if self.governance_file:
            command += ["--governance", str(self.governance_file)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not pack.is_file():
            line = (done.stderr.strip().splitlines() or ["no message"])[-1]
            error = CheckFailed if done.returncode == 1 else Incomplete
            raise error("AUDIT_PACK_FAILED", f"governance pack exited {done.returncode}: {line}")
        return CheckOutcome("audit_pack", PASS, "audit pack rendered from the signed evidence and signed",
                            evidence=[str(pack.resolve()), f"{pack.resolve()}.sig"])

    # --- the container's view of the run (the runner passes a PipelineRun instead) ---------------------------------

    def _container_run(self) -> dict:
        """The pipeline's steps as the lineage recorder reads them, from the files this step was given."""
        context = self.context
        if self.train is None or self.profile is None:
            raise InputError("LINEAGE_INPUTS_MISSING", "the train split and the dataset profile are needed to record "
                                                       "the lineage (--train, --profile)")
        split = read_json(self.profile).get("split", {})
        training = _training_job(context.training_job)
        steps = [
            {"name": "process", "module": "pipeline.steps.process",
             "parameters": {"validation_fraction": split.get("validation_fraction"), "seed": split.get("seed")},
             "inputs": {"dataset": context.data_uri} if context.data_uri else {},
             "outputs": {"train": str(self.train), "validation": str(self.validation), "profile": str(self.profile)},
             "image_uri": context.image_uri},
            {"name": "train", "module": "pipeline.steps.train", "parameters": training.get("parameters", {}),
             "inputs": {"train": str(self.train), "validation": str(self.validation)},
             "outputs": {"model": str(self.model)},
             "job_arn": context.training_job, "image_uri": context.training_image_uri,
             **training.get("times", {})},
            {"name": "evaluate", "module": "pipeline.steps.evaluate",
             "parameters": {"decision_threshold": context.decision_threshold},
             "inputs": {"model": str(self.model), "validation": str(self.validation)},
             "outputs": {"evaluation": str(self.evaluation)}, "image_uri": context.image_uri},
        ]
        for step in steps:
            for key, empty in (("started_at", ""), ("finished_at", ""), ("seconds", 0.0)):
                step.setdefault(key, empty)
            for key in ("image_uri", "job_arn"):
                if not step.get(key):
                    step.pop(key, None)
        return {"steps": steps, "execution": context.execution}


def _training_job(arn: str | None) -> dict:
    """Hyperparameters and times of the SageMaker training job, for its provenance; empty when not on SageMaker.

    Only a description is lost if the call fails (the job's ARN and image are recorded either way).
    """
    if not arn or not arn.startswith("arn:"):
        return {}
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        job = boto3.client("sagemaker", region_name=arn.split(":")[3]).describe_training_job(
            TrainingJobName=arn.rsplit("/", 1)[-1])
    except (ClientError, BotoCoreError):
        return {}
    started, finished = job.get("TrainingStartTime"), job.get("TrainingEndTime")
    times = {}
    if started and finished:
        times = {"started_at": started.isoformat(), "finished_at": finished.isoformat(),
                 "seconds": round((finished - started).total_seconds(), 3)}
    return {"parameters": {"hyperparameters": job.get("HyperParameters", {}), "runner": "SageMaker XGBoost algorithm"},
            "times": times}


def _policy_summary(result) -> str:
    from collections import Counter

    counts = Counter(getattr(f, "status", "?") for f in getattr(result, "findings", []))
    return "policy scan: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no findings")


def _summary(checks: list[CheckOutcome], status: str) -> str:
    if status == PASS:
        graded = [f"{c.name} {c.verdict}" for c in checks if c.verdict]
        skipped = [c.name for c in checks if c.status == SKIPPED]
        extra = (f"; {', '.join(graded)}" if graded else "") + (f"; skipped: {', '.join(skipped)}" if skipped else "")
        return f"every blocking check passed{extra}"
    return "; ".join(f"{c.name} {c.status} ({c.reason})" for c in checks if c.blocking)


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
) -> Verdict:
    """Run every governance check on one trained model and write the signed verdict ``OUT_DIR/governance.json``.

    ``run`` is the local runner's :class:`~pipeline.runner.PipelineRun` (its step records feed the lineage); in a
    container the records are rebuilt from the inputs and ``context``. ``skip`` names checks (from
    :data:`CHECKS`) not to run; they are reported as SKIPPED. The signature is written beside the artefact
    (``context.artefact_uri``, else ``model``) as ``ARTEFACT.sig``; ``ledger_path`` defaults to
    ``EVIDENCE_DIR/ledger.jsonl``. ``key_path`` (the signer's PEM file) signs the audit pack; a KMS signer needs
    none.
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
    with tempfile.TemporaryDirectory(prefix="govern-") as scratch:
        state = _Govern(
            model, validation, evaluation, evidence, out, signer, Path(scratch),
            train=Path(train) if train else None, profile=Path(profile) if profile else None,
            training_metadata=Path(training_metadata) if training_metadata else None, run=run, context=context,
            policies_dir=policies_dir, governance_file=governance_file,
            ledger_path=Path(ledger_path) if ledger_path else evidence / "ledger.jsonl", key_path=key_path,
        )
        actions = {"integrity": state.integrity, "lineage": state.lineage, "fairness": state.fairness,
                   "explain": state.explain, "policy": state.policy, "evidence": state.evidence_index,
                   "audit_pack": state.audit_pack}
        checks: list[CheckOutcome] = []
        for name in CHECKS:
            if name in skip:
                checks.append(CheckOutcome(name, SKIPPED, "turned off by the caller"))
                continue
            if name == "audit_pack" and checks[-1].status != PASS:
                checks.append(CheckOutcome(name, ERROR, "not rendered: the evidence index is not sound",
                                           "NO_EVIDENCE"))
                continue
            on_check(name)
            checks.append(_run_check(name, actions[name]))

    statuses = {c.status for c in checks}
    status = FAIL if FAIL in statuses else ERROR if ERROR in statuses else PASS
    pack = out / AUDIT_PACK
    local_signature = not storage.is_s3_uri(state.signature)
    metadata = {
        "artefact_sha256": state.sha256,
        "signature_uri": str(Path(state.signature).resolve()) if local_signature else state.signature,
        "evidence_uri": context.evidence_uri or str(evidence.resolve()),
        "governance_uri": _join(context.publish_uri, VERDICT_FILE, out / VERDICT_FILE),
    }
    if any(c.name == "audit_pack" and c.status == PASS for c in checks):
        metadata["audit_pack_uri"] = _join(context.publish_uri, AUDIT_PACK, pack)
    digests = {
        key: f"sha256:{hashing.sha256_file(evidence / name)}"
        for key, name in (("evaluation", "evaluation.json"), ("fairness", "fairness.json"), ("explain", "explain.json"))
        if (evidence / name).is_file()
    }
    verdict = Verdict(
        status=status,
        summary=_summary(checks, status),
        artefact={"uri": state.artefact_uri, "sha256": state.sha256, "signature_uri": metadata["signature_uri"],
                  "signer": signer.identity},
        checks=checks,
        customer_metadata=metadata,
        digests=digests,
        context={key: value for key, value in asdict(context).items() if value is not None},
        generated_at=_now(),
    )
    verdict.path = write_verdict(verdict, out, signer)
    return verdict


def verdict_statement(verdict: dict) -> dict:
    """The in-toto statement ``governance.json.sig`` signs: the artefact as subject, the verdict as predicate."""
    artefact = verdict["artefact"]
    name = Path(str(artefact["uri"]).rstrip("/")).name or "model.tar.gz"
    return dsse.statement([{"name": name, "digest": {"sha256": artefact["sha256"]}}], VERDICT_PREDICATE_TYPE, verdict)


def write_verdict(verdict: Verdict, out_dir: str | os.PathLike, signer: Signer) -> Path:
    """``governance.json`` and its DSSE signature; the signature first, so a verdict file never stands unsigned."""
    from governance.jsonio import dumps
    from governance.storage import write_bytes_atomic

    content = verdict.to_dict()
    out = Path(out_dir)
    write_bytes_atomic(out / VERDICT_SIGNATURE, dumps(dsse.sign_statement(verdict_statement(content), signer)))
    return Path(write_json(out / VERDICT_FILE, content))


def read_verdict(path: str | os.PathLike, verifier=None) -> dict:
    """Read ``governance.json`` (local or ``s3://``); with a ``verifier`` its signature must verify and match."""
    from governance import storage
    from governance.jsonio import MAX_BYTES, loads

    location = str(path)
    try:
        verdict = loads(storage.read_bytes(location, max_bytes=MAX_BYTES), what=location)
    except (ValueError, UnicodeDecodeError):
        raise InputError("MALFORMED_VERDICT", f"{location}: not a JSON governance verdict") from None
    if not isinstance(verdict, dict) or verdict.get("format") != VERDICT_FORMAT:
        raise InputError("MALFORMED_VERDICT", f"{location}: not a {VERDICT_FORMAT} document")
    if verifier is not None:
        signature = location[: -len(VERDICT_FILE)] + VERDICT_SIGNATURE if location.endswith(VERDICT_FILE) \
            else location + ".sig"
        try:
            envelope = loads(storage.read_bytes(signature, max_bytes=MAX_BYTES), what=signature)
        except (ValueError, UnicodeDecodeError):
            raise InputError("MALFORMED_ENVELOPE", f"{signature}: not a DSSE envelope") from None
        except InputError as err:
            if err.reason in ("FILE_NOT_FOUND", "NOT_FOUND"):
                raise CheckFailed("VERDICT_UNSIGNED", f"{location}: no signature beside it ({signature})") from None
            raise
        signed = dsse.verify_envelope(envelope, verifier)
        if signed != verdict_statement(verdict):
            raise CheckFailed("VERDICT_TAMPERED", f"{location}: differs from what its signature covers")
    return verdict


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
):
    """The runner's ``govern=`` hook: :func:`govern` on a local :class:`~pipeline.runner.PipelineRun`.

    Lays out the work folder as ``governance demo`` shows it: ``model/model.tar.gz.sig``, ``evidence/``,
    ``governance.json`` (+ ``.sig``) and, with ``audit_pack=True``, ``audit-pack.pdf`` (+ ``.sig``) at the top.
    Sign with ``key`` (a private key PEM path; needed to sign the audit pack) or a ``signer``::

        run_pipeline(data, workdir, govern=govern_hook(key="keys/signing-key.pem", audit_pack=True))
    """
    from pipeline.runner import GovernVerdict

    if signer is None:
        if key is None:
            raise InputError("NO_SIGNER", "local_govern needs a signing key (key=PEM path) or a signer")
        from governance.signing import load_signer

        signer = load_signer(key)

    training_metadata = Path(run.model_path).parent / "training.json"
    verdict = govern(
        run.model_path, run.validation_path, run.evaluation_path, run.evidence_dir, signer,
        out_dir=run.workdir, train=run.train_path, profile=run.evidence_dir / "dataset.json",
        training_metadata=training_metadata if training_metadata.is_file() else None, run=run,
        context=GovernContext(data_uri=str(run.data), auc_threshold=run.auc_threshold, actor="governance-demo"),
        key_path=key, policies_dir=policies_dir, governance_file=governance_file,
        skip=tuple(skip) + (() if audit_pack else ("audit_pack",)), on_check=on_check,
    )
    return GovernVerdict(passed=verdict.passed, reasons=verdict.reasons, customer_metadata=verdict.customer_metadata)


def govern_hook(**options) -> Callable:
    """:func:`local_govern` with its options bound, as the runner's ``govern=`` hook (recorded under this module)::

        run_pipeline(data, workdir, govern=govern_hook(key="keys/signing-key.pem", audit_pack=True))
    """

    def hook(run):
        return local_govern(run, **options)

    return hook


def _signer(args: argparse.Namespace) -> Signer:
    if args.kms_key_id:
        from governance.signing.kms import KmsSigner

        return KmsSigner(args.kms_key_id)
    if args.key:
        from governance.signing import load_signer

        return load_signer(args.key)
    raise InputError("NO_SIGNER", "give --kms-key-id (in SageMaker) or --key PEM (locally) to sign with")


def build_parser() -> argparse.ArgumentParser:
    """The container entry point's flags (the pipeline definition passes exactly these)."""
    parser = argparse.ArgumentParser(prog="pipeline.steps.govern", description=__doc__.splitlines()[0])
    for name in ("model", "train", "validation", "profile", "evaluation"):
        parser.add_argument(f"--{name}", default=DEFAULTS[name])
    parser.add_argument("--evidence-dir", default=DEFAULTS["evidence_dir"])
    parser.add_argument("--out-dir", default=DEFAULTS["out_dir"], help="the verdict and the audit pack")
    signing = parser.add_mutually_exclusive_group()
    signing.add_argument("--kms-key-id", help="KMS key (ECC_NIST_P256, SIGN_VERIFY): id, ARN or alias")
    signing.add_argument("--key", help="local ECDSA P-256 private key PEM")
    parser.add_argument("--artefact-uri", help="the artefact as it will be registered (s3://…/model.tar.gz)")
    parser.add_argument("--data-uri", help="the raw data the process step read")
    parser.add_argument("--evidence-uri", help="where the evidence folder is published")
    parser.add_argument("--publish-uri", help="where --out-dir is published")
    parser.add_argument("--auc-threshold", type=float)
    parser.add_argument("--decision-threshold", type=float)
    parser.add_argument("--training-job", help="training job ARN")
    parser.add_argument("--execution", help="pipeline execution ARN")
    parser.add_argument("--image-uri", help="the image the process, evaluate and govern steps ran")
    parser.add_argument("--training-image-uri", help="the image the training job ran")
    parser.add_argument("--policies", help="policy folder (default: the shipped policies)")
    parser.add_argument("--governance-file", help="model governance YAML for the audit pack")
    parser.add_argument("--skip", action="append", default=[], choices=CHECKS, help="turn a check off (reported)")
    parser.add_argument("--strict", action="store_true", help="exit with the verdict's code (default: 0 once written)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipeline.steps import run_entry_point

    outcome: dict = {}

    def run() -> None:
        train = args.train if Path(args.train).is_file() else None
        profile = args.profile if Path(args.profile).is_file() else None
        context = GovernContext(
            artefact_uri=args.artefact_uri, data_uri=args.data_uri, evidence_uri=args.evidence_uri,
            publish_uri=args.publish_uri, auc_threshold=args.auc_threshold,
            decision_threshold=args.decision_threshold, training_job=args.training_job, execution=args.execution,
            image_uri=args.image_uri, training_image_uri=args.training_image_uri,
        )
        verdict = govern(
            args.model, args.validation, args.evaluation, args.evidence_dir, _signer(args), out_dir=args.out_dir,
            train=train, profile=profile, context=context, key_path=args.key, policies_dir=args.policies,
            governance_file=args.governance_file, skip=args.skip,
            on_check=lambda name: print(f"govern: {name}", file=sys.stderr, flush=True),
        )
        print(f"govern: {verdict.status}: {verdict.summary}", file=sys.stderr, flush=True)
        outcome["verdict"] = verdict

    code = run_entry_point(run)
    if code != 0 or not args.strict:
        return code
    return outcome["verdict"].exit_code


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["CHECKS", "CheckOutcome", "GovernContext", "Verdict", "build_parser", "govern", "govern_hook",
           "local_govern", "main", "read_verdict"]
