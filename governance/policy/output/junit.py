"""JUnit XML: a testsuite per policy set, a testcase per check × resource, so CI shows policy results as tests.

FAIL is a ``<failure>``, ERROR an ``<error>``, N/A and WAIVED are ``<skipped>`` with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from governance.policy.findings import ScanResult, Status


def render(result: ScanResult) -> bytes:
    root = ET.Element("testsuites", name="governance scan", tests=str(len(result.findings)),
                      failures=str(result.counts["FAIL"]), errors=str(result.counts["ERROR"]),
                      skipped=str(result.counts["WAIVED"] + result.counts["N/A"]), time=f"{result.seconds:.3f}",
                      timestamp=result.started_at)
    ordered = sorted(result.findings, key=lambda f: (f.check.policy, f.check.id, f.resource.id))
    for policy, group in groupby(ordered, key=lambda f: f.check.policy):
        findings = list(group)
        suite = ET.SubElement(root, "testsuite", name=policy, tests=str(len(findings)),
                              failures=str(sum(f.status is Status.FAIL for f in findings)),
                              errors=str(sum(f.status is Status.ERROR for f in findings)),
                              skipped=str(sum(f.status in (Status.WAIVED, Status.NA) for f in findings)),
                              timestamp=result.started_at)
        for finding in findings:
            case = ET.SubElement(suite, "testcase", classname=f"{policy}.{finding.check.id}",
                                 name=f"{finding.check.id} {finding.resource.id}", file=finding.check.source)
            properties = ET.SubElement(case, "properties")
            for name, value in (("status", str(finding.status)), ("severity", finding.check.severity),
                                ("regulations", "; ".join(finding.check.regulations)),
                                ("evidence_sha256", finding.evidence_sha256)):
                ET.SubElement(properties, "property", name=name, value=value)
            detail = (f"{finding.check.title}\nresource: {finding.resource.id}\n{finding.message}\n"
                      f"severity: {finding.check.severity}\nevidence sha256: {finding.evidence_sha256}")
            if finding.status is Status.FAIL:
                element = ET.SubElement(case, "failure", message=finding.message, type=finding.check.severity)
                element.text = f"{detail}\nremediation: {finding.check.remediation}"
            elif finding.status is Status.ERROR:
                element = ET.SubElement(case, "error", message=finding.message, type="EvidenceUnavailable")
                element.text = detail
            elif finding.status in (Status.WAIVED, Status.NA):
                ET.SubElement(case, "skipped", message=f"{finding.status}: {finding.message}")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
