"""Charts of the explanations, as deterministic PNG bytes (same inputs, same bytes: evidence files hash stably).

Rendering (fixed style, no pyplot state, no ``Software`` stamp) is :func:`governance.charts.render`; the
beeswarm's jitter is computed, not random.
"""

from __future__ import annotations

import numpy as np

from governance.charts import NEUTRAL, TOWARDS_DEFAULT, TOWARDS_REPAYMENT, render


def importance_bar(features: list[str], mean_abs: np.ndarray) -> bytes:
    order = np.argsort(mean_abs)

    def draw(fig):
        ax = fig.add_subplot()
        ax.barh([features[i] for i in order], mean_abs[order], color=TOWARDS_REPAYMENT)
        ax.set_xlabel("mean |SHAP value| (log-odds of default)")
        ax.set_title("Global importance")

    return render(draw, (7.0, 4.2))


def _swarm_offsets(values: np.ndarray, bins: int = 100) -> np.ndarray:
    """Deterministic vertical offsets that spread points sharing a value bin, alternating above and below."""
    span = values.max() - values.min() if len(values) else 0.0
    quantised = np.round(bins * (values - values.min()) / (span if span > 0 else 1.0)).astype(int)
    order = np.lexsort((np.arange(len(values)), quantised))
    sorted_bins = quantised[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_bins)) + 1]
    rank = np.arange(len(values)) - np.repeat(starts, np.diff(np.r_[starts, len(values)]))
    offsets = np.empty(len(values))
    offsets[order] = np.ceil(rank / 2) * np.where(rank % 2 == 1, 1.0, -1.0)
    peak = np.abs(offsets).max() if len(values) else 0.0
    return offsets / peak * 0.4 if peak > 0 else offsets


def beeswarm(features: list[str], values: np.ndarray, data: np.ndarray, order: np.ndarray) -> bytes:
    """SHAP value per applicant and feature (rows of ``order``, most important on top), coloured by feature value."""

    def draw(fig):
        ax = fig.add_subplot()
        for position, index in enumerate(order[::-1]):
            shap_column, feature_column = values[:, index], data[:, index]
            low, high = np.nanpercentile(feature_column, [5, 95]) if len(feature_column) else (0, 1)
            colour = (np.clip((feature_column - low) / (high - low), 0, 1) if high > low
                      else np.full(len(shap_column), 0.5))
            ax.scatter(shap_column, position + _swarm_offsets(shap_column), c=colour, cmap="coolwarm", vmin=0, vmax=1,
                       s=3, linewidths=0, rasterized=True)
        ax.set_yticks(range(len(order)), [features[i] for i in order[::-1]])
        ax.axvline(0, color=NEUTRAL, linewidth=0.8)
        ax.set_xlabel("SHAP value (log-odds of default; right = towards decline)")
        ax.set_title("SHAP value per applicant (colour: feature value, blue low, red high)", loc="right")

    return render(draw, (7.5, 4.8))


def dependence(panels: list[tuple[str, np.ndarray, np.ndarray]]) -> bytes:
    """One scatter per ``(feature, feature values, SHAP values)``: how the contribution moves with the value."""

    def draw(fig):
        columns = 2
        rows = int(np.ceil(len(panels) / columns))
        for number, (feature, x, shap_column) in enumerate(panels, start=1):
            ax = fig.add_subplot(rows, columns, number)
            high = np.nanpercentile(x, 99.5) if len(x) else 1
            shown = x <= high
            ax.scatter(x[shown], shap_column[shown], s=3, linewidths=0, color=TOWARDS_REPAYMENT, alpha=0.5,
                       rasterized=True)
            ax.axhline(0, color=NEUTRAL, linewidth=0.8)
            ax.set_xlabel(feature + (" (top 0.5% not shown)" if not shown.all() else ""))
            ax.set_ylabel("SHAP value")

    return render(draw, (8.0, 3.0 * int(np.ceil(len(panels) / 2))))


def waterfall(title: str, base_value: float, contributions: list[tuple[str, float]]) -> bytes:
    """From the expected log-odds to the applicant's, one bar per contribution (largest first)."""

    def draw(fig):
        ax = fig.add_subplot()
        position = base_value
        labels = []
        for row, (label, value) in enumerate(contributions):
            ax.barh(row, value, left=position, color=TOWARDS_DEFAULT if value > 0 else TOWARDS_REPAYMENT)
            ax.text(position + value, row, f" {value:+.2f}", va="center", ha="left" if value > 0 else "right",
                    fontsize=8)
            position += value
            labels.append(label)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.use_sticky_edges = False  # bars pin the axis to their base otherwise, hiding the expected value
        ax.margins(x=0.08)
        ax.axvline(base_value, color=NEUTRAL, linewidth=0.8, linestyle="--")
        ax.axvline(position, color="black", linewidth=0.8)
        ax.set_xlabel(f"log-odds of default: expected {base_value:.2f} → this applicant {position:.2f}")
        ax.set_title(title)

    return render(draw, (8.0, 0.35 * len(contributions) + 1.6))


def gap_decomposition(bands: list[str], reference: str, age_parts: list[float], other_parts: list[float],
                      gaps: list[float]) -> bytes:
    """Per band, its mean-score gap to the reference split into the direct effect of age and everything else."""

    def draw(fig):
        ax = fig.add_subplot()
        y = np.arange(len(bands))
        ax.barh(y - 0.2, age_parts, height=0.4, color=TOWARDS_DEFAULT, label="age itself (direct)")
        ax.barh(y + 0.2, other_parts, height=0.4, color=NEUTRAL, label="other features (indirect)")
        ax.scatter(gaps, y, color="black", zorder=3, marker="D", s=18, label="total gap")
        ax.set_yticks(y, bands)
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"mean log-odds of default minus band {reference}'s (right = scored riskier)")
        ax.set_title("Age-band score gaps, decomposed by SHAP")
        ax.legend(loc="lower right", fontsize=8)

    return render(draw, (7.5, 3.8))


def reason_frequency(labels: list[str], counts: list[int], declined: int) -> bytes:
    def draw(fig):
        ax = fig.add_subplot()
        order = np.argsort(counts)
        ax.barh([labels[i] for i in order], [counts[i] / max(declined, 1) for i in order], color=TOWARDS_DEFAULT)
        ax.set_xlabel(f"share of the {declined:,} declined applicants given this reason (top four)")
        ax.set_title("Reason codes for declines")

    return render(draw, (8.0, 4.0))


def stability(overlaps: np.ndarray, threshold: float) -> bytes:
    def draw(fig):
        ax = fig.add_subplot()
        ax.hist(overlaps, bins=np.linspace(0, 1, 11), color=TOWARDS_REPAYMENT, edgecolor="white")
        ax.axvline(threshold, color=TOWARDS_DEFAULT, linestyle="--", label=f"threshold {threshold:.2f}")
        ax.set_xlabel("reason-code overlap with the reported reasons (per applicant, mean over backgrounds)")
        ax.set_ylabel("applicants")
        ax.set_title("Reason-code stability across background resamples")
        ax.legend(fontsize=8)

    return render(draw, (7.0, 3.5))
