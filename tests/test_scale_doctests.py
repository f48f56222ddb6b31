"""The examples in the docstrings of the scale-out modules run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["governance.fairness.cells", "governance.explain.shap_regions", "governance.policy.inventory.sql"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name.endswith(".sql"):
        pytest.importorskip("duckdb")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
