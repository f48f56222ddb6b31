"""Deterministic PNG charts: the same numbers always give the same bytes, so chart evidence hashes stably.

Every chart is drawn on a private ``matplotlib.figure.Figure`` with the Agg canvas (no pyplot state, no display),
under matplotlib's default style whatever the user's ``matplotlibrc`` says, and saved without the ``Software``
metadata and at a fixed resolution.

>>> png = render(lambda fig: fig.add_subplot().plot([0, 1], [0, 1]))
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n" and png == render(lambda fig: fig.add_subplot().plot([0, 1], [0, 1]))
True
"""

from __future__ import annotations

import io
from collections.abc import Callable

DPI = 110
STYLE = {"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False, "axes.spines.right": False,
         "svg.hashsalt": "governance", "figure.dpi": DPI}
TOWARDS_DEFAULT = "#c0392b"
TOWARDS_REPAYMENT = "#2471a3"
NEUTRAL = "#7f8c8d"


def render(draw: Callable, size: tuple[float, float] = (7.0, 4.0)) -> bytes:
    """Call ``draw(figure)`` on a fresh figure and return the PNG bytes."""
    import matplotlib
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.style.context("default"), matplotlib.rc_context(STYLE):
        figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
