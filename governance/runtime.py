"""The library versions behind a result, recorded in evidence so a reviewer can reproduce the numbers."""

from __future__ import annotations

import os
import platform
from importlib import metadata

RESULT_LIBRARIES = ("quickloan-governance", "fairlearn", "numpy", "pandas", "scikit-learn", "xgboost-cpu", "xgboost",
                    "shap", "matplotlib")


def installed_version(*distributions: str) -> str | None:
    """The version of the first of ``distributions`` that is installed (e.g. ``xgboost-cpu``, then ``xgboost``)."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def library_versions(distributions: tuple[str, ...] = RESULT_LIBRARIES) -> dict[str, str]:
    """Python's version and each installed distribution's (read from package metadata; nothing is imported)."""
    versions = {"python": platform.python_version()}
    for name in distributions:
        version = installed_version(name)
        if version is not None:
            versions[name] = version
    return versions


def prefer_passive_openmp() -> None:
    """Let idle OpenMP threads sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``) unless the user chose.

    XGBoost's threads meet at a barrier many times per boosting round; spinning there, they burn the cores other
    processes need, and on a shared machine each round waits on them. The wait policy changes no number (the same
    model bytes). OpenMP reads it once, when XGBoost's library loads: call this before the first ``import xgboost``
    (the command line and the step entry points do).
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
