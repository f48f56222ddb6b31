"""``governance monitor`` on capture streams in SageMaker Data Capture's layout, from local folders and SeaweedFS.

The streams are made from the pipeline's validation split scored by the model (what the endpoint would have
returned): unchanged, the inputs and scores match the baseline; with income halved (and the debt ratio, debt over
income, doubled with it) and the age mix shifted towards the young, the run must FAIL and say why.
"""

from __future__ import annotations

import base64
import doctest
import importlib
import json
import uuid

import numpy as np
import pytest

from governance.cli import main
from governance.credit_data import TARGET, read_split
from governance.monitoring import load_policy, monitor
from tests.capture_support import capture_records, drifted, ground_truth, layout, score, write_tree


@pytest.mark.parametrize("name", ["baseline", "policy", "stats"])
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(f"governance.monitoring.{name}"))
    assert result.attempted and not result.failed


@pytest.fixture(scope="module")
def streams(real_run, tmp_path_factory):
    """Capture and ground truth for the unchanged and the drifted validation split (real data)."""
    root = tmp_path_factory.mktemp("capture")
    validation = read_split(real_run.test_path or real_run.validation_path)
    out = {}
    for name, frame in (("same", validation), ("drift", drifted(validation))):
        records = capture_records(frame, score(real_run.model_path, frame), base64_every=97)
        out[name] = write_tree(root / name / "quickloan" / "AllTraffic", layout(records))
        out[f"{name}-labels"] = write_tree(root / f"{name}-labels", ground_truth(records, frame[TARGET]))
        out[f"{name}-records"] = records
    return out


def failed_bands(report: dict) -> list[dict]:
    return [c for c in report["checks"] if c["check"] == "approval-rate-change" and c["status"] == "FAIL"]


def run(real_run, capture, *extra):
    return main(["monitor", "--model", str(real_run.model_path), "--evidence", str(real_run.evidence_dir),
                 "--capture", str(capture), *map(str, extra)])


def test_the_validation_split_shows_no_drift(real_run, streams, tmp_path, capsys):
    code = run(real_run, streams["same"], "--out", tmp_path)
    report = json.loads((tmp_path / "monitoring.json").read_text())
    psi = {c["subject"]: c["value"] for c in report["checks"] if c["check"] in ("feature-psi", "score-psi")}
    assert len(psi) == 11 and max(psi.values()) < 0.1
    assert code == 0, capsys.readouterr().err
    assert report["verdict"] in ("PASS", "WARN")
    assert report["capture"]["rows"] == 30000 and len(report["capture"]["files"]) > 1
    assert all(c["status"] != "FAIL" for c in report["checks"])


def test_income_halved_and_younger_applicants_fail_naming_both(real_run, streams, tmp_path, capsys):
    code = run(real_run, streams["drift"], "--out", tmp_path)
    err = capsys.readouterr().err
    assert code == 1
    report = json.loads((tmp_path / "monitoring.json").read_text())
    income = next(c for c in report["checks"] if c["check"] == "feature-psi" and c["subject"] == "MonthlyIncome")
    assert income["status"] == "FAIL" and income["value"] > 0.25
    bands = failed_bands(report)
    assert bands, "no age band's approval-rate change was shown beyond the policy's fail level"
    fail = load_policy().approval_by_band.change.fail
    for check in bands:  # judged by the interval: all of it lies beyond the fail level, not just the estimate
        assert min(abs(check["interval"][0]), abs(check["interval"][1])) > fail
        assert check["interval"][0] * check["interval"][1] > 0
    assert "MonthlyIncome" in err and f"approval-rate-change [{bands[0]['subject']}]" in err and "DRIFT" in err
    # The change over all ages is context, not a verdict: mostly who applies (the age PSI), little how each is decided.
    overall = report["approval_overall"]
    assert overall["change_interval"][1] < 0 and overall["mix"] < 0
    assert abs(overall["mix"]) > abs(overall["within_bands"])
    assert not any(c["subject"] == "all" for c in report["checks"] if c["check"] == "approval-rate-change")
    sarif = json.loads((tmp_path / "monitoring.sarif").read_text())
    assert {"feature-psi", "approval-rate-change"} <= {r["ruleId"] for r in sarif["runs"][0]["results"]}


def test_labels_joined_by_event_id_give_auc_with_interval(real_run, streams):
    report = monitor(real_run.model_path, real_run.evidence_dir, streams["same"], load_policy(),
                     labels=streams["same-labels"])
    assert report["labels"]["matched_rows"] == 30000 and report["labels"]["unmatched_labels"] == 0
    auc = report["performance"]["auc"]
    # The same rows and scores as the evaluation: the same AUC, inside its interval.
    assert auc["value"] == pytest.approx(real_run.auc, abs=1e-9)
    assert auc["interval"][0] < auc["value"] < auc["interval"][1] and auc["interval"][1] - auc["interval"][0] < 0.05
    statuses = {c["check"]: c["status"] for c in report["checks"] if c["subject"] in ("score", "age")}
    assert statuses["auc-drop"] == "PASS" and statuses["calibration-gap"] == "PASS"
    assert statuses["equal-opportunity-ratio"] in ("PASS", "WARN")


def test_labels_for_part_of_the_stream_join_by_event_id(real_run, streams, tmp_path):
    records = streams["same-records"]
    frame = read_split(real_run.test_path or real_run.validation_path)
    keep = slice(0, 5000)
    labels = write_tree(tmp_path, ground_truth(records[keep], frame[TARGET].iloc[keep]))
    stray = {"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": str(uuid.uuid4())},
             "eventVersion": "0"}
    (tmp_path / "stray.jsonl").write_text(json.dumps(stray) + "\n")
    report = monitor(real_run.model_path, real_run.evidence_dir, streams["same"], load_policy(), labels=labels)
    assert report["labels"]["matched_rows"] == 5000 and report["labels"]["unmatched_labels"] == 1
    assert report["performance"]["labelled_rows"] == 5000


def test_a_served_score_that_is_not_the_models_fails(real_run, streams, tmp_path, capsys):
    records = [json.loads(json.dumps(r)) for r in streams["same-records"][:2000]]
    records[10]["captureData"]["endpointOutput"]["data"] = "0.5"
    capture = write_tree(tmp_path / "c", layout(records))
    assert run(real_run, capture) == 1
    assert "served-model [score]" in capsys.readouterr().err


def test_another_model_is_refused(real_run, synthetic_run, streams, capsys):
    code = main(["monitor", "--model", str(synthetic_run.model_path), "--evidence", str(real_run.evidence_dir),
                 "--capture", str(streams["same"])])
    assert code == 1 and "MODEL_MISMATCH" in capsys.readouterr().err


@pytest.mark.parametrize(("line", "reason"), [
    (b"{not json\n", "MALFORMED_CAPTURE"),
    (json.dumps({"captureData": {"endpointInput": {"data": "1,2,3", "encoding": "CSV"},
                                 "endpointOutput": {"data": "0.1", "encoding": "CSV"}},
                 "eventMetadata": {"eventId": "x"}}).encode() + b"\n", "MALFORMED_CAPTURE"),
    (json.dumps({"captureData": {"endpointInput": {"data": "{}", "encoding": "JSON"},
                                 "endpointOutput": {"data": "0.1", "encoding": "CSV"}},
                 "eventMetadata": {"eventId": "x"}}).encode() + b"\n", "UNSUPPORTED_CAPTURE"),
])
def test_bad_capture_is_refused_with_one_line_and_no_output(real_run, streams, tmp_path, capsys, line, reason):
    capture = write_tree(tmp_path / "c", layout(streams["same-records"][:300]))
    bad = next(capture.rglob("*.jsonl"))
    bad.write_bytes(bad.read_bytes() + line)
    out = tmp_path / "out"
    assert run(real_run, capture, "--out", out) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("governance monitor:")]
    assert len(errors) == 1 and reason in errors[0] and "Traceback" not in err
    assert not out.exists()


def test_empty_capture_and_bad_policy_are_input_errors(real_run, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run(real_run, tmp_path / "empty") == 2
    assert "NO_CAPTURE" in capsys.readouterr().err
    policy = tmp_path / "p.yaml"
    policy.write_text("kind: monitoring\ndrift:\n  psi: {warn: 0.3, fail: 0.1}\n")
    assert run(real_run, tmp_path / "empty", "--policy", policy) == 2
    assert "p.yaml:3" in capsys.readouterr().err


def test_multi_row_requests_and_base64_payloads(real_run):
    from governance.credit_data import FEATURES
    from governance.monitoring.capture import read_capture

    frame = read_split(real_run.test_path or real_run.validation_path).iloc[:3]
    scores = score(real_run.model_path, frame)
    from tests.capture_support import _csv

    rows = "\n".join(_csv(row) for row in frame[list(FEATURES)].to_numpy())
    record = {"captureData": {
        "endpointInput": {"mode": "INPUT", "data": base64.b64encode(rows.encode()).decode(), "encoding": "BASE64"},
        "endpointOutput": {"mode": "OUTPUT", "data": "\n".join(format(s, ".9g") for s in scores), "encoding": "CSV"}},
        "eventMetadata": {"eventId": "e1", "inferenceTime": "2026-11-30T08:00:00Z"}, "eventVersion": "0"}
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        write_tree(Path(folder), {"2026/11/30/08/a.jsonl": (json.dumps(record) + "\n").encode()})
        capture = read_capture(folder, len(FEATURES))
    assert capture.rows == 3 and capture.records == 1 and capture.keys == ["e1#0", "e1#1", "e1#2"]
    assert np.allclose(capture.features, frame[list(FEATURES)].to_numpy(), equal_nan=True)
    assert np.allclose(capture.scores, scores)


def test_signed_report_and_ledger_record(real_run, streams, tmp_path):
    from governance.cli import main as cli
    from governance.ledger import verify_ledger
    from governance.monitoring.report import statement
    from governance.signing import dsse, load_verifier

    assert cli(["keygen", "--out", str(tmp_path / "keys")]) == 0
    ledger = tmp_path / "ledger.jsonl"
    code = run(real_run, streams["drift"], "--out", tmp_path / "m", "--key", tmp_path / "keys" / "signing-key.pem",
               "--ledger", ledger, "--labels", streams["drift-labels"])
    assert code == 1
    data = (tmp_path / "m" / "monitoring.json").read_bytes()
    envelope = json.loads((tmp_path / "m" / "monitoring.json.sig").read_text())
    signed = dsse.verify_envelope(envelope, load_verifier(tmp_path / "keys" / "signing-key.pub.pem"))
    assert signed["subject"] == statement(data, json.loads(data))["subject"]
    records = [json.loads(line) for line in ledger.read_text().splitlines()]
    monitored = [r for r in records if r["event"] == "monitor"]
    assert monitored and monitored[-1]["details"]["verdict"] == "FAIL"
    assert any(f["subject"] == "MonthlyIncome" for f in monitored[-1]["details"]["findings"])
    verify_ledger(ledger, load_verifier(tmp_path / "keys" / "signing-key.pub.pem"))


@pytest.fixture
def weed(seaweedfs, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", seaweedfs.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "weed")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "weed")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    return seaweedfs


def test_capture_and_labels_on_s3(real_run, streams, weed, tmp_path):
    s3 = weed.client()
    bucket = f"capture-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for name, prefix in (("drift", "datacapture/quickloan/AllTraffic"), ("drift-labels", "ground-truth")):
        for path in sorted(streams[name].rglob("*.jsonl")):
            key = f"{prefix}/{path.relative_to(streams[name]).as_posix()}"
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    s3.put_object(Bucket=bucket, Key="datacapture/quickloan/AllTraffic/README.txt", Body=b"not a capture file")
    remote = monitor(real_run.model_path, real_run.evidence_dir, f"s3://{bucket}/datacapture/quickloan/AllTraffic/",
                     load_policy(), labels=f"s3://{bucket}/ground-truth/")
    local = monitor(real_run.model_path, real_run.evidence_dir, streams["drift"], load_policy(),
                    labels=streams["drift-labels"])
    assert remote["verdict"] == local["verdict"] == "FAIL"
    assert failed_bands(remote) == failed_bands(local) and failed_bands(remote)
    assert [c["value"] for c in remote["checks"] if "value" in c] == [c["value"] for c in local["checks"]
                                                                       if "value" in c]
    assert remote["capture"]["files"][0]["uri"].startswith(f"s3://{bucket}/datacapture/quickloan/AllTraffic/2026/")
    assert remote["performance"]["auc"] == local["performance"]["auc"]
    missing = f"s3://{bucket}-missing/x/"
    with pytest.raises(Exception) as caught:
        monitor(real_run.model_path, real_run.evidence_dir, missing, load_policy())
    assert getattr(caught.value, "exit_code", None) in (2, 3)


@pytest.mark.parametrize(("low", "high", "status"), [
    (-0.039, -0.014, "FAIL"),   # the whole interval beyond -1 point
    (-0.120, +0.004, "PASS"),   # a large estimate on a small band: the interval allows no change
    (-0.030, -0.007, "WARN"),   # shown beyond the warn level only
    (+0.011, +0.050, "FAIL"),   # a rise is a change too
])
def test_a_band_is_judged_by_its_interval_not_its_estimate(low, high, status):
    from governance.monitoring.assess import _shown_beyond

    assert _shown_beyond(load_policy().approval_by_band.change, low, high)[0] == status
