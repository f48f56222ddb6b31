"""``reproduce``: re-derive every figure an audit pack prints from its own evidence files and the raw data.

>>> from pathlib import Path
>>> files = {p.relative_to("evidence").as_posix(): p.read_bytes() for p in Path("evidence").rglob("*") if p.is_file()}
>>> report = reproduce(files, "data/synthetic-cs-training.csv")
>>> report.summary()
'... figures: ... matched, 0 differ, ... attested only'
>>> report.exit_code()
0

The evidence files come from the verified pack (the command line checks its signature first); only the raw data
comes from outside. Nothing is read from the folder the pack was rendered from.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import numpy as np

from governance.errors import GovernanceError, InputError
from governance.hashing import sha256_bytes
from governance.jsonio import loads
from governance.reproduce.figures import DIFFERS, Report

NEEDED = ("dataset.json", "training.json", "evaluation.json")
OPTIONAL = {"explain.json": "explainability", "fairness.json": "fairness", "policy.json": "policy"}
SOURCE_FIGURES = ("dataset.json:source.sha256", "dataset.json:source.content_sha256")


def _documents(files: dict[str, bytes]) -> dict[str, dict]:
    found = {}
    for name in (*NEEDED, *OPTIONAL):
        if name in files:
            found[name] = loads(files[name], what=f"the pack's {name}", error=InputError)
    missing = [name for name in NEEDED if name not in found]
    if missing:
        raise InputError("EVIDENCE_MISSING", f"the pack does not carry {', '.join(missing)}: nothing to re-perform "
                                             "those figures against")
    return found


def _split_for(report: Report, splits, section: str, source: str, recorded: dict, fallback: str) -> str:
    """The re-made split a section's figures were computed on (by the digest its evidence records), reported as
    figures: the digest and the row count."""
    name = splits.by_digest(recorded.get("sha256")) or fallback
    note = "" if splits.by_digest(recorded.get("sha256")) else (
        f"no re-made split has this digest: the {name} split differs from what the raw data and the recorded "
        f"parameters give, so every {section} figure below was computed on other data")
    report.number(section, f"{source}:{'dataset' if source == 'evaluation.json' else 'data'}.sha256",
                  recorded.get("sha256"), splits.digest(name), "exact", f"digest of the re-made {name} split", note)
    if source != "evaluation.json":
        report.number(section, f"{source}:data.rows", recorded.get("rows"), len(splits.imputed[name]), "exact",
                      f"rows of the re-made {name} split")
    return name


def _name_dependents(report: Report, docs: dict[str, dict]) -> None:
    """On a split whose digest differs, name the sections whose evidence says they were computed on that file."""
    recorded = {"training": ((docs["training.json"].get("inputs") or {}).get("train") or {}).get("sha256"),
                "performance": docs["evaluation.json"]["dataset"].get("sha256"),
                "explainability": (docs.get("explain.json") or {}).get("data", {}).get("sha256"),
                "fairness": (docs.get("fairness.json") or {}).get("data", {}).get("sha256")}
    for figure in report.figures:
        if figure.figure.startswith("dataset.json:outputs.") and figure.status == DIFFERS:
            split = figure.figure.split(".")[-2]
            users = [section for section, digest in recorded.items() if digest == figure.printed]
            figure.note = (f"the {split} split differs from what the raw data and the recorded parameters give; "
                           f"figures that depend on it: {', '.join(users) or 'none recorded'}")


def _name_source_dependents(report: Report) -> None:
    """When the data file is not the one the pack was made from, say so on its digest and name what differs with
    it: every other figure is re-derived from that file."""
    source = {f.figure: f for f in report.figures if f.figure in SOURCE_FIGURES}
    outer, content = source.get(SOURCE_FIGURES[0]), source.get(SOURCE_FIGURES[1])
    if outer is None or outer.status != DIFFERS:
        return
    if content is not None and content.status != DIFFERS:
        outer.note = ("the file's compressed bytes differ but its content is the one the pack was made from: no "
                      "figure depends on the compression")
        return
    dependent: dict[str, int] = {}
    for figure in report.figures:
        if figure.status == DIFFERS and figure.figure not in SOURCE_FIGURES and not figure.figure.startswith(
                "dataset.json:source."):
            dependent[figure.section] = dependent.get(figure.section, 0) + 1
    named = ", ".join(f"{section} ({count})" for section, count in dependent.items()) or "none"
    outer.note = (f"the data file given is not the one the pack was made from; every figure is re-derived from it, "
                  f"and these differ with it: {named}")


def _policy(report: Report, policy: dict | None, archive: bytes | None) -> None:
    """The archive-content checks re-run on the re-trained archive (when its digest is the pack's); every other
    finding judged file or cloud state at scan time and is attested, not re-performed."""
    inspected = None
    if archive is not None:
        from governance.integrity.archive import inspect_stream

        inspection = inspect_stream(io.BytesIO(archive), name="model.tar.gz")
        pickled = any(f.code == "PICKLE_DATA" for f in inspection.findings)
        inspected = {"ART-003": "PASS" if inspection.safe else "FAIL", "ART-004": "FAIL" if pickled else "PASS"}
    for finding in (policy or {}).get("findings", []):
        figure = f"policy.json:findings[{finding.get('check')}:{finding.get('resource')}]"
        if inspected and finding.get("check") in inspected and str(finding.get("resource")).endswith(".tar.gz"):
            report.number("policy", figure, finding.get("status"), inspected[finding["check"]], "exact",
                          "the re-trained archive (same sha256) inspected again, nothing extracted")
        else:
            report.attested("policy", figure, finding.get("status"), "scanned at the time of the pack (file and "
                                                                     "cloud state then): attested, not re-performed")


def reproduce(files: dict[str, bytes], data: str | os.PathLike | None, *, tolerances: dict[str, float] | None = None,
              progress: Callable[[str], None] = lambda step: None) -> Report:
    """Every figure of the performance, fairness, explainability and data sections re-performed (see module doc).

    ``dataset.json``, ``training.json`` and ``evaluation.json`` are required (the data, the model, the
    performance); the fairness, explainability and policy figures are re-performed when the pack carries them, and
    a section whose evidence is absent is named in :attr:`Report.absent` (and the summary). Evidence
    without a key this reads is bad input (``EVIDENCE_SCHEMA``), not a crash.
    """
    try:
        return _reproduce(files, data, tolerances, progress)
    except KeyError as err:
        raise InputError("EVIDENCE_SCHEMA", f"the pack's evidence has no key {err} that re-performance reads (was it "
                                            "written by another version?)") from None


def _reproduce(files: dict[str, bytes], data: str | os.PathLike | None, tolerances: dict[str, float] | None,
               progress: Callable[[str], None]) -> Report:
    from governance.reproduce import data as data_figures
    from governance.reproduce.model import default_probability, retrain
    from governance.reproduce.performance import performance_figures
    from governance.reproduce.splits import rebuild_splits

    report = Report()
    report.tolerances.update(tolerances or {})
    docs = _documents(files)
    dataset, training, evaluation = docs["dataset.json"], docs["training.json"], docs["evaluation.json"]
    if data is None:
        raise InputError("DATA_REQUIRED", "give the raw data file (--data CSV): every figure is re-derived from it")
    progress("re-draw the splits")
    data_figures.source_figures(report, dataset, data)
    try:
        splits = rebuild_splits(data, dataset["split"])
    except GovernanceError as err:
        if not _not_rederived_from_other_data(report, "data", "dataset.json", err):
            raise
        return _finish(report, docs)
    data_figures.data_figures(report, dataset, splits)
    progress("re-train the model")
    booster, archive = retrain(splits.imputed["train"], training["hyperparameters"])
    digest = sha256_bytes(archive)
    report.number("training", "training.json:model_sha256", training["model_sha256"], digest, "exact",
                  "model re-trained from the re-made train split with the recorded hyperparameters")

    progress("performance (scipy, numpy)")
    test = _split_for(report, splits, "performance", "evaluation.json", evaluation["dataset"], "test")
    features, y = splits.labelled(test)
    performance_figures(report, evaluation, y.to_numpy(), default_probability(booster, features))
    shap_by_split: dict = {}
    for name, section, action in (("explain.json", "explainability", _explainability),
                                  ("fairness.json", "fairness", _fairness)):
        if name in docs:
            try:
                action(report, splits, booster, docs[name], shap_by_split, progress)
            except GovernanceError as err:
                if not _not_rederived_from_other_data(report, section, name, err):
                    raise
    _name_dependents(report, docs)
    _policy(report, docs.get("policy.json"), archive if digest == training["model_sha256"] else None)
    return _finish(report, docs)


def _finish(report: Report, docs: dict[str, dict]) -> Report:
    _name_source_dependents(report)
    report.absent.update({section: name for name, section in OPTIONAL.items() if name not in docs})
    return report


def _not_rederived_from_other_data(report: Report, section: str, evidence: str, err: GovernanceError) -> bool:
    """On a data file that is not the pack's, a section that cannot be re-derived from it at all (too few rows for
    the age bands, say) is one more difference that data causes, recorded as such; on the pack's own data the
    error stands (False)."""
    source = next((f for f in report.figures if f.figure == SOURCE_FIGURES[0]), None)
    if source is None or source.status != DIFFERS:
        return False
    report.not_rederived(section, f"{evidence}:*", f"could not be re-derived from the data given: {err.reason}: "
                                                   f"{err.message}")
    return True


def _shap_for(name: str, splits, booster, cache: dict, progress: Callable[[str], None]):
    from governance.reproduce.explain import tree_explainer

    if name not in cache:
        progress(f"SHAP on the {name} split (shap.TreeExplainer)")
        cache[name] = tree_explainer(booster, splits.labelled(name)[0])
    return cache[name]


def _explainability(report: Report, splits, booster, explain: dict, cache: dict,
                    progress: Callable[[str], None]) -> None:
    from governance.reproduce import explain as explain_figures
    from governance.reproduce.fairness import band_codes
    from governance.reproduce.model import log_odds

    name = _split_for(report, splits, "explainability", "explain.json", explain["data"], "test")
    features, y = splits.labelled(name)
    shap_values = _shap_for(name, splits, booster, cache, progress)
    codes, _, _ = band_codes(features["age"].to_numpy(), explain["settings"]["bands"], [-np.inf, np.inf])
    progress("explain rules on the independent SHAP values")
    again = explain_figures.rerun(booster, features, y, explain, shap_values)
    explain_figures.explain_figures(report, explain, again, booster, features, shap_values,
                                    log_odds(booster, features), codes)


def _fairness(report: Report, splits, booster, fairness: dict, cache: dict, progress: Callable[[str], None]) -> None:
    from governance.reproduce import data as data_figures
    from governance.reproduce import fairness as fairness_figures
    from governance.reproduce.model import default_probability

    name = _split_for(report, splits, "fairness", "fairness.json", fairness["data"], "test")
    features, y = splits.labelled(name)
    shap_values = _shap_for(name, splits, booster, cache, progress)
    progress("fairness (pandas, fairlearn; bootstrap re-drawn)")
    age_policy = fairness["settings"]["policy"]["age"]
    codes, out_of_range, unbanded = fairness_figures.band_codes(features["age"].to_numpy(), age_policy["bands"],
                                                                age_policy["valid_range"])
    data_figures.coverage_figures(report, fairness, codes, [b["label"] for b in age_policy["bands"]], y.to_numpy(),
                                  out_of_range, unbanded)
    again = fairness_figures.rerun(booster, features, y, fairness, shap_values)
    fairness_figures.fairness_figures(report, fairness, again, y.to_numpy(), default_probability(booster, features),
                                      codes, shap_values.column("age"), features["age"].to_numpy())
