"""Charts for the pack, drawn with matplotlib from numbers already in the evidence (nothing is computed here).

Each function returns PNG bytes. Figures are made without pyplot's global state and saved without the
"Software" stamp, so the same numbers give the same bytes.

>>> png = roc_chart([0.0, 0.1, 1.0], [0.0, 0.7, 1.0], auc=0.86)
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from collections.abc import Sequence

DPI = 160
INK = "#1f2933"
ACCENT = "#1d4e89"
MUTED = "#9aa5b1"
RAG = {"green": "#2f7d32", "amber": "#b26a00", "red": "#b3261e", "grey": "#616e7c"}


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches=None)
    return buffer.getvalue()


def _style(axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=7, colors=INK)
    axes.grid(alpha=0.25, linewidth=0.5)


def roc_chart(fpr: Sequence[float], tpr: Sequence[float], auc: float | None) -> bytes:
    figure = _figure(3.4, 3.1)
    axes = figure.add_axes((0.16, 0.15, 0.78, 0.76))
    axes.plot([0, 1], [0, 1], color=MUTED, linewidth=0.8, linestyle="--", label="chance")
    label = f"model (AUC {auc:.4f})" if auc is not None else "model"
    axes.plot(list(fpr), list(tpr), color=ACCENT, linewidth=1.6, label=label)
    axes.set_xlabel("False positive rate", fontsize=7.5)
    axes.set_ylabel("True positive rate", fontsize=7.5)
    axes.set_title("ROC curve (validation split)", fontsize=8.5)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    axes.legend(fontsize=6.5, loc="lower right", frameon=False)
    _style(axes)
    return _png(figure)


def calibration_chart(predicted: Sequence[float], observed: Sequence[float]) -> bytes:
    figure = _figure(3.4, 3.1)
    axes = figure.add_axes((0.17, 0.15, 0.77, 0.76))
    top = max([*predicted, *observed, 0.01]) * 1.05
    axes.plot([0, top], [0, top], color=MUTED, linewidth=0.8, linestyle="--", label="perfect calibration")
    axes.plot(list(predicted), list(observed), color=ACCENT, marker="o", markersize=3, linewidth=1.2,
              label="score deciles")
    axes.set_xlabel("Mean predicted default rate", fontsize=7.5)
    axes.set_ylabel("Observed default rate", fontsize=7.5)
    axes.set_title("Calibration by score decile", fontsize=8.5)
    axes.set_xlim(0, top)
    axes.set_ylim(0, top)
    axes.legend(fontsize=6.5, loc="upper left", frameon=False)
    _style(axes)
    return _png(figure)


def risk_grid_chart(risks: Sequence[tuple[str, int, int]]) -> bytes:
    """A 5 × 5 likelihood × impact grid; each risk's id is written in its cell."""
    from matplotlib.patches import Rectangle

    figure = _figure(4.6, 3.9)
    axes = figure.add_axes((0.14, 0.13, 0.82, 0.78))
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            score = likelihood * impact
            colour = RAG["red"] if score >= 15 else RAG["amber"] if score >= 6 else RAG["green"]
            axes.add_patch(Rectangle((likelihood - 0.5, impact - 0.5), 1, 1, facecolor=colour, alpha=0.28,
                                     edgecolor="white", linewidth=1.5))
    cells: dict[tuple[int, int], list[str]] = {}
    for risk_id, likelihood, impact in risks:
        cells.setdefault((likelihood, impact), []).append(risk_id)
    for (likelihood, impact), ids in sorted(cells.items()):
        axes.text(likelihood, impact, "\n".join(ids), ha="center", va="center", fontsize=7, color=INK,
                  fontweight="bold")
    axes.set_xlim(0.5, 5.5)
    axes.set_ylim(0.5, 5.5)
    axes.set_xticks(range(1, 6), ["1 rare", "2", "3", "4", "5 almost\ncertain"], fontsize=6.5)
    axes.set_yticks(range(1, 6), ["1 minor", "2", "3", "4", "5 severe"], fontsize=6.5)
    axes.set_xlabel("Likelihood", fontsize=7.5)
    axes.set_ylabel("Impact", fontsize=7.5)
    axes.set_title("Risk register: likelihood × impact", fontsize=8.5)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    return _png(figure)
