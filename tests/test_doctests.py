"""Every ``>>>`` example in the package's docstrings runs as written (the examples are part of the docs).

Modules are found by their source, so a new example is tested without being listed here. Examples run inside a
private copy of a real, sealed run folder (``data/``, ``model/model.tar.gz`` signed, ``evidence/``, ``keys/``),
with ``signer`` and ``verifier`` for its key pair, so they can name the files a user has. A module whose import
needs an optional extra (the SageMaker SDK) is skipped with the reason when the extra is absent.
"""

from __future__ import annotations

import doctest
import importlib
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("governance", "pipeline", "reports")
OPTIONAL = {"sagemaker": "the [sagemaker] extra"}


def _modules_with_examples() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if ">>>" in path.read_text(encoding="utf-8"):
                parts = list(path.relative_to(REPO).with_suffix("").parts)
                found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = _modules_with_examples()


def test_examples_are_found():
    assert len(MODULES) > 30 and "governance.errors" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, pack_evidence, tmp_path, monkeypatch):
    work = tmp_path / "work"
    shutil.copytree(pack_evidence.root, work)
    monkeypatch.chdir(work)  # examples read and write the copy
    extra = {"signer": pack_evidence.signer, "verifier": pack_evidence.verifier}
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs {OPTIONAL[err.name.split('.')[0]]} ({err.name} is not installed)")
        raise
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, name) if t.examples]
    assert tests, f"{name}: '>>>' in the source but no docstring example found"
    for test in tests:
        test.globs.update(extra)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} example(s) failed (see stdout)"
