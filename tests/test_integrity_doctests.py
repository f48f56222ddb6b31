"""The examples in the integrity and signing docstrings run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "governance.integrity.archive", "governance.integrity.findings", "governance.integrity.manifest",
    "governance.integrity.members", "governance.integrity.oms", "governance.integrity.paths",
    "governance.integrity.pickles", "governance.integrity.source", "governance.integrity.trust",
    "governance.integrity.verify", "governance.signing.kms", "governance.signing.signer",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
