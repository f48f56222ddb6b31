"""The pack claims no more than its evidence earns: the status vocabulary, the obligations map, sign-off readiness.

Read as a model-risk reviewer would: every mandatory duty nobody supplied is open on the summary page, nothing
people wrote is green, every "Evidenced" row names its check and evidence file, and a governance file that closes
every duty (and only such a file) makes the pack ready for sign-off.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from reports import example_path, render_pack
from reports.evidence_folder import open_evidence
from reports.governance_file import STATEMENTS, load_governance_file
from reports.obligations import OBLIGATIONS, obligation_rows
from reports.sections import SECTIONS
from reports.sections._base import Assessment, PackContext
from reports.status import GOVERNANCE_FILE, Earned, Status, check_verdict, sign_off_readiness
from tests.pack_evidence import pdf_text

HUMAN_AREAS = ("classification", "model_card", "risks", "oversight", "monitoring", "lessons")
MANDATORY_NAMED = (  # the duties the summary must name while the governance file leaves them open
    "Conformity assessment (internal control) (Art. 43(2), Annex VI)", "CE marking (Art. 48)",
    "Registration in the EU database (Art. 49(1))", "Signed EU declaration of conformity (Art. 47, Annex IV 8)",
    "Fundamental-rights impact assessment (Art. 27(1))", "Data protection impact assessment (GDPR Art. 35",
    "Applicants told a high-risk AI system is used (Art. 26(11))", "Explanation of decisions on request (Art. 86(1))",
    "Independent validation (Art. 17(1)(d), PRA SS1/23 Principle 4)",
)


@pytest.fixture(scope="module")
def built(pack_evidence):
    return pack_evidence


@pytest.fixture(scope="module")
def text(signed_pack_text) -> str:
    return signed_pack_text


def context(built, governance: Path | None) -> PackContext:
    ctx = PackContext(open_evidence(built.evidence, built.verifier),
                      load_governance_file(governance) if governance else None)
    for _, module in SECTIONS:
        if hasattr(module, "assess"):
            ctx.assessments[module.KEY] = module.assess(ctx)
    return ctx


def completed_governance(folder: Path) -> Path:
    """The shipped example with every duty closed by a referenced record and the declaration signed."""
    document = yaml.safe_load(example_path().read_text(encoding="utf-8"))
    document["obligations"] = {key: {"status": "done", "reference": f"QL-REC-{n:03d}", "owner": "Compliance officer"}
                               for n, key in enumerate(STATEMENTS, start=1)}
    document["declaration_of_conformity"] = {"status": "signed", "reference": "QL-MRM-DOC-0007"}
    path = folder / "completed-governance.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# --- the vocabulary ------------------------------------------------------------------------------------------------


def test_stated_is_earned_only_from_the_governance_file_and_is_never_green():
    assert Status.STATED.colour == "stated" != Status.EVIDENCED.colour == "green"
    with pytest.raises(ValueError, match="governance file"):
        Earned(Status.STATED, "fairness.json", "fairness assessment")
    with pytest.raises(ValueError, match="check that ran"):
        Earned(Status.EVIDENCED, GOVERNANCE_FILE, "obligations.fria: done")
    with pytest.raises(ValueError, match="check that ran"):
        Earned(Status.EVIDENCED, "fairness.json", "")
    with pytest.raises(ValueError, match="reason"):
        Earned(Status.NOT_APPLICABLE, GOVERNANCE_FILE, "obligations.fria")


def test_a_colour_needs_a_check_that_ran():
    for verdict in ("green", "amber", "red"):
        with pytest.raises(ValueError, match="did not run"):
            check_verdict(verdict, ran=False)
        with pytest.raises(ValueError):
            Assessment("Intended use", "model_card", verdict, "stated", ran=False)
    assert check_verdict("stated", ran=False) == "stated"


def test_ready_only_when_nothing_mandatory_is_open():
    assert sign_off_readiness(0, 0).startswith("Ready for sign-off")
    assert sign_off_readiness(1, 0).startswith("Not ready for sign-off: 1 mandatory item(s) open")
    assert sign_off_readiness(0, 2).startswith("Not ready for sign-off: 2 blocking finding(s)")


def test_a_done_statement_needs_its_record_and_not_applicable_its_reason(tmp_path):
    from governance.errors import InputError
    from reports.governance_file import parse_governance_file

    base = "schema: quickloan-governance/v1\nmodel: {name: m}\nobligations:\n"
    with pytest.raises(InputError, match="reference"):
        parse_governance_file(base + "  fria: {status: done}\n")
    with pytest.raises(InputError, match="reason"):
        parse_governance_file(base + "  fria: {status: not applicable}\n")
    with pytest.raises(InputError, match="unknown obligation 'fri'"):
        parse_governance_file(base + "  fri: {status: done, reference: X}\n")


# --- the map on real evidence ----------------------------------------------------------------------------------------


def test_no_human_written_area_is_green(built):
    ctx = context(built, example_path())
    for key in HUMAN_AREAS:
        assert ctx.assessments[key].verdict in ("stated", "grey"), key


def test_every_evidenced_row_names_its_check_and_an_indexed_evidence_file(built, text):
    rows = obligation_rows(context(built, example_path()))
    evidenced = [r for r in rows if r.earned.status is Status.EVIDENCED]
    assert len(evidenced) >= 3
    for row in evidenced:
        files = [name.strip() for name in row.earned.evidence.split(",")]
        assert all(built.evidence.joinpath(name).is_file() for name in files), row.obligation.key
        assert row.earned.check
        # ... and the rendered row says so (the start of the cell: a wrapped cell interleaves with its neighbours).
        assert re.search(re.escape(row.earned.evidence) + r": " + re.escape(row.earned.check[:12]), text,
                         re.IGNORECASE), row.obligation.key
    stated = [r for r in rows if r.earned.status is Status.STATED]
    assert stated and all(r.earned.evidence == GOVERNANCE_FILE for r in stated)


def test_the_shipped_example_is_not_ready_and_names_every_mandatory_open_item(text):
    start = text.index("1 Executive summary Relates")
    summary = text[start:text.index("2 Risk classification and obligations map Relates")]
    assert "Not ready for sign-off" in summary and "Ready for sign-off:" not in summary.replace("Not ready", "")
    for item in MANDATORY_NAMED:
        assert item in summary, item
    assert "Owner: Head of Compliance" in summary  # owners from the governance file are named


def test_a_governance_file_that_closes_every_duty_is_ready(built, tmp_path):
    governance = completed_governance(tmp_path)
    rows = obligation_rows(context(built, governance))
    still_open = [r.obligation.key for r in rows if r.blocks_sign_off]
    assert still_open == []
    pdf = render_pack(built.evidence, tmp_path / "ready.pdf", governance, built.signer)
    summary = pdf_text(pdf, 2, 4)
    assert "Ready for sign-off: no blocking finding and no mandatory item open." in summary
    assert "Not ready" not in summary


def test_frameworks_and_roles_choose_the_duties(built, tmp_path):
    document = yaml.safe_load(example_path().read_text(encoding="utf-8"))
    document["frameworks"] = []
    document["classification"]["roles"] = ["provider"]
    path = tmp_path / "provider-only.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    keys = {r.obligation.key for r in obligation_rows(context(built, path))}
    assert "conformity-assessment" in keys and "fria" not in keys and "notice" not in keys
    assert not any(o.framework in ("UK", "US") and o.key in keys for o in OBLIGATIONS)


def test_the_errors_a_reviewer_found_are_gone(text):
    for wrong in ("within fifteen days of becoming aware of it (Art. 73)", "EU/UK GDPR Art. 22:",
                  "(EU AI Act Art. 18), together", "What blocks approval Nothing", "Evidences:",
                  "Art. 15(4), Art. 15(5), Art. 12", "Annex IV 6, Annex IV 2(f)"):
        assert wrong not in text, wrong
    assert "not a legal limit for credit" in text  # the 0.80 limit is an internal screen
    assert "Arts. 22A-22D" in text or "Arts. 22A–22D" in text
    assert "Sch. 3 para 20A" in text
    assert "no later than 2 days for a widespread infringement" in text
