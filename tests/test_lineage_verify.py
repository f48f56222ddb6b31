"""``governance lineage verify``: a sealed evidence folder verifies; one changed byte anywhere is named."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest

from governance.errors import CheckFailed
from governance.evidence import write_index
from governance.jsonio import dumps
from governance.ledger import Ledger
from governance.lineage import check_lineage, record_pipeline_run, verify_lineage
from governance.signing import dsse
from tests.lineage_support import cli, copy_run, flip_byte, keypair


def seal(run, work: Path, keys_dir: Path, **record_options):
    """A private copy of ``run`` with its lineage recorded, a ledger event, and the folder sealed."""
    run_json = copy_run(run, work)
    signer, verifier, public = keypair(keys_dir)
    evidence = work / "evidence"
    record_pipeline_run(run_json, evidence, signer, ledger=Ledger(evidence / "ledger.jsonl", signer),
                        **record_options)
    write_index(evidence, signer)
    return evidence, signer, verifier, public


@contextlib.contextmanager
def changed_byte(path: Path):
    original = path.read_bytes()
    flip_byte(path)
    try:
        yield
    finally:
        path.write_bytes(original)


@pytest.fixture(scope="module")
def real_evidence(real_run, tmp_path_factory):
    root = tmp_path_factory.mktemp("real-lineage")
    return seal(real_run, root / "work", root / "keys")


@pytest.fixture
def evidence(synthetic_run, tmp_path):
    return seal(synthetic_run, tmp_path / "work", tmp_path / "keys")


def last_line(err: str) -> str:
    return err.strip().splitlines()[-1]


def test_real_run_lineage_verifies(real_evidence, capsys):
    folder, _, _, public = real_evidence
    code, out, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(public))
    assert code == 0, err
    assert "4 signed: process, train, evaluate, register" in out and "lineage verified" in out
    code, out, _ = cli(capsys, "lineage", "show", str(folder), "--key", str(public))
    assert code == 0 and "cs-training.csv.gz" in out and "✓ process" in out


def test_one_byte_of_the_validation_split_is_named(real_evidence, capsys):
    folder, _, _, public = real_evidence
    with changed_byte(folder.parent / "data" / "validation.csv"):
        code, _, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(public))
    assert code == 1
    assert last_line(err).startswith("governance lineage verify: DIGEST_MISMATCH: validation.csv")
    assert "what the process step produced" in last_line(err)


def test_one_byte_of_a_provenance_statement_is_named(real_evidence, capsys):
    folder, _, _, public = real_evidence
    with changed_byte(folder / "provenance" / "train.intoto.json"):
        code, _, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(public))
    assert code == 1
    assert "provenance/train.intoto.json" in last_line(err)
    assert "provenance/train.intoto.json: the signature does not verify" in err or "MALFORMED_STATEMENT" in err


def test_one_byte_of_the_index_is_named(real_evidence, capsys):
    folder, _, _, public = real_evidence
    with changed_byte(folder / "index.json"):
        code, _, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(public))
    assert code == 1
    assert "index.json: changed after it was signed" in last_line(err)


def test_a_statement_signed_by_another_key_is_untrusted(evidence):
    folder, signer, verifier, _ = evidence
    other, _, _ = keypair()
    path = folder / "provenance" / "evaluate.intoto.json"
    statement = dsse.verify_envelope(json.loads(path.read_text()), verifier)
    path.write_bytes(dumps(dsse.sign_statement(statement, other, keyid=other.key_hint)))
    write_index(folder, signer)  # even with the index re-sealed by the right key
    report = check_lineage(folder, verifier)
    assert [(p.reason, p.path) for p in report.problems] == [("UNTRUSTED_SIGNER", "provenance/evaluate.intoto.json")]


def test_a_broken_link_is_named_even_when_re_signed(evidence):
    """Someone holding the key swaps the validation split train consumed: the chain itself no longer holds."""
    folder, signer, verifier, _ = evidence
    path = folder / "provenance" / "train.intoto.json"
    statement = dsse.verify_envelope(json.loads(path.read_text()), verifier)
    for dependency in statement["predicate"]["buildDefinition"]["resolvedDependencies"]:
        if dependency["annotations"]["role"] == "validation":
            dependency["digest"]["sha256"] = "0" * 64
    path.write_bytes(dumps(dsse.sign_statement(statement, signer, keyid=signer.key_hint)))
    (folder / "lineage.json").unlink()
    write_index(folder, signer)
    with pytest.raises(CheckFailed) as failed:
        verify_lineage(folder, verifier, check_files=False)
    assert failed.value.reason == "CHAIN_BROKEN"
    assert failed.value.message.startswith("process → train: validation.csv (validation)")


def test_a_missing_step_is_named(evidence):
    folder, signer, verifier, _ = evidence
    (folder / "provenance" / "evaluate.intoto.json").unlink()
    (folder / "lineage.json").unlink()
    write_index(folder, signer)
    problems = check_lineage(folder, verifier).problems
    assert ("LINEAGE_INCOMPLETE", "evaluate") in [(p.reason, p.path) for p in problems]


@pytest.mark.parametrize("name", ["dataset.json", "lineage.json", "training.json"])
def test_evidence_copies_must_say_what_the_statements_say(evidence, name):
    folder, signer, verifier, _ = evidence
    data = json.loads((folder / name).read_text())
    data["edited"] = True
    (folder / name).write_bytes(dumps(data))
    write_index(folder, signer)  # re-sealed, so only the lineage check can notice
    problems = check_lineage(folder, verifier).problems
    assert [p.path for p in problems] == [name]


def test_a_moved_work_folder_still_verifies_its_files(evidence, tmp_path):
    folder, _, verifier, _ = evidence
    moved = tmp_path / "archived"
    shutil.move(folder.parent, moved)
    report = verify_lineage(moved / "evidence", verifier)
    in_work_folder = [f for f in report.files if f.role not in ("code", "dataset")]  # the dataset lives elsewhere
    assert in_work_folder and all(f.status == "match" and f.location.startswith(str(moved)) for f in in_work_folder)
    assert {f.status for f in report.files if f.role == "dataset"} == {"match"}


def test_a_copied_run_folder_is_checked_where_it_is_not_where_it_was(evidence, tmp_path):
    """An auditor's copy is checked against its own files: the original paths are neither trusted nor needed."""
    folder, _, verifier, _ = evidence
    work = folder.parent
    statements = "".join(p.read_text() for p in (folder / "provenance").glob("*.json"))
    assert str(work.resolve()) not in statements.replace("\\/", "/")  # URIs are relative to the run folder
    audited = tmp_path / "auditor" / "run"
    shutil.copytree(work, audited)
    flip_byte(work / "data" / "validation.csv")  # the original changes after the copy was taken
    report = verify_lineage(audited / "evidence", verifier)
    in_work_folder = [f for f in report.files if f.role not in ("code", "dataset")]
    assert in_work_folder and all(f.status == "match" and f.location.startswith(str(audited)) for f in in_work_folder)
    assert report.passed
    flip_byte(audited / "data" / "train.csv")  # and a change in the copy is named, though the original is intact
    report = check_lineage(audited / "evidence", verifier)
    assert not report.passed
    assert {f.name for f in report.files if f.status == "mismatch"} == {"train.csv"}


def test_unreachable_files_are_reported_not_passed_silently(evidence):
    folder, _, verifier, _ = evidence
    shutil.rmtree(folder.parent / "model")
    report = verify_lineage(folder, verifier)
    assert {f.name for f in report.files if f.status == "unreachable"} == {"model.tar.gz", "training.json"}
    assert any("not reachable" in w for w in report.warnings)


def test_a_tampered_ledger_fails_the_lineage(evidence):
    folder, _, verifier, _ = evidence
    ledger = folder / "ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes().replace(b'"pipeline"', b'"mallory"'))
    problems = check_lineage(folder, verifier).problems
    assert [p.path for p in problems] == ["ledger.jsonl", "ledger.jsonl"]  # its index prefix, and its own chain


def test_show_draws_the_graph_and_leaves_a_sealed_folder_alone(evidence, tmp_path, capsys):
    folder = evidence[0]
    before = (folder / "lineage.png").read_bytes()
    assert before.startswith(b"\x89PNG")
    code, out, err = cli(capsys, "lineage", "show", str(folder), "--png", str(tmp_path / "again.png"))
    assert code == 0 and "signatures NOT verified" in out
    assert (tmp_path / "again.png").read_bytes() == before  # the same chain draws the same bytes
    (folder / "lineage.png").write_bytes(b"not the graph")
    code, _, err = cli(capsys, "lineage", "show", str(folder))
    assert code == 0 and "not rewritten" in err and (folder / "lineage.png").read_bytes() == b"not the graph"


def test_cli_json_report_and_bad_calls(evidence, tmp_path, capsys):
    folder, _, _, public = evidence
    code, out, _ = cli(capsys, "lineage", "verify", str(folder), "--key", str(public), "--json")
    report = json.loads(out)
    assert code == 0 and report["passed"] and all(link["holds"] for link in report["links"])
    assert [h["step"] for h in report["hops"]] == ["process", "train", "evaluate", "register"]
    with pytest.raises(SystemExit) as exited:
        cli(capsys, "lineage", "verify", str(folder))
    assert exited.value.code == 2
    code, _, err = cli(capsys, "lineage", "verify", str(tmp_path / "nowhere"), "--key", str(public))
    assert code == 2 and "no such evidence folder" in err


def test_show_refuses_a_folder_as_the_png(evidence, tmp_path, capsys):
    code, _, err = cli(capsys, "lineage", "show", str(evidence[0]), "--png", str(tmp_path))
    assert code == 2 and "NOT_A_FILE" in err
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_forged_statement_does_not_make_verify_read_the_files_it_names(evidence, tmp_path):
    """A statement that fails its signature names a file outside the folder: it is neither hashed nor echoed."""
    folder, signer, verifier, _ = evidence
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside the evidence folder")
    other, _, _ = keypair()
    path = folder / "provenance" / "evaluate.intoto.json"
    statement = dsse.verify_envelope(json.loads(path.read_text()), verifier)
    statement["predicate"]["buildDefinition"]["resolvedDependencies"].append(
        {"name": "secret.txt", "uri": secret.as_uri(), "digest": {"sha256": "1" * 64},
         "annotations": {"role": "other", "path": str(secret)}})
    path.write_bytes(dumps(dsse.sign_statement(statement, other, keyid=other.key_hint)))
    write_index(folder, signer)
    report = check_lineage(folder, verifier)
    assert not report.passed
    text = json.dumps(report.to_dict())
    assert str(secret) not in text
    from governance.hashing import sha256_bytes

    assert sha256_bytes(b"outside the evidence folder") not in text
    assert any("provenance/evaluate.intoto.json" in w and "not read" in w for w in report.warnings)


def test_an_index_re_sealed_by_another_key_verifies_with_that_key_as_anchor(evidence, tmp_path, capsys):
    """A validated folder: the validator re-seals the index; the statements and the ledger stay the evidence key's."""
    folder, _, _, public = evidence
    validator, validator_verifier, validator_public = keypair(tmp_path / "validator")
    (folder / "validation.json").write_text("{}")
    write_index(folder, validator)
    code, _, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(public))
    assert code == 1 and "index.json" in last_line(err)
    code, out, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(public), "--anchor-key",
                         str(validator_public))
    assert code == 0, err
    assert "lineage verified" in out
    # The anchor key checks the index only: a statement is still checked with the evidence key.
    assert check_lineage(folder, validator_verifier).passed is False
    code, _, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(validator_public), "--anchor-key",
                       str(validator_public))
    assert code == 1
    # And a key that sealed nothing is no anchor.
    _, _, stranger = keypair(tmp_path / "stranger")
    code, _, err = cli(capsys, "lineage", "verify", str(folder), "--key", str(public), "--anchor-key", str(stranger))
    assert code == 1 and "index.json" in last_line(err)
