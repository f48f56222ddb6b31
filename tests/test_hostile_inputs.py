"""Hostile inputs end in one clear line and a documented exit code — never INTERNAL_ERROR, never a hang."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from governance.integrity import inspect_stream
from governance.model_artifact import tarball_bytes
from governance.signing.signer import write_key_pair
from tests.lineage_support import cli
from tests.test_integrity_archive import model_tarball, small_booster_bytes

ROOT = Path(__file__).resolve().parent.parent
DEEP_JSON = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
BOMB = "".join(f"{chr(97 + n)}: &{chr(97 + n)} [" + ",".join([f"*{chr(96 + n)}" if n else "x"] * 9) + "]\n"
               for n in range(9))


def run(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI in a child process, so a hang fails the test instead of stalling the suite."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "governance", *argv], capture_output=True, timeout=timeout,
                          env=env, cwd=ROOT)


def one_line(result: subprocess.CompletedProcess, code: int, reason: str) -> None:
    err = result.stderr.decode(errors="replace")
    assert result.returncode == code, err
    assert reason in err.strip().splitlines()[-1] and "INTERNAL_ERROR" not in err and "Traceback" not in err, err


@pytest.fixture
def keys(tmp_path):
    return write_key_pair(tmp_path / "keys")


@pytest.fixture
def artefact(tmp_path):
    path = tmp_path / "model.tar.gz"
    path.write_bytes(model_tarball())
    return path


@pytest.mark.parametrize("command", ["inspect", "sign", "verify"])
def test_a_fifo_artefact_is_refused_up_front(command, tmp_path, keys, capsys):
    real = tmp_path / "real" / "model.tar.gz"
    real.parent.mkdir()
    real.write_bytes(model_tarball())
    assert cli(capsys, "sign", str(real), "--key", str(keys[0]))[0] == 0
    fifo = tmp_path / "model.tar.gz"
    os.mkfifo(fifo)
    for suffix in (".sig", ".manifest.sig"):  # a valid signature beside it, so verify goes on to the artefact
        Path(f"{fifo}{suffix}").write_bytes(Path(f"{real}{suffix}").read_bytes())
    key = {"inspect": [], "sign": ["--key", str(keys[0])], "verify": ["--key", str(keys[1])]}[command]
    one_line(run(command, str(fifo), *key), 2, "NOT_A_REGULAR_FILE")


def test_dev_zero_as_artefact_or_signature_is_refused(artefact, keys):
    one_line(run("inspect", "/dev/zero"), 2, "NOT_A_REGULAR_FILE")
    one_line(run("verify", str(artefact), "--signature", "/dev/zero", "--key", str(keys[1])), 2,
             "NOT_A_REGULAR_FILE")


@pytest.mark.parametrize(("content", "reason"), [
    (DEEP_JSON, "nested more than"),
    (b'{"mediaType": "a", "mediaType": "b"}', "appears twice"),
])
def test_a_hostile_signature_bundle_is_bad_input(artefact, keys, capsys, content, reason):
    signature = artefact.with_name("model.tar.gz.sig")
    signature.write_bytes(content)
    code, _, err = cli(capsys, "verify", str(artefact), "--key", str(keys[1]))
    assert code == 2 and "MALFORMED_SIGNATURE" in err and reason in err and err.count("\n") == 1, err


def test_a_deeply_nested_manifest_is_bad_input(artefact, keys, capsys):
    code, _, err = cli(capsys, "sign", str(artefact), "--key", str(keys[0]))
    assert code == 0, err
    artefact.with_name("model.tar.gz.manifest.sig").write_bytes(DEEP_JSON)
    code, _, err = cli(capsys, "verify", str(artefact), "--key", str(keys[1]))
    assert code == 2 and "nested more than" in err and err.count("\n") == 1, err


def test_a_deeply_nested_pack_signature_is_a_failed_check(tmp_path, capsys):
    pdf = tmp_path / "audit-pack.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%%EOF\n")
    Path(f"{pdf}.sig").write_bytes(DEEP_JSON)
    code, _, err = cli(capsys, "pack", "verify", str(pdf))
    assert code in (1, 2) and "INTERNAL_ERROR" not in err and err.count("\n") == 1, err


def test_a_yaml_alias_bomb_in_a_policy_file_is_refused(tmp_path, artefact):
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "bomb.yaml").write_text(BOMB)
    one_line(run("scan", str(artefact), "--policies", str(policies), "--quiet"), 2, "alias")


@pytest.mark.parametrize("loader", ["fairness", "monitoring", "validation"])
def test_a_yaml_alias_bomb_in_a_model_policy_is_refused(tmp_path, loader):
    """The fairness, monitoring and validation policies share the bounded loader (validation once used plain
    ``yaml.safe_load``, which expands every alias)."""
    from governance.errors import InputError
    from governance.fairness.policy import parse_policy as fairness
    from governance.monitoring.policy import parse_policy as monitoring
    from governance.validation.policy import load_validation_policy

    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    parse = {"fairness": lambda: fairness(BOMB, str(path)), "monitoring": lambda: monitoring(BOMB, str(path)),
             "validation": lambda: load_validation_policy(path)}[loader]
    with pytest.raises(InputError) as refused:
        parse()
    assert "alias" in refused.value.message


def test_a_yaml_alias_bomb_in_a_set_value_is_refused(artefact):
    one_line(run("scan", str(artefact), "--set", "trusted_signer_keys=" + BOMB.replace("\n", "\n"), "--quiet"), 2,
             "BAD_PARAMETER")


def test_a_catastrophic_regex_cannot_stall_a_scan(tmp_path):
    # With a backtracking engine this pattern takes exponential time on the crafted name; RE2 is linear.
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "names.yaml").write_text(
        "kind: policy\nname: names\ntitle: names\nversion: 1\nchecks:\n"
        "  - id: NAME-001\n    title: no crafted names\n    resource: local_file\n    severity: low\n"
        "    regulations: [internal]\n    remediation: rename it\n"
        "    assert: {not: {matches: {path: name, pattern: '(a|aa)+$'}}}\n")
    target = tmp_path / "files"
    target.mkdir()
    (target / ("a" * 200 + "!")).write_bytes(b"x")
    result = run("scan", str(target), "--policies", str(policies), "--quiet", "--format", "json", timeout=120)
    assert result.returncode in (0, 1), result.stderr.decode()


def test_non_utf8_file_names_are_reported_not_fatal(tmp_path, keys):
    folder = tmp_path / "models"
    folder.mkdir()
    name = os.fsencode(folder) + b"/mod\xe9l.tar.gz"
    with open(name, "wb") as handle:
        handle.write(model_tarball())
    scanned = run("scan", str(folder), "--quiet", "--format", "json")
    assert scanned.returncode in (0, 1, 3) and b"INTERNAL_ERROR" not in scanned.stderr, scanned.stderr
    assert "mod\\xe9l.tar.gz" in json.loads(scanned.stdout)["findings"][0]["resource"]
    signed = subprocess.run([sys.executable, "-m", "governance", "sign", name, "--key", str(keys[0])],
                            capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert signed.returncode == 0, signed.stderr


def test_a_caller_with_threads_loads_the_model_in_a_fresh_interpreter_not_a_fork(monkeypatch):
    import threading

    from governance.integrity import model_check

    def no_fork(raw, seconds):
        raise AssertionError("forked while other threads run: the child may inherit a held lock")

    monkeypatch.setattr(model_check, "_load_in_fork", no_fork)
    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    worker.start()
    try:
        assert model_check.check_model(small_booster_bytes()) is None
        assert model_check._load_in_child(DEEP_JSON, 60).code == "MODEL_UNPARSEABLE"
        assert model_check.check_model(b'{"learner": {}}').code == "BAD_XGBOOST_MODEL"
    finally:
        release.set()
        worker.join()


def test_a_model_that_crashes_xgboost_is_a_finding_and_the_folder_scan_completes(tmp_path):
    from governance.integrity.model_check import _load_in_child

    # The parser really does crash on this (a native stack overflow), but in a child: a finding, not a dead scan.
    assert _load_in_child(DEEP_JSON, 60).code == "MODEL_UNPARSEABLE"
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "bad.tar.gz").write_bytes(tarball_bytes({"xgboost-model": DEEP_JSON}))
    (folder / "good.tar.gz").write_bytes(tarball_bytes({"xgboost-model": small_booster_bytes()}))
    report = inspect_stream(io.BytesIO((folder / "bad.tar.gz").read_bytes()))
    assert [f.code for f in report.blocking] == ["MODEL_UNPARSEABLE"]
    result = run("scan", str(folder), "--quiet", "--format", "json")
    assert b"INTERNAL_ERROR" not in result.stderr and result.returncode in (1, 3), result.stderr
    resources = {f["resource"] for f in json.loads(result.stdout)["findings"]}
    assert {str(folder / "bad.tar.gz"), str(folder / "good.tar.gz")} <= resources
