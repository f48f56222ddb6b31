"""Scanning local files and model artefacts: permissions, signature, digest, archive safety, pickles, lineage.

The artefact checks run the real integrity and lineage code on a real (small) pipeline run, signed with a key
made for the test: a signed, untouched artefact passes; tampered, unsigned, wrongly signed and pickled ones fail;
with no trusted signer configured the signature checks are ERROR, never PASS.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from governance.cli import main
from governance.policy import Status, output, scan, scan_local_run


def signed_pipeline_run(folder: Path, raw_csv: Path) -> dict:
    """A small pipeline run with its artefact signed and its lineage recorded; returns the paths tests need."""
    from governance.integrity import sign_artefact
    from governance.lineage import record_pipeline_run
    from governance.signing.signer import load_signer, write_key_pair
    from pipeline.runner import run_pipeline

    run = run_pipeline(raw_csv, folder / "run", hyperparameters={"num_round": 10})
    private, public = write_key_pair(folder / "keys")
    signer = load_signer(private)
    sign_artefact(run.model_path, signer)
    record_pipeline_run(run, run.evidence_dir, signer, graph=False)
    _, other_public = write_key_pair(folder / "other-keys")
    return {"run": run, "artefact": run.model_path, "evidence": run.evidence_dir, "public_key": public,
            "private_key": private, "other_public_key": other_public, "signer": signer}


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory, synthetic_csv):
    return signed_pipeline_run(tmp_path_factory.mktemp("signed-run"), synthetic_csv)


def statuses(result, resource: str | None = None) -> dict[str, str]:
    return {f.check.id: str(f.status) for f in result.findings if resource is None or f.resource.id == resource}


def copy_artefact(signed_run, folder: Path, *, with_signature: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "model.tar.gz"
    shutil.copyfile(signed_run["artefact"], target)
    if with_signature:
        for suffix in (".sig", ".manifest.sig"):
            source = Path(f"{signed_run['artefact']}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{target}{suffix}")
    return target


def test_signed_untouched_artefact_passes_every_artefact_check(signed_run):
    artefact = str(signed_run["artefact"])
    result = scan([artefact], parameters={"trusted_signer_keys": [str(signed_run["public_key"])]})
    got = {k: v for k, v in statuses(result, str(Path(artefact).absolute())).items() if k.startswith("ART-")}
    assert got == {"ART-001": "PASS", "ART-002": "PASS", "ART-003": "PASS", "ART-004": "PASS", "ART-005": "PASS"}
    evidence = next(ev for ref, ev in result.evidence.values() if ref.type == "artefact")
    assert evidence.data["lineage"]["evidence_dir"] == str(Path(signed_run["evidence"]).absolute())
    assert "integrity:verify_artefact" in evidence.calls


def test_tampered_artefact_fails_the_digest_check(signed_run, tmp_path):
    target = copy_artefact(signed_run, tmp_path / "model")
    with open(target, "r+b") as handle:  # flip one byte inside the compressed stream
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    result = scan([str(target)], parameters={"trusted_signer_keys": [str(signed_run["public_key"])],
                                             "evidence_dir": str(signed_run["evidence"])})
    got = statuses(result, str(target))
    assert got["ART-002"] == "FAIL"
    assert got["ART-005"] == "FAIL"  # the lineage names the signed digest, not this one
    assert result.exit_code == 1


def test_unsigned_and_wrongly_signed_artefacts_fail_the_signature_check(signed_run, tmp_path):
    unsigned = copy_artefact(signed_run, tmp_path / "unsigned", with_signature=False)
    result = scan([str(unsigned)], parameters={"trusted_signer_keys": [str(signed_run["public_key"])],
                                               "evidence_dir": str(signed_run["evidence"])})
    assert statuses(result, str(unsigned))["ART-001"] == "FAIL"
    assert statuses(result, str(unsigned))["ART-002"] == "FAIL"

    result = scan([str(signed_run["artefact"])],
                  parameters={"trusted_signer_keys": [str(signed_run["other_public_key"])]})
    got = statuses(result, str(Path(signed_run["artefact"]).absolute()))
    assert got["ART-001"] == "FAIL"
    assert got["ART-002"] == "ERROR"  # no trusted key opened the signature: the signed digest is unknown


def test_no_trusted_signer_configured_is_an_error_not_a_pass(signed_run):
    result = scan([str(signed_run["artefact"])])
    got = statuses(result, str(Path(signed_run["artefact"]).absolute()))
    assert got["ART-001"] == got["ART-002"] == "ERROR"
    assert got["ART-003"] == got["ART-004"] == "PASS"
    assert result.exit_code == 3


def test_pickled_archive_fails_safety_and_pickle_checks(tmp_path, signed_run):
    import pickle

    target = tmp_path / "pickled" / "model.tar.gz"
    target.parent.mkdir()
    payload = pickle.dumps({"not": "a model"})
    with tarfile.open(target, "w:gz") as archive:
        info = tarfile.TarInfo("model.pkl")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    result = scan([str(target)], parameters={"trusted_signer_keys": [str(signed_run["public_key"])]})
    got = statuses(result, str(target))
    assert got["ART-003"] == "FAIL" and got["ART-004"] == "FAIL"
    assert got["ART-005"] == "ERROR"  # no evidence folder beside it, none configured
    pickle_evidence = next(ev for ref, ev in result.evidence.values() if ref.type == "artefact").data["pickle"]
    assert pickle_evidence["members"] == ["model.pkl"]


def test_file_permissions(tmp_path):
    (tmp_path / "keys").mkdir()
    open_file = tmp_path / "notes.txt"
    open_file.write_text("x")
    os.chmod(open_file, 0o666)
    loose_key = tmp_path / "keys" / "signing-key.pem"
    loose_key.write_text("-----BEGIN PRIVATE KEY-----\n")
    os.chmod(loose_key, 0o640)
    tight_key = tmp_path / "keys" / "kms-private.pem"
    tight_key.write_text("-----BEGIN PRIVATE KEY-----\n")
    os.chmod(tight_key, 0o600)
    public = tmp_path / "keys" / "signing-key.pub.pem"
    public.write_text("-----BEGIN PUBLIC KEY-----\n")
    os.chmod(public, 0o644)
    result = scan([str(tmp_path)])
    assert statuses(result, str(open_file)) == {"ACC-FILE-001": "FAIL", "ACC-FILE-002": "N/A"}
    assert statuses(result, str(loose_key)) == {"ACC-FILE-001": "PASS", "ACC-FILE-002": "FAIL"}
    assert statuses(result, str(tight_key)) == {"ACC-FILE-001": "PASS", "ACC-FILE-002": "PASS"}
    assert statuses(result, str(public)) == {"ACC-FILE-001": "PASS", "ACC-FILE-002": "N/A"}
    assert result.exit_code == 1


def test_unreadable_folder_is_an_error_not_a_silent_pass(tmp_path, monkeypatch):
    # A folder the scan cannot list hides its files: that must be ERROR (exit 3), never "nothing failed".
    (tmp_path / "ok.txt").write_text("x")
    hidden = tmp_path / "secret"
    hidden.mkdir()
    (hidden / "loose.txt").write_text("x")
    os.chmod(hidden / "loose.txt", 0o666)
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == hidden:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = scan([str(tmp_path)])
    errors = [f for f in result.findings if f.status == Status.ERROR]
    assert errors and all(f.resource.id == str(hidden) for f in errors)
    assert "Permission denied" in errors[0].message
    assert result.exit_code == 3
    # SARIF 2.1.0 (3.27.10): a result whose kind is not "fail" must have level "none".
    run = json.loads(output.render(result, "sarif"))["runs"][0]
    open_results = [r for r in run["results"] if r.get("kind", "fail") != "fail"]
    assert open_results and all(r["level"] == "none" for r in open_results)
    assert not run["invocations"][0]["executionSuccessful"]
    assert {n["level"] for n in run["invocations"][0]["toolExecutionNotifications"]} == {"error"}


@pytest.mark.parametrize("resources", [[1], {"s3_bucket:b": "junk"}, {"s3_bucket:b": {"evidence": "junk"}}])
def test_malformed_scan_state_is_bad_input(tmp_path, capsys, resources):
    from governance.policy.state import STATE_VERSION, seal

    state = tmp_path / "state.json"
    body = {"version": STATE_VERSION, "resources": resources}
    state.write_text(json.dumps({**body, "seal": seal(body, None)}))  # sealed, so the structure is what fails
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("x")
    assert main(["scan", str(tmp_path / "data"), "--quiet", "--state", str(state)]) == 2
    assert "BAD_STATE" in capsys.readouterr().err


def test_scan_local_run_writes_the_three_reports_into_the_evidence_folder(signed_run, tmp_path):
    evidence = tmp_path / "evidence"
    shutil.copytree(signed_run["evidence"], evidence)
    result = scan_local_run(signed_run["artefact"], evidence,
                            parameters={"trusted_signer_keys": [str(signed_run["public_key"])],
                                        "evidence_dir": str(evidence)})
    assert result.exit_code == 0, [f.message for f in result.findings if f.status is not Status.PASS]
    report = json.loads((evidence / "policy.json").read_text())
    assert report["verdict"] == "pass" and report["summary"]["FAIL"] == 0
    assert {f["check"] for f in report["findings"]} >= {"ART-001", "ART-005", "ACC-FILE-001"}
    sarif = json.loads((evidence / "policy.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"] == []
    junit = ET.parse(evidence / "policy.junit.xml").getroot()
    assert junit.tag == "testsuites" and int(junit.get("tests")) == len(report["findings"])


def test_cli_formats_and_exit_codes(tmp_path, capsys):
    ok = tmp_path / "ok.txt"
    ok.write_text("fine")
    os.chmod(ok, 0o644)
    assert main(["scan", str(ok), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "pass"

    os.chmod(ok, 0o666)
    out = tmp_path / "out.csv"
    assert main(["scan", str(ok), "--format", "csv", "--output", str(out), "--quiet"]) == 1
    assert "POLICY_VIOLATION" in capsys.readouterr().err
    rows = list(csv.DictReader(out.open()))
    assert {(r["check"], r["status"]) for r in rows} == {("ACC-FILE-001", "FAIL"), ("ACC-FILE-002", "N/A")}

    assert main(["scan", str(tmp_path / "missing"), "--quiet"]) == 2
    assert "FILE_NOT_FOUND" in capsys.readouterr().err
    assert main(["scan", str(ok), "--set", "no_such_parameter=1", "--quiet"]) == 2
    with pytest.raises(SystemExit) as bad_call:
        main(["scan", str(ok), "--format", "pdf"])
    assert bad_call.value.code == 2


def test_cli_ignore_waivers_and_waiver_files(tmp_path, capsys):
    from governance.policy import default_policies_dir

    policies = tmp_path / "policies"
    shutil.copytree(default_policies_dir(), policies, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    target = tmp_path / "data" / "shared.txt"
    target.parent.mkdir()
    target.write_text("x")
    os.chmod(target, 0o666)
    (policies / "waivers.yaml").write_text(
        "kind: waivers\nwaivers:\n"
        f"  - {{check: ACC-FILE-001, resource: '{tmp_path}/data/*', reason: shared scratch, approver: J. Doe, "
        "expires: 2099-12-31}\n")
    assert main(["scan", str(target), "--policies", str(policies), "--quiet"]) == 0
    finding = next(f for f in json.loads(capsys.readouterr().out)["findings"] if f["check"] == "ACC-FILE-001")
    assert finding["status"] == "WAIVED" and finding["waiver"]["approver"] == "J. Doe"
    assert main(["scan", str(target), "--policies", str(policies), "--quiet", "--ignore-waivers"]) == 1
    capsys.readouterr()
    (policies / "waivers.yaml").write_text((policies / "waivers.yaml").read_text().replace("2099-12-31", "2020-01-01"))
    assert main(["scan", str(target), "--policies", str(policies), "--quiet"]) == 1


def _forge_state(path: Path, *, reseal: bool) -> None:
    """Plant a PASS-worthy bucket entry in a state file, as someone with write access to it could."""
    from governance.policy.state import seal

    document = json.loads(path.read_text())
    document.pop("seal")
    document["resources"]["s3_bucket:forged"] = {"evidence": {"collected_at": "2999-01-01T00:00:00+00:00"}}
    path.write_text(json.dumps({**document, "seal": seal(document, None) if reseal else {"sha256": "0" * 64}}))


def test_a_tampered_scan_state_is_refused_never_trusted(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GOVERNANCE_STATE_KEY", raising=False)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("x")
    os.chmod(tmp_path / "data" / "a.txt", 0o644)
    state, key = tmp_path / "state.json", tmp_path / "state.key"
    argv = ["scan", str(tmp_path / "data"), "--quiet", "--output", str(tmp_path / "out.json"), "--state", str(state)]
    assert main(argv) == 0
    assert set(json.loads(state.read_text())["seal"]) == {"sha256"}
    _forge_state(state, reseal=False)
    assert main(argv) == 1 and "STATE_TAMPERED" in capsys.readouterr().err

    # With a key the state carries an HMAC: a forger who recomputes the plain digest is still refused.
    key.write_bytes(os.urandom(31) + b"\n")  # raw random bytes are the key as they stand, whitespace included
    state.unlink()
    assert main([*argv, "--state-key", str(key)]) == 0
    assert set(json.loads(state.read_text())["seal"]) == {"sha256", "hmac_sha256"}
    assert main([*argv, "--state-key", str(key)]) == 0  # an untouched state is reused
    _forge_state(state, reseal=True)
    assert main([*argv, "--state-key", str(key)]) == 1 and "STATE_TAMPERED" in capsys.readouterr().err
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    state.unlink()
    assert main([*argv, "--state-key", str(key)]) == 0
    assert main(argv) == 2 and "STATE_KEY_REQUIRED" in capsys.readouterr().err  # a keyed state needs its key
    assert main([*argv, "--state-key", str(other)]) == 1 and "STATE_TAMPERED" in capsys.readouterr().err
    key.write_bytes(b"short")
    assert main([*argv, "--state-key", str(key)]) == 2 and "BAD_STATE_KEY" in capsys.readouterr().err


def test_scan_appends_to_a_signed_ledger_with_its_key(tmp_path, capsys):
    from governance.ledger import Ledger
    from governance.signing.signer import load_signer, write_key_pair

    private, public = write_key_pair(tmp_path / "keys")
    ledger = tmp_path / "ledger.jsonl"
    Ledger(ledger, load_signer(private)).append("sign", "release", subject="model.tar.gz")
    target = tmp_path / "data"
    target.mkdir()
    (target / "a.txt").write_text("x")
    os.chmod(target / "a.txt", 0o644)
    argv = ["scan", str(target), "--quiet", "--output", str(tmp_path / "out.json"), "--ledger", str(ledger)]
    assert main(argv) == 2 and "LEDGER_SIGNED" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()  # refused before scanning: no report without its ledger record
    assert main([*argv, "--ledger-key", str(private)]) == 0
    record = json.loads(ledger.read_text().splitlines()[-1])
    assert record["event"] == "scan" and record["details"]["verdict"] == "pass"
    assert main(["ledger", "verify", str(ledger), "--key", str(public)]) == 0
    assert main(["scan", str(target), "--quiet", "--ledger-key", str(private)]) == 2  # a key without --ledger
