"""``validate``: the validator's independent assessment of one trained model, signed with the validator's own key.

    result = validate("work/model/model.tar.gz", "work/evidence", load_signer("validator.pem"))
    result.passed, result.path.name          # (True, 'validation.json')

Everything is judged on the untouched test split the process step recorded (train and validation serve only to
fit the challenger and the retrains, and as the attacker's pool). Writes ``validation.json`` and
``validation.json.sig`` (a DSSE envelope over an in-toto statement naming ``validation.json`` and the model) into
``out_dir`` (default: the evidence folder); in the evidence folder it also appends a ``validate`` ledger record and
re-seals the index with the validator's key.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy.stats import norm
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from governance import hashing
from governance.credit_data import FEATURES
from governance.errors import CheckFailed, InputError
from governance.jsonio import dumps, read_json
from governance.signing import Signer, dsse
from governance.storage import write_bytes_atomic
from governance.validation.challenger import BinnedLogistic
from governance.validation.charts import write_charts
from governance.validation.curves import roc_points
from governance.validation.data import load_splits, predict
from governance.validation.delong import delong_test
from governance.validation.fairness import fairness_side_by_side
from governance.validation.policy import ValidationPolicy, load_validation_policy
from governance.validation.robustness import robustness
from governance.validation.security import extraction, label_flip, membership_inference
from governance.validation.sensitivity import sensitivity
from governance.validation_record import PREDICATE_TYPE, VALIDATION_FILE, VALIDATION_SIGNATURE, read_validation

SCHEMA = "quickloan-governance/validation/v1"
PASS, FAIL, ERROR = "PASS", "FAIL", "ERROR"


@dataclass
class ValidationResult:
    document: dict
    path: Path | str  # an s3:// URI when the evidence is in S3

    @property
    def passed(self) -> bool:
        return self.document["status"] == PASS

    @property
    def blocking_failures(self) -> list[dict]:
        return [c for c in self.document["checks"] if c["blocking"] and c["status"] != PASS]


def _discrimination(y: np.ndarray, scores: np.ndarray) -> dict:
    fpr, tpr, _ = roc_curve(y, scores)
    return {"auc": float(roc_auc_score(y, scores)), "ks": float(np.max(tpr - fpr)),
            "brier": float(brier_score_loss(y, scores)), "roc": roc_points(y, scores)}


def _judge(policy: ValidationPolicy, check: str, value, detail: str) -> dict:
    rule = policy.checks[check]
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        status = ERROR
    else:
        ok = value >= rule.limit if rule.direction == "min" else value <= rule.limit
        status = PASS if ok else FAIL
    return {"id": check, "status": status, "value": None if status == ERROR else float(value), "limit": rule.limit,
            "direction": rule.direction, "blocking": rule.blocking, "description": rule.description,
            "detail": detail}


def _model_signer_hint(model: str | os.PathLike, evidence: Path) -> str | None:
    """The key hint of the model's signer: from the OMS bundle beside the artefact, else the verdict's signer."""
    candidates = [(Path(f"{model}.sig"), lambda d: d["verificationMaterial"]["publicKey"]["hint"]),
                  (evidence.parent / "governance.json",
                   lambda d: d["artefact"]["signer"].removeprefix("key:sha256:"))]
    for path, pick in candidates:
        if path.is_file():
            try:
                return str(pick(read_json(path))) or None
            except (InputError, KeyError, TypeError, AttributeError):
                continue
    return None


def _previous_model_signer(evidence: Path) -> str | None:
    """A re-validation keeps the model signer recorded by the first (the index is then the validator's)."""
    path = evidence / VALIDATION_FILE
    if path.is_file():
        try:
            return read_json(path).get("independence", {}).get("model_signer_key_hint")
        except (InputError, AttributeError):
            return None
    return None


def validate(
    model: str | os.PathLike,
    evidence_dir: str | os.PathLike,
    signer: Signer,
    *,
    policy=None,
    out_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    actor: str = "model-validator",
    ledger_signer: Signer | None = None,
    progress: Callable[[str], None] = lambda message: None,
    artefact_label: str | None = None,
    ledger: str | os.PathLike | None = None,
) -> ValidationResult:
    """Validate ``model`` against the splits recorded in ``evidence_dir``; write and sign ``validation.json``.

    ``ledger_signer`` signs the evidence ledger's head for the ``validate`` record (default: the validator's key; give
    the ledger's own key to keep its head verifiable with one key, as ``governance approve --ledger-key`` does).
    ``artefact_label`` is where the model is recorded as living (default: ``model``; an S3 URI when read from S3).
    ``ledger`` is where the ``validate`` record goes (default: the evidence folder's ``ledger.jsonl``; a ledger whose
    head another key signs, such as a pipeline's KMS-signed one, takes the deployment's ``s3://…/ledger/`` instead).
    """
    started = time.perf_counter()
    policy = policy if isinstance(policy, ValidationPolicy) else load_validation_policy(policy)
    evidence = Path(evidence_dir)
    if not evidence.is_dir():
        raise InputError("NOT_A_DIRECTORY", f"{evidence}: no such evidence folder")
    for name in ("evaluation.json", "training.json"):
        if not (evidence / name).is_file():
            raise InputError("FILE_NOT_FOUND", f"{evidence / name}: the evidence folder has no {name}")
    evaluation, training = read_json(evidence / "evaluation.json"), read_json(evidence / "training.json")
    from governance.model_artifact import load_booster

    sha256 = hashing.sha256_file(model)
    recorded = evaluation.get("model", {}).get("artefact_sha256")
    if sha256 != recorded:
        raise CheckFailed("DIGEST_MISMATCH", f"{model} hashes to {sha256[:16]}…, the evidence evaluated "
                                             f"{str(recorded)[:16]}…: not the model this evidence is about")
    booster = load_booster(model)
    threshold = float(evaluation.get("decision", {}).get("threshold", 0.2))
    params = dict(training.get("hyperparameters") or {})
    if not params:
        raise InputError("NO_HYPERPARAMETERS", f"{evidence / 'training.json'}: no hyperparameters recorded")
    out = Path(out_dir) if out_dir is not None else evidence
    if out.resolve() == evidence.resolve():  # refused now, not after minutes of work and a written validation.json
        from governance.ledger import Ledger

        Ledger(ledger or evidence / "ledger.jsonl", ledger_signer or signer).check_appendable()
    progress("reading the recorded splits")
    data = load_splits(evidence, data_dir)
    model_signer = _model_signer_hint(model, evidence) or _previous_model_signer(evidence)

    timings: dict[str, float] = {}
    mark = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round(now - mark[0], 3)
        mark[0] = now

    lap("load")
    progress("champion and challenger on the test split")
    champion = predict(booster, data.test.x)
    challenger_model = BinnedLogistic().fit(data.train.x, data.train.y)
    challenger = challenger_model.predict_proba(data.test.x)
    delong = delong_test(data.test.y, champion, challenger)
    z = delong["z"]
    p_challenger_better = float(norm.cdf(z)) if np.isfinite(z) else (0.0 if z < 0 else 1.0)
    comparison = {"split": "test", "rows": len(data.test.y), "champion": _discrimination(data.test.y, champion),
                  "challenger": {**_discrimination(data.test.y, challenger), **challenger_model.describe()},
                  "delong": {**delong, "a": "champion", "b": "challenger",
                             "p_value_challenger_better": p_challenger_better},
                  "fairness": fairness_side_by_side(evidence, data.test.x, data.test.y,
                                                    {"champion": champion, "challenger": challenger}, threshold)}

    progress("per-applicant elderly test")
    from governance.elderly_counterfactual import elderly_counterfactual

    features = __import__("pandas").DataFrame(data.test.x, columns=list(FEATURES))
    elderly = elderly_counterfactual(booster, features)
    elderly["split"] = "test"
    lap("challenger_and_elderly")

    sens = sensitivity(params, data, threshold, seeds=policy.sensitivity.seeds, rows=policy.retrain.rows,
                       rounds=policy.retrain.num_round, progress=progress)
    lap("sensitivity")
    progress("robustness: missing, perturbed and out-of-range inputs")
    robust = robustness(booster, data.test.x, threshold, policy.robustness.perturbation)
    lap("robustness")
    progress("security: membership inference")
    security = {"membership_inference": membership_inference(booster, data, policy.security.membership_rows,
                                                             policy.security.bootstrap)}
    progress("security: extraction")
    security["extraction"] = extraction(booster, data, threshold, policy.security.extraction_budgets,
                                        policy.security.extraction_repeats, policy.security.extraction_agreement)
    security["label_flip"] = label_flip(params, data, policy.security.label_flip_rates, policy.retrain.rows,
                                        policy.retrain.num_round, progress=progress)
    lap("security")

    checks = _checks(policy, comparison, elderly, sens, robust, security)
    blocking_failed = [c for c in checks if c["blocking"] and c["status"] != PASS]
    status = FAIL if blocking_failed else PASS
    document = {
        "schema": SCHEMA,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "status": status,
        "summary": (f"{len(blocking_failed)} blocking check(s) failed: "
                    + ", ".join(c["id"] for c in blocking_failed)) if blocking_failed
        else f"all {sum(c['blocking'] for c in checks)} blocking checks passed",
        "model": {"artefact": artefact_label or str(model), "sha256": sha256},
        "validator": {"identity": signer.identity, "key_hint": signer.key_hint, "actor": actor,
                      "public_key_pem": signer.public_key_pem().decode("ascii")},
        "independence": {"model_signer_key_hint": model_signer,
                         "independent": model_signer is not None and model_signer != signer.key_hint},
        "splits": {name: {"file": data.split(name).path.name, "sha256": data.split(name).sha256,
                          "rows": len(data.split(name).y)} for name in ("train", "validation", "test")},
        "figures_from": "test split unless a section says otherwise",
        "decision_threshold": threshold,
        "policy": policy.model_dump(mode="json", exclude={"checks"}),
        "challenger": comparison,
        "elderly_counterfactual": elderly,
        "sensitivity": sens,
        "robustness": robust,
        "security": security,
        "checks": checks,
        "seconds": round(time.perf_counter() - started, 2),
        "seconds_by_part": timings,
    }
    progress("charts")
    document["charts"] = write_charts(document, out)  # before validation.json, which lists their digests
    path = write_signed(document, out, signer)
    if out.resolve() == evidence.resolve():
        progress("ledger record and index re-seal")
        _record_and_reseal(evidence, signer, ledger_signer or signer, document, actor, ledger)
    return ValidationResult(document, path)


def _checks(policy, comparison, elderly, sens, robust, security) -> list[dict]:
    delong = comparison["delong"]
    mi = security["membership_inference"]
    ext = security["extraction"]
    flips = security["label_flip"]["flips"]
    largest = max(flips, key=lambda r: r["rate"])
    queries = ext["queries_needed"] if ext["reached_in_all_repeats"] else max(ext["budgets"])
    out_of_range = robust["out_of_range"]
    return [
        _judge(policy, "challenger-not-better", delong["p_value_challenger_better"],
               f"champion AUC {delong['auc_a']:.4f}, challenger {delong['auc_b']:.4f}, DeLong two-sided p "
               f"{delong['p_value']:.3g}"),
        _judge(policy, "champion-auc-min", comparison["champion"]["auc"], "test AUC"),
        _judge(policy, "seed-auc-range", sens["seed_auc_range"], f"{len(sens['seeds'])} seeds"),
        _judge(policy, "seed-decision-flip", sens["seed_max_flip_rate"], "largest share of decisions changed"),
        _judge(policy, "hyperparameter-auc-change", sens["hyperparameter_max_auc_change"],
               f"{len(sens['hyperparameters'])} one-step variants"),
        _judge(policy, "perturbation-flip-rate", robust["perturbation_max_flip_rate"],
               f"±{robust['perturbation']:.0%} per feature and all together"),
        _judge(policy, "missing-feature-flip-rate", robust["missing_feature_max_flip_rate"],
               f"worst: {robust['missing_feature'][0]['feature']}"),
        _judge(policy, "out-of-range-bounded", out_of_range["bounded_share"],
               f"{out_of_range['bounded']} of {out_of_range['tried']} scored in [0, 1], "
               f"{len(out_of_range['errors'])} error(s)"),
        _judge(policy, "membership-inference-auc", (mi["interval"] or [mi["auc"], mi["auc"]])[1],
               f"attack AUC {mi['auc']:.3f}"),
        _judge(policy, "extraction-queries", queries,
               "queries to 95 % agreement" if ext["reached_in_all_repeats"]
               else f"95 % agreement not reached within {max(ext['budgets'])} queries in every repeat"),
        _judge(policy, "label-flip-auc-drop", largest["auc_drop"], f"{largest['rate']:.0%} of labels flipped"),
        _judge(policy, "elderly-counterfactual", elderly["failed"] if elderly["passed"] is not None else None,
               f"{elderly['failed']} of {elderly['applicants']} applicants aged {elderly['min_age']}+"),
    ]


def validation_statement(document_bytes: bytes, document: dict) -> dict:
    return dsse.statement(
        [{"name": VALIDATION_FILE, "digest": {"sha256": hashing.sha256_bytes(document_bytes)}},
         {"name": "model.tar.gz", "digest": {"sha256": document["model"]["sha256"]}},
         *({"name": c["file"], "digest": {"sha256": c["sha256"]}} for c in document.get("charts", []))],
        PREDICATE_TYPE, {"status": document["status"], "validator": document["validator"]["identity"]})


def write_signed(document: dict, out: Path, signer: Signer) -> Path:
    """``validation.json`` then its signature, each atomically."""
    out.mkdir(parents=True, exist_ok=True)
    data = dumps(document)
    envelope = dsse.sign_statement(validation_statement(data, document), signer, keyid=signer.key_hint)
    write_bytes_atomic(out / VALIDATION_FILE, data)
    write_bytes_atomic(out / VALIDATION_SIGNATURE, dumps(envelope))
    return out / VALIDATION_FILE


def _record_and_reseal(evidence: Path, signer: Signer, ledger_signer: Signer, document: dict, actor: str,
                       ledger: str | os.PathLike | None = None) -> None:
    from governance.evidence import write_index
    from governance.ledger import Ledger

    digests = {"model.tar.gz": document["model"]["sha256"],
               VALIDATION_FILE: hashing.sha256_file(evidence / VALIDATION_FILE)}
    Ledger(ledger or evidence / "ledger.jsonl", ledger_signer).append(
        "validate", actor=actor, subject=document["model"]["artefact"], digests=digests,
        details={"status": document["status"], "summary": document["summary"][:500],
                 "validator": document["validator"]["identity"]})
    write_index(evidence, signer)


__all__ = ["VALIDATION_FILE", "VALIDATION_SIGNATURE", "ValidationResult", "read_validation", "validate",
           "write_signed"]
