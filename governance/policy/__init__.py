"""Policy as data: YAML policy files, evidence collectors, a scan engine and its reports.

Scan storage and model resources against the shipped policies (encryption, access, retention, artefact)::

    from governance.policy import output, scan
    result = scan(["s3://quickloan-models/", "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/credit"])
    result.exit_code                      # 0 pass, 1 a check failed, 3 some evidence could not be read
    output.write(result, "json", "policy.json")   # or "sarif", "junit", "csv"

Scan a local run's artefact and evidence folder, writing ``policy.json``, ``policy.sarif`` and
``policy.junit.xml`` into the evidence folder::

    from governance.policy import scan_local_run
    result = scan_local_run("governance-demo/model/model.tar.gz", "governance-demo/evidence")
"""

from __future__ import annotations

from governance.policy.engine import evaluate, evaluate_all, scan
from governance.policy.findings import Finding, ScanResult, Status
from governance.policy.schema import PolicyBundle, default_policies_dir, load_policies
from governance.policy.state import ScanState

__all__ = [
    "Finding",
    "PolicyBundle",
    "ScanResult",
    "ScanState",
    "Status",
    "default_policies_dir",
    "evaluate",
    "evaluate_all",
    "load_policies",
    "scan",
    "scan_local_run",
    "write_outputs",
]


def write_outputs(result: ScanResult, folder, stem: str = "policy") -> dict[str, str]:
    """Write ``STEM.json``, ``STEM.sarif`` and ``STEM.junit.xml`` into ``folder``; returns format -> path."""
    from pathlib import Path

    from governance.policy import output

    paths = {}
    for fmt in ("json", "sarif", "junit"):
        target = f"{folder.rstrip('/')}/{stem}{output.SUFFIXES[fmt]}" if str(folder).startswith("s3://") \
            else Path(folder) / f"{stem}{output.SUFFIXES[fmt]}"
        paths[fmt] = str(output.write(result, fmt, target))
    return paths


def scan_local_run(artefact, evidence_dir, *, policies_dir=None, parameters=None, ignore_waivers=False,
                   progress=None) -> ScanResult:
    """Scan a model artefact and its evidence folder; write the results into the evidence folder.

    The results are written before ``index.json`` is made, so they are covered by its signature.
    """
    from pathlib import Path

    targets = [str(artefact), str(evidence_dir)]
    result = scan(targets, policies_dir, parameters=parameters, ignore_waivers=ignore_waivers, progress=progress)
    write_outputs(result, Path(evidence_dir))
    return result
