"""Deterministic JSON: sorted keys, fixed separators, UTF-8 — so the same evidence hashes to the same digest."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from governance.storage import write_bytes_atomic


def _finite(obj: Any) -> Any:
    # JSON has no NaN/Infinity: write them as null so every consumer parses the file.
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def dumps(obj: Any, *, indent: int | None = 2) -> bytes:
    """Serialise deterministically; ``indent=None`` gives the compact canonical form used for hashing."""
    separators = (",", ": ") if indent is not None else (",", ":")
    text = json.dumps(_finite(obj), sort_keys=True, indent=indent, separators=separators, ensure_ascii=False)
    return (text + ("\n" if indent is not None else "")).encode("utf-8")


def canonical(obj: Any) -> bytes:
    """Compact canonical bytes (sorted keys, no whitespace) for hashing and signing."""
    return dumps(obj, indent=None)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as pretty deterministic JSON through a temporary file and a rename."""
    return write_bytes_atomic(path, dumps(obj))


def read_json(path: str | Path) -> Any:
    from governance.errors import InputError, reading

    try:
        with reading(path), open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError("MALFORMED_JSON", f"{path}: not valid JSON ({err})") from None
