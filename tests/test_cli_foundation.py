"""The command line as users meet it: the demo, exit codes, and one clear line (no traceback) on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from governance.cli import main
from governance.registry import LocalRegistry


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "governance", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def test_demo_on_synthetic_data_ends_with_a_registered_model(tmp_path):
    out = tmp_path / "demo"
    result = run_cli("demo", "--out", str(out), "--rows", "4000", "--num-round", "40", "--actor",
                     "Dana Demo (model owner)")
    assert result.returncode == 0, result.stderr
    assert "SYNTHETIC" in result.stderr
    assert "PendingManualApproval" in result.stderr
    for path in ("data/train.csv", "data/validation.csv", "model/model.tar.gz", "model/model.tar.gz.sig",
                 "evidence/evaluation.json", "evidence/dataset.json", "evidence/index.json", "evidence/index.json.sig",
                 "evidence/manifest.json", "evidence/fairness.json", "evidence/explain.json", "evidence/policy.json",
                 "evidence/provenance/register.intoto.json", "governance.json", "audit-pack.pdf",
                 "audit-pack.pdf.sig", "keys/model/signing-key.pub.pem", "keys/evidence/signing-key.pub.pem",
                 "keys/pack/signing-key.pub.pem"):
        assert (out / path).is_file(), path
    assert json.loads((out / "evidence" / "dataset.json").read_text())["synthetic"] is True
    assert json.loads((out / "governance.json").read_text())["status"] == "PASS"
    package = LocalRegistry(out / "registry.db").get("quickloan-credit-default")
    assert package.customer_metadata["audit_pack_uri"] == str((out / "audit-pack.pdf").resolve())
    assert package.customer_metadata["signature_uri"] == str((out / "model" / "model.tar.gz.sig").resolve())
    keys = {duty: str(out / "keys" / duty / "signing-key.pub.pem") for duty in ("model", "evidence", "pack")}
    # What the demo produced stands up to the independent checks a reviewer would run afterwards, each duty
    # checked with its own key.
    for check in (("verify", str(out / "model" / "model.tar.gz"), "--key", keys["model"]),
                  ("lineage", "verify", str(out / "evidence"), "--key", keys["evidence"]),
                  ("ledger", "verify", str(out / "evidence" / "ledger.jsonl"), "--key", keys["evidence"]),
                  ("pack", "verify", str(out / "audit-pack.pdf"), "--key", keys["pack"])):
        result = run_cli(*check)
        assert result.returncode == 0, (check, result.stderr)
    assert run_cli("verify", str(out / "model" / "model.tar.gz"), "--key", keys["evidence"]).returncode == 1
    assert_three_keys_named_in_the_pack(out)
    assert_policy_scan_judged_the_sealed_evidence(out / "evidence")
    actors = {json.loads(line)["actor"] for line in (out / "evidence" / "ledger.jsonl").read_text().splitlines()}
    assert actors == {"Dana Demo (model owner)"}
    # A second run in the same folder reuses the key and registers a new version.
    again = run_cli("demo", "--out", str(out), "--rows", "4000", "--num-round", "40")
    assert again.returncode == 0, again.stderr
    assert LocalRegistry(out / "registry.db").get("quickloan-credit-default").version == 2


def assert_three_keys_named_in_the_pack(out) -> None:
    from governance.signing import load_verifier
    from tests.pack_evidence import pdf_text

    identities = [load_verifier(out / "keys" / duty / "signing-key.pub.pem").identity
                  for duty in ("model", "evidence", "pack")]
    assert len(set(identities)) == 3
    text = pdf_text(out / "audit-pack.pdf")
    section = text[text.index("Keys and duties"):]
    for identity in identities:
        assert identity[:40] in section.replace(" ", ""), identity
    assert "Three different keys" in section


def assert_policy_scan_judged_the_sealed_evidence(evidence) -> None:
    """Every evidence file the policy scan hashed is the file the index sealed (the scan ran on the final lineage).

    Three kinds of file are left out, by design: the scan's own outputs (policy.json, .sarif, .junit.xml, which it
    cannot hash before writing), and the append-only ledger and its head, which move with every event and are
    sealed as far as they were when the index was written.
    """
    policy = json.loads((evidence / "policy.json").read_text())
    index = {entry["path"]: entry for entry in json.loads((evidence / "index.json").read_text())["files"]}
    compared = 0
    for resource, collected in policy["resources"].items():
        relative = resource.split(str(evidence) + "/", 1)[-1]
        entry = index.get(relative)
        if entry is None or entry["mode"] != "fixed" or relative.startswith("policy."):
            continue
        assert collected["data"]["sha256"] == entry["sha256"], relative
        compared += 1
    assert compared >= 20 and "provenance/register.intoto.json" in {
        r.split(str(evidence) + "/", 1)[-1] for r in policy["resources"]}
    artefact = next(v for k, v in policy["resources"].items() if k.startswith("artefact:"))
    assert artefact["data"]["lineage"]["complete"] is True, artefact["data"]["lineage"]


def test_pipeline_run_below_gate_exits_1(tmp_path, synthetic_csv):
    result = run_cli("pipeline", "run", "--data", str(synthetic_csv), "--workdir", str(tmp_path),
                     "--auc-threshold", "0.999", "--num-round", "5")
    assert result.returncode == 1
    assert "registered  NO" in result.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [("a,b\n1,2\n", "SCHEMA_MISMATCH"), ("", "EMPTY_DATA")],
)
def test_bad_data_is_exit_2_with_one_line(tmp_path, content, reason):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    result = run_cli("pipeline", "run", "--data", str(data), "--workdir", str(tmp_path / "w"))
    assert result.returncode == 2
    assert reason in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "w" / "data" / "train.csv").exists()


def test_missing_file_and_unknown_flag(tmp_path, capsys):
    assert main(["pipeline", "run", "--data", str(tmp_path / "nope.csv"), "--workdir", str(tmp_path)]) == 2
    assert "FILE_NOT_FOUND" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--no-such-flag"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize("rows", ["5", "0", "-3"])
def test_too_few_synthetic_rows_is_a_bad_call(tmp_path, capsys, rows):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--rows", rows]) == 2
    assert "BAD_PARAMETER" in capsys.readouterr().err
    assert not (tmp_path / "demo" / "data" / "synthetic-cs-training.csv").exists()


@pytest.mark.parametrize(
    "extra", [["--auc-threshold", "1.5"], ["--auc-threshold", "nan"], ["--decision-threshold", "2"]]
)
def test_out_of_range_thresholds_are_refused_before_any_work(tmp_path, capsys, synthetic_csv, extra):
    work = tmp_path / "w"
    assert main(["pipeline", "run", "--data", str(synthetic_csv), "--workdir", str(work), *extra]) == 2
    assert "BAD_PARAMETER" in capsys.readouterr().err
    assert not (work / "data" / "train.csv").exists()


def test_an_output_folder_that_is_a_file_is_a_bad_call(tmp_path, capsys, synthetic_csv):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    assert main(["demo", "--out", str(taken), "--rows", "100"]) == 2
    assert "BAD_OUTPUT" in capsys.readouterr().err
    assert main(["pipeline", "run", "--data", str(synthetic_csv), "--workdir", str(taken)]) == 2
    assert "BAD_OUTPUT" in capsys.readouterr().err
    assert taken.read_text() == "not a folder"


def test_a_bad_governance_file_is_refused_before_anything_is_registered(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--rows", "2000", "--governance-file", str(tmp_path / "none.yaml")]) == 2
    assert "FILE_NOT_FOUND" in capsys.readouterr().err
    assert not (out / "registry.db").exists() and not (out / "model").exists()

