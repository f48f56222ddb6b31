"""The ``model.tar.gz`` layout of the SageMaker XGBoost container: one member ``xgboost-model`` in native format.

Writing is reproducible (sorted members, zero mtime/uid/gid, fixed modes, a gzip header without name or time),
so the same booster bytes always give the same archive digest. Reading never extracts to disk and never
unpickles: the member is read through the inspector's archive reader (so every consumer sees the same members)
and handed to ``xgboost.Booster.load_model``.

>>> import io
>>> try:
...     read_member(io.BytesIO(tarball_bytes({"xgboost-model": b"{}"})))
... except InputError as err:
...     err.reason
'BAD_ARTEFACT'
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path
from typing import BinaryIO

from governance import storage
from governance.errors import InputError
from governance.integrity.model_check import MODEL_MEMBER

_UNREADABLE = {"CORRUPT_ARCHIVE", "TRUNCATED_ARCHIVE", "TRAILING_DATA"}


def tarball_bytes(members: dict[str, bytes]) -> bytes:
    """A deterministic ``.tar.gz`` holding ``members`` (name → bytes)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(members[name]))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def write_model_tarball(path: str | os.PathLike, booster_bytes: bytes) -> Path | str:
    return storage.write_bytes_atomic(path, tarball_bytes({MODEL_MEMBER: booster_bytes}))


def read_member(stream: BinaryIO, name: str = MODEL_MEMBER, *, label: str = "model.tar.gz") -> bytes:
    """The model member's bytes, read through the same archive reader as ``inspect``/``sign``/``verify``.

    Nothing is extracted to disk, and an archive with a blocking safety finding is refused rather than read.
    """
    from governance.integrity.archive import inspect_stream

    if name != MODEL_MEMBER:
        raise ValueError(f"only {MODEL_MEMBER!r} is read from a model archive")
    report = inspect_stream(stream, name=label, keep_model=True)
    blocking = report.blocking
    if blocking:
        reason = "CORRUPT_ARCHIVE" if blocking[0].code in _UNREADABLE else "BAD_ARTEFACT"
        raise InputError(reason, f"{label}: " + "; ".join(f"{f.code}: {f.message}" for f in blocking[:3])
                                 + (f" (and {len(blocking) - 3} more)" if len(blocking) > 3 else ""))
    if report.model_bytes is None:
        raise InputError("BAD_ARTEFACT", f"{label}: no {name!r} member (not a SageMaker XGBoost model archive)")
    return report.model_bytes


def load_booster(artefact: str | os.PathLike):
    """Load the XGBoost booster from a local or ``s3://`` ``model.tar.gz`` (native JSON/UBJ only, never pickle)."""
    import xgboost

    with storage.open_stream(artefact) as stream:
        raw = read_member(stream, MODEL_MEMBER, label=str(artefact))
    if raw[:1] not in (b"{", b"["):
        # Pickle streams start with 0x80 (protocol 2+); native formats are JSON ('{') or UBJSON ('{' too).
        raise InputError("BAD_ARTEFACT", f"{artefact}: {MODEL_MEMBER} is not a native XGBoost model (JSON/UBJ)")
    booster = xgboost.Booster()
    try:
        booster.load_model(bytearray(raw))
    except xgboost.core.XGBoostError as err:
        first = str(err).strip().splitlines()[0][:200]
        raise InputError(
            "BAD_ARTEFACT", f"{artefact}: {MODEL_MEMBER} is not a loadable XGBoost model ({first})"
        ) from None
    return booster
