"""The govern step: the library function behind the runner's hook, and its container entry point run locally."""

from __future__ import annotations

import json
import pickle
import shutil
import tarfile
from pathlib import Path

import pytest

from governance.errors import CheckFailed, InputError
from governance.signing import load_signer, load_verifier
from governance.signing.signer import write_key_pair
from governance.verdict import CHECKS, FAIL, PASS, SKIPPED, VERDICT_FILE, read_verdict
from pipeline.steps.govern import govern, main


def test_local_run_is_governed_and_registered(governed):
    run = governed.run
    assert run.verdict is not None and run.verdict.passed, run.verdict
    verdict = read_verdict(governed.workdir / VERDICT_FILE, load_verifier(governed.public_key))
    assert verdict["status"] == PASS and verdict["passed"] is True
    assert [c["name"] for c in verdict["checks"]] == list(CHECKS)
    assert all(c["status"] == PASS for c in verdict["checks"]), verdict["checks"]
    # What the runner registered carries the verdict's metadata, pointing at real files.
    package = run.package
    assert package is not None and package.approval_status == "PendingManualApproval"
    metadata = package.customer_metadata
    assert metadata["artefact_sha256"] == verdict["artefact"]["sha256"] == run.evaluation["model"]["artefact_sha256"]
    assert metadata["signature_uri"] == str((governed.workdir / "model" / "model.tar.gz.sig").resolve())
    for key in ("signature_uri", "evidence_uri", "governance_uri", "audit_pack_uri"):
        assert Path(metadata[key]).exists(), key
    evidence = governed.workdir / "evidence"
    for name in ("manifest.json", "dataset.json", "evaluation.json", "training.json", "fairness.json",
                 "explain.json", "policy.json", "policy.sarif", "policy.junit.xml", "index.json", "index.json.sig",
                 "ledger.jsonl"):
        assert (evidence / name).is_file(), name
    assert list((evidence / "provenance").glob("*.intoto.json"))
    assert (governed.workdir / "audit-pack.pdf.sig").is_file()
    # The digests the Register step attaches to the model metrics are the evidence files' digests.
    from governance.hashing import sha256_file

    assert verdict["digests"]["fairness"] == f"sha256:{sha256_file(evidence / 'fairness.json')}"


def test_every_check_is_in_the_ledger(governed):
    from governance.ledger import verify_ledger

    records = [json.loads(line) for line in (governed.workdir / "evidence" / "ledger.jsonl").read_text().splitlines()]
    events = [r["event"] for r in records]
    for event in ("sign", "pipeline-run", "fairness", "explain", "scan", "pack"):
        assert event in events, event
    verify_ledger(governed.workdir / "evidence" / "ledger.jsonl", load_verifier(governed.public_key))


def test_the_verdict_signature_catches_edits(governed, tmp_path):
    shutil.copy(governed.workdir / VERDICT_FILE, tmp_path / VERDICT_FILE)
    shutil.copy(governed.workdir / "governance.json.sig", tmp_path / "governance.json.sig")
    edited = json.loads((tmp_path / VERDICT_FILE).read_text())
    edited["checks"][2]["verdict"] = "green"
    (tmp_path / VERDICT_FILE).write_text(json.dumps(edited))
    with pytest.raises(CheckFailed) as caught:
        read_verdict(tmp_path / VERDICT_FILE, load_verifier(governed.public_key))
    assert caught.value.reason == "VERDICT_TAMPERED"
    _, other = write_key_pair(tmp_path / "other")
    shutil.copy(governed.workdir / VERDICT_FILE, tmp_path / VERDICT_FILE)
    with pytest.raises(CheckFailed) as caught:
        read_verdict(tmp_path / VERDICT_FILE, load_verifier(other))
    assert caught.value.reason == "SIGNATURE_INVALID"
    (tmp_path / "governance.json.sig").unlink()
    with pytest.raises(CheckFailed) as caught:
        read_verdict(tmp_path / VERDICT_FILE, load_verifier(governed.public_key))
    assert caught.value.reason == "VERDICT_UNSIGNED"


def unsafe_copy(model: Path, target: Path) -> Path:
    """The same booster plus a pickle member: an archive the integrity check must refuse to sign."""
    from governance.model_artifact import MODEL_MEMBER, read_member, tarball_bytes

    with model.open("rb") as stream:
        booster = read_member(stream, MODEL_MEMBER)
    payload = pickle.dumps({"anything": 1})  # pickled bytes are written, never loaded
    target.write_bytes(tarball_bytes({MODEL_MEMBER: booster, "code/helper.pkl": payload}))
    with tarfile.open(target) as tar:
        assert sorted(tar.getnames()) == ["code/helper.pkl", MODEL_MEMBER]
    return target


def test_a_blocking_finding_fails_the_verdict_but_it_is_still_written(governed, tmp_path):
    run = governed.run
    model = unsafe_copy(run.model_path, tmp_path / "model.tar.gz")
    verdict = govern(model, run.validation_path, run.evaluation_path, tmp_path / "evidence", load_signer(governed.key),
                     out_dir=tmp_path, skip=("lineage", "fairness", "explain", "policy", "audit_pack"))
    assert verdict.status == FAIL and not verdict.passed and verdict.exit_code == 1
    integrity = next(c for c in verdict.checks if c.name == "integrity")
    assert integrity.status == FAIL and integrity.reason == "UNSAFE_ARCHIVE"
    assert not (tmp_path / "model.tar.gz.sig").exists()  # nothing signed
    assert "integrity FAIL (UNSAFE_ARCHIVE)" in verdict.summary
    skipped = [c.name for c in verdict.checks if c.status == SKIPPED]
    assert skipped == ["lineage", "fairness", "explain", "policy", "audit_pack"]
    stored = read_verdict(tmp_path / VERDICT_FILE, load_verifier(governed.public_key))
    assert stored["status"] == FAIL and "audit_pack_uri" not in stored["customer_metadata"]


def test_a_check_that_cannot_run_is_an_error_never_a_pass(governed, tmp_path):
    run = governed.run
    bad_policies = tmp_path / "policies"
    bad_policies.mkdir()
    (bad_policies / "broken.yaml").write_text("kind: policy\nname: broken\nchecks: [{id: X, assert: {nope: 1}}]\n")
    verdict = govern(run.model_path, run.validation_path, run.evaluation_path, tmp_path / "evidence",
                     load_signer(governed.key), out_dir=tmp_path, policies_dir=bad_policies,
                     context=None, skip=("lineage", "fairness", "explain", "audit_pack"))
    policy = next(c for c in verdict.checks if c.name == "policy")
    assert policy.status == "ERROR" and verdict.status == "ERROR" and verdict.exit_code == 3
    assert verdict.customer_metadata["artefact_sha256"] == run.evaluation["model"]["artefact_sha256"]


def container_layout(root: Path, run) -> Path:
    """The processing container's /opt/ml/processing inputs, as SageMaker downloads them."""
    for name, source in (("model", run.model_path), ("train", run.train_path), ("validation", run.validation_path),
                         ("test", run.test_path), ("evaluation", run.evaluation_path),
                         ("profile", run.workdir / "data" / "profile.json")):
        (root / name).mkdir(parents=True)
        shutil.copy(source, root / name / Path(source).name)
    return root


def container_arguments(root: Path, key: Path, *extra: str) -> list[str]:
    return [
        "--model", str(root / "model" / "model.tar.gz"), "--train", str(root / "train" / "train.csv"),
        "--validation", str(root / "validation" / "validation.csv"), "--test", str(root / "test" / "test.csv"),
        "--profile", str(root / "profile" / "profile.json"),
        "--evaluation", str(root / "evaluation" / "evaluation.json"),
        "--evidence-dir", str(root / "evidence"), "--out-dir", str(root / "governance"), "--key", str(key),
        *extra,
    ]


def test_container_entry_point_runs_locally(governed, tmp_path, capsys):
    """The same entry point SageMaker runs, on the same inputs laid out as in the container."""
    root = container_layout(tmp_path / "processing", governed.run)
    code = main(container_arguments(root, governed.key, "--data-uri", str(governed.data), "--auc-threshold", "0.75",
                                    "--skip", "policy", "--skip", "audit_pack"))
    assert code == 0
    err = capsys.readouterr().err
    assert "govern: PASS" in err
    verdict = read_verdict(root / "governance" / VERDICT_FILE, load_verifier(governed.public_key))
    assert verdict["status"] == PASS and verdict["context"]["auc_threshold"] == 0.75
    assert (root / "model" / "model.tar.gz.sig").is_file()
    assert list((root / "evidence" / "provenance").glob("*.intoto.json"))
    assert verdict["customer_metadata"]["evidence_uri"] == str((root / "evidence").resolve())


def test_the_container_measures_fairness_and_explanations_on_the_test_split_as_the_local_path_does(governed,
                                                                                                  tmp_path):
    """Every performance and fairness figure comes from the untouched test split, in SageMaker as locally."""
    root = container_layout(tmp_path / "processing", governed.run)
    assert main(container_arguments(root, governed.key, "--skip", "policy", "--skip", "audit_pack")) == 0
    local, container = governed.workdir / "evidence", root / "evidence"
    test_split = json.loads((local / "dataset.json").read_text())["outputs"]["test"]
    for name in ("fairness.json", "explain.json"):
        made_here, made_there = (json.loads((folder / name).read_text()) for folder in (local, container))
        # The evidence names the split each figure used: the test split's file and digest.
        assert made_there["data"]["sha256"] == test_split["sha256"] == made_here["data"]["sha256"], name
        assert made_there["data"]["file"].endswith("/test/test.csv"), made_there["data"]
        assert made_there["data"]["rows"] == made_here["data"]["rows"]
    fairness = [json.loads((folder / "fairness.json").read_text()) for folder in (local, container)]
    for key in ("bands", "disparities", "elderly", "verdict"):
        assert fairness[0][key] == fairness[1][key], key
    explain = [json.loads((folder / "explain.json").read_text()) for folder in (local, container)]
    for key in ("global", "decomposition", "verdict"):
        assert explain[0][key] == explain[1][key], key
    # The lineage says Evaluate read the test split the Process step wrote (its digest), not the validation split.
    import base64

    envelope = json.loads((container / "provenance" / "evaluate.intoto.json").read_text())
    evaluate = base64.b64decode(envelope["payload"]).decode()
    validation_split = json.loads((local / "dataset.json").read_text())["outputs"]["validation"]
    assert test_split["sha256"] in evaluate and validation_split["sha256"] not in evaluate


def test_container_exit_codes(governed, tmp_path, capsys):
    root = container_layout(tmp_path / "processing", governed.run)
    unsafe_copy(governed.run.model_path, root / "model" / "model.tar.gz")
    quick = ["--skip", "lineage", "--skip", "fairness", "--skip", "explain", "--skip", "policy", "--skip", "audit_pack"]
    assert main(container_arguments(root, governed.key, *quick)) == 0  # the verdict is written: the condition gates
    assert main(container_arguments(root, governed.key, *quick, "--strict")) == 1
    capsys.readouterr()
    assert main(container_arguments(root, governed.key, "--model", str(tmp_path / "absent.tar.gz"))) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("FILE_NOT_FOUND:") and len(err.splitlines()) == 1
    assert main(container_arguments(root, governed.key)[:-2]) == 2  # no signer at all
    assert "NO_SIGNER" in capsys.readouterr().err


def test_bad_calls(governed, tmp_path):
    run = governed.run
    with pytest.raises(InputError, match="unknown check"):
        govern(run.model_path, run.validation_path, run.evaluation_path, tmp_path / "e", load_signer(governed.key),
               skip=("fairnes",))
    with pytest.raises(InputError, match="signing key"):
        from pipeline.steps.govern import local_govern

        local_govern(run)


def test_hook_result_feeds_the_runner_gate(governed):
    from pipeline.runner import GovernVerdict

    assert isinstance(governed.run.verdict, GovernVerdict)
    govern_record = next(s for s in governed.run.steps if s.name == "govern")
    assert govern_record.module == "pipeline.steps.govern"
    assert governed.run.not_registered_reasons() == []
    assert set(governed.run.verdict.customer_metadata) >= {"artefact_sha256", "signature_uri", "evidence_uri",
                                                           "audit_pack_uri", "governance_uri"}


def test_layering_and_lazy_imports():
    """The pipeline never imports the report renderer, and the SageMaker SDK loads only when a definition is built."""
    import subprocess
    import sys

    code = ("import sys, pipeline.steps.govern, pipeline.sagemaker.definition, pipeline.sagemaker.deploy, "
            "governance.cli.approve, governance.cli.pipeline; "
            "print(sorted(m for m in ('reports', 'sagemaker') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _failing_case(check: str, governed, tmp_path) -> dict:
    """govern() arguments under which ``check`` ends FAIL or ERROR (the other checks skipped where they can be)."""
    run = governed.run
    others = lambda *keep: tuple(c for c in CHECKS if c not in keep)  # noqa: E731
    case = {"model": run.model_path, "validation": run.validation_path, "skip": others(check)}
    if check == "integrity":
        case["model"] = unsafe_copy(run.model_path, tmp_path / "model.tar.gz")  # FAIL UNSAFE_ARCHIVE
    elif check == "lineage":
        case["run"] = None  # no pipeline run to record: ERROR
    elif check in ("fairness", "explain"):
        bad = tmp_path / "validation.csv"
        bad.write_text("not,a,credit,split\n")
        case["validation"] = bad
    elif check == "policy":
        folder = tmp_path / "policies"
        folder.mkdir()
        (folder / "broken.yaml").write_text("kind: policy\nname: broken\nchecks: [{id: X, assert: {nope: 1}}]\n")
        case["policies_dir"] = folder
    elif check == "evidence":
        (tmp_path / "evidence").mkdir()
        (tmp_path / "evidence" / "link.json").symlink_to(run.evaluation_path)  # evidence must be regular files
    elif check == "audit_pack":
        case["skip"] = others("evidence", check)  # no key_path with a local key: the pack cannot be signed
    return case


@pytest.mark.parametrize("check", [c for c in CHECKS])
def test_a_failed_or_errored_check_is_in_the_ledger(governed, tmp_path, check):
    case = _failing_case(check, governed, tmp_path)
    verdict = govern(case["model"], case["validation"], governed.run.evaluation_path, tmp_path / "evidence",
                     load_signer(governed.key), out_dir=tmp_path, run=case.get("run"), skip=case["skip"],
                     policies_dir=case.get("policies_dir"))
    outcome = next(c for c in verdict.checks if c.name == check)
    assert outcome.status in (FAIL, "ERROR"), outcome
    records = [json.loads(line) for line in (tmp_path / "evidence" / "ledger.jsonl").read_text().splitlines()]
    recorded = [r["details"] for r in records if r["details"].get("check") == check]
    assert recorded == [{"check": check, "status": outcome.status, "reason": outcome.reason,
                         "message": outcome.message[:500]}]


def _envelopes(path: Path) -> list[dict]:
    """The DSSE envelopes in one signature file: a bare envelope, or the one inside a Sigstore bundle."""
    document = json.loads(path.read_text())
    if "dsseEnvelope" in document:
        return [document["dsseEnvelope"]]
    if "payloadType" in document:
        return [document]
    return [value for value in document.values() if isinstance(value, dict) and "payloadType" in value]


def test_every_envelope_names_its_key_for_a_keyid_matching_verifier(governed):
    """securesystemslib only tries the keys whose keyid a signature names: every envelope must carry the hint."""
    from cryptography.hazmat.primitives import serialization
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    from governance.signing.signer import key_hint

    pem = governed.public_key.read_bytes()
    key = SSlibKey.from_crypto(serialization.load_pem_public_key(pem), keyid=key_hint(pem),
                               scheme="ecdsa-sha2-nistp256")
    work = governed.workdir
    files = {
        "artefact (OpenSSF Model Signing bundle)": work / "model" / "model.tar.gz.sig",
        "manifest": work / "model" / "model.tar.gz.manifest.sig",
        "verdict": work / "governance.json.sig",
        "evidence index": work / "evidence" / "index.json.sig",
        "audit pack": work / "audit-pack.pdf.sig",
        "ledger head": work / "evidence" / "ledger.jsonl.head",
        **{f"provenance {p.name}": p for p in sorted((work / "evidence").rglob("*.intoto.json"))},
    }
    assert any(name.startswith("provenance") for name in files)
    for name, path in files.items():
        envelopes = _envelopes(path)
        assert envelopes, f"{name}: no DSSE envelope in {path}"
        for envelope in envelopes:
            assert {s["keyid"] for s in envelope["signatures"]} == {key.keyid}, name
            accepted = Envelope.from_dict(envelope).verify([key], 1)
            assert set(accepted) == {key.keyid}, name
