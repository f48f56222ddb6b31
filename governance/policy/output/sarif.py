"""SARIF 2.1.0 for code-scanning viewers: a rule per check, a result per FAIL, WAIVED and ERROR finding.

PASS and N/A findings are counted in the run's properties rather than listed (viewers show every result as an
alert). WAIVED results carry an accepted external suppression naming the approver; ERROR results are
``kind: open`` (the tool could not decide) at level ``none``, as SARIF 2.1.0 §3.27.10 requires for any kind other
than ``fail``; the failure to check is raised at level ``error`` as a tool execution notification instead.
Resources that are not files (S3 URIs, ARNs) appear as the artifact location's URI and as a logical location.
"""

from __future__ import annotations

import os
from pathlib import Path

from governance import __version__
from governance.hashing import sha256_bytes
from governance.jsonio import dumps
from governance.policy.findings import Finding, ScanResult, Status

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning ranks security alerts by this property (0.0–10.0).
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}


def _location(finding: Finding) -> dict:
    resource = finding.resource
    if resource.type in ("local_file", "artefact") and not resource.id.startswith("s3://"):
        path = Path(resource.id)
        try:
            uri = Path(os.path.relpath(path.absolute(), Path.cwd())).as_posix()
        except ValueError:
            uri = path.absolute().as_uri()
        if uri.startswith("../"):
            uri = path.absolute().as_uri()
        artifact = {"uri": uri, **({"uriBaseId": "%SRCROOT%"} if not uri.startswith("file:") else {})}
    else:
        artifact = {"uri": resource.id}
    return {
        "physicalLocation": {"artifactLocation": artifact},
        "logicalLocations": [{"fullyQualifiedName": resource.id, "kind": resource.type}],
    }


def _result(finding: Finding, rule_index: int) -> dict:
    result = {
        "ruleId": finding.check.id,
        "ruleIndex": rule_index,
        "kind": "open" if finding.status is Status.ERROR else "fail",
        "level": "none" if finding.status is Status.ERROR else _LEVEL[finding.check.severity],
        "message": {"text": f"{finding.resource.id}: {finding.message}"},
        "locations": [_location(finding)],
        "partialFingerprints": {
            "governanceResource/v1": sha256_bytes(f"{finding.check.id}\0{finding.resource.id}".encode()),
        },
        "properties": {
            "status": str(finding.status),
            "resourceType": finding.resource.type,
            "evidenceSha256": finding.evidence_sha256,
            "apiCalls": finding.api_calls,
        },
    }
    if finding.status is Status.WAIVED and finding.waiver:
        result["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": f"{finding.waiver.get('reason')} (approved by {finding.waiver.get('approver')}, "
                             f"expires {finding.waiver.get('expires')})",
            "properties": {"approver": finding.waiver.get("approver"), "expires": finding.waiver.get("expires"),
                           "source": finding.waiver.get("source")},
        }]
    return result


def render(result: ScanResult) -> bytes:
    checks = result.checks()
    index = {check.id: i for i, check in enumerate(checks)}
    rules = [{
        "id": check.id,
        "name": "".join(w.capitalize() for w in check.id.lower().split("-")),
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": (check.description or check.title).strip()},
        "help": {"text": check.remediation, "markdown": f"**Remediation:** {check.remediation}"},
        "defaultConfiguration": {"level": _LEVEL[check.severity]},
        "properties": {
            "tags": [check.policy, *check.regulations],
            "severity": check.severity,
            "security-severity": _SECURITY_SEVERITY[check.severity],
            "resourceType": check.resource,
            "source": check.source,
        },
    } for check in checks]
    listed = [f for f in result.findings if f.status in (Status.FAIL, Status.WAIVED, Status.ERROR)]
    errors = [f for f in result.findings if f.status is Status.ERROR]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "governance-scan",
                "fullName": "governance scan (model governance and audit toolkit)",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": not errors,
                "startTimeUtc": result.started_at.replace("+00:00", "Z"),
                "endTimeUtc": result.finished_at.replace("+00:00", "Z"),
                "exitCode": result.exit_code,
                "toolExecutionNotifications": [
                    {"level": "error", "message": {"text": f"{f.check.id} on {f.resource.id}: {f.message}"}}
                    for f in errors[:100]
                ],
            }],
            "results": [_result(f, index[f.check.id]) for f in listed],
            "properties": {"summary": result.counts, "targets": result.targets, "verdict": result.verdict},
        }],
    }
    return dumps(log)
