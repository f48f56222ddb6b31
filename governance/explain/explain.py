"""``explain_model``: SHAP explanations of the credit model, checked, decomposed by age band, turned into reasons.

>>> from governance.explain import explain_model
>>> result = explain_model("model/model.tar.gz", "data/validation.csv", evaluation="evidence/evaluation.json",
...                        out_dir="evidence", stability_resamples=3, stability_applicants=50)
>>> result["additivity"]["passed"], result["verdict"] in ("green", "amber", "red")
(True, True)

Writes ``out_dir/explain.json``, ``out_dir/explain/*.png`` and ``out_dir/explain/reason_codes.csv``. Failed
checks are verdicts in the result (red: SHAP values that do not add up or disagree with XGBoost; reason codes
are then withheld); inputs that cannot be explained raise :class:`~governance.errors.InputError`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from governance.credit_data import FEATURES, PROTECTED_ATTRIBUTE
from governance.errors import Incomplete
from governance.explain import charts, stability
from governance.explain.additivity import DEFAULT_TOLERANCE, additivity
from governance.explain.decomposition import band_gap_decomposition
from governance.explain.inputs import load_inputs, resolve_threshold
from governance.explain.reason_codes import REASONS, describe, frequency, suppressed, top_reasons
from governance.explain.shap_values import ShapValues, tree_shap

SCHEMA = "quickloan-governance/explain/v1"
TOP_REASONS = 4
EXAMPLES = 3
DEPENDENCE_FEATURES = 3
BEESWARM_POINTS = 4000


def _examples(declined: np.ndarray, probability: np.ndarray, flagged: np.ndarray) -> list[int]:
    """A few declined applicants to draw: the median and the riskiest decline, and a flagged elderly one if any."""
    if not len(declined):
        return []
    order = declined[np.argsort(probability[declined], kind="stable")]
    picks = [int(order[len(order) // 2]), int(order[-1])]
    picks.append(int(flagged[0]) if len(flagged) else int(order[int(len(order) * 0.9)]))
    return list(dict.fromkeys(picks))[:EXAMPLES]


def _reason_csv(rows: np.ndarray, ages: np.ndarray, probability: np.ndarray, codes: np.ndarray) -> bytes:
    out = io.StringIO()
    out.write("row,age,probability_of_default," + ",".join(f"reason_{i + 1}" for i in range(codes.shape[1])) + "\n")
    for row, age, p, row_codes in zip(rows, ages, probability, codes, strict=True):
        reasons = [REASONS[FEATURES[i]].code if i >= 0 else "" for i in row_codes]
        out.write(f"{int(row)},{age:g},{p:.6f},{','.join(reasons)}\n")
    return out.getvalue().encode("utf-8")


def _value_checks(shap_values: ShapValues, values: np.ndarray, margin: np.ndarray, tolerance: float):
    """The two checks that decide whether the SHAP values can be used at all: cross-check and additivity."""
    from governance.grading import GradedCheck

    checks = []
    crosscheck = shap_values.crosscheck
    if crosscheck.get("performed"):
        ok, difference = crosscheck["passed"], crosscheck["max_abs_difference"]
        message = (f"TreeSHAP and XGBoost pred_contribs agree within {difference:.2g} log-odds on "
                   f"{crosscheck['rows']:,} of {crosscheck['of_rows']:,} rows" if ok else
                   f"TreeSHAP and XGBoost pred_contribs disagree by {difference:.3g} log-odds "
                   f"(tolerance {crosscheck['tolerance']:g})")
        checks.append(GradedCheck("shap-crosscheck", "model", "green" if ok else "red", "pass" if ok else "breach",
                              message, value=difference, limit=crosscheck["tolerance"], direction="max"))
    additive = additivity(values, shap_values.base_value, margin, tolerance)
    checks.append(GradedCheck("shap-additivity", "model", "green" if additive["passed"] else "red",
                          "pass" if additive["passed"] else "breach", additive["message"],
                          value=additive["max_abs_error"], limit=tolerance, direction="max"))
    return checks, additive


def _reason_codes(values, features, probability, declined, elderly_age: int, base_value: float,
                  age_not_adverse_for_elderly: bool = False):
    """Reasons for every declined applicant: the JSON section, the elderly check, the csv and the waterfalls.

    With ``age_not_adverse_for_elderly`` (the per-applicant counterfactual test passed: no applicant aged
    ``elderly_age``+ scores worse at their real age than at any younger age) age is not given as a decline reason to
    those applicants: it is shown not to count against them, which is what a reason for decline would claim.
    """
    from governance.grading import GradedCheck

    ages = features[:, FEATURES.index(PROTECTED_ATTRIBUTE)]
    age_index = FEATURES.index(PROTECTED_ATTRIBUTE)
    elderly_declined = declined[ages[declined] >= elderly_age]
    positive_age = int((values[elderly_declined, age_index] > 0).sum())
    if age_not_adverse_for_elderly:
        values = values.copy()
        values[elderly_declined, age_index] = np.minimum(values[elderly_declined, age_index], 0.0)
    codes = top_reasons(values[declined], TOP_REASONS, features[declined])
    flagged = declined[(ages[declined] >= elderly_age) & (codes == FEATURES.index(PROTECTED_ATTRIBUTE)).any(axis=1)]
    examples = _examples(declined, probability, flagged)
    position = {int(r): i for i, r in enumerate(declined)}
    section = {
        "frequency": frequency(codes),
        "elderly_flagged": {"min_age": elderly_age, "count": len(flagged),
                            "declined_elderly": int((ages[declined] >= elderly_age).sum()),
                            "rows": [int(r) for r in flagged],
                            "age_withheld_as_reason": age_not_adverse_for_elderly,
                            "positive_age_shap_declined_elderly": positive_age},
        "examples": [{"row": r, "age": float(ages[r]), "probability_of_default": float(probability[r]),
                      "reasons": describe(codes[position[r]], values[r], features[r])} for r in examples],
        "file": "explain/reason_codes.csv",
        # Top reasons skipped because the applicant's value is neutral for the wording (zero late payments, say).
        "suppressed": suppressed(values[declined], features[declined], TOP_REASONS),
    }
    check = GradedCheck(
        "elderly-age-reasons", f"{elderly_age}+", "amber" if len(flagged) else "green",
        "breach" if len(flagged) else "pass",
        f"{len(flagged)} declined applicant(s) aged {elderly_age}+ have age among their top {TOP_REASONS} reasons"
        + (": review each (Regulation B)" if len(flagged) else ""), value=float(len(flagged)), limit=0.0,
        direction="max")
    pictures = {"reason_codes.png": charts.reason_frequency(
        [r["label"] for r in section["frequency"]], [r["count"] for r in section["frequency"]], len(declined))}
    for number, row in enumerate(examples, start=1):
        contributions = sorted(zip(FEATURES, values[row], features[row], strict=True), key=lambda c: -abs(c[1]))
        pictures[f"waterfall_{number}.png"] = charts.waterfall(
            f"Applicant row {row}, age {ages[row]:g}: P(default) {probability[row]:.2f}, declined",
            base_value, [(f"{f} = {v:.4g}", s) for f, s, v in contributions])
    csv = _reason_csv(declined, ages[declined], probability[declined], codes)
    return section, check, csv, pictures


def _stability_check(result: dict, threshold: float):
    from governance.grading import GradedCheck

    return GradedCheck(
        "reason-stability", "model", "green" if result["passed"] else "amber", "pass" if result["passed"] else "breach",
        f"mean reason-code overlap {result['mean_overlap']:.2f} across {result['resamples']} background resamples "
        f"(threshold {threshold:.2f})", value=result["mean_overlap"], limit=threshold, direction="min")


def _global_charts(values, features, mean_abs, decomposition) -> dict[str, bytes]:
    names = list(FEATURES)
    order = np.argsort(-mean_abs, kind="stable")
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(len(values), size=min(BEESWARM_POINTS, len(values)), replace=False))
    shown = [i for i in order if FEATURES[i] != PROTECTED_ATTRIBUTE][:DEPENDENCE_FEATURES]
    shown.append(FEATURES.index(PROTECTED_ATTRIBUTE))
    decomposed = [b for b in decomposition["bands"] if b["count"]]
    return {
        "importance.png": charts.importance_bar(names, mean_abs),
        "beeswarm.png": charts.beeswarm(names, values[sample], features[sample], order),
        "dependence.png": charts.dependence([(FEATURES[i], features[sample, i], values[sample, i]) for i in shown]),
        "age_gap_decomposition.png": charts.gap_decomposition(
            [b["label"] for b in decomposed], decomposition["reference"], [b["direct_age"] for b in decomposed],
            [b["indirect"] for b in decomposed], [b["gap"] for b in decomposed]),
    }


def explain_model(
    model,
    data,
    out_dir: str | os.PathLike | None = None,
    *,
    evaluation=None,
    threshold: float | None = None,
    shap_values: ShapValues | None = None,
    bands=None,
    reference_band: str | None = None,
    additivity_tolerance: float = DEFAULT_TOLERANCE,
    stability_resamples: int = stability.DEFAULT_RESAMPLES,
    stability_applicants: int = stability.DEFAULT_APPLICANTS,
    stability_threshold: float = stability.DEFAULT_THRESHOLD,
    elderly_age: int | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> dict:
    """Explain ``model`` on ``data`` (see :func:`governance.fairness.assess_fairness` for the accepted forms).

    ``shap_values``: values already computed on ``data`` by :func:`~governance.explain.shap_values.tree_shap`
    (they are re-checked for additivity against the booster here, never trusted); ``bands``: the age bands of the
    decomposition (default: the fairness policy's default bands).
    """
    from governance.age_bands import DEFAULT_BANDS, ELDERLY_AGE, assign_bands
    from governance.grading import overall
    from governance.runtime import library_versions

    progress("load model and data")
    inputs = load_inputs(model, data)
    threshold, threshold_source = resolve_threshold(threshold, evaluation)
    elderly_age = ELDERLY_AGE if elderly_age is None else elderly_age
    features = inputs.features.to_numpy(dtype=np.float64)
    margin = inputs.margin()
    probability = 1 / (1 + np.exp(-margin))
    if shap_values is None:
        progress(f"TreeSHAP on {inputs.rows:,} rows, cross-checked with XGBoost pred_contribs")
        shap_values = tree_shap(inputs)
    values = shap_values.for_rows(np.arange(inputs.rows), inputs.rows)
    checks, additive = _value_checks(shap_values, values, margin, additivity_tolerance)
    trusted = all(check.verdict == "green" for check in checks)

    progress("global importance and age-band decomposition")
    mean_abs = np.abs(values).mean(axis=0)
    banding = assign_bands(features[:, FEATURES.index(PROTECTED_ATTRIBUTE)], bands or DEFAULT_BANDS)
    decomposition = band_gap_decomposition(values, margin, banding.codes, banding.labels, list(FEATURES),
                                           reference=reference_band)

    declined = np.flatnonzero(probability > threshold)
    reasons: dict = {"dictionary": {f: REASONS[f].to_dict() for f in FEATURES}, "top": TOP_REASONS,
                     "declined": len(declined), "withheld": not trusted}
    pictures: dict[str, bytes] = {}
    files: dict[str, bytes] = {}
    stability_out = None
    if trusted:  # reasons from values that failed their checks would mislead customers
        progress(f"reason codes for {len(declined):,} declined applicants")
        from governance.elderly_counterfactual import elderly_counterfactual

        try:
            counterfactual = elderly_counterfactual(inputs.booster, inputs.features, min_age=elderly_age)
        except Incomplete as err:  # age is then never withheld as a reason
            counterfactual = {"applicants": None, "failed": None, "passed": None, "error": err.message}
        section, check, files["reason_codes.csv"], reason_pictures = _reason_codes(
            values, features, probability, declined, elderly_age, shap_values.base_value,
            age_not_adverse_for_elderly=bool(counterfactual["passed"]))
        section["elderly_counterfactual"] = {k: counterfactual[k] for k in ("applicants", "failed", "passed")}
        reasons.update(section)
        checks.append(check)
        pictures.update(reason_pictures)
        if stability_resamples > 0 and len(declined):
            progress(f"reason stability over {stability_resamples} background resamples")
            stability_out = stability.reason_stability(
                inputs.booster, features, declined, values[declined], applicants=stability_applicants,
                resamples=stability_resamples, top=TOP_REASONS, threshold=stability_threshold)
            pictures["reason_stability.png"] = charts.stability(stability_out.pop("per_applicant"), stability_threshold)
            checks.append(_stability_check(stability_out, stability_threshold))

    progress("charts")
    pictures.update(_global_charts(values, features, mean_abs, decomposition))
    order = np.argsort(-mean_abs, kind="stable")
    result = {
        "schema": SCHEMA,
        **inputs.describe(),
        "settings": {
            "threshold": threshold,
            "threshold_source": threshold_source,
            "decision_rule": "decline when the predicted default probability is above the threshold",
            "score_space": "log-odds of default (XGBoost margin)",
            "additivity_tolerance": additivity_tolerance,
            "top_reasons": TOP_REASONS,
            "elderly_age": elderly_age,
            "bands": [band.to_dict() for band in banding.bands],
            "stability": {"resamples": stability_resamples, "applicants": stability_applicants,
                          "threshold": stability_threshold},
        },
        "libraries": library_versions(),
        "shap": shap_values.summary(),
        "additivity": additive,
        "global": {
            "importance": [{"feature": FEATURES[i], "mean_abs_shap": float(mean_abs[i]),
                            "mean_shap": float(values[:, i].mean())} for i in order],
            "beeswarm_rows": min(BEESWARM_POINTS, inputs.rows),
        },
        "decomposition": decomposition,
        "reason_codes": reasons,
        "stability": stability_out,
        "checks": [c.to_dict() for c in checks],
        "verdict": overall(checks),
        "charts": sorted(f"explain/{name}" for name in pictures),
    }
    if out_dir is not None:
        progress("explain.json")
        write_outputs(result, pictures, files, out_dir)
    return result


def write_outputs(result: dict, pictures: dict[str, bytes], files: dict[str, bytes], out_dir) -> Path | str:
    """Charts and the csv first, ``explain.json`` last, each written atomically."""
    from governance.explain.inputs import output_path
    from governance.jsonio import write_json
    from governance.storage import write_bytes_atomic

    for name, content in {**pictures, **files}.items():
        write_bytes_atomic(output_path(out_dir, "explain", name), content)
    return write_json(output_path(out_dir, "explain.json"), result)
