"""Deterministic JSON out (sorted keys, fixed separators, UTF-8 — so the same evidence hashes to the same digest),
and one bounded, strict reader for every JSON input (:func:`loads`, :func:`read_json`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from governance.storage import write_bytes_atomic

# Bounds for JSON the toolkit reads (signatures, manifests, statements, indexes, verdicts, ledger lines): far
# above anything it writes, far below what would exhaust memory or the parser's stack.
MAX_BYTES = 64 << 20
MAX_DEPTH = 64


def printable(text: str) -> str:
    """``text`` as valid UTF-8: bytes of a non-UTF-8 file name (kept as surrogates) become ``\\xNN`` escapes."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _finite(obj: Any) -> Any:
    # JSON has no NaN/Infinity: write them as null so every consumer parses the file. A file name that is not
    # UTF-8 is written with escapes rather than failing the whole document.
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, str):
        return printable(obj)
    if isinstance(obj, dict):
        return {printable(str(k)): _finite(v) for k, v in obj.items()}
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


class _DuplicateKey(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, Any]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            # Readers disagree on which value wins (first or last): a document that says two things is refused.
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(obj: Any, limit: int) -> int:
    """Nesting depth, walked without recursion; stops counting once over ``limit``."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def loads(data: bytes | str, *, what: str, max_depth: int = MAX_DEPTH, error=None) -> Any:
    """Parse untrusted JSON strictly: duplicate keys, NaN/Infinity and nesting over ``max_depth`` are refused.

    Raises ``error`` (default :class:`~governance.errors.InputError`) with ``MALFORMED_JSON``,
    ``DUPLICATE_KEY`` or ``JSON_TOO_DEEP`` — never ``RecursionError``.

    >>> loads(b'{"a": 1, "a": 2}', what="x.json")
    Traceback (most recent call last):
    governance.errors.InputError: x.json: the key 'a' appears twice in one object (readers disagree on which wins)
    """
    from governance.errors import InputError

    error = error or InputError
    try:
        value = json.loads(data, object_pairs_hook=_unique_object, parse_constant=_no_constant)
    except _DuplicateKey as err:
        raise error("DUPLICATE_KEY", f"{what}: the key {err.args[0]!r} appears twice in one object (readers "
                                     "disagree on which wins)") from None
    except RecursionError:
        raise error("JSON_TOO_DEEP", f"{what}: nested more than {max_depth} levels deep") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise error("MALFORMED_JSON", f"{what}: not valid JSON ({err})") from None
    if _depth(value, max_depth) > max_depth:
        raise error("JSON_TOO_DEEP", f"{what}: nested more than {max_depth} levels deep")
    return value


def read_json(path: str | Path, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Read a JSON input file (regular files only, size- and depth-bounded, duplicate keys refused)."""
    from governance.storage import read_bytes

    return loads(read_bytes(path, max_bytes=max_bytes), what=str(path), max_depth=max_depth)
