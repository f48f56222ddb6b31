"""Charts of the fairness assessment (deterministic PNG bytes, drawn from the assessment's own numbers).

Each function takes the plain-data result (``fairness.json`` content) so a chart shows exactly what the evidence
file records. Bands that are reported but not judged are drawn hatched.
"""

from __future__ import annotations

import numpy as np

from governance.charts import NEUTRAL, TOWARDS_DEFAULT, TOWARDS_REPAYMENT, render


def _series(result: dict, metric: str) -> tuple[list[str], np.ndarray, np.ndarray, list[bool]]:
    labels, values, errors, judged = [], [], [], []
    for band in result["bands"]:
        entry = band["metrics"][metric]
        value = np.nan if entry["value"] is None else entry["value"]
        low, high = entry.get("interval") or (None, None)
        labels.append(band["label"])
        values.append(value)
        errors.append([value - low if low is not None else 0, high - value if high is not None else 0])
        judged.append(band["judged"])
    errors_array = np.clip(np.nan_to_num(np.array(errors, dtype=float).T), 0, None)
    return labels, np.array(values, dtype=float), errors_array, judged


def _bars(ax, x, values, errors, judged, colour, width=0.8, label=None):
    bars = ax.bar(x, np.nan_to_num(values), width, yerr=errors, color=colour, capsize=3, label=label,
                  error_kw={"elinewidth": 0.8})
    for bar, is_judged in zip(bars, judged, strict=True):
        if not is_judged:
            bar.set_hatch("//")
            bar.set_alpha(0.45)


def _paired_bars(ax, result: dict, series: list[tuple[str, str, str]]) -> list[str]:
    """Two metrics per band side by side (with intervals); returns the band labels for the x axis."""
    labels: list[str] = []
    for offset, (metric, colour, name) in enumerate(series):
        labels, values, errors, judged = _series(result, metric)
        _bars(ax, np.arange(len(labels)) + (offset - 0.5) * 0.35, values, errors, judged, colour, 0.35, name)
    ax.set_xticks(range(len(labels)), labels)
    return labels


def approval_by_band(result: dict) -> bytes:
    labels, values, errors, judged = _series(result, "approval_rate")
    threshold = result["settings"]["threshold"]

    def draw(fig):
        ax = fig.add_subplot()
        _bars(ax, np.arange(len(labels)), values, errors, judged, TOWARDS_REPAYMENT)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("approval rate")
        ax.set_xlabel("age band (hatched: below the minimum count, not judged)")
        ax.set_title(f"Approval rate by age band at threshold {threshold:g} "
                     f"({result['settings']['bootstrap']['confidence']:.0%} intervals)")

    return render(draw)


def ratios_by_band(result: dict) -> bytes:
    """Adverse impact ratio and equal-opportunity ratio per band, with intervals and the policy limits."""
    rules = result["settings"]["policy"]["checks"]

    def draw(fig):
        ax = fig.add_subplot()
        _paired_bars(ax, result, [("adverse_impact_ratio", TOWARDS_REPAYMENT, "adverse impact ratio"),
                                  ("equal_opportunity_ratio", NEUTRAL, "equal-opportunity ratio")])
        ax.axhline(rules["adverse-impact-ratio"]["limit"], color=TOWARDS_DEFAULT, linestyle="--", linewidth=1,
                   label=f"limit {rules['adverse-impact-ratio']['limit']:g}")
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("ratio to the best judged band")
        ax.set_title("Adverse impact and equal opportunity by age band")
        ax.legend(fontsize=8, loc="lower right")

    return render(draw)


def error_rates_by_band(result: dict) -> bytes:
    def draw(fig):
        ax = fig.add_subplot()
        _paired_bars(ax, result, [("true_positive_rate", TOWARDS_REPAYMENT, "defaulters declined (TPR)"),
                                  ("false_positive_rate", TOWARDS_DEFAULT, "good payers declined (FPR)")])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("rate")
        ax.set_title("Error rates by age band")
        ax.legend(fontsize=8)

    return render(draw)


def calibration_by_band(result: dict) -> bytes:
    def draw(fig):
        ax = fig.add_subplot()
        _paired_bars(ax, result, [("default_rate", NEUTRAL, "observed default rate"),
                                  ("mean_predicted", TOWARDS_DEFAULT, "mean predicted default probability")])
        ax.set_ylabel("default rate")
        ax.set_title("Calibration by age band")
        ax.legend(fontsize=8)

    return render(draw)


def threshold_sweep(result: dict) -> bytes:
    sweep = result["sweep"]
    threshold = result["settings"]["threshold"]
    limit = result["settings"]["policy"]["checks"]["adverse-impact-ratio"]["limit"]
    t = np.array(sweep["thresholds"])

    def values(key_or_list) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in key_or_list], dtype=float)

    def draw(fig):
        left, right = fig.subplots(1, 2)
        for band in result["bands"]:
            left.plot(t, values(sweep["approval_rate"][band["label"]]), linewidth=1.2,
                      linestyle="-" if band["judged"] else ":", label=band["label"])
        left.axvline(threshold, color="black", linewidth=0.8, linestyle="--")
        left.set_xlabel("decline threshold (predicted default probability)")
        left.set_ylabel("approval rate")
        left.set_title("Approval rate by band")
        left.legend(fontsize=7)
        right.plot(t, values(sweep["adverse_impact_ratio"]), color=TOWARDS_REPAYMENT, label="adverse impact ratio")
        right.plot(t, values(sweep["equal_opportunity_ratio"]), color=NEUTRAL, label="equal-opportunity ratio")
        right.plot(t, values(sweep["demographic_parity_difference"]), color=TOWARDS_DEFAULT,
                   label="demographic parity difference")
        right.axhline(limit, color=TOWARDS_DEFAULT, linewidth=0.8, linestyle=":")
        right.axvline(threshold, color="black", linewidth=0.8, linestyle="--", label=f"operating point {threshold:g}")
        right.set_ylim(0, 1.05)
        right.set_xlabel("decline threshold")
        right.set_title("Disparities across judged bands")
        right.legend(fontsize=7)

    return render(draw, (10.0, 4.0))


CHARTS = {
    "approval_by_band.png": approval_by_band,
    "ratios_by_band.png": ratios_by_band,
    "error_rates_by_band.png": error_rates_by_band,
    "calibration_by_band.png": calibration_by_band,
    "threshold_sweep.png": threshold_sweep,
}


def render_all(result: dict) -> dict[str, bytes]:
    """Every fairness chart, keyed by its file name under ``fairness/``."""
    return {name: draw(result) for name, draw in CHARTS.items()}
