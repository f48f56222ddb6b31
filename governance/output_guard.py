"""One check every command runs before it writes: the destination must not be something the run depends on.

A mistyped ``-o`` can otherwise destroy exactly what the toolkit exists to protect. A destination is refused
(bad input, exit 2, nothing written) when it is a folder (``NOT_A_FILE``), or (``BAD_OUTPUT``)

* an input of the same command (the artefact being signed or scanned, a policy, a key, a data file) — also
  through a symbolic or hard link;
* a file a sealed evidence folder lists in its ``index.json``, or the index and its signature themselves;
* a private (or public) key in PEM form.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> (folder / "model.tar.gz").write_bytes(b"model")
5
>>> try:
...     guard_output(folder / "model.tar.gz", inputs=[folder / "model.tar.gz"], flag="--output")
... except InputError as err:
...     print(err.reason, "an input of this command" in err.message)
BAD_OUTPUT True
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from governance.errors import InputError
from governance.storage import is_s3_uri

_INDEX, _INDEX_SIGNATURE = "index.json", "index.json.sig"
_PEM_KEY_MARKERS = (b"PRIVATE KEY-----", b"PUBLIC KEY-----")
_SNIFF_BYTES = 4096


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _sealed_listing(target: Path) -> str | None:
    """The sealed folder whose index lists ``target`` (or is it), else ``None``."""
    resolved = Path(os.path.realpath(target))
    for folder in resolved.parents:
        index = folder / _INDEX
        if not index.is_file():
            continue
        relative = resolved.relative_to(folder).as_posix()
        if relative in (_INDEX, _INDEX_SIGNATURE):
            return str(folder)
        from governance.jsonio import loads

        try:
            with open(index, "rb") as handle:
                listed = loads(handle.read(64 << 20), what=str(index))
        except (OSError, InputError):
            return str(folder)  # an unreadable index still marks a sealed folder: do not write into its files
        files = listed.get("files") if isinstance(listed, dict) else None
        paths = {str(PurePosixPath(e["path"])) for e in files or [] if isinstance(e, dict) and isinstance(
            e.get("path"), str)}
        if relative in paths:
            return str(folder)
    return None


def _is_key(target: Path) -> bool:
    try:
        if not target.is_file():
            return False
        with open(target, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    return b"-----BEGIN " in head and any(marker in head for marker in _PEM_KEY_MARKERS)


def guard_output(destination: str | os.PathLike | None, *, inputs: Iterable[str | os.PathLike | None] = (),
                 flag: str = "output") -> None:
    """Raise :class:`InputError` (``BAD_OUTPUT``) if writing ``destination`` would overwrite an input, evidence
    or a key; the message says which."""
    if destination is None:
        return
    text = str(destination)
    named = [str(item) for item in inputs if item is not None]
    if is_s3_uri(text):
        if text in named:
            raise InputError("BAD_OUTPUT", f"{flag} {text}: is also an input of this command; not overwritten")
        return
    target = Path(text)
    if target.is_dir():
        raise InputError("NOT_A_FILE", f"{flag} {text}: is a directory; {flag} names the file to write")
    for item in named:
        if not is_s3_uri(item) and (target.exists() or Path(item).exists()) and _same_file(target, Path(item)):
            raise InputError("BAD_OUTPUT", f"{flag} {text}: is {item}, an input of this command; not "
                                                "overwritten (nothing written)")
    sealed = _sealed_listing(target)
    if sealed is not None:
        raise InputError("BAD_OUTPUT", f"{flag} {text}: is listed in the sealed evidence index of {sealed}; "
                                               "overwriting it would destroy evidence (nothing written)")
    if _is_key(target):
        raise InputError("BAD_OUTPUT", f"{flag} {text}: is a key file; not overwritten (nothing written)")


def guard_outputs(destinations: Iterable[str | os.PathLike | None], *,
                  inputs: Iterable[str | os.PathLike | None] = (), flag: str = "output") -> None:
    """:func:`guard_output` for each of several files one command writes."""
    named = list(inputs)
    for destination in destinations:
        guard_output(destination, inputs=named, flag=flag)
