"""The examples in the docstrings of the pack's vocabulary, its readers and the rules they print run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["reports.status", "reports.evidence_models", "reports.governance_file", "governance.actor",
           "governance.grading", "governance.fairness.policy", "governance.explain.reason_codes"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
