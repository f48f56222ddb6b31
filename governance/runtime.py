"""The library versions behind a result, recorded in evidence so a reviewer can reproduce the numbers."""

from __future__ import annotations

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
