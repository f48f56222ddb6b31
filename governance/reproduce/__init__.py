"""Re-performance of an audit pack: every printed figure re-derived from the evidence the pack carries and the raw
data, by an independent code path where one exists (scipy/numpy for performance, pandas and fairlearn's
``MetricFrame`` for fairness, ``shap.TreeExplainer`` for explanations). :func:`reproduce` takes the evidence
files (name → bytes, as attached to a verified pack) and the raw data, and returns a :class:`Report`. See
docs/reproduce.md.
"""

from governance.reproduce.figures import TOLERANCES, Figure, Report
from governance.reproduce.run import reproduce

__all__ = ["TOLERANCES", "Figure", "Report", "reproduce"]
