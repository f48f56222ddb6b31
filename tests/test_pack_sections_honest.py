"""Sections that say what the evidence says: fairness verdicts that follow the printed rule, disabled checks with
their reason, typed readers that fail loudly on a renamed key, and a lineage diagram legible on paper."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from governance.errors import InputError
from reports import evidence_models as em
from reports import example_path, render_pack
from reports.evidence_folder import open_evidence

MIN_PRINTED_POINTS = 6.0  # the smallest text a reviewer can read on an A4 print


@pytest.fixture(scope="module")
def built(pack_evidence):
    return pack_evidence


@pytest.fixture(scope="module")
def text(signed_pack_text) -> str:
    return signed_pack_text


def test_fairness_verdicts_follow_the_one_rule(built):
    fairness = em.fairness(open_evidence(built.evidence, built.verifier))
    rules = fairness.settings.policy.checks
    judged = [c for c in fairness.checks if c.check in rules]
    assert judged
    for check in judged:
        rule = rules[check.check]
        if check.verdict == "green":
            assert check.status == "pass", check  # never green while the interval crosses or breaches
        if check.status == "significant" and rule.blocking:
            assert check.verdict == "red", check  # a significant breach of a blocking limit
        if check.verdict == "red":
            assert rule.blocking, check
        if check.effective_verdict == "amber" and check.verdict == "red":
            assert check.waived


def test_the_policy_and_its_disabled_checks_are_printed_with_their_reasons(built, text):
    fairness = em.fairness(open_evidence(built.evidence, built.verifier))
    disabled = [name for name, rule in fairness.settings.policy.checks.items() if not rule.enabled]
    assert disabled  # the shipped policy reports three checks it does not judge
    section = text[text.index("The fairness policy"):]
    for name in disabled:
        assert re.search(re.escape(name) + r".{0,80}?not judged", section), name
    assert section.count("Not judged:") >= len(disabled)
    assert "not a legal limit for credit" in section
    assert "Two intervals describe the adverse impact ratio" in text


def test_a_renamed_key_fails_loudly(built, tmp_path):
    from governance.evidence import write_index

    evidence = tmp_path / "evidence"
    shutil.copytree(built.evidence, evidence)
    document = json.loads((evidence / "fairness.json").read_text())
    document["results"] = document.pop("checks")  # a writer renamed a key the pack prints
    (evidence / "fairness.json").write_text(json.dumps(document))
    write_index(evidence, built.signer)
    with pytest.raises(InputError) as error:
        render_pack(evidence, tmp_path / "pack.pdf", example_path(), built.signer)
    assert error.value.reason == "EVIDENCE_SCHEMA" and "fairness.json: checks" in error.value.message
    assert not (tmp_path / "pack.pdf").exists()


def test_another_schema_version_is_refused(built, tmp_path):
    from governance.evidence import write_index

    evidence = tmp_path / "evidence"
    shutil.copytree(built.evidence, evidence)
    document = json.loads((evidence / "explain.json").read_text())
    document["schema"] = "quickloan-governance/explain/v2"
    (evidence / "explain.json").write_text(json.dumps(document))
    write_index(evidence, built.signer)
    with pytest.raises(InputError, match=r"explain\.json: schema"):
        render_pack(evidence, tmp_path / "pack.pdf", example_path(), built.signer)


def test_the_lineage_diagram_prints_legibly(built):
    """The labels' printed height: points they were drawn at × the scale the pack places the picture at."""
    from PIL import Image

    from governance.lineage.graph import LABEL_POINTS
    from reports.sections._base import natural_png

    data = (built.evidence / "lineage.png").read_bytes()
    with Image.open(built.evidence / "lineage.png") as picture:
        drawn_width_points = picture.size[0] / picture.info["dpi"][0] * 72
    placed = natural_png(data)
    printed = LABEL_POINTS * placed.drawWidth / drawn_width_points
    assert printed >= MIN_PRINTED_POINTS, f"lineage labels print at {printed:.1f} pt"
