"""The pack's deployment and monitoring section: open without records, filled from the ledger's deploy and monitor
records (as ``governance deploy`` and ``governance monitor`` write them), and never from a plan alone."""

from __future__ import annotations

import shutil

import pytest

from governance.cli import main
from governance.deployment import CaptureSettings
from governance.ledger import Ledger
from tests.pack_evidence import pdf_text


def test_without_records_the_rows_stay_open(signed_pack):
    text = pdf_text(signed_pack)
    assert "Deployment and monitoring results" in text
    assert "No deployment through the deploy gate is recorded" in text
    assert "no earlier version to compare" in text


@pytest.mark.parametrize("with_monitoring", [False, True])
def test_deploy_and_monitor_records_evidence_the_rows(pack_evidence, tmp_path, with_monitoring):
    from governance.evidence import write_index

    built = pack_evidence
    root = tmp_path / "copy"
    shutil.copytree(built.root, root)
    evidence = root / built.evidence.relative_to(built.root)
    ledger = Ledger(evidence / "ledger.jsonl", built.signer)
    capture = CaptureSettings("s3://quickloan-artefacts/quickloan/datacapture", "alias/quickloan-artefacts", 20)
    ledger.append("deploy", actor="governance deploy", subject="arn:aws:sagemaker:eu-west-1:1:model-package/q/1",
                  digests={"model.tar.gz": "ab" * 32},
                  details={"outcome": "deployed", "endpoint": "quickloan-prod", "data_capture": capture.config()})
    if with_monitoring:
        ledger.append("monitor", actor="governance monitor", subject="s3://quickloan-artefacts/quickloan/datacapture",
                      digests={"monitoring.json": "cd" * 32},
                      details={"verdict": "FAIL", "rows": 30000, "counts": {"FAIL": 1},
                               "findings": [{"check": "feature-psi", "subject": "MonthlyIncome", "status": "FAIL",
                                             "message": "MonthlyIncome: PSI 2.783"}]})
    write_index(evidence, built.signer)
    out = tmp_path / "pack.pdf"
    assert main(["pack", str(evidence), "-o", str(out), "--key", str(built.key)]) == 0
    text = pdf_text(out)
    assert "quickloan-prod" in text and "alias/quickloan-artefacts" in text
    if with_monitoring:
        assert "feature-psi [MonthlyIncome]" in text
    else:
        assert "has a plan, not results" in text


def test_logging_and_monitoring_duties_are_evidenced_only_by_records(pack_evidence, tmp_path):
    """Art. 12 / 72 rows turn Evidenced from deploy and passing monitor records, never from the plan alone; the
    ≥ 6-month log duties (Art. 19, 26(6)) also need the capture-retention check to have passed."""
    from governance.evidence import write_index
    from reports.evidence_folder import open_evidence
    from reports.obligations import obligation_rows
    from reports.sections._base import PackContext
    from reports.status import Status

    def statuses(evidence) -> dict[str, Status]:
        ctx = PackContext(open_evidence(evidence, pack_evidence.verifier), None)
        return {row.obligation.key: row.earned.status for row in obligation_rows(ctx)}

    built = pack_evidence
    root = tmp_path / "copy"
    shutil.copytree(built.root, root)
    evidence = root / built.evidence.relative_to(built.root)
    before = statuses(evidence)
    duties = ("logging", "post-market-monitoring", "provider-logs-kept", "deployer-logs-kept")
    assert all(before[key] is not Status.EVIDENCED for key in duties)

    ledger = Ledger(evidence / "ledger.jsonl", built.signer)
    capture = CaptureSettings("s3://quickloan-artefacts/quickloan/datacapture", "alias/quickloan-artefacts", 20)
    ledger.append("deploy", actor="governance deploy", subject="arn:aws:sagemaker:eu-west-1:1:model-package/q/1",
                  digests={"model.tar.gz": "ab" * 32},
                  details={"outcome": "deployed", "endpoint": "quickloan-prod", "data_capture": capture.config()})
    ledger.append("monitor", actor="governance monitor", subject="s3://quickloan-artefacts/quickloan/datacapture",
                  digests={"monitoring.json": "cd" * 32},
                  details={"verdict": "PASS", "rows": 30000, "counts": {"PASS": 12}, "findings": []})
    write_index(evidence, built.signer)
    after = statuses(evidence)
    assert after["logging"] is Status.EVIDENCED
    assert after["post-market-monitoring"] is Status.EVIDENCED
    # No DEP-SM-003 finding in this scan: retention of the logs is not yet earned.
    assert after["provider-logs-kept"] is not Status.EVIDENCED
    assert after["deployer-logs-kept"] is not Status.EVIDENCED

    ledger.append("monitor", actor="governance monitor", subject="s3://quickloan-artefacts/quickloan/datacapture",
                  digests={"monitoring.json": "ef" * 32},
                  details={"verdict": "FAIL", "rows": 30000, "counts": {"FAIL": 1}, "findings": []})
    write_index(evidence, built.signer)
    assert statuses(evidence)["post-market-monitoring"] is not Status.EVIDENCED  # the latest run must pass
    # The deploy gate's own check of the endpoint: a later deployment whose capture expires too soon (DEP-SM-003
    # FAIL) keeps the retention duties open; one whose capture is kept turns them Evidenced.
    for status, expected in (("FAIL", False), ("PASS", True)):
        ledger.append("deploy", actor="governance deploy", subject="arn:aws:sagemaker:eu-west-1:1:model-package/q/2",
                      digests={"model.tar.gz": "ab" * 32},
                      details={"outcome": "deployed", "endpoint": "quickloan-prod", "data_capture": capture.config(),
                               "policy": {"DEP-SM-003": {"status": status, "message": "capture retention"}}})
        write_index(evidence, built.signer)
        now = statuses(evidence)
        assert (now["provider-logs-kept"] is Status.EVIDENCED) is expected, status
        assert (now["deployer-logs-kept"] is Status.EVIDENCED) is expected, status
