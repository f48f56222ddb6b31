"""``governance validate`` on a governed run, and the approval rule it feeds (policies/validation.yaml)."""

from __future__ import annotations

import json
import shutil
from importlib import resources

import pytest

from governance.cli import main
from governance.evidence import verify_index, write_index
from governance.signing import load_signer, load_verifier
from governance.signing.signer import write_key_pair
from governance.validation import VALIDATION_FILE, load_validation_policy, read_validation, validate
from tests.govern_support import copy_run


@pytest.fixture
def work(validated, tmp_path):
    return copy_run(validated, tmp_path / "work")


def _approve(work, governed, *extra: str) -> int:
    return main(["approve", str(work / "model" / "model.tar.gz"), "--by", "Jane Doe", "--key",
                 str(governed.public_key), "--ledger-key", str(governed.key), *extra])


def test_the_validation_is_signed_by_the_validator_sealed_and_recorded(governed, validated):
    evidence = validated.workdir / "evidence"
    document = read_validation(evidence, governed.run.evaluation["model"]["artefact_sha256"])
    assert document["status"] == "PASS"
    assert document["validator"]["key_hint"] == load_verifier(validated.validator_public_key).key_hint
    assert document["independence"] == {"model_signer_key_hint": load_verifier(governed.public_key).key_hint,
                                        "independent": True}
    # Every threshold of the policy is judged, every figure from the untouched test split.
    assert {c["id"] for c in document["checks"]} == set(load_validation_policy().checks)
    assert all(c["status"] in ("PASS", "FAIL", "ERROR") for c in document["checks"])
    assert document["splits"]["test"]["sha256"] == json.loads((evidence / "dataset.json").read_text())[
        "outputs"]["test"]["sha256"]
    challenger = document["challenger"]
    assert challenger["split"] == "test" and 0.5 < challenger["challenger"]["auc"] < 1
    assert 0 <= challenger["delong"]["p_value"] <= 1 and len(challenger["fairness"]["bands"]) == 6
    assert len(document["sensitivity"]["seeds"]) >= 5 and len(document["sensitivity"]["features_dropped"]) == 10
    assert document["security"]["membership_inference"]["interval"] is not None
    assert [r["rate"] for r in document["security"]["label_flip"]["flips"]] == [0.01, 0.05]
    extraction = document["security"]["extraction"]
    if extraction["reached_in_all_repeats"]:  # the median's bootstrap interval over the attacker's draws
        low, high = extraction["interval"]
        assert extraction["range"][0] <= low <= extraction["queries_needed"] <= high <= extraction["range"][1]
    else:
        assert extraction["interval"] is None
    assert document["elderly_counterfactual"]["failed"] == 0
    # The index is re-sealed by the validator and lists the validation; the ledger has the validate record.
    files = verify_index(evidence, load_verifier(validated.validator_public_key))
    assert VALIDATION_FILE in files and "validation.json.sig" in files
    records = [json.loads(line) for line in (evidence / "ledger.jsonl").read_text().splitlines()]
    assert records[-1]["event"] == "validate" and records[-1]["digests"]["validation.json"] == files[VALIDATION_FILE]


def test_approval_needs_an_independent_passing_validation(governed, validated, work, capsys):
    evidence = work / "evidence"
    saved = {name: (evidence / name).read_bytes() for name in (VALIDATION_FILE, "validation.json.sig")}
    # Without a validation (the folder sealed again by the model signer): refused, by the default policy.
    for name in saved:
        (evidence / name).unlink()
    assert _approve(work, governed) == 1
    assert "UNTRUSTED_SIGNER" in capsys.readouterr().err  # the validator's seal no longer holds
    write_index(evidence, load_signer(governed.key))
    assert _approve(work, governed) == 1
    assert "NO_VALIDATION" in capsys.readouterr().err
    # Validated with the model signer's own key: not independent.
    validate(work / "model" / "model.tar.gz", evidence, load_signer(governed.key), out_dir=work / "self")
    for name in saved:
        shutil.copyfile(work / "self" / name, evidence / name)
    write_index(evidence, load_signer(governed.key))
    assert _approve(work, governed) == 1
    assert "VALIDATION_NOT_INDEPENDENT" in capsys.readouterr().err
    # The independent validation back: approved, and the gate says so.
    for name, data in saved.items():
        (evidence / name).write_bytes(data)
    write_index(evidence, load_signer(validated.validator_key))
    assert _approve(work, governed, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["checks"]["validation"].startswith("independent validation PASS")


def test_an_edited_validation_or_another_pinned_validator_is_refused(governed, work, tmp_path, capsys):
    path = work / "evidence" / VALIDATION_FILE
    document = json.loads(path.read_text())
    _, other_public = write_key_pair(tmp_path / "other")
    assert _approve(work, governed, "--validator-key", str(other_public)) == 1
    assert "UNTRUSTED_VALIDATOR" in capsys.readouterr().err
    document["status"] = "PASS"
    document["checks"][0]["value"] = 0.0
    path.write_text(json.dumps(document))
    assert _approve(work, governed) == 1
    assert "DIGEST_MISMATCH" in capsys.readouterr().err


def test_a_failed_blocking_threshold_exits_1_and_blocks_approval(governed, validated, work, tmp_path, capsys):
    policy = tmp_path / "strict.yaml"
    text = resources.files("policies").joinpath("validation.yaml").read_text(encoding="utf-8")
    policy.write_text(text.replace("  champion-auc-min:\n    limit: 0.75", "  champion-auc-min:\n    limit: 0.999"))
    code = main(["validate", "--model", str(work / "model" / "model.tar.gz"), "--evidence", str(work / "evidence"),
                 "--key", str(validated.validator_key), "--ledger-key", str(governed.key), "--policy", str(policy),
                 "--json"])
    assert code == 1
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert document["status"] == "FAIL" and "VALIDATION_FAILED" in captured.err
    assert next(c for c in document["checks"] if c["id"] == "champion-auc-min")["status"] == "FAIL"
    assert _approve(work, governed) == 1
    assert "VALIDATION_FAILED" in capsys.readouterr().err


def test_bad_calls_exit_2_and_a_wrong_model_exits_1(validated, work, tmp_path, capsys):
    base = ["validate", "--evidence", str(work / "evidence"), "--key", str(validated.validator_key)]
    assert main([*base, "--model", str(tmp_path / "absent.tar.gz")]) in (2, 3)
    other = tmp_path / "other.tar.gz"
    other.write_bytes((work / "model" / "model.tar.gz").read_bytes() + b"\0")
    assert main([*base, "--model", str(other)]) == 1
    assert "DIGEST_MISMATCH" in capsys.readouterr().err
    bad_policy = tmp_path / "bad.yaml"
    bad_policy.write_text("kind: validation\nversion: 1\nchecks: {}\n")
    assert main([*base, "--model", str(work / "model" / "model.tar.gz"), "--policy", str(bad_policy)]) == 2
    assert "BAD_POLICY" in capsys.readouterr().err


def test_the_pack_prints_the_independent_validation(governed, validated, work, tmp_path):
    from tests.pack_evidence import pdf_text

    pdf = tmp_path / "pack.pdf"
    assert main(["pack", str(work / "evidence"), "-o", str(pdf), "--key", str(governed.key),
                 "--evidence-key", str(validated.validator_public_key)]) == 0
    text = pdf_text(pdf)
    document = json.loads((work / "evidence" / VALIDATION_FILE).read_text())
    assert "Independent validation" in text and "DeLong" in text
    assert "Membership inference" in text and "Labels flipped 5%" in text
    assert f"{document['challenger']['challenger']['auc']:.4f}" in text
    # Each chart, captioned with the evidence file and the figures it draws from.
    flat = " ".join(text.split())
    for number, entry in enumerate(document["charts"], start=1):
        assert f"Figure V{number}." in flat and entry["file"] in flat
    assert "validation.json: challenger.champion.roc" in flat
    # Challenger fairness beside the champion's, with intervals; the DeLong p printed at its size.
    assert "Disparity across judged bands" in flat and "adverse impact ratio" in flat
    band = next(b for b in document["challenger"]["fairness"]["bands"] if b["judged"])
    low, high = band["challenger"]["approval_rate"]["interval"]
    assert f"({low * 100:.1f}%–{high * 100:.1f}%)" in flat
    p_value = document["challenger"]["delong"]["p_value"]
    assert f"p = {p_value:.2g}" in flat or f"p = {p_value:.1e}" in flat
    extraction = document["security"]["extraction"]
    if extraction["interval"] is not None:  # the query count with its interval, as counts
        low, high = extraction["interval"]
        assert f"agreement, 95% interval [{low:,.0f}, {high:,.0f}]" in flat


def test_the_charts_are_drawn_from_the_signed_numbers_and_sealed(validated):
    from governance.validation.charts import CHARTS, write_charts

    evidence = validated.workdir / "evidence"
    document = json.loads((evidence / VALIDATION_FILE).read_text())
    files = verify_index(evidence, load_verifier(validated.validator_public_key))
    assert [c["file"] for c in document["charts"]] == [f"validation/{chart.name}" for chart in CHARTS]
    for entry in document["charts"]:
        png = (evidence / entry["file"]).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and files[entry["file"]] == entry["sha256"]
        for field in entry["draws_from"]:  # every field a chart names is in the document
            value = document
            for key in field.split("."):
                value = value[key]
            assert value
    # The same numbers give the same bytes; another number gives another picture.
    redrawn = write_charts(document, validated.root / "redrawn")
    assert [e["sha256"] for e in redrawn] == [e["sha256"] for e in document["charts"]]
    document["challenger"]["challenger"]["roc"]["tpr"][5] = 0.0
    assert write_charts(document, validated.root / "changed")[0]["sha256"] != document["charts"][0]["sha256"]
    curve = document["challenger"]["champion"]["roc"]
    assert curve["fpr"][0] == 0 and curve["fpr"][-1] == 1 and curve["tpr"][-1] == 1
    assert curve["tpr"] == sorted(curve["tpr"])


def test_the_challenger_fairness_has_intervals_drawn_as_the_models(validated):
    """Same bands, bootstrap resamples, seed and confidence as the model's fairness.json; every judged figure has
    an interval around it, for the champion and the challenger alike."""
    evidence = validated.workdir / "evidence"
    document = json.loads((evidence / VALIDATION_FILE).read_text())
    model_fairness = json.loads((evidence / "fairness.json").read_text())
    side = document["challenger"]["fairness"]
    settings = model_fairness["settings"]["bootstrap"]
    assert {k: side["bootstrap"][k] for k in ("resamples", "seed", "confidence")} == \
        {k: settings[k] for k in ("resamples", "seed", "confidence")}
    assert side["policy_from"].startswith("fairness.json")
    assert model_fairness["data"]["sha256"] == document["splits"]["test"]["sha256"]
    for ours, theirs in zip(side["bands"], model_fairness["bands"], strict=True):
        assert ours["band"] == theirs["label"] and ours["count"] == theirs["count"]
        # The champion's point figures are the model's own fairness figures (same split, same routine).
        assert ours["champion"]["approval_rate"]["value"] == theirs["metrics"]["approval_rate"]["value"]
        if ours["judged"]:
            for name in ("champion", "challenger"):
                entry = ours[name]["approval_rate"]
                assert entry["interval"][0] <= entry["value"] <= entry["interval"][1]
                assert entry["interval"][0] < entry["interval"][1]
    for name in ("champion", "challenger"):
        air = side["disparities"][name]["adverse_impact_ratio"]
        assert air["interval"][0] <= air["value"] <= air["interval"][1]
    assert side["disparities"]["champion"]["adverse_impact_ratio"]["value"] == \
        model_fairness["disparities"]["adverse_impact_ratio"]["value"]


def test_a_ledger_it_cannot_append_to_is_refused_before_any_work(validated, work, capsys):
    """Without the ledger's key the validator's record would be refused: nothing is validated or written first."""
    evidence = work / "evidence"
    for name in (VALIDATION_FILE, "validation.json.sig"):
        (evidence / name).unlink()
    before = {path.name: path.read_bytes() for path in evidence.iterdir() if path.is_file()}
    code = main(["validate", "--model", str(work / "model" / "model.tar.gz"), "--evidence", str(evidence),
                 "--key", str(validated.validator_key)])
    assert code == 2 and "LEDGER_KEY_MISMATCH" in capsys.readouterr().err
    assert {path.name: path.read_bytes() for path in evidence.iterdir() if path.is_file()} == before
