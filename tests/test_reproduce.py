"""``governance reproduce``: every figure the pack prints re-derived from its own evidence and the raw data.

The synthetic pack of the audit-pack tests (session fixtures) is re-performed once; tamper cases change its
evidence on a copy and render a new pack. The real-data case is in ``test_reproduce_realdata.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel

from governance.cli import main
from governance.reproduce import Report
from governance.reproduce.figures import DIFFERS, MATCH

# Numeric fields of the section inputs that are settings people chose, not results: they are recorded inputs of
# the computation (each used as such by the re-performance), so there is nothing to re-derive.
RECORDED_INPUTS = {
    "dataset.json:split.validation_fraction", "dataset.json:split.test_fraction", "dataset.json:split.seed",
    "evaluation.json:decision.threshold",
    "fairness.json:settings.threshold", "fairness.json:settings.min_count",
    "fairness.json:settings.bootstrap.confidence", "fairness.json:settings.bootstrap.resamples",
    "fairness.json:settings.bootstrap.seed", "fairness.json:elderly.min_age",
    "fairness.json:data_checks.age_quality.valid_range",
    "explain.json:shap.crosscheck.tolerance", "explain.json:stability.threshold",
    "explain.json:reason_codes.elderly_flagged.min_age",
}
INPUT_SUFFIXES = (".limit", ".min_age")  # policy limits of fairness checks and rules
# Numbers in the evidence that the pack draws as charts rather than prints (the charts are sealed evidence files).
CHART_ONLY = ("evaluation.json:binary_classification_metrics.receiver_operating_characteristic_curve.",
              "fairness.json:data_checks.age_quality.out_of_range.examples", "fairness.json:data_checks.age_quality."
              "unbanded.examples")
# The performance section prints a standard error for AUC alone.
NOT_PRINTED = ("evaluation.json:binary_classification_metrics.ks.standard_deviation",
               "evaluation.json:binary_classification_metrics.brier_score.standard_deviation")
NATURAL_KEYS = ("band", "feature", "bin", "code", "label")


def _item_keys(items: list) -> list[str]:
    """How a figure id names list items: a natural key when unique, ``check:resource`` for checks, else 1-based."""
    for attribute in NATURAL_KEYS:
        keys = [str(getattr(item, attribute, None)) for item in items]
        if all(getattr(item, attribute, None) is not None for item in items) and len(set(keys)) == len(keys):
            return keys
    if items and all(hasattr(item, "check") and hasattr(item, "resource") for item in items):
        return [f"{item.check}:{item.resource}" for item in items]
    return [str(number) for number in range(1, len(items) + 1)]


def numeric_leaves(value, path: str):
    """Every number a section input holds, as the figure id ``reproduce`` gives it."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        yield path
    elif isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            yield from numeric_leaves(getattr(value, name), f"{path}.{field.alias or name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from numeric_leaves(item, f"{path}.{key}")
    elif isinstance(value, tuple) and len(value) == 2 and path.endswith(".interval"):
        yield from (f"{path}.low", f"{path}.high")
    elif isinstance(value, list | tuple):
        if value and all(isinstance(item, BaseModel) for item in value):
            for key, item in zip(_item_keys(value), value, strict=True):
                yield from numeric_leaves(item, f"{path}[{key}]")
        elif any(isinstance(item, int | float) and not isinstance(item, bool) for item in value):
            yield path


def printed_numbers(evidence) -> set[str]:
    """The numeric figures of the performance, fairness, explainability and data sections, from their typed inputs."""
    from reports import evidence_models as em
    from reports.sections import performance

    found: set[str] = set()
    for name, model in (("dataset.json", em.dataset(evidence)), ("fairness.json", em.fairness(evidence)),
                        ("explain.json", em.explain(evidence))):
        found.update(numeric_leaves(model, name).__iter__())
    evaluation = em.evaluation(evidence)
    found.update(numeric_leaves(evaluation, "evaluation.json"))
    metrics = evaluation.binary_classification_metrics
    for key, _, _ in performance.METRICS:  # the section prints these of the open-ended metric set
        if metrics.metric(key) is not None:
            found.update(numeric_leaves(metrics.metric(key), f"evaluation.json:binary_classification_metrics.{key}"))
    found = {f.replace(".json.", ".json:", 1) for f in found}
    return {f for f in found if f not in RECORDED_INPUTS and not f.endswith(INPUT_SUFFIXES)
            and not f.startswith(CHART_ONLY) and f not in NOT_PRINTED
            and not f.endswith("].bin")}  # a calibration bin's number is its name


def reproduce_json(argv: list[str], capsys) -> tuple[int, dict, str]:
    code = main(["reproduce", *argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


@pytest.fixture(scope="module")
def raw_data(pack_evidence) -> Path:
    return pack_evidence.root / "data" / "synthetic-cs-training.csv"


@pytest.fixture(scope="module")
def reproduced(signed_pack, pack_evidence, raw_data):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["reproduce", str(signed_pack), "--data", str(raw_data), "--key", str(pack_evidence.public_key),
                     "--json"])
    return code, json.loads(out.getvalue()), err.getvalue()


def altered_pack(built, folder: Path, change, *, signer_dir: Path | None = None) -> Path:
    """A copy of the evidence with ``change(evidence_dir)`` applied, re-sealed and rendered as a new signed pack:
    with the pack's own key, or with a new key made in ``signer_dir``."""
    from governance.evidence import write_index
    from governance.signing.signer import LocalKeySigner, write_key_pair

    evidence = folder / "evidence"
    shutil.copytree(built.evidence, evidence)
    change(evidence)
    key = built.key if signer_dir is None else write_key_pair(signer_dir)[0]
    write_index(evidence, LocalKeySigner.from_pem_file(key))
    pdf = folder / "audit-pack.pdf"
    assert main(["pack", str(evidence), "-o", str(pdf), "--key", str(key)]) == 0
    return pdf


def edit_json(path: Path, edit) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document, indent=2, sort_keys=True))


def test_every_figure_of_the_synthetic_pack_reproduces(reproduced):
    code, result, err = reproduced
    assert code == 0, result.get("summary") or err
    counts = result["counts"]
    assert counts["differs"] == 0 and counts["match"] > 500
    assert result["signature"] == "verified"
    assert f"{counts['match']} matched, 0 differ" in err and "attested only" in err


def test_no_printed_number_of_the_four_sections_is_left_unchecked(reproduced, pack_evidence):
    from reports.evidence_folder import open_evidence

    printed = printed_numbers(open_evidence(pack_evidence.evidence, pack_evidence.verifier))
    covered = {figure["figure"] for figure in reproduced[1]["figures"]}
    assert printed - covered == set()


def test_the_coverage_walk_sees_the_printed_figures(pack_evidence):
    """The walk that the coverage test relies on finds figures of every section (so a new one would be missed)."""
    from reports.evidence_folder import open_evidence

    printed = printed_numbers(open_evidence(pack_evidence.evidence, pack_evidence.verifier))
    for figure in ("evaluation.json:binary_classification_metrics.auc.value", "evaluation.json:calibration[10].count",
                   "dataset.json:columns.age.median", "dataset.json:data_quality[1].count",
                   "fairness.json:bands[62+].metrics.approval_rate.interval.low",
                   "fairness.json:disparities.adverse_impact_ratio.value",
                   "explain.json:global.importance[age].mean_abs_shap", "explain.json:stability.mean_overlap"):
        assert figure in printed
    assert not any("receiver_operating_characteristic_curve" in f or f.endswith(".limit") for f in printed)


def test_each_area_uses_a_library_the_pipeline_does_not_use_for_it(reproduced):
    methods = {figure["figure"]: figure["method"] for figure in reproduced[1]["figures"]}
    assert "mannwhitneyu" in methods["evaluation.json:binary_classification_metrics.auc.value"]
    assert "ks_2samp" in methods["evaluation.json:binary_classification_metrics.ks.value"]
    assert "fairlearn MetricFrame agrees" in methods["fairness.json:bands[62+].metrics.approval_rate.value"]
    assert "shap.TreeExplainer" in methods["explain.json:global.importance[age].mean_abs_shap"]
    assert "re-trained" in methods["training.json:model_sha256"]


def test_scan_time_state_is_attested_and_the_archive_checks_are_reperformed(reproduced):
    attested = [f for f in reproduced[1]["figures"] if f["status"] == "attested"]
    assert attested and all(f["section"] == "policy" for f in attested)
    assert all(f["status"] == MATCH for f in reproduced[1]["figures"] if f["section"] != "policy")
    archive_checks = {f["figure"].split(":")[1][len("findings["):]: f for f in reproduced[1]["figures"]
                      if f["section"] == "policy" and f["status"] == MATCH}
    assert sorted(archive_checks) == ["ART-003", "ART-004"]
    assert all(f["recomputed"] == "PASS" for f in archive_checks.values())


def test_the_table_names_section_figure_printed_recomputed_tolerance_and_match(reproduced):
    from rich.console import Console

    from governance.cli.reproduce import _table
    from governance.reproduce import Figure

    report = Report(figures=[Figure(**f) for f in reproduced[1]["figures"]])
    console = Console(file=io.StringIO(), width=400)
    console.print(_table(report))
    text = console.file.getvalue()
    for header in ("Section", "Figure", "Printed", "Recomputed", "Tolerance", "Match"):
        assert header in text
    assert "evaluation.json:binary_classification_metrics.auc.value" in text and "attested" in text


def test_evidence_altered_and_resigned_with_another_key_is_refused(pack_evidence, raw_data, tmp_path, capsys):
    def lower_auc(evidence: Path) -> None:
        edit_json(evidence / "evaluation.json",
                  lambda d: d["binary_classification_metrics"]["auc"].update(value=0.99))

    pdf = altered_pack(pack_evidence, tmp_path, lower_auc, signer_dir=tmp_path / "other-key")
    code, result, err = reproduce_json([str(pdf), "--data", str(raw_data), "--key", str(pack_evidence.public_key)],
                                       capsys)
    assert code == 1 and result == {}
    assert "SIGNATURE" in err or "UNTRUSTED" in err


def test_with_the_right_key_a_changed_split_and_a_changed_figure_are_named(pack_evidence, raw_data, tmp_path,
                                                                          capsys):
    """Evidence re-sealed with the pack's own key: the test split was replaced (its digest is not the one the raw
    data and the recorded parameters give, and the evaluation was run on it), and one fairness figure was edited."""
    other = "0" * 64

    def alter(evidence: Path) -> None:
        edit_json(evidence / "dataset.json", lambda d: d["outputs"]["test"].update(sha256=other))
        edit_json(evidence / "evaluation.json", lambda d: d["dataset"].update(sha256=other))
        edit_json(evidence / "fairness.json", lambda d: d["bands"][-1]["metrics"]["approval_rate"].update(value=0.999))

    pdf = altered_pack(pack_evidence, tmp_path, alter)
    code, result, err = reproduce_json([str(pdf), "--data", str(raw_data), "--key", str(pack_evidence.public_key)],
                                       capsys)
    assert code == 1
    first = result["first_difference"]
    assert first["figure"] == "dataset.json:outputs.test.sha256"
    assert "the test split differs" in first["note"] and "figures that depend on it: performance" in first["note"]
    assert "first difference: data dataset.json:outputs.test.sha256" in err
    differing = [f["figure"] for f in result["figures"] if f["status"] == DIFFERS]
    assert differing == ["dataset.json:outputs.test.sha256", "evaluation.json:dataset.sha256",
                         "fairness.json:bands[62+].metrics.approval_rate.value"]


def test_without_the_raw_data_it_is_a_bad_call(signed_pack, pack_evidence, capsys):
    code = main(["reproduce", str(signed_pack), "--key", str(pack_evidence.public_key)])
    err = capsys.readouterr().err
    assert code == 2 and "--data" in err and "Traceback" not in err


@pytest.mark.parametrize("tolerance", ["metric", "metric=-1", "nonsense=1e-3", "shap=abc"])
def test_a_bad_tolerance_is_a_bad_call(signed_pack, pack_evidence, raw_data, capsys, tolerance):
    code = main(["reproduce", str(signed_pack), "--data", str(raw_data), "--key", str(pack_evidence.public_key),
                 "--tolerance", tolerance])
    assert code == 2 and "--tolerance" in capsys.readouterr().err


def test_report_exit_codes():
    report = Report()
    report.number("data", "x", 1, 1, "exact", "counted")
    assert report.exit_code() == 0
    report.attested("policy", "y", "PASS", "scan-time state")
    assert report.exit_code() == 0
    report.number("data", "z", 1.0, 1.1, "metric", "counted")
    assert report.exit_code() == 1 and report.first_difference().figure == "z"


def _trust_file(folder: Path, public_key: Path) -> Path:
    import yaml

    path = folder / "trusted-signers.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "signers": [{"name": "pack signer",
                                                               "public_key_file": str(public_key)}]}))
    return path


def test_a_trusted_signers_file_admits_the_pack_signer(signed_pack, pack_evidence, tmp_path):
    import argparse

    from governance.cli.reproduce import _verify

    trusted = _trust_file(tmp_path, pack_evidence.public_key)
    result = _verify(signed_pack, argparse.Namespace(key=None, trusted=str(trusted), signature=None))
    assert result["passed"] and result["signature"] == "verified"


def test_a_trusted_signers_file_without_the_pack_signer_refuses_it(signed_pack, raw_data, tmp_path, capsys):
    from governance.signing.signer import write_key_pair

    _, other = write_key_pair(tmp_path / "other")
    trusted = _trust_file(tmp_path, other)
    code = main(["reproduce", str(signed_pack), "--data", str(raw_data), "--trusted", str(trusted)])
    err = capsys.readouterr().err
    assert code == 1 and "UNTRUSTED_SIGNER" in err


def test_the_pack_tells_the_reader_the_command_that_reperforms_it(signed_pack):
    from tests.pack_evidence import pdf_text

    text = pdf_text(signed_pack)
    assert "Re-performing the figures" in text
    assert "governance reproduce audit-pack.pdf --data synthetic-cs-training.csv --key signing-key.pub.pem" in text


def test_tolerances_are_absolute_below_one_and_relative_above():
    from governance.reproduce.figures import close

    assert close(0.5, 0.5000009, 1e-6) and not close(0.5, 0.5000011, 1e-6)
    assert close(350.0, 350.0003, 1e-6) and not close(350.0, 350.0004, 1e-6)
    assert close(float("nan"), float("nan"), 0) and not close(float("nan"), 0.0, 1.0)
    assert close(None, None, 0) and not close(1, None, 1.0) and close("PASS", "PASS", 0) and not close("a", "b", 1)


def test_evidence_without_a_key_it_reads_is_bad_input(raw_data):
    from governance.errors import InputError
    from governance.reproduce import reproduce

    with pytest.raises(InputError) as caught:
        reproduce({"dataset.json": b"{}", "training.json": b"{}", "evaluation.json": b"{}"}, raw_data)
    assert caught.value.reason == "EVIDENCE_SCHEMA" and "'source'" in caught.value.message
    with pytest.raises(InputError) as caught:
        reproduce({"dataset.json": b"{}"}, raw_data)
    assert caught.value.reason == "EVIDENCE_MISSING" and "training.json" in caught.value.message


def dated_csv(path: Path, seed: int) -> Path:
    """A small synthetic raw file with an application date (two years, to the second) to split out of time on."""
    import numpy as np
    import pandas as pd

    from pipeline.synthetic import write_csv

    write_csv(path, rows=3000, seed=seed)
    frame = pd.read_csv(path)
    seconds = np.random.default_rng(seed).integers(0, 730 * 24 * 3600, len(frame))
    frame["application_date"] = (pd.Timestamp("2021-01-01") + pd.to_timedelta(seconds, "s")).astype(str)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def dated_pack(tmp_path_factory):
    """A pack of a run whose test set is out-of-time, carrying no fairness, explainability or policy evidence."""
    from tests.pack_evidence import build_evidence

    root = tmp_path_factory.mktemp("dated-pack")
    data = dated_csv(root / "dated.csv", seed=5)
    built = build_evidence(root / "run", data=data, split_column="application_date",
                           skip=("integrity", "explain", "fairness", "policy"))
    pdf = built.root / "audit-pack.pdf"
    assert main(["pack", str(built.evidence), "-o", str(pdf), "--key", str(built.key)]) == 0
    return built, pdf, data


@pytest.fixture(scope="module")
def dated_reproduced(dated_pack):
    built, pdf, data = dated_pack
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["reproduce", str(pdf), "--data", str(data), "--key", str(built.public_key), "--json"])
    return code, json.loads(out.getvalue()), err.getvalue()


def test_an_out_of_time_split_is_redrawn_from_the_date_column(dated_reproduced, dated_pack):
    code, result, _ = dated_reproduced
    assert code == 0, result["summary"]
    figures = {f["figure"]: f for f in result["figures"]}
    dataset = json.loads((dated_pack[0].evidence / "dataset.json").read_text())
    assert dataset["split"]["out_of_time"] and dataset["split"]["split_column"] == "application_date"
    cut = figures["dataset.json:split.cut"]
    assert cut["status"] == MATCH and cut["recomputed"] == dataset["split"]["cut"]
    for name in ("train", "validation", "test"):
        assert figures[f"dataset.json:outputs.{name}.sha256"]["status"] == MATCH
    assert figures["training.json:model_sha256"]["status"] == MATCH
    assert figures["evaluation.json:binary_classification_metrics.auc.value"]["status"] == MATCH


@pytest.mark.parametrize("test_fraction", [0.2, 0.25, 0.3333])
def test_the_out_of_time_cut_is_rederived_as_the_process_step_cuts(test_fraction):
    """Order statistics in exact arithmetic against the process step's pandas quantile, on dates with many ties
    and on dates whose interpolated cut falls between two seconds."""
    import numpy as np
    import pandas as pd

    from governance.reproduce.splits import _out_of_time
    from pipeline.steps.process import split_three_way

    rng = np.random.default_rng(1)
    for dates in (pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 40, 997), "D"),
                  pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 10**8, 1001), "s")):
        frame = pd.DataFrame({"SeriousDlqin2yrs": rng.integers(0, 2, len(dates)), "when": dates.astype(str)})
        _, _, test, how = split_three_way(frame, 0.2, test_fraction, 42, "when")
        rest, again, cut = _out_of_time(frame, "when", test_fraction)
        assert list(again.index) == list(test.index) and len(rest) + len(again) == len(frame)
        assert cut == how["cut"]


def test_a_pack_without_fairness_or_explain_says_which_sections_were_absent(dated_reproduced):
    code, result, err = dated_reproduced
    assert code == 0
    assert result["absent_sections"] == [
        {"section": "explainability", "evidence": "explain.json", "status": "not re-performed"},
        {"section": "fairness", "evidence": "fairness.json", "status": "not re-performed"},
        {"section": "policy", "evidence": "policy.json", "status": "not re-performed"}]
    assert not {f["section"] for f in result["figures"]} & {"fairness", "explainability", "policy"}
    said = ("not in the pack, so not re-performed: explainability (no explain.json), fairness (no fairness.json), "
            "policy (no policy.json)")
    assert said in result["summary"] and said in err


def test_the_full_pack_names_no_absent_section(reproduced):
    assert reproduced[1]["absent_sections"] == [] and "not re-performed" not in reproduced[1]["summary"]


def _one_line_naming_the_data(err: str) -> str:
    lines = [line for line in err.splitlines() if "first difference" in line]
    assert len(lines) == 1 and "Traceback" not in err
    assert "first difference: data dataset.json:source.sha256 — the data file given is not the one the pack was " \
           "made from" in lines[0]
    return lines[0]


def test_another_data_file_names_the_dataset_digest_first_and_what_differs_with_it(dated_pack, tmp_path, capsys):
    built, pdf, _ = dated_pack
    other = dated_csv(tmp_path / "other.csv", seed=6)
    code, result, err = reproduce_json([str(pdf), "--data", str(other), "--key", str(built.public_key)], capsys)
    assert code == 1
    first = result["first_difference"]
    assert first["figure"] == "dataset.json:source.sha256" and first["section"] == "data"
    for section in ("data (", "training (1)", "performance ("):
        assert section in first["note"]
    line = _one_line_naming_the_data(err)
    assert "training (1)" in line and "performance (" in line


def test_the_right_data_with_one_row_changed_is_named_at_the_dataset_digest(signed_pack, pack_evidence, raw_data,
                                                                             tmp_path, capsys):
    lines = raw_data.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    row = lines[10].rstrip("\n").split(",")
    column = header.index("NumberOfOpenCreditLinesAndLoans")
    row[column] = str(int(float(row[column])) + 7)
    changed = tmp_path / raw_data.name
    changed.write_text("".join([*lines[:10], ",".join(row) + "\n", *lines[11:]]))
    code, result, err = reproduce_json([str(signed_pack), "--data", str(changed), "--key",
                                        str(pack_evidence.public_key)], capsys)
    assert code == 1
    assert result["first_difference"]["figure"] == "dataset.json:source.sha256"
    assert "these differ with it: data (" in result["first_difference"]["note"]
    assert result["figures"][0]["figure"] == "dataset.json:source.sha256"
    assert any(f["status"] == DIFFERS for f in result["figures"][1:])
    _one_line_naming_the_data(err)


def test_a_data_file_the_sections_cannot_be_rederived_from_is_still_a_difference(signed_pack, pack_evidence,
                                                                                 dated_pack, tmp_path, capsys):
    """Other data too small for the fairness bands, or without the recorded date column: not bad input (exit 2)
    but the dataset digest first and the section that could not be re-derived named among the differences."""
    from pipeline.synthetic import write_csv

    small = tmp_path / "small.csv"
    write_csv(small, rows=800, seed=3)
    code, result, err = reproduce_json([str(signed_pack), "--data", str(small), "--key",
                                        str(pack_evidence.public_key)], capsys)
    assert code == 1 and result["first_difference"]["figure"] == "dataset.json:source.sha256"
    fairness = next(f for f in result["figures"] if f["figure"] == "fairness.json:*")
    assert fairness["status"] == DIFFERS and "could not be re-derived from the data given: TOO_FEW_BANDS" in \
        fairness["note"]
    _one_line_naming_the_data(err)
    built, pdf, _ = dated_pack
    code, result, err = reproduce_json([str(pdf), "--data", str(small), "--key", str(built.public_key)], capsys)
    assert code == 1 and [f["figure"] for f in result["figures"] if f["status"] == DIFFERS] == [
        "dataset.json:source.sha256", "dataset.json:source.bytes", "dataset.json:*"]
    assert "SCHEMA_MISMATCH" in result["figures"][-1]["note"] and "application_date" in result["figures"][-1]["note"]
    _one_line_naming_the_data(err)
