"""Every command that writes refuses a destination that is its own input, sealed evidence or a key (exit 2,
nothing written)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from governance.evidence import write_index
from governance.signing.signer import write_key_pair
from tests.lineage_support import cli, keypair
from tests.test_integrity_archive import model_tarball


@pytest.fixture
def setup(tmp_path):
    artefact = tmp_path / "model" / "model.tar.gz"
    artefact.parent.mkdir()
    artefact.write_bytes(model_tarball())
    private, public = write_key_pair(tmp_path / "keys")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "evaluation.json").write_text('{"auc": 0.86}\n')
    signer, _, _ = keypair()
    write_index(evidence, signer)
    return artefact, private, public, evidence


def snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


def refused(capsys, why: str, *argv: str) -> None:
    code, _, err = cli(capsys, *argv)
    assert code == 2, err
    assert "BAD_OUTPUT" in err and why in err and err.count("\n") == 1, err


def test_sign_refuses_to_write_its_signature_over_the_private_key(setup, capsys):
    artefact, private, public, _ = setup
    before = snapshot(private, public, artefact)
    refused(capsys, "is a key file", "sign", str(artefact), "--key", str(private), "--out", str(private))
    refused(capsys, "is a key file", "sign", str(artefact), "--key", str(private), "--out", str(public))
    assert snapshot(private, public, artefact) == before


def test_sign_refuses_the_artefact_itself_even_through_a_hard_link(setup, capsys, tmp_path):
    artefact, private, _, _ = setup
    alias = tmp_path / "alias.sig"
    os.link(artefact, alias)
    before = artefact.read_bytes()
    refused(capsys, "an input of this command", "sign", str(artefact), "--key", str(private), "--out", str(alias))
    assert artefact.read_bytes() == before


def test_sign_refuses_a_file_of_a_sealed_evidence_folder(setup, capsys):
    artefact, private, _, evidence = setup
    before = snapshot(evidence / "evaluation.json", evidence / "index.json")
    refused(capsys, "sealed evidence index", "sign", str(artefact), "--key", str(private), "--out",
            str(evidence / "evaluation.json"))
    refused(capsys, "sealed evidence index", "sign", str(artefact), "--key", str(private), "--out",
            str(evidence / "index.json.sig"))
    assert snapshot(evidence / "evaluation.json", evidence / "index.json") == before


def test_scan_refuses_to_write_its_result_over_the_scanned_artefact(setup, capsys):
    artefact, _, _, _ = setup
    before = artefact.read_bytes()
    refused(capsys, "an input of this command", "scan", str(artefact), "--output", str(artefact), "--quiet")
    assert artefact.read_bytes() == before


def test_pack_refuses_to_write_over_the_evidence_index(setup, capsys):
    _, _, _, evidence = setup
    before = (evidence / "index.json").read_bytes()
    refused(capsys, "sealed evidence index", "pack", str(evidence), "-o", str(evidence / "index.json"))
    assert (evidence / "index.json").read_bytes() == before


def test_pipeline_definition_refuses_a_key(setup, capsys):
    _, private, _, _ = setup
    before = private.read_bytes()
    refused(capsys, "is a key file", "pipeline", "definition", "--out", str(private))
    assert private.read_bytes() == before


def test_lineage_show_refuses_to_draw_over_the_index(synthetic_run, tmp_path, capsys):
    from tests.test_lineage_verify import seal

    evidence, _, _, _ = seal(synthetic_run, tmp_path / "work", tmp_path / "keys")
    before = (evidence / "index.json").read_bytes()
    refused(capsys, "sealed evidence index", "lineage", "show", str(evidence), "--png", str(evidence / "index.json"))
    assert (evidence / "index.json").read_bytes() == before


def test_an_ordinary_new_file_is_allowed(setup, capsys, tmp_path):
    artefact, private, _, _ = setup
    code, _, err = cli(capsys, "sign", str(artefact), "--key", str(private), "--out", str(tmp_path / "m.sig"))
    assert code == 0, err
