"""checkov on every template in pipeline/infra: no finding unless the template skips it with a reason, and every
skip justified in docs/deployment.md.

checkov pins ``boto3==1.35.49`` (this package needs boto3 ≥ 1.40), so it runs from a virtual environment of its
own: ``.ci/run`` installs the pinned version there and sets ``GOVERNANCE_CHECKOV`` to its executable. Without that
variable the tests skip, saying how to get it; under CI (``CI`` set) they fail instead, so CI cannot pass without
running them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INFRA = REPO / "pipeline" / "infra"
DEPLOYMENT_DOC = REPO / "docs" / "deployment.md"
CHECKOV_ENV = "GOVERNANCE_CHECKOV"


def checkov_executable() -> str:
    path = os.environ.get(CHECKOV_ENV)
    if not path:
        if os.environ.get("CI"):
            pytest.fail(f"${CHECKOV_ENV} is not set under CI (.ci/run installs checkov and sets it)")
        pytest.skip(f"checkov not configured: python3 -m venv .ci-tools/checkov && .ci-tools/checkov/bin/pip install "
                    f"checkov==3.3.30, then set ${CHECKOV_ENV}=.ci-tools/checkov/bin/checkov")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"${CHECKOV_ENV}={path} is not an executable")
    return path


def run_checkov(folder: Path) -> dict:
    """checkov's JSON report on the CloudFormation templates in ``folder`` (nothing downloaded: offline)."""
    done = subprocess.run([checkov_executable(), "-d", str(folder), "--framework", "cloudformation", "--output",
                           "json", "--skip-download"], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["check_type"] == "cloudformation" and report["summary"]["parsing_errors"] == 0, report["summary"]
    return report


@pytest.fixture(scope="module")
def report() -> dict:
    return run_checkov(INFRA)


def _where(check: dict) -> str:
    return f"{check['check_id']} on {check['resource']} ({Path(check['file_path']).name})"


def test_every_template_is_checked_and_nothing_fails_unskipped(report):
    results = report["results"]
    assert not results["failed_checks"], "\n".join(_where(c) for c in results["failed_checks"])
    checked = {Path(c["file_path"]).name for kind in ("passed_checks", "skipped_checks") for c in results[kind]}
    assert checked == {path.name for path in INFRA.glob("*.yaml")}


def test_every_skip_has_a_reason_in_the_template_and_in_the_docs(report):
    doc = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    # Table rows: | CKV_… (what) | `Resource`, `Resource` (file) | why |
    rows = {(check, name) for check, cells in re.findall(r"^\| (CKV_[A-Z0-9_]+) [^|]*\|([^|]*)\|", doc, re.MULTILINE)
            for name in re.findall(r"`([A-Za-z0-9]+)`", cells)}
    skipped = report["results"]["skipped_checks"]
    assert skipped, "the templates skip nothing: the docs' table would be stale"
    for check in skipped:
        assert len(check["check_result"].get("suppress_comment", "").strip()) > 20, _where(check)
        logical = check["resource"].rsplit(".", 1)[-1]
        assert (check["check_id"], logical) in rows, f"{_where(check)} is not justified in {DEPLOYMENT_DOC.name}"
    documented = {(c["check_id"], c["resource"].rsplit(".", 1)[-1]) for c in skipped}
    assert rows == documented, f"rows for skips the templates no longer make: {sorted(rows - documented)}"


def test_a_finding_without_its_skip_fails(tmp_path):
    """The check can fail: the access-log bucket without its skip is reported (CKV_AWS_18)."""
    template = (INFRA / "quickloan-governance.yaml").read_text(encoding="utf-8")
    skip = "    Metadata:\n      checkov:\n        skip:\n          - id: CKV_AWS_18\n"
    start = template.index(skip)
    end = template.index("    DeletionPolicy:", start)
    (tmp_path / "quickloan-governance.yaml").write_text(template[:start] + template[end:], encoding="utf-8")
    shutil.copy(INFRA / "scan-schedule.yaml", tmp_path)
    failed = run_checkov(tmp_path)["results"]["failed_checks"]
    assert [(c["check_id"], c["resource"]) for c in failed] == [("CKV_AWS_18", "AWS::S3::Bucket.AccessLogBucket")]
