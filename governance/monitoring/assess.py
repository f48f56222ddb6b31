"""One monitoring run: captured traffic (and, once they arrive, labels) judged against the training baseline.

    from governance.monitoring import monitor, load_policy
    report = monitor("model/model.tar.gz", "evidence/", "s3://bucket/capture/quickloan/AllTraffic/",
                     load_policy(), labels="s3://bucket/ground-truth/")
    report["verdict"]        # PASS | WARN | FAIL | ERROR

Each check ends PASS, WARN (reported, does not fail), FAIL, ERROR (could not be computed: never a pass) or
SKIPPED (too few rows to judge, or no labels yet — said in its message). The baselines come from the evidence
folder (``dataset.json`` → ``baseline``, ``evaluation.json`` → ``monitoring_baseline``), re-hashed against its
signed index when the folder is sealed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from governance import __version__, hashing, storage
from governance.age_bands import AgeBand, assign_bands
from governance.credit_data import FEATURES
from governance.errors import CheckFailed, InputError
from governance.monitoring.baseline import bin_counts
from governance.monitoring.capture import Capture, join_labels, read_capture, read_labels
from governance.monitoring.policy import Above, Below, MonitoringPolicy
from governance.monitoring.stats import auc_with_interval, newcombe, psi, wilson

REPORT_FORMAT = "quickloan-governance/monitoring/v1"
PASS, WARN, FAIL, ERROR, SKIPPED = "PASS", "WARN", "FAIL", "ERROR", "SKIPPED"
_ORDER = {PASS: 0, SKIPPED: 0, WARN: 1, ERROR: 2, FAIL: 3}


def _check(check: str, subject: str, status: str, message: str, **values) -> dict:
    return {"check": check, "subject": subject, "status": status, "message": message,
            **{k: v for k, v in values.items() if v is not None}}


def _above(levels: Above, value: float) -> str:
    return FAIL if value > levels.fail else WARN if value > levels.warn else PASS


def _below(levels: Below, value: float) -> str:
    return FAIL if value < levels.fail else WARN if value < levels.warn else PASS


def _load_json(path: Path) -> tuple[dict, str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("NOT_FOUND", f"{path}: missing from the evidence folder") from None
    try:
        return json.loads(data), hashing.sha256_bytes(data)
    except ValueError as err:
        raise InputError("MALFORMED_EVIDENCE", f"{path}: not JSON ({err})") from None


def load_baseline(evidence_dir: str | os.PathLike) -> dict:
    """The two baselines and the evaluation's AUC, from a local evidence folder (verified when sealed)."""
    root = Path(evidence_dir)
    if not root.is_dir():
        raise InputError("NOT_FOUND", f"{evidence_dir}: no such evidence folder")
    sealed = (root / "index.json").is_file()
    digests = {}
    if sealed:
        from governance.evidence import verify_index

        digests = verify_index(root, None)
    dataset, dataset_sha = _load_json(root / "dataset.json")
    evaluation, evaluation_sha = _load_json(root / "evaluation.json")
    for name, sha in (("dataset.json", dataset_sha), ("evaluation.json", evaluation_sha)):
        if sealed and digests.get(name) != sha:
            raise CheckFailed("DIGEST_MISMATCH", f"{root / name}: not the file the evidence index sealed")
    features, scores = dataset.get("baseline"), evaluation.get("monitoring_baseline")
    if not isinstance(features, dict) or not isinstance(scores, dict):
        raise InputError("NO_BASELINE", f"{evidence_dir}: no monitoring baseline (dataset.json 'baseline' and "
                                        "evaluation.json 'monitoring_baseline'); re-run the pipeline to write it")
    return {
        "features": features["features"],
        "score": scores["score"],
        "threshold": float(scores["threshold"]),
        "approval_by_band": scores["approval_by_band"],
        "auc": float(evaluation["binary_classification_metrics"]["auc"]["value"]),
        "artefact_sha256": (evaluation.get("model") or {}).get("artefact_sha256"),
        "files": {"dataset.json": dataset_sha, "evaluation.json": evaluation_sha},
        "sealed": sealed,
    }


def _psi_entry(values: np.ndarray, reference: dict) -> dict:
    counts = bin_counts(values, reference["edges"])
    present = int(counts.sum())
    shares = (counts / present) if present else np.zeros(len(counts))
    return {
        "psi": psi(shares, reference["shares"]) if present else None,
        "shares": [round(float(s), 6) for s in shares],
        "baseline_shares": reference["shares"],
        "edges": reference["edges"],
        "missing_rate": float(np.mean(~np.isfinite(values))) if len(values) else None,
        "baseline_missing_rate": reference["missing_rate"],
    }


def _drift(capture: Capture, baseline: dict, policy: MonitoringPolicy) -> tuple[list[dict], dict, list[dict]]:
    checks, features = [], []
    judged = capture.rows >= policy.drift.min_rows
    few = f"{capture.rows} captured rows, fewer than the {policy.drift.min_rows} needed to judge"
    for column, name in enumerate(FEATURES):
        reference = baseline["features"].get(name)
        if reference is None or not reference["shares"]:
            checks.append(_check("feature-psi", name, ERROR, f"{name}: no baseline distribution in the evidence"))
            continue
        entry = {"feature": name, **_psi_entry(capture.features[:, column], reference)}
        features.append(entry)
        if entry["psi"] is None:
            checks.append(_check("feature-psi", name, ERROR, f"{name}: every captured value is missing"))
        else:
            status = _above(policy.drift.psi, entry["psi"]) if judged else SKIPPED
            checks.append(_check("feature-psi", name, status, f"{name}: PSI {entry['psi']:.3f}"
                                 + ("" if judged else f" ({few})"), value=entry["psi"]))
        increase = entry["missing_rate"] - entry["baseline_missing_rate"]
        status = _above(policy.missing.increase, increase) if judged else SKIPPED
        checks.append(_check("missing-rate", name, status,
                             f"{name}: {entry['missing_rate']:.1%} missing (baseline "
                             f"{entry['baseline_missing_rate']:.1%})", value=increase))
    score = _psi_entry(capture.scores, baseline["score"])
    if score["psi"] is None:
        checks.append(_check("score-psi", "score", ERROR, "the endpoint returned no scores"))
    else:
        status = _above(policy.drift.psi, score["psi"]) if judged else SKIPPED
        checks.append(_check("score-psi", "score", status, f"score: PSI {score['psi']:.3f}", value=score["psi"]))
    return checks, score, features


def _served_model(capture: Capture, recomputed: np.ndarray, policy: MonitoringPolicy) -> dict:
    differs = ~(np.abs(capture.scores - recomputed) <= policy.served_model.score_tolerance)
    count = int(differs.sum())
    if not count:
        return _check("served-model", "score", PASS, f"all {capture.rows:,} captured scores are this model's",
                      value=0)
    first = int(np.flatnonzero(differs)[0])
    return _check("served-model", "score", FAIL,
                  f"{count:,} of {capture.rows:,} captured scores are not this model's score for the captured input "
                  f"(first: event {capture.keys[first]}, served {capture.scores[first]:.6g}, model "
                  f"{recomputed[first]:.6g})", value=count)


def _bands(baseline: dict) -> tuple[AgeBand, ...]:
    return tuple(AgeBand(b["label"], b["min"], b["max"]) for b in baseline["approval_by_band"])


def _approval(capture: Capture, approved: np.ndarray, baseline: dict, policy: MonitoringPolicy,
              labels: np.ndarray | None) -> tuple[list[dict], list[dict]]:
    rules = policy.approval_by_band
    banding = assign_bands(capture.features[:, FEATURES.index("age")], _bands(baseline))
    checks, bands = [], []
    for code, reference in enumerate(baseline["approval_by_band"]):
        rows = banding.codes == code
        count, yes = int(rows.sum()), int(approved[rows].sum())
        entry = {"band": reference["label"], "count": count, "approved": yes,
                 "share": count / capture.rows if capture.rows else 0.0,
                 "baseline_count": reference["count"], "baseline_approved": reference["approved"],
                 "baseline_share": reference["count"] / max(1, sum(b["count"] for b in baseline["approval_by_band"])),
                 "baseline_rate": reference["approved"] / reference["count"] if reference["count"] else None}
        if labels is not None:
            good = rows & (labels == 0)
            entry["good_payers"], entry["good_payers_approved"] = int(good.sum()), int(approved[good].sum())
        bands.append(entry)
        if count < rules.min_count or reference["count"] < rules.min_count:
            checks.append(_check("approval-rate-change", reference["label"], SKIPPED,
                                 f"age {reference['label']}: {count} captured applicants (baseline "
                                 f"{reference['count']}), fewer than {rules.min_count}: not judged"))
            continue
        rate = yes / count
        entry["rate"], entry["interval"] = rate, list(wilson(yes, count, rules.confidence))
        change = rate - entry["baseline_rate"]
        low, high = newcombe(yes, count, reference["approved"], reference["count"], rules.confidence)
        entry["change"], entry["change_interval"] = change, [low, high]
        status, shown = _shown_beyond(rules.change, low, high)
        checks.append(_check(
            "approval-rate-change", reference["label"], status,
            f"age {reference['label']}: approval {rate:.1%} [{entry['interval'][0]:.1%}, {entry['interval'][1]:.1%}] "
            f"vs baseline {entry['baseline_rate']:.1%}: change {change:+.1%} [{low:+.1%}, {high:+.1%}], {shown}",
            value=change, interval=[low, high]))
    return checks, bands


def _shown_beyond(levels: Above, low: float, high: float) -> tuple[str, str]:
    """Judge a change by its interval: FAIL (WARN) only when the whole interval lies beyond ±fail (±warn).

    The interval carries the sampling noise, so the levels are the smallest change that matters, not a noise
    allowance: a small band's wide interval is never judged on its point estimate alone.
    """
    nearest = min(abs(low), abs(high)) if low > 0 or high < 0 else 0.0  # the smallest change the interval allows
    if nearest > levels.fail:
        return FAIL, f"shown beyond the fail level ±{levels.fail:.1%}"
    if nearest > levels.warn:
        return WARN, f"shown beyond the warn level ±{levels.warn:.1%}"
    return PASS, f"not shown beyond ±{levels.warn:.1%}"


def overall_approval(bands: list[dict], rules) -> dict | None:
    """Context for the per-band checks: the approval rate over every banded applicant, its change split into the
    age-band mix (who applies — already judged by the age PSI) and the within-band decisions (judged per band).

    change = sum_b (share_b - baseline_share_b) * baseline_rate_b   (who applies)
           + sum_b share_b * (rate_b - baseline_rate_b)             (how each band is decided)
    """
    count, yes = sum(b["count"] for b in bands), sum(b["approved"] for b in bands)
    base_count, base_yes = sum(b["baseline_count"] for b in bands), sum(b["baseline_approved"] for b in bands)
    if not count or not base_count:
        return None
    rate, base_rate = yes / count, base_yes / base_count
    low, high = newcombe(yes, count, base_yes, base_count, rules.confidence)
    mix = sum((b["count"] / count - b["baseline_count"] / base_count) * (b["baseline_rate"] or 0) for b in bands)
    within = sum(b["count"] / count * (b["approved"] / b["count"] - b["baseline_rate"])
                 for b in bands if b["count"] and b["baseline_rate"] is not None)
    moved = max(bands, key=lambda b: abs(b["count"] / count - b["baseline_count"] / base_count))
    return {
        "rate": rate, "baseline_rate": base_rate, "change": rate - base_rate, "change_interval": [low, high],
        "mix": mix, "within_bands": within, "count": count,
        "message": f"all ages: approval {rate:.1%} vs baseline {base_rate:.1%}: change {rate - base_rate:+.1%} "
                   f"[{low:+.1%}, {high:+.1%}]; age-band mix {mix:+.1%} (largest: {moved['band']} "
                   f"{moved['count'] / count:.0%} of applicants vs {moved['baseline_count'] / base_count:.0%}), "
                   f"within-band decisions {within:+.1%}",
    }


def _ratio(rates: list[float]) -> float | None:
    return min(rates) / max(rates) if len(rates) >= 2 and max(rates) > 0 else None


def _fairness(bands: list[dict], policy: MonitoringPolicy, no_labels: str) -> tuple[list[dict], dict]:
    minimum = policy.approval_by_band.min_count
    judged = [b for b in bands if b["count"] >= minimum and b["baseline_count"] >= minimum]
    air = _ratio([b["approved"] / b["count"] for b in judged])
    air_baseline = _ratio([b["baseline_approved"] / b["baseline_count"] for b in judged])
    out = {"adverse_impact_ratio": air, "adverse_impact_ratio_baseline": air_baseline}
    checks = []
    if air is None:
        checks.append(_check("adverse-impact-ratio", "age", SKIPPED, "fewer than two age bands large enough"))
    else:
        checks.append(_check("adverse-impact-ratio", "age", _below(policy.fairness.adverse_impact_ratio, air),
                             f"adverse impact ratio {air:.3f} (baseline "
                             + (f"{air_baseline:.3f})" if air_baseline is not None else "n/a)"), value=air))
    if bands and "good_payers" in bands[0]:
        good = [b for b in judged if b["good_payers"] >= minimum]
        eor = _ratio([b["good_payers_approved"] / b["good_payers"] for b in good])
        out["equal_opportunity_ratio"] = eor
        if eor is None:
            checks.append(_check("equal-opportunity-ratio", "age", SKIPPED,
                                 f"fewer than two age bands with {minimum} labelled good payers"))
        else:
            checks.append(_check("equal-opportunity-ratio", "age",
                                 _below(policy.fairness.equal_opportunity_ratio, eor),
                                 f"equal-opportunity ratio {eor:.3f} (approval of repaying applicants, lowest "
                                 "band over highest)", value=eor))
    else:
        checks.append(_check("equal-opportunity-ratio", "age", SKIPPED, no_labels))
    return checks, out


def _performance(scores: np.ndarray, labels: np.ndarray | None, baseline: dict,
                 policy: MonitoringPolicy, no_labels: str) -> tuple[list[dict], dict | None]:
    rules = policy.performance
    if labels is None:
        return [_check(name, "score", SKIPPED, no_labels)
                for name in ("auc-drop", "calibration-gap")], None
    known = labels >= 0
    y, s = labels[known], scores[known]
    out = {"labelled_rows": int(known.sum())}
    if len(y) < rules.min_labels or len(np.unique(y)) < 2:
        why = f"{len(y)} labelled rows ({int(y.sum()) if len(y) else 0} defaults): too few to judge"
        return [_check(name, "score", SKIPPED, why) for name in ("auc-drop", "calibration-gap")], out
    auc = auc_with_interval(y, s, policy.approval_by_band.confidence)
    drop = baseline["auc"] - auc["value"]
    significant = auc["interval"][1] < baseline["auc"]
    out["auc"], out["auc_baseline"], out["auc_drop"] = auc, baseline["auc"], drop
    checks = [_check("auc-drop", "score", _above(rules.auc_drop, drop) if significant else PASS,
                     f"AUC {auc['value']:.3f} [{auc['interval'][0]:.3f}, {auc['interval'][1]:.3f}] on {len(y):,} "
                     f"labelled rows vs {baseline['auc']:.3f} at evaluation" + ("" if significant else
                                                                                 ", within noise"),
                     value=drop, interval=auc["interval"])]
    observed, predicted = float(y.mean()), float(s.mean())
    interval = wilson(int(y.sum()), len(y), policy.approval_by_band.confidence)
    gap = abs(predicted - observed)
    significant = not interval[0] <= predicted <= interval[1]
    out["calibration"] = {"observed_default_rate": observed, "observed_interval": list(interval),
                          "mean_predicted": predicted, "gap": gap}
    checks.append(_check("calibration-gap", "score", _above(rules.calibration_gap, gap) if significant else PASS,
                         f"mean score {predicted:.3f} vs observed default rate {observed:.3f} "
                         f"[{interval[0]:.3f}, {interval[1]:.3f}]" + ("" if significant else ", within noise"),
                         value=gap, interval=list(interval)))
    return checks, out


def verdict_of(checks: list[dict]) -> str:
    worst = max((_ORDER[c["status"]] for c in checks), default=0)
    return {0: PASS, 1: WARN, 2: ERROR, 3: FAIL}[worst]


def monitor(
    model: str | os.PathLike,
    evidence_dir: str | os.PathLike,
    capture_location: str | os.PathLike,
    policy: MonitoringPolicy,
    *,
    labels: str | os.PathLike | None = None,
    policy_source: str | None = None,
    capture_window: tuple[datetime, datetime] | None = None,
    progress: Callable[[str], None] = lambda stage: None,
) -> dict:
    """Judge one capture stream; returns the monitoring report (plain data, written by :mod:`.report`)."""
    from governance.model_artifact import load_booster

    progress("baseline")
    baseline = load_baseline(evidence_dir)
    with storage.open_stream(model) as stream:
        model_sha, _ = hashing.sha256_stream(stream)
    if baseline["artefact_sha256"] and model_sha != baseline["artefact_sha256"]:
        raise CheckFailed("MODEL_MISMATCH", f"{model}: sha256 {model_sha[:12]}… is not the evaluated model's "
                                            f"({baseline['artefact_sha256'][:12]}…) in {evidence_dir}")
    booster = load_booster(model)
    progress("capture")
    capture = read_capture(capture_location, len(FEATURES), window=capture_window)
    progress("score")
    import xgboost

    recomputed = booster.predict(xgboost.DMatrix(capture.features, feature_names=list(FEATURES), missing=np.nan))
    progress("labels")
    joined = unmatched = label_files = None
    if labels is not None:
        label_set = read_labels(labels)
        joined, unmatched = join_labels(capture, label_set)
        label_files = label_set.files
    label_array = joined if joined is not None and (joined >= 0).any() else None
    progress("checks")
    checks, score, features = _drift(capture, baseline, policy)
    checks.append(_served_model(capture, recomputed, policy))
    approved = capture.scores <= baseline["threshold"]
    band_checks, bands = _approval(capture, approved, baseline, policy, label_array)
    no_labels = ("no labels given" if labels is None else
                 "none of the labels matches a captured event (eventId / inferenceId)")
    fairness_checks, fairness = _fairness(bands, policy, no_labels)
    performance_checks, performance = _performance(capture.scores, label_array, baseline, policy, no_labels)
    checks += band_checks + fairness_checks + performance_checks
    counts = {status: sum(c["status"] == status for c in checks) for status in (PASS, WARN, FAIL, ERROR, SKIPPED)}
    return {
        "format": REPORT_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "tool": {"name": "governance monitor", "version": __version__},
        "model": {"uri": str(model), "sha256": model_sha},
        "evidence": {"folder": str(evidence_dir), "sealed": baseline["sealed"], "files": baseline["files"],
                     "decision_threshold": baseline["threshold"], "auc": baseline["auc"]},
        "capture": {"location": str(capture_location), "records": capture.records,
                    "window": [t.isoformat() for t in capture_window] if capture_window else None, "rows": capture.rows,
                    "first_inference": capture.first_time, "last_inference": capture.last_time,
                    "files": [f.to_dict() for f in capture.files]},
        "labels": None if labels is None else {
            "location": str(labels), "matched_rows": int((joined >= 0).sum()), "unmatched_labels": unmatched,
            "files": [f.to_dict() for f in label_files]},
        "policy": {"source": policy_source or "policies/monitoring.yaml", "settings": policy.settings()},
        "features": features,
        "score": score,
        "approval_by_band": bands,
        "approval_overall": overall_approval(bands, policy.approval_by_band),
        "fairness": fairness,
        "performance": performance,
        "checks": checks,
        "counts": counts,
        "verdict": verdict_of(checks),
    }
