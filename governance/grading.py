"""Grading: where a metric and its interval lie against a limit, as green / amber / red, then waivers.

Shared by the fairness and explainability checks (both grade their results this way); a :class:`GradedCheck` is
one graded result, distinct from a policy scan's :class:`~governance.policy.findings.Finding` (PASS / FAIL) and
an archive's :class:`~governance.integrity.findings.ArchiveFinding` (a safety code).

>>> from types import SimpleNamespace
>>> rule = SimpleNamespace(limit=0.8, on_significant="red", on_breach="amber", on_uncertain="amber")
>>> judge(0.70, (0.65, 0.76), rule, "min")
('significant', 'red')
>>> judge(0.78, (0.72, 0.83), rule, "min")
('breach', 'amber')
>>> judge(0.85, (0.79, 0.90), rule, "min")
('uncertain', 'amber')
>>> judge(0.85, (0.81, 0.90), rule, "min")
('pass', 'green')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from governance.waivers import Waiver, find_waiver

RANK = {"green": 0, "amber": 1, "red": 2}
Direction = Literal["min", "max", "abs_max"]
# A check that could not be computed is never a pass.
ERROR_VERDICT = "amber"


def _beyond(value: float, limit: float, direction: Direction) -> bool:
    if direction == "min":
        return value < limit
    if direction == "max":
        return value > limit
    return abs(value) > limit


def _interval_beyond(low: float, high: float, limit: float, direction: Direction) -> bool:
    """The whole interval violates the limit."""
    if direction == "min":
        return high < limit
    if direction == "max":
        return low > limit
    return low > limit or high < -limit


def judge(value: float | None, interval: tuple[float, float] | None, rule, direction: Direction) -> tuple[str, str]:
    """``(status, verdict)``; status is ``pass``, ``uncertain``, ``breach``, ``significant`` or ``error``.

    Without an interval (no resamples) a breach can never be called significant nor a pass uncertain.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "error", ERROR_VERDICT
    has_interval = interval is not None and not any(v is None or math.isnan(v) for v in interval)
    if _beyond(value, rule.limit, direction):
        if has_interval and _interval_beyond(*interval, rule.limit, direction):
            return "significant", rule.on_significant
        return "breach", rule.on_breach
    if has_interval and (_beyond(interval[0], rule.limit, direction) or _beyond(interval[1], rule.limit, direction)):
        return "uncertain", rule.on_uncertain
    return "pass", "green"


@dataclass
class GradedCheck:
    """One graded check on one resource (a band label, or ``all`` for a check across bands)."""

    check: str
    resource: str
    verdict: str
    status: str
    message: str
    metric: str | None = None
    value: float | None = None
    interval: tuple[float, float] | None = None
    limit: float | None = None
    direction: str | None = None
    waiver: Waiver | None = None
    details: dict = field(default_factory=dict)

    @property
    def effective_verdict(self) -> str:
        """A waived red or amber counts as amber: accepted, still visible, no longer blocking."""
        return "amber" if self.waiver is not None and self.verdict != "green" else self.verdict

    def to_dict(self) -> dict:
        return {
            "check": self.check,
            "resource": self.resource,
            "verdict": self.verdict,
            "effective_verdict": self.effective_verdict,
            "status": self.status,
            "waived": self.waiver is not None,
            "waiver": self.waiver.to_dict() if self.waiver else None,
            "message": self.message,
            "metric": self.metric,
            "value": self.value,
            "interval": list(self.interval) if self.interval else None,
            "limit": self.limit,
            "direction": self.direction,
            **({"details": self.details} if self.details else {}),
        }


def apply_waivers(findings: list[GradedCheck], waivers: list[Waiver], today: date | None = None) -> list[dict]:
    """Attach the first applicable waiver to each non-green finding; returns the expired waivers that matched."""
    expired = []
    for finding in findings:
        if finding.verdict == "green":
            continue
        finding.waiver = find_waiver(waivers, finding.check, finding.resource, today)
        if finding.waiver is None:
            expired += [
                {"waiver": w.to_dict(), "check": finding.check, "resource": finding.resource}
                for w in waivers if w.matches(finding.check, finding.resource) and w.expired(today)
            ]
    return expired


def overall(findings: list[GradedCheck], *, effective: bool = True) -> str:
    """The worst verdict (``green`` when there are no findings)."""
    verdicts = [f.effective_verdict if effective else f.verdict for f in findings]
    return max(verdicts, key=RANK.__getitem__, default="green")
