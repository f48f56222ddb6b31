"""Fairness figures: per-band metrics and disparities re-computed with plain pandas and checked against fairlearn's
``MetricFrame`` (the pipeline uses its own per-band loop); intervals re-drawn by the assessment itself with the
recorded policy, seed and resample count, fed with the independent SHAP values (:mod:`.explain`)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from governance.reproduce.figures import DIFFERS, Report, close

SECTION = "fairness"
SOURCE = "fairness.json"


def band_codes(ages: np.ndarray, bands: list[dict], valid_range: list[int]) -> tuple[np.ndarray, int, int]:
    """``(codes, out of range, unbanded)``: each age's band index, -1 outside the valid range, -2 in no band."""
    ages = np.asarray(ages, dtype=np.float64)
    valid = np.isfinite(ages) & (ages >= valid_range[0]) & (ages <= valid_range[1])
    codes = np.where(valid, -2, -1)
    for index, band in enumerate(bands):
        inside = valid & (ages >= band["min"]) & ((band.get("max") is None) | (ages <= (band.get("max") or 0)))
        codes = np.where(inside, index, codes)
    return codes, int((codes == -1).sum()), int((codes == -2).sum())


def _auc(y: np.ndarray, s: np.ndarray) -> float:
    from scipy.stats import mannwhitneyu

    if len(np.unique(y)) < 2:
        return float("nan")
    return float(mannwhitneyu(s[y == 1], s[y == 0]).statistic / ((y == 1).sum() * (y == 0).sum()))


def band_table(y: np.ndarray, scores: np.ndarray, codes: np.ndarray, labels: list[str], threshold: float,
               min_count: int) -> pd.DataFrame:
    """The per-band table with plain pandas: one groupby, definitions written out."""
    frame = pd.DataFrame({"band": codes, "y": y, "s": scores, "declined": scores > threshold})
    frame["good_declined"] = frame.declined & (frame.y == 0)
    frame["bad_declined"] = frame.declined & (frame.y == 1)
    frame["sq"] = (frame.s - frame.y) ** 2
    rows = {}
    banded = frame[frame.band >= 0]
    for code, part in banded.groupby("band"):
        goods, bads = int((part.y == 0).sum()), int((part.y == 1).sum())
        rest = banded.s[banded.band != code]
        spread = np.sqrt((part.s.var(ddof=0) + rest.var(ddof=0)) / 2)
        rows[labels[code]] = {
            "count": len(part), "approval_rate": 1 - part.declined.mean(), "default_rate": part.y.mean(),
            "mean_predicted": part.s.mean(),
            "true_positive_rate": part.bad_declined.sum() / bads if bads else np.nan,
            "false_positive_rate": part.good_declined.sum() / goods if goods else np.nan,
            "good_payer_approval_rate": 1 - part.good_declined.sum() / goods if goods else np.nan,
            "wrongful_declines": int(part.good_declined.sum()), "auc": _auc(part.y.to_numpy(), part.s.to_numpy()),
            "brier": part.sq.mean(),
            "calibration_error": part.s.mean() / part.y.mean() - 1 if part.y.mean() > 0 else np.nan,
            "score_smd": (part.s.mean() - rest.mean()) / spread if spread > 0 else np.nan}
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(labels)
    judged = table["count"].fillna(0) >= min_count
    for ratio, column in (("adverse_impact_ratio", "approval_rate"),
                          ("equal_opportunity_ratio", "good_payer_approval_rate")):
        table[ratio] = table[column] / table.loc[judged, column].max()
    table["judged"] = judged
    return table


def _fairlearn(y: np.ndarray, scores: np.ndarray, codes: np.ndarray, labels: list[str], threshold: float):
    from fairlearn.metrics import MetricFrame, count, false_positive_rate, selection_rate, true_positive_rate

    inside = codes >= 0
    declined = (scores[inside] > threshold).astype(int)
    frame = MetricFrame(metrics={"count": count, "declined": selection_rate, "true_positive_rate": true_positive_rate,
                                 "false_positive_rate": false_positive_rate},
                        y_true=y[inside], y_pred=declined,
                        sensitive_features=pd.Series([labels[c] for c in codes[inside]], name="band"))
    table = frame.by_group.copy()
    table["approval_rate"] = 1 - table.pop("declined")
    return table


def disparities(table: pd.DataFrame) -> dict[str, tuple[float, str | None]]:
    judged = table[table.judged]

    def spread(column: str) -> float:
        values = judged[column].dropna()
        return float(values.max() - values.min()) if len(values) >= 2 else float("nan")

    def ratio(column: str) -> tuple[float, str | None]:
        values = judged[column].dropna()
        return (float(values.min() / values.max()), str(values.idxmax())) if len(values) >= 2 else (np.nan, None)

    return {"adverse_impact_ratio": ratio("approval_rate"),
            "demographic_parity_difference": (spread("approval_rate"), None),
            "equal_opportunity_difference": (spread("good_payer_approval_rate"), None),
            "equal_opportunity_ratio": ratio("good_payer_approval_rate"),
            "equalized_odds_difference": (float(np.nanmax([spread("true_positive_rate"),
                                                          spread("false_positive_rate")])), None),
            "auc_gap": (spread("auc"), None),
            "score_smd": (float(judged["score_smd"].abs().max()), None)}


def rerun(booster, features: pd.DataFrame, y: pd.Series, fairness: dict, shap_values) -> dict:
    """The assessment run again with the recorded policy, threshold and seed (for the bootstrap intervals)."""
    from governance.fairness import assess_fairness
    from governance.fairness.policy import FairnessPolicy

    settings = fairness["settings"]
    policy = FairnessPolicy.model_validate(settings["policy"])
    assessed = fairness.get("assessed_on")
    today = date.fromisoformat(assessed[:10]) if assessed else None
    return assess_fairness(booster, (features, y), policy=policy, threshold=float(settings["threshold"]),
                           shap_values=shap_values, today=today,
                           ignore_waivers=bool(settings.get("waivers_ignored")))


def _interval(report: Report, figure: str, printed, redrawn, kind: str = "interval") -> None:
    for index, end in enumerate(("low", "high")):
        report.number(SECTION, f"{figure}.interval.{end}", printed[index] if printed else None,
                      redrawn[index] if redrawn else None, kind, "bootstrap re-drawn with the recorded seed")


def fairness_figures(report: Report, fairness: dict, redone: dict, y: np.ndarray, scores: np.ndarray,
                     codes: np.ndarray, age_shap: np.ndarray, ages: np.ndarray) -> None:
    settings = fairness["settings"]
    labels = [band["label"] for band in settings["policy"]["age"]["bands"]]
    threshold = float(settings["threshold"])
    table = band_table(y, scores, codes, labels, threshold, int(settings["min_count"]))
    checked = _fairlearn(y, scores, codes, labels, threshold)
    redone_bands = {band["label"]: band for band in redone["bands"]}
    for band in fairness["bands"]:
        label = band["label"]
        prefix = f"{SOURCE}:bands[{label}]"
        report.number(SECTION, f"{prefix}.count", band["count"], table.loc[label, "count"], "exact", "pandas")
        for name, estimate in band["metrics"].items():
            ours = table.loc[label, name] if name in table.columns else None
            figure = report.number(SECTION, f"{prefix}.metrics.{name}.value", estimate.get("value"), ours,
                                   "exact" if name in ("count", "wrongful_declines") else "metric", "pandas groupby")
            if name in checked.columns and label in checked.index:
                other = float(checked.loc[label, name])
                if not close(other, float(ours), report.tolerances["metric"]) and figure.status != DIFFERS:
                    figure.status, figure.note = DIFFERS, f"fairlearn MetricFrame gives {other}"
                else:
                    figure.method += "; fairlearn MetricFrame agrees"
            again = (redone_bands.get(label, {}).get("metrics", {}).get(name) or {})
            if estimate.get("interval") is not None or again.get("interval") is not None:
                _interval(report, f"{prefix}.metrics.{name}", estimate.get("interval"), again.get("interval"))
    ours = disparities(table)
    for name, estimate in fairness["disparities"].items():
        value, best = ours.get(name, (None, None))
        report.number(SECTION, f"{SOURCE}:disparities.{name}.value", estimate.get("value"), value, "metric",
                      "pandas over the judged bands")
        if estimate.get("reference_band") is not None:
            report.number(SECTION, f"{SOURCE}:disparities.{name}.reference_band", estimate["reference_band"], best,
                          "exact", "pandas: the band with the highest rate")
        _interval(report, f"{SOURCE}:disparities.{name}", estimate.get("interval"),
                  (redone["disparities"].get(name) or {}).get("interval"))
    elderly = fairness.get("elderly") or {}
    if elderly.get("enabled"):
        older = (codes >= 0) & (ages >= int(elderly["min_age"]))
        report.number(SECTION, f"{SOURCE}:elderly.count", elderly.get("count"), int(older.sum()), "exact", "counted")
        report.number(SECTION, f"{SOURCE}:elderly.mean_age_shap", elderly.get("mean_age_shap"),
                      float(age_shap[older].mean()) if older.any() else None, "shap", "shap.TreeExplainer")
        report.number(SECTION, f"{SOURCE}:elderly.share_adverse", elderly.get("share_adverse"),
                      float(np.mean(age_shap[older] > 0)) if older.any() else None, "metric", "shap.TreeExplainer")
        _interval(report, f"{SOURCE}:elderly", elderly.get("interval"), (redone.get("elderly") or {}).get("interval"),
                  "shap")
    again = {(c["check"], c["resource"]): c for c in redone["checks"]}
    for check in fairness["checks"]:
        figure = f"{SOURCE}:checks[{check['check']}:{check['resource']}]"
        other = again.get((check["check"], check["resource"]), {})
        kind = "shap" if check["check"].startswith("elderly") else "interval"
        report.number(SECTION, f"{figure}.verdict", check["verdict"], other.get("verdict"), "exact",
                      "the recorded policy applied again")
        if check.get("value") is not None:
            report.number(SECTION, f"{figure}.value", check["value"], other.get("value"), kind,
                          "the assessment re-run")
        if check.get("interval") is not None:
            _interval(report, figure, check["interval"], other.get("interval"), kind)
