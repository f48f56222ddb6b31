"""Where every benchmark writes its numbers: ``bench/results/<name>.json``, sorted keys, so runs diff cleanly."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, results: dict) -> Path:
    """Write ``results`` to ``bench/results/<name>.json``, print where, and return the path."""
    out = RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwritten {out.relative_to(RESULTS.parent.parent)}")
    return out
