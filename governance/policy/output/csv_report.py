"""One row per finding, for spreadsheets: the columns an auditor sorts and filters on."""

from __future__ import annotations

import csv
import io

from governance.policy.findings import ScanResult

COLUMNS = ("check", "title", "policy", "severity", "status", "resource_type", "resource", "message",
           "regulations", "waiver_approver", "waiver_expires", "evidence_sha256", "api_calls", "source")


def render(result: ScanResult) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for finding in result.findings:
        waiver = finding.waiver or {}
        writer.writerow([
            finding.check.id, finding.check.title, finding.check.policy, finding.check.severity, str(finding.status),
            finding.resource.type, finding.resource.id, finding.message, "; ".join(finding.check.regulations),
            waiver.get("approver", ""), waiver.get("expires", ""), finding.evidence_sha256,
            " ".join(finding.api_calls), finding.check.source,
        ])
    return buffer.getvalue().encode("utf-8")
