"""``assess_fairness``: the whole fairness assessment of the credit model by age band, as plain data and charts.

>>> from governance.fairness import assess_fairness, load_policy
>>> policy = load_policy(None)
>>> policy = policy.model_copy(update={"bootstrap": policy.bootstrap.model_copy(update={"resamples": 100})})
>>> result = assess_fairness("model/model.tar.gz", "data/validation.csv", policy=policy,
...                          evaluation="evidence/evaluation.json", out_dir="evidence")
>>> sorted(result["disparities"]["adverse_impact_ratio"])
[...'interval'...'value'...]

Writes ``out_dir/fairness.json`` and ``out_dir/fairness/*.png`` when ``out_dir`` is given. A red verdict is for the
caller to act on (the command line exits 1); inputs that cannot be assessed raise :class:`InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from governance.age_bands import Banding, assign_bands
from governance.credit_data import FEATURES, PROTECTED_ATTRIBUTE
from governance.elderly_counterfactual import elderly_counterfactual
from governance.errors import Incomplete, InputError
from governance.fairness import charts
from governance.fairness.measures import interval_or_none, measure_bands
from governance.fairness.policy import FairnessPolicy, load_policy
from governance.fairness.sweep import grid, threshold_sweep
from governance.grading import GradedCheck, apply_waivers, judge, overall
from governance.runtime import library_versions

SCHEMA = "quickloan-governance/fairness/v1"

def _elderly_age_shap(inputs, rows: np.ndarray, shap_values) -> tuple[np.ndarray, dict]:
    """SHAP of ``age`` for the given data rows: from precomputed values, else TreeSHAP on those rows only."""
    age = FEATURES.index(PROTECTED_ATTRIBUTE)
    if shap_values is not None:
        if isinstance(shap_values, np.ndarray):
            if shap_values.shape != (inputs.rows, len(FEATURES)):
                raise InputError("SHAP_MISMATCH", f"SHAP values have shape {shap_values.shape}, "
                                 f"expected {(inputs.rows, len(FEATURES))}")
            return shap_values[rows, age], {"source": "precomputed"}
        crosscheck = shap_values.crosscheck
        if crosscheck.get("performed") and not crosscheck.get("passed"):
            raise Incomplete("SHAP_CROSSCHECK", "the SHAP values given failed their cross-check with XGBoost: "
                             "the elderly check cannot rely on them")
        return shap_values.for_rows(rows, inputs.rows)[:, age], {"source": "precomputed", **shap_values.summary()}
    from governance.explain.shap_values import tree_shap

    computed = tree_shap(inputs, rows)
    if not computed.crosscheck.get("passed", False):
        raise Incomplete("SHAP_CROSSCHECK", "TreeSHAP and XGBoost pred_contribs disagree on the elderly rows "
                         f"({computed.crosscheck.get('max_abs_difference')} log-odds): the elderly check cannot run")
    return computed.values[:, age], {"source": "computed for these rows", **computed.summary()}


def _band_findings(policy: FairnessPolicy, banding: Banding, judged: np.ndarray, bands_out: list[dict],
                   overall_out: dict, confidence: float) -> list[GradedCheck]:
    checks = policy.checks
    findings: list[GradedCheck] = []
    quality = banding.findings()
    if quality["out_of_range"]["count"]:
        findings.append(GradedCheck(
            "age-out-of-range", PROTECTED_ATTRIBUTE, policy.data_quality.out_of_range_ages, "finding",
            f"{quality['out_of_range']['count']} applicant(s) have an age outside {list(banding.valid_range)} "
            f"(e.g. {quality['out_of_range']['examples'][:3]}): excluded from every band; fix at source",
            details=quality["out_of_range"]))
    if quality["unbanded"]["count"]:
        findings.append(GradedCheck(
            "age-out-of-range", "unbanded", policy.data_quality.out_of_range_ages, "finding",
            f"{quality['unbanded']['count']} applicant(s) have a valid age that no band covers",
            details=quality["unbanded"]))
    for band in bands_out:
        if not band["judged"]:
            findings.append(GradedCheck(
                "band-coverage", band["label"], policy.data_quality.band_below_min_count, "not_judged",
                f"band {band['label']}: {band['count']} applicants, below the minimum of {policy.age.min_count}: "
                "reported, not judged"))

    def add(check_id: str, rule, metric: str, resource: str, entry: dict, direction: str, what: str) -> None:
        if not rule.enabled:
            return
        interval = tuple(entry["interval"]) if entry.get("interval") else None
        value = entry["value"]
        status, verdict = judge(value, interval, rule, direction)
        bound = {"min": "at least ", "max": "at most ", "abs_max": "within ±"}[direction]
        shown = "n/a" if value is None else f"{value:.3f}"
        span = f" ({confidence:.0%} interval {interval[0]:.3f} to {interval[1]:.3f})" if interval else ""
        words = {"pass": "passes", "uncertain": "passes, but the interval crosses the limit",
                 "breach": "breaches the limit, not significantly", "significant": "breaches the limit significantly",
                 "error": "could not be computed"}[status]
        findings.append(GradedCheck(
            check_id, resource, verdict, status, f"{what} is {shown}{span}; must be {bound}{rule.limit:g}: {words}",
            metric=metric, value=value, interval=interval, limit=rule.limit, direction=direction))

    for code, band in enumerate(bands_out):
        if not judged[code]:
            continue
        metrics = band["metrics"]
        label = band["label"]
        add("adverse-impact-ratio", checks.adverse_impact_ratio, "adverse_impact_ratio", label,
            metrics["adverse_impact_ratio"], "min", f"the adverse impact ratio of band {label}")
        add("equal-opportunity-ratio", checks.equal_opportunity_ratio, "equal_opportunity_ratio", label,
            metrics["equal_opportunity_ratio"], "min", f"the equal-opportunity ratio of band {label}")
        add("calibration", checks.calibration, "calibration_error", label, metrics["calibration_error"], "abs_max",
            f"the relative calibration error of band {label}")
    add("demographic-parity-difference", checks.demographic_parity_difference, "demographic_parity_difference", "all",
        overall_out["demographic_parity_difference"], "max", "the demographic parity difference")
    add("equalized-odds-difference", checks.equalized_odds_difference, "equalized_odds_difference", "all",
        overall_out["equalized_odds_difference"], "max", "the equalized-odds difference")
    add("auc-gap", checks.auc_gap, "auc_gap", "all", overall_out["auc_gap"], "max", "the AUC gap between bands")
    add("score-smd", checks.score_smd, "score_smd", "all", overall_out["score_smd"], "max",
        "the largest standardized mean difference of scores")
    return findings


def assess_fairness(
    model,
    data,
    policy=None,
    out_dir: str | os.PathLike | None = None,
    evaluation=None,
    *,
    threshold: float | None = None,
    shap_values=None,
    ignore_waivers: bool = False,
    today: date | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> dict:
    """Assess the decisions of ``model`` on ``data`` by age band under ``policy``; return the ``fairness.json`` content.

    ``model``: ``model.tar.gz`` path/URI or an ``xgboost.Booster``; ``data``: a CSV (raw with header or processed
    split), a ``(features, target)`` pair or a frame; ``policy``: ``None`` (packaged default), a YAML path, a mapping
    or a :class:`FairnessPolicy`; ``evaluation``: ``evaluation.json`` path or content, for the operating threshold;
    ``shap_values``: a :class:`~governance.explain.shap_values.ShapValues` (or rows × features array) already
    computed on ``data``, so the elderly check does not compute SHAP again.
    """
    from governance.explain.inputs import load_inputs, resolve_threshold

    progress("load model and data")
    policy = load_policy(policy)
    inputs = load_inputs(model, data)
    threshold, threshold_source = resolve_threshold(threshold, evaluation, policy.decision.threshold,
                                                    policy.decision.fallback_threshold)
    banding = assign_bands(inputs.features[PROTECTED_ATTRIBUTE].to_numpy(), policy.age.age_bands(),
                           policy.age.valid_range)
    counts = banding.counts()
    judged = counts >= policy.age.min_count
    if counts.sum() == 0:
        raise InputError("NO_BANDED_ROWS", f"{inputs.data_label}: no applicant's age falls in any band of the policy")
    if judged.sum() < 2:
        raise InputError(
            "TOO_FEW_BANDS", f"{inputs.data_label}: {int(judged.sum())} band(s) have at least {policy.age.min_count} "
            "applicants; at least two are needed to compare bands")

    banded = np.flatnonzero(banding.codes >= 0)
    elderly_rule = policy.checks.elderly_age_effect
    elderly_positions = np.flatnonzero(banding.ages[banded] >= elderly_rule.min_age)
    age_shap, shap_source = None, None
    if elderly_rule.enabled and len(elderly_positions):
        progress(f"SHAP of age for applicants aged {elderly_rule.min_age}+")
        age_shap, shap_source = _elderly_age_shap(inputs, banded[elderly_positions], shap_values)

    progress(f"measure per band (fairlearn), bootstrap intervals ({policy.bootstrap.resamples:,} resamples)")
    # Drawn on cells (band x score slice x outcome x elderly), so the cost does not grow with the rows.
    confidence = policy.bootstrap.confidence
    measured = measure_bands(banding, inputs.target, inputs.scores(), threshold, judged,
                             resamples=policy.bootstrap.resamples, seed=policy.bootstrap.seed, confidence=confidence,
                             group_rows=elderly_positions if age_shap is not None else None, group_values=age_shap)
    table, boot, labels = measured.table, measured.boot, banding.labels

    bands_out = []
    for code, band in enumerate(banding.bands):
        bands_out.append({
            **band.to_dict(),
            "count": int(counts[code]),
            "share": float(counts[code] / counts.sum()),
            "judged": bool(judged[code]),
            "metrics": measured.bands[code],
        })
    best = int(np.flatnonzero(judged)[np.argmax(table["approval_rate"].to_numpy()[judged])])
    overall_out = measured.overall
    overall_out["adverse_impact_ratio"]["reference_band"] = labels[best]
    overall_out["equal_opportunity_ratio"]["reference_band"] = labels[
        int(np.flatnonzero(judged)[np.argmax(table["good_payer_approval_rate"].to_numpy()[judged])])]

    findings = _band_findings(policy, banding, judged, bands_out, overall_out, confidence)
    elderly_out = _elderly_section(elderly_rule, elderly_positions, age_shap, shap_source, boot, confidence, findings)
    counterfactual = None
    if elderly_rule.enabled:
        progress(f"per-applicant counterfactual test for applicants aged {elderly_rule.min_age}+")
        counterfactual = elderly_counterfactual_finding(inputs, elderly_rule.min_age, policy.age.valid_range[0],
                                                        findings)

    progress("threshold sweep and verdicts")
    sweep = threshold_sweep(measured.codes, measured.scores, measured.y, labels, judged,
                            grid(policy.sweep.start, policy.sweep.stop, policy.sweep.step))
    expired = [] if ignore_waivers else apply_waivers(findings, policy.waivers, today)
    result = {
        "schema": SCHEMA,
        "assessed_on": (today or datetime.now(UTC).date()).isoformat(),
        **inputs.describe(),
        "settings": {
            "protected_attribute": PROTECTED_ATTRIBUTE,
            "threshold": threshold,
            "threshold_source": threshold_source,
            "decision_rule": "decline when the predicted default probability is above the threshold",
            "bootstrap": {"resamples": policy.bootstrap.resamples, "confidence": confidence,
                          "seed": policy.bootstrap.seed, "method": "percentile, rows resampled with replacement "
                                    "(drawn as multinomial counts over band x score-slice x outcome cells)",
                          "cells": measured.cells},
            "min_count": policy.age.min_count,
            "waivers_ignored": ignore_waivers,
            "policy": policy.settings(),
        },
        "libraries": library_versions(),
        "data_checks": _data_checks(inputs.target, banding, bands_out),
        "bands": bands_out,
        "disparities": overall_out,
        "elderly": elderly_out,
        "elderly_counterfactual": counterfactual,
        "sweep": sweep,
        "checks": [finding.to_dict() for finding in findings],
        "expired_waivers": expired,
        "verdict": overall(findings),
        "verdict_without_waivers": overall(findings, effective=False),
        "charts": [f"fairness/{name}" for name in charts.CHARTS],
    }
    if out_dir is not None:
        progress("charts and fairness.json")
        write_outputs(result, out_dir)
    return result


def _elderly_section(rule, positions, age_shap, shap_source, boot, confidence, findings: list[GradedCheck]) -> dict:
    section = {"min_age": rule.min_age, "enabled": rule.enabled, "count": len(positions),
               "mean_age_shap": None, "interval": None, "share_adverse": None, "shap": shap_source}
    if not rule.enabled:
        return section
    if age_shap is None:
        findings.append(GradedCheck(
            "elderly-age-effect", f"{rule.min_age}+", "amber", "error",
            f"no applicants aged {rule.min_age} or over in the data: the elderly check could not run"))
        return section
    mean = float(age_shap.mean())
    interval = interval_or_none(*boot.interval("group_mean", confidence)) if boot.resamples else None
    section.update(mean_age_shap=mean, interval=interval, share_adverse=float(np.mean(age_shap > 0)))
    status, verdict = judge(mean, tuple(interval) if interval else None, rule, "max")
    span = f" ({confidence:.0%} interval {interval[0]:+.3f} to {interval[1]:+.3f})" if interval else ""
    meaning = "raises" if mean > 0 else "lowers"
    findings.append(GradedCheck(
        "elderly-age-effect", f"{rule.min_age}+", verdict, status,
        f"age {meaning} the predicted default risk of applicants aged {rule.min_age}+ by {mean:+.3f} log-odds on "
        f"average{span}; must be at most {rule.limit:g} (Regulation B: age must not count against the elderly)",
        metric="mean_age_shap", value=mean, interval=tuple(interval) if interval else None, limit=rule.limit,
        direction="max", details={"share_adverse": section["share_adverse"], "count": section["count"]}))
    return section


def elderly_counterfactual_finding(inputs, min_age: int, valid_min_age: int, findings: list[GradedCheck]) -> dict:
    """The per-applicant test (:mod:`governance.elderly_counterfactual`) as a finding: red if anyone fails."""
    resource = f"{min_age}+"
    try:
        result = elderly_counterfactual(inputs.booster, inputs.features, min_age=min_age, valid_min_age=valid_min_age)
    except Incomplete as err:  # could not run: never a pass
        findings.append(GradedCheck("elderly-counterfactual", resource, "amber", "error",
                                    f"the per-applicant elderly test could not run: {err.message}"))
        return {"min_age": min_age, "passed": None, "error": err.message}
    if result["passed"] is None:
        findings.append(GradedCheck("elderly-counterfactual", resource, "amber", "error",
                                f"no applicants aged {min_age} or over in the data: the per-applicant test could "
                                "not run"))
        return result
    n, failed = result["applicants"], result["failed"]
    findings.append(GradedCheck(
        "elderly-counterfactual", resource, "green" if result["passed"] else "red",
        "pass" if result["passed"] else "significant",
        f"{failed} of {n} applicants aged {min_age}+ ({result['share_failed']:.1%}) get a higher predicted default "
        f"probability with their real age than with the most favourable age under {min_age}, all else equal; "
        "must be none (Regulation B 1002.6(b)(2))",
        metric="failed_applicants", value=float(failed), limit=0.0, direction="max",
        details={"applicants": n, "share_failed": result["share_failed"]}))
    return result


def _data_checks(target: np.ndarray, banding: Banding, bands_out: list[dict]) -> dict:
    positives = int(target.sum())
    return {
        "class_balance": {"rows": len(target), "defaults": positives, "repaid": int(len(target) - positives),
                          "default_rate": positives / len(target)},
        "age_quality": banding.findings(),
        "coverage": [
            {"band": b["label"], "count": b["count"], "share": b["share"], "judged": b["judged"],
             "defaults": round(b["metrics"]["default_rate"]["value"] * b["count"]) if b["count"] else 0,
             "default_rate": b["metrics"]["default_rate"]["value"]}
            for b in bands_out
        ],
        "empty_bands": [b["label"] for b in bands_out if b["count"] == 0],
    }


def write_outputs(result: dict, out_dir: str | os.PathLike) -> Path | str:
    """Charts first, ``fairness.json`` last, each written atomically: a reader never sees a half-written file."""
    from governance.explain.inputs import output_path
    from governance.jsonio import write_json
    from governance.storage import write_bytes_atomic

    pictures = charts.render_all(result)
    for name, png in pictures.items():
        write_bytes_atomic(output_path(out_dir, "fairness", name), png)
    return write_json(output_path(out_dir, "fairness.json"), result)
