"""The model governance file: the shipped QuickLoan example is complete and valid; mistakes name file and line."""

from __future__ import annotations

import pytest

from governance.errors import InputError
from reports.governance_file import GovernanceFile, example_path, load_governance_file, parse_governance_file

MINIMAL = "schema: quickloan-governance/v1\nmodel:\n  name: Credit model\n"


def test_the_shipped_example_fills_every_section():
    document = load_governance_file(example_path())
    missing = [name for name in GovernanceFile.model_fields if getattr(document, name) in (None, [])]
    assert missing == []
    assert document.classification.risk_level == "high"
    assert "Annex III point 5(b)" in document.classification.legal_basis
    assert {r.id for r in document.risks} >= {"R-01", "R-02", "R-03"}
    assert all(1 <= r.likelihood <= 5 and 1 <= r.impact <= 5 and r.owner for r in document.risks)
    assert len(document.monitoring.metrics) >= 4 and document.oversight.sign_off_required_from
    # Sign-offs are for people to record after review: the example invents none.
    assert document.oversight.approvals == []


def test_only_schema_and_model_are_required():
    document = parse_governance_file(MINIMAL)
    assert document.model.name == "Credit model" and document.risks is None and document.monitoring is None


@pytest.mark.parametrize("text, where, what", [
    (MINIMAL + "  colour: red\n", ":4:", "model.colour: Extra inputs are not permitted"),
    (MINIMAL + "risks:\n  - id: R1\n    title: t\n    likelihood: 6\n    impact: 1\n    owner: o\n", ":7:",
     "risks.0.likelihood"),
    (MINIMAL + "monitoring:\n  owner: o\n  review_frequency: monthly\n  metrics: []\n", ":7:",
     "monitoring.metrics"),
    ("schema: something-else\nmodel: {name: x}\n", ":1:", "schema"),
    (MINIMAL + "oversight: [unclosed\n", ":5:", "not valid YAML"),
    ("- just\n- a list\n", "gov.yaml", "expected a mapping"),
])
def test_mistakes_name_the_line(text, where, what):
    with pytest.raises(InputError) as failure:
        parse_governance_file(text, "gov.yaml")
    assert failure.value.reason == "BAD_GOVERNANCE_FILE"
    assert where in failure.value.message and what in failure.value.message


def test_a_missing_file_is_bad_input(tmp_path):
    with pytest.raises(InputError) as failure:
        load_governance_file(tmp_path / "absent.yaml")
    assert failure.value.exit_code == 2
