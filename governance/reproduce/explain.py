"""Explainability figures: SHAP values re-computed with ``shap.TreeExplainer`` (the pipeline uses XGBoost's
``pred_contribs``); global importance and the age-band decomposition from them by hand; reason codes, examples and
their stability by the explain step's own rules run again on those independent values with the recorded settings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.credit_data import FEATURES, PROTECTED_ATTRIBUTE
from governance.reproduce.figures import Report

SECTION = "explainability"
SOURCE = "explain.json"
CROSSCHECK = "max |shap.TreeExplainer − XGBoost pred_contribs| (both must stay within the tolerance)"


def tree_explainer(booster, features: pd.DataFrame):
    """``ShapValues`` from ``shap.TreeExplainer`` (path-dependent, raw log-odds), for the explain step's rules."""
    import warnings

    import shap

    from governance.explain.shap_values import ShapValues

    matrix = np.asarray(features[list(FEATURES)], dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(booster, feature_perturbation="tree_path_dependent", model_output="raw")
        values = np.asarray(explainer.shap_values(matrix), dtype=np.float64)
    base = float(np.ravel(explainer.expected_value)[0])
    return ShapValues(values, base, crosscheck={"performed": False, "reference": "none (re-performance)"},
                      method="shap.TreeExplainer (re-performance)")


def _pred_contribs_gap(booster, features: pd.DataFrame, values: np.ndarray) -> float:
    import xgboost

    contribs = booster.predict(xgboost.DMatrix(np.asarray(features, dtype=np.float64), feature_names=list(FEATURES)),
                               pred_contribs=True)
    return float(np.max(np.abs(contribs[:, :-1] - values)))


def rerun(booster, features: pd.DataFrame, y: pd.Series, explain: dict, shap_values) -> dict:
    """The explain step's rules run again on the independent SHAP values with the recorded settings."""
    from governance.age_bands import AgeBand
    from governance.explain import explain_model

    settings = explain["settings"]
    stability = settings.get("stability") or {}
    bands = [AgeBand(b["label"], b["min"], b.get("max")) for b in settings["bands"]]
    return explain_model(booster, (features, y), threshold=float(settings["threshold"]), shap_values=shap_values,
                         bands=bands, reference_band=explain["decomposition"]["reference"],
                         additivity_tolerance=float(settings["additivity_tolerance"]),
                         stability_resamples=int(stability["resamples"]),
                         stability_applicants=int(stability["applicants"]),
                         stability_threshold=float(stability["threshold"]), elderly_age=int(settings["elderly_age"]))


def explain_figures(report: Report, explain: dict, redone: dict, booster, features: pd.DataFrame, shap_values,
                    margin: np.ndarray, codes: np.ndarray) -> None:
    values = shap_values.values
    shap_info = explain["shap"]
    report.number(SECTION, f"{SOURCE}:shap.rows", shap_info["rows"], len(values), "exact", "counted")
    gap = _pred_contribs_gap(booster, features, values)
    additivity = float(np.max(np.abs(values.sum(axis=1) + shap_values.base_value - margin)))
    report.number(SECTION, f"{SOURCE}:shap.crosscheck.max_abs_difference",
                  (shap_info.get("crosscheck") or {}).get("max_abs_difference"), gap, "shap", CROSSCHECK)
    _checks(report, explain, redone, {"shap-crosscheck": (gap, CROSSCHECK),
                                      "shap-additivity": (additivity, "|base + Σ shap.TreeExplainer − margin|")})
    for item in explain["global"]["importance"]:
        column = values[:, FEATURES.index(item["feature"])]
        prefix = f"{SOURCE}:global.importance[{item['feature']}]"
        report.number(SECTION, f"{prefix}.mean_abs_shap", item["mean_abs_shap"], np.abs(column).mean(), "shap",
                      "shap.TreeExplainer")
        report.number(SECTION, f"{prefix}.mean_shap", item["mean_shap"], column.mean(), "shap", "shap.TreeExplainer")
    _decomposition(report, explain, values, margin, codes)
    _reasons(report, explain, redone)


def _checks(report: Report, explain: dict, redone: dict, own: dict[str, tuple[float, str]]) -> None:
    """Each check's value: the SHAP self-checks measured on the independent values (both sides must stay within
    the tolerance), the others as the explain rules give them again."""
    again = {(c["check"], c["resource"]): c for c in redone["checks"]}
    for check in explain["checks"]:
        figure = f"{SOURCE}:checks[{check['check']}:{check['resource']}]"
        if check["check"] in own:
            value, method = own[check["check"]]
            report.number(SECTION, f"{figure}.value", check.get("value"), value, "shap", method)
            continue
        other = again.get((check["check"], check["resource"]), {})
        report.number(SECTION, f"{figure}.verdict", check["verdict"], other.get("verdict"), "exact",
                      "explain rules on shap.TreeExplainer values")
        if check.get("value") is not None:
            report.number(SECTION, f"{figure}.value", check["value"], other.get("value"), "metric",
                          "explain rules on shap.TreeExplainer values")


def _decomposition(report: Report, explain: dict, values: np.ndarray, margin: np.ndarray, codes: np.ndarray) -> None:
    labels = [b["label"] for b in explain["settings"]["bands"]]
    decomposition = explain["decomposition"]
    reference = labels.index(decomposition["reference"])
    age = FEATURES.index(PROTECTED_ATTRIBUTE)
    ref_values, ref_margin = values[codes == reference].mean(axis=0), margin[codes == reference].mean()
    for band in decomposition["bands"]:
        inside = codes == labels.index(band["label"])
        prefix = f"{SOURCE}:decomposition.bands[{band['label']}]"
        report.number(SECTION, f"{prefix}.count", band["count"], int(inside.sum()), "exact", "counted")
        if not inside.any():
            continue
        parts = values[inside].mean(axis=0) - ref_values
        gap = margin[inside].mean() - ref_margin
        for key, value, kind in (("mean_probability", np.mean(1 / (1 + np.exp(-margin[inside]))), "metric"),
                                 ("gap", gap, "metric"), ("direct_age", parts[age], "shap"),
                                 ("indirect", parts.sum() - parts[age], "shap"),
                                 ("residual", gap - parts.sum(), "shap")):
            report.number(SECTION, f"{prefix}.{key}", band.get(key), float(value), kind,
                          "booster margin and shap.TreeExplainer, by hand")


def _reasons(report: Report, explain: dict, redone: dict) -> None:
    printed, again = explain["reason_codes"], redone["reason_codes"]
    method = "explain rules on shap.TreeExplainer values"
    for key in ("top", "declined"):
        report.number(SECTION, f"{SOURCE}:reason_codes.{key}", printed.get(key), again.get(key), "exact", method)
    for key in ("declined_elderly", "count"):
        report.number(SECTION, f"{SOURCE}:reason_codes.elderly_flagged.{key}",
                      (printed.get("elderly_flagged") or {}).get(key), (again.get("elderly_flagged") or {}).get(key),
                      "exact", method)
    ours = {f["code"]: f for f in again.get("frequency", [])}
    for item in printed.get("frequency", []):
        other = ours.get(item["code"], {})
        for key in ("count", "share", "first"):
            report.number(SECTION, f"{SOURCE}:reason_codes.frequency[{item['code']}].{key}", item.get(key),
                          other.get(key), "metric" if key == "share" else "exact", method)
    for key, value in (printed.get("suppressed") or {}).items():
        report.number(SECTION, f"{SOURCE}:reason_codes.suppressed.{key}", value,
                      (again.get("suppressed") or {}).get(key), "exact", method)
    examples = again.get("examples", [])
    for number, example in enumerate(printed.get("examples", []), start=1):
        other = examples[number - 1] if number <= len(examples) else {}
        prefix = f"{SOURCE}:reason_codes.examples[{number}]"
        report.number(SECTION, f"{prefix}.age", example.get("age"), other.get("age"), "exact", method)
        report.number(SECTION, f"{prefix}.probability_of_default", example.get("probability_of_default"),
                      other.get("probability_of_default"), "metric", method)
        reasons = other.get("reasons", [])
        report.number(SECTION, f"{prefix}.reasons", " ".join(r["code"] for r in example.get("reasons", [])),
                      " ".join(r["code"] for r in reasons), "exact", method)
        theirs = {r["feature"]: r for r in reasons}
        for reason in example.get("reasons", []):
            other_reason = theirs.get(reason["feature"], {})
            for key, kind in (("value", "exact"), ("shap", "shap")):
                report.number(SECTION, f"{prefix}.reasons[{reason['feature']}].{key}", reason.get(key),
                              other_reason.get(key), kind, method)
    stability, again_stability = explain["stability"], redone["stability"]
    for key in ("applicants", "resamples", "background_rows", "mean_overlap", "first_reason_agreement",
                "min_applicant_overlap"):
        report.number(SECTION, f"{SOURCE}:stability.{key}", stability.get(key), again_stability.get(key), "metric",
                      "interventional TreeSHAP re-drawn with the recorded seed")
