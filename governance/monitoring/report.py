"""The monitoring report's files (``monitoring.json``, its DSSE signature, SARIF 2.1.0) and its ledger record.

The signature is an in-toto Statement whose subjects are the report and the model it judged, signed like the
governance verdict, so a reviewer can tell the report was not edited and which artefact it is about.
"""

from __future__ import annotations

import os
from pathlib import Path

from governance import __version__, storage
from governance.hashing import sha256_bytes
from governance.jsonio import dumps
from governance.signing import Signer, dsse

REPORT_FILE = "monitoring.json"
REPORT_SIGNATURE = "monitoring.json.sig"
SARIF_FILE = "monitoring.sarif"
PREDICATE_TYPE = "https://quickloan-governance.dev/monitoring/v1"
_LEVEL = {"FAIL": "error", "ERROR": "error", "WARN": "warning"}
_TITLES = {
    "feature-psi": "Input drift (population stability index against the training split)",
    "score-psi": "Score drift (population stability index against the validation split)",
    "missing-rate": "Rise in missing input values",
    "served-model": "The endpoint serves the approved model",
    "approval-rate-change": "Approval rate change by age band",
    "adverse-impact-ratio": "Adverse impact ratio across age bands",
    "equal-opportunity-ratio": "Equal-opportunity ratio across age bands",
    "auc-drop": "Discrimination (AUC) against the evaluation",
    "calibration-gap": "Calibration in the large",
}


def statement(report_bytes: bytes, report: dict) -> dict:
    subjects = [{"name": REPORT_FILE, "digest": {"sha256": sha256_bytes(report_bytes)}},
                {"name": Path(str(report["model"]["uri"])).name, "digest": {"sha256": report["model"]["sha256"]}}]
    return dsse.statement(subjects, PREDICATE_TYPE, {"verdict": report["verdict"], "counts": report["counts"],
                                                     "created": report["created"]})


def sarif(report: dict) -> bytes:
    """SARIF: one rule per check kind, one result per WARN, FAIL and ERROR."""
    rule_ids = list(dict.fromkeys(c["check"] for c in report["checks"]))
    results = [{
        "ruleId": c["check"],
        "ruleIndex": rule_ids.index(c["check"]),
        "kind": "open" if c["status"] == "ERROR" else "fail",
        "level": _LEVEL[c["status"]],
        "message": {"text": c["message"]},
        "locations": [{"logicalLocations": [{"fullyQualifiedName": f"{c['check']}/{c['subject']}",
                                             "kind": "feature" if c["check"].endswith("psi") else "measure"}]}],
        "properties": {"status": c["status"], "value": c.get("value")},
    } for c in report["checks"] if c["status"] in _LEVEL]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "governance-monitor", "version": __version__, "semanticVersion": __version__,
                                "rules": [{"id": r, "shortDescription": {"text": _TITLES.get(r, r)}}
                                          for r in rule_ids]}},
            "invocations": [{"executionSuccessful": report["verdict"] != "ERROR"}],
            "results": results,
            "properties": {"verdict": report["verdict"], "counts": report["counts"]},
        }],
    }
    return dumps(log)


def write_report(report: dict, out_dir: str | os.PathLike, signer: Signer | None = None) -> list[str]:
    """Write the report files (each all-or-nothing); returns what was written."""
    def place(name: str) -> str | Path:
        return f"{str(out_dir).rstrip('/')}/{name}" if storage.is_s3_uri(out_dir) else Path(out_dir) / name

    data = dumps(report)
    written = [str(storage.write_bytes_atomic(place(REPORT_FILE), data)),
               str(storage.write_bytes_atomic(place(SARIF_FILE), sarif(report)))]
    if signer is not None:
        envelope = dsse.sign_statement(statement(data, report), signer)
        written.append(str(storage.write_bytes_atomic(place(REPORT_SIGNATURE), dumps(envelope))))
    elif not storage.is_s3_uri(out_dir) and Path(out_dir, REPORT_SIGNATURE).exists():
        # An earlier run's signature beside this unsigned report would vouch for a file it never saw.
        Path(out_dir, REPORT_SIGNATURE).unlink()
    return written


def ledger_entry(report: dict) -> tuple[dict, dict]:
    """A ``monitor`` event's digests (model, report, capture files) and details (verdict, counts, findings)."""
    digests = {"model.tar.gz": report["model"]["sha256"], "monitoring.json": sha256_bytes(dumps(report))}
    for source in report["capture"]["files"][:50]:  # the hourly path (yyyy/mm/dd/hh/file) names a capture file
        digests["capture:" + "/".join(source["uri"].rsplit("/", 5)[-5:])] = source["sha256"]
    findings = [{"check": c["check"], "subject": c["subject"], "status": c["status"], "message": c["message"]}
                for c in report["checks"] if c["status"] in ("WARN", "FAIL", "ERROR")]
    return digests, {"verdict": report["verdict"], "counts": report["counts"], "rows": report["capture"]["rows"],
                     "findings": findings[:100]}


def record_monitoring(location: str, report: dict, signer=None) -> dict:
    """Append a ``monitor`` event: verdict, counts, the failing checks, and the digests of what was judged."""
    from governance.ledger import Ledger

    digests, details = ledger_entry(report)
    return Ledger(location, signer).append("monitor", actor="governance monitor",
                                           subject=report["capture"]["location"], digests=digests, details=details)


def record_in_evidence(evidence, report: dict, signer, ledger_signer=None) -> dict:
    """The signed report files into the sealed evidence folder, the ``monitor`` record into its ledger, re-sealed."""
    from governance.evidence_records import add_to_evidence

    def write(root) -> dict:
        write_report(report, root, signer)
        return {}  # the report's digest is already in the record

    digests, details = ledger_entry(report)
    return add_to_evidence(evidence, signer, "monitor", actor="governance monitor",
                           subject=report["capture"]["location"], digests=digests, details=details, write=write,
                           ledger_signer=ledger_signer)
