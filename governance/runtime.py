"""The library versions behind a result, recorded in evidence so a reviewer can reproduce the numbers."""

from __future__ import annotations

import platform
from importlib import metadata

RESULT_LIBRARIES = ("quickloan-governance", "fairlearn", "numpy", "pandas", "scikit-learn", "xgboost-cpu", "xgboost",
                    "shap", "matplotlib")


def library_versions(distributions: tuple[str, ...] = RESULT_LIBRARIES) -> dict[str, str]:
    """Python's version and each installed distribution's (read from package metadata; nothing is imported)."""
    versions = {"python": platform.python_version()}
    for name in distributions:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
