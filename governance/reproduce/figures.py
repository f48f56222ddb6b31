"""One re-performed figure and the report that collects them: printed value, recomputed value, tolerance, match.

>>> report = Report()
>>> figure = report.number("performance", "evaluation.json:auc", 0.81234, 0.8123400001, "metric", "scipy")
>>> report.figures[0].status, report.exit_code()
('match', 0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

MATCH, DIFFERS, ATTESTED = "match", "differs", "attested"

# Each tolerance class, its default and why (docs/reproduce.md explains them at length). A figure matches when
# |printed - recomputed| <= tolerance × max(1, |printed|): absolute near zero, relative for large values.
TOLERANCES: dict[str, tuple[float, str]] = {
    "exact": (0.0, "counts, digests and labels: the same input gives the same integer or byte string"),
    "metric": (1e-6, "the booster's probabilities are float32 (about 7 significant digits): a mean of them summed "
                     "in float32 by one library and in float64 by another agrees to about 1e-7"),
    "profile": (1e-9, "column statistics of the raw file by numpy instead of pandas: summation order only"),
    "interval": (1e-9, "bootstrap bounds re-drawn with the recorded seed and resample count"),
    "shap": (1e-4, "shap.TreeExplainer in float64 against XGBoost's float32 pred_contribs, summed over rows"),
}


@dataclass
class Figure:
    section: str
    figure: str
    printed: Any
    recomputed: Any
    tolerance: float | None
    status: str
    method: str
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def close(printed: Any, recomputed: Any, tolerance: float) -> bool:
    """Whether two values agree within ``tolerance`` (relative above 1, absolute below; NaN equals NaN)."""
    if printed is None or recomputed is None:
        return printed is None and recomputed is None
    if isinstance(printed, str) or isinstance(recomputed, str):
        return printed == recomputed
    a, b = float(printed), float(recomputed)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tolerance * max(1.0, abs(a))


def _plain(value: Any) -> Any:
    """JSON-friendly numbers (numpy scalars and NaN become float and None)."""
    if value is None or isinstance(value, str | bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return None
    return int(value) if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu") else number


@dataclass
class Report:
    """Every figure re-performed, in the order they were checked; ``tolerances`` may override the defaults."""

    tolerances: dict[str, float] = field(default_factory=lambda: {k: v[0] for k, v in TOLERANCES.items()})
    figures: list[Figure] = field(default_factory=list)
    # Sections the pack carries no evidence for ({section: evidence file}): nothing printed, nothing re-performed.
    absent: dict[str, str] = field(default_factory=dict)

    def number(self, section: str, figure: str, printed: Any, recomputed: Any, kind: str, method: str,
               note: str = "") -> Figure:
        tolerance = self.tolerances[kind]
        printed, recomputed = _plain(printed), _plain(recomputed)
        status = MATCH if close(printed, recomputed, tolerance) else DIFFERS
        self.figures.append(Figure(section, figure, printed, recomputed, tolerance, status, method, note))
        return self.figures[-1]

    def attested(self, section: str, figure: str, printed: Any, why: str) -> None:
        self.figures.append(Figure(section, figure, _plain(printed), None, None, ATTESTED, why))

    def not_rederived(self, section: str, figure: str, why: str) -> None:
        """Figures that could not be re-derived at all (from a data file that is not the pack's): a difference."""
        self.figures.append(Figure(section, figure, None, None, None, DIFFERS, "not re-derived", why))

    def covered(self) -> set[str]:
        return {f.figure for f in self.figures}

    def first_difference(self) -> Figure | None:
        return next((f for f in self.figures if f.status == DIFFERS), None)

    def counts(self) -> dict[str, int]:
        found = {MATCH: 0, DIFFERS: 0, ATTESTED: 0}
        for item in self.figures:
            found[item.status] += 1
        return found

    def summary(self) -> str:
        c = self.counts()
        text = f"{len(self.figures)} figures: {c[MATCH]} matched, {c[DIFFERS]} differ, {c[ATTESTED]} attested only"
        if self.absent:
            text += "; not in the pack, so not re-performed: " + ", ".join(
                f"{section} (no {evidence})" for section, evidence in self.absent.items())
        first = self.first_difference()
        if first:
            text += f"; first difference: {first.section} {first.figure}" + (f" — {first.note}" if first.note else "")
        return text

    def exit_code(self) -> int:
        """0 when every re-performed figure matches, 1 when one differs (attested figures do not count)."""
        return 1 if self.counts()[DIFFERS] else 0

    def to_json(self) -> dict:
        first = self.first_difference()
        return {"passed": self.exit_code() == 0, "summary": self.summary(), "counts": self.counts(),
                "first_difference": first.to_dict() if first else None,
                "absent_sections": [{"section": section, "evidence": evidence, "status": "not re-performed"}
                                    for section, evidence in self.absent.items()],
                "tolerances": dict(self.tolerances), "figures": [f.to_dict() for f in self.figures]}
