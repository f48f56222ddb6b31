"""The local runner end to end: the AUC gate both ways, the registry entry and the run record."""

from __future__ import annotations

import json

import pytest

from governance.errors import InputError
from governance.registry import LocalRegistry
from pipeline.runner import GovernVerdict, run_pipeline


def test_run_registers_a_pending_model_with_its_digest(synthetic_run):
    assert synthetic_run.auc_passed and synthetic_run.registered
    package = LocalRegistry(synthetic_run.registry_path).get("quickloan-credit-default")
    assert package.approval_status == "PendingManualApproval"
    assert package.customer_metadata["artefact_sha256"] == synthetic_run.evaluation["model"]["artefact_sha256"]
    assert package.customer_metadata["data_origin"] == "synthetic"
    assert package.metrics["auc"] == pytest.approx(synthetic_run.auc)
    record = json.loads((synthetic_run.workdir / "run.json").read_text())
    assert [s["name"] for s in record["steps"]] == ["process", "train", "evaluate", "register"]
    assert (synthetic_run.evidence_dir / "dataset.json").is_file()
    assert (synthetic_run.evidence_dir / "evaluation.json").is_file()


def test_auc_below_the_gate_is_not_registered(tmp_path, synthetic_csv):
    run = run_pipeline(synthetic_csv, tmp_path, hyperparameters={"num_round": 5}, auc_threshold=0.999)
    assert not run.registered
    assert "below the gate" in run.not_registered_reasons()[0]
    assert not LocalRegistry(run.registry_path).list()
    assert json.loads((tmp_path / "run.json").read_text())["registered"] is False


def test_a_failing_govern_verdict_blocks_registration(tmp_path, synthetic_csv):
    run = run_pipeline(
        synthetic_csv, tmp_path, hyperparameters={"num_round": 5},
        govern=lambda r: GovernVerdict(passed=False, reasons=["fairness: red"]),
    )
    assert run.auc_passed and not run.registered
    assert run.not_registered_reasons() == ["fairness: red"]


def test_registry_versions_and_updates(tmp_path):
    registry = LocalRegistry(tmp_path / "r.db")
    first = registry.register("g", "a.tar.gz", "00" * 32, {"auc": 0.8})
    second = registry.register("g", "b.tar.gz", "11" * 32, {"auc": 0.9})
    assert (first.version, second.version) == (1, 2)
    approved = registry.update(second, approval_status="Approved", approved_by="A. Officer")
    assert approved.approval_status == "Approved" and approved.approved_by == "A. Officer"
    assert registry.get_by_arn(first.arn).artefact_uri == "a.tar.gz"
    with pytest.raises(InputError):
        registry.update(first, approval_status="Maybe")
    with pytest.raises(InputError):
        registry.get("g", 9)


def test_an_update_never_undoes_a_decision_made_since_the_package_was_read(tmp_path):
    from governance.errors import CheckFailed

    registry = LocalRegistry(tmp_path / "registry.db")
    stale = registry.register("g", "m.tar.gz", "0" * 64, {"auc": 0.8})
    registry.update(registry.get("g"), approval_status="Approved", approved_by="A. Officer")
    # A metadata change from a copy read before the approval keeps the approval and the approver's metadata.
    registry.update(registry.get("g"), customer_metadata={"approved_by": "A. Officer"})
    updated = registry.update(stale, customer_metadata={"audit_pack_uri": "pack.pdf"})
    assert (updated.approval_status, updated.approved_by) == ("Approved", "A. Officer")
    assert updated.customer_metadata["approved_by"] == "A. Officer"
    assert updated.customer_metadata["audit_pack_uri"] == "pack.pdf"
    # A status change conditioned on what was read is refused once the package was decided in between.
    with pytest.raises(CheckFailed) as caught:
        registry.update(stale, approval_status="Rejected", expected_status="PendingManualApproval")
    assert caught.value.reason == "STATUS_CHANGED" and registry.get("g").approval_status == "Approved"
