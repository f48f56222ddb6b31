"""Findings (one check on one resource) and the scan result that holds them and decides the exit code.

Statuses:

* ``PASS`` — the assertion held on the collected evidence;
* ``FAIL`` — it did not (exit 1, reason ``POLICY_VIOLATION``);
* ``WAIVED`` — it did not, and an unexpired waiver accepts that (shown as FAIL with ``--ignore-waivers``);
* ``N/A`` — the check's ``when`` condition excludes this resource;
* ``ERROR`` — the evidence could not be read (permission denied, throttled after retries, API not available),
  so the check could not be decided: never a pass, exit 3 unless a FAIL already makes it 1. Waivers never
  cover an ERROR.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from governance.errors import EXIT_CHECK_FAILED, EXIT_INCOMPLETE, EXIT_OK
from governance.policy.collectors.base import Evidence, ResourceRef
from governance.policy.schema import Check

SCHEMA_VERSION = "1"


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    WAIVED = "WAIVED"
    NA = "N/A"
    ERROR = "ERROR"


@dataclass
class Finding:
    check: Check
    resource: ResourceRef
    status: Status
    message: str
    trace: dict
    evidence_sha256: str
    api_calls: list[str]
    waiver: dict | None = None
    engine: str | None = None  # the policy analyser that decided it, for checks that declare ``decided_by``

    def to_dict(self) -> dict:
        out = {
            "check": self.check.id,
            "title": self.check.title,
            "policy": self.check.policy,
            "severity": self.check.severity,
            "regulations": list(self.check.regulations),
            "resource_type": self.resource.type,
            "resource": self.resource.id,
            "status": str(self.status),
            "message": self.message,
            "remediation": self.check.remediation if self.status in (Status.FAIL, Status.WAIVED) else None,
            "evidence_sha256": self.evidence_sha256,
            "api_calls": self.api_calls,
            "trace": self.trace,
            "source": self.check.source,
        }
        if self.waiver:
            out["waiver"] = self.waiver
        if self.check.decided_by:
            out["decided_by"] = self.engine
        return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_WORDS = {
    "eq": "expected {expected}", "ne": "must not be {expected}", "gt": "expected > {expected}",
    "gte": "expected >= {expected}", "lt": "expected < {expected}", "lte": "expected <= {expected}",
    "in": "expected one of {expected}", "not_in": "must not be one of {expected}",
    "contains": "expected to contain {expected}", "subset": "expected only values from {expected}",
    "startswith": "expected to start with one of {expected}", "prefix_overlaps": "expected to overlap {expected}",
    "matches": "expected to match {expected}",
}


def explain(trace: dict, want: str) -> list[str]:
    """Short reasons: the leaves of ``trace`` whose result is ``want`` ("false" for a FAIL, "error" for an ERROR)."""
    op = trace.get("op")
    if trace.get("result") != want and op != "not":
        return []
    if op in ("all", "any"):
        return [r for child in trace.get("conditions", []) for r in explain(child, want)]
    if op == "not":
        inner = trace.get("condition", {})
        if want == "error":
            return explain(inner, "error")
        return [f"not ({'; '.join(explain(inner, 'true') or [inner.get('op', '?')])})"] \
            if trace.get("result") == "false" else []
    if want == "error":
        return [trace.get("error", "evidence unavailable")]
    path = trace.get("path", "")
    if op in ("every", "some", "none"):
        bad = [i["index"] for i in trace.get("items", []) if i.get("result") == ("true" if op == "none" else "false")]
        if op == "some":
            return [f"{path}: no item of {trace.get('count', 0)} matches"]
        return [f"{path}[{', '.join(map(str, bad[:5]))}{', ...' if len(bad) > 5 else ''}] "
                + ("matches" if op == "none" else "does not match")]
    if op == "exists":
        return [f"{path} is missing"]
    template = _WORDS.get(op, "{expected}")
    return [f"{path} is {_show(trace.get('actual'))}, " + template.format(expected=_show(trace.get("expected")))]


@dataclass
class ScanResult:
    """Every finding, the evidence behind them, what the scan cost, and the exit code it implies."""

    findings: list[Finding]
    evidence: dict[str, tuple[ResourceRef, Evidence]]
    targets: list[str]
    policy_files: list[str]
    skipped_files: list[dict]
    ignore_waivers: bool
    started_at: str
    finished_at: str
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counter = Counter(str(f.status) for f in self.findings)
        return {status.value: counter.get(status.value, 0) for status in Status}

    @property
    def exit_code(self) -> int:
        counts = self.counts
        if counts["FAIL"]:
            return EXIT_CHECK_FAILED
        if counts["ERROR"] or not self.findings:
            # A scan that found nothing to check (an empty or mistyped prefix) has not shown compliance.
            return EXIT_INCOMPLETE
        return EXIT_OK

    @property
    def verdict(self) -> str:
        return {EXIT_OK: "pass", EXIT_CHECK_FAILED: "fail", EXIT_INCOMPLETE: "error"}[self.exit_code]

    @property
    def reason(self) -> str | None:
        code = self.exit_code
        if code == EXIT_CHECK_FAILED:
            return "POLICY_VIOLATION"
        if code and not self.findings:
            return "NOTHING_SCANNED"
        return "SCAN_INCOMPLETE" if code else None

    def checks(self) -> list[Check]:
        unique = {f.check.id: f.check for f in self.findings}
        return [unique[k] for k in sorted(unique)]

    def to_dict(self, *, include_evidence: bool = True) -> dict:
        out = {
            "schema_version": SCHEMA_VERSION,
            "tool": "governance scan",
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "reason": self.reason,
            "summary": self.counts,
            "targets": self.targets,
            "ignore_waivers": self.ignore_waivers,
            "policy_files": self.policy_files,
            "skipped_policy_files": self.skipped_files,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "stats": self.stats,
            "checks": [c.to_dict() for c in self.checks()],
            "findings": [f.to_dict() for f in self.findings],
        }
        if include_evidence:
            out["resources"] = {
                ref.key: {"type": ref.type, "id": ref.id, **ev.to_dict(), "reused": ev.reused}
                for ref, ev in sorted(self.evidence.values(), key=lambda pair: pair[0].key)
            }
        return out
