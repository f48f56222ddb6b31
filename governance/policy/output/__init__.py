"""Scan results as JSON (everything), SARIF 2.1.0 (code-scanning viewers), JUnit XML (CI test reports) and CSV.

>>> sorted(FORMATS)
['csv', 'json', 'junit', 'sarif']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from governance.errors import InputError
from governance.policy.findings import ScanResult
from governance.policy.output import csv_report, json_report, junit, sarif
from governance.storage import write_bytes_atomic

FORMATS: dict[str, Callable[[ScanResult], bytes]] = {
    "json": json_report.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "csv": csv_report.render,
}
SUFFIXES = {"json": ".json", "sarif": ".sarif", "junit": ".junit.xml", "csv": ".csv"}


def render(result: ScanResult, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise InputError("BAD_FORMAT", f"unknown format {fmt!r} (choose from {', '.join(sorted(FORMATS))})")
    return FORMATS[fmt](result)


def write(result: ScanResult, fmt: str, path: str | os.PathLike) -> Path | str:
    """Write ``result`` as ``fmt`` to ``path`` (a local path or ``s3://`` URI), all or nothing."""
    return write_bytes_atomic(path, render(result, fmt))


__all__ = ["FORMATS", "SUFFIXES", "render", "write"]
