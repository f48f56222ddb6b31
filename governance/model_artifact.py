"""The ``model.tar.gz`` layout of the SageMaker XGBoost container: one member ``xgboost-model`` in native format.

Writing is reproducible (sorted members, zero mtime/uid/gid, fixed modes, a gzip header without name or time),
so the same booster bytes always give the same archive digest. Reading never extracts to disk and never
unpickles: the member is read into memory and handed to ``xgboost.Booster.load_model``.

>>> import io, xgboost
>>> data = tarball_bytes({"xgboost-model": b"{}"})
>>> read_member(io.BytesIO(data), "xgboost-model")
b'{}'
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from pathlib import Path
from typing import BinaryIO

from governance import storage
from governance.errors import InputError

MODEL_MEMBER = "xgboost-model"
# A booster for this data is a few MB; anything far larger is refused before it is read into memory.
MAX_MODEL_BYTES = 512 << 20


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


def read_member(stream: BinaryIO, name: str, *, label: str = "model.tar.gz") -> bytes:
    """Return one regular member's bytes from a tar.gz stream, without extracting anything to disk."""
    try:
        with tarfile.open(fileobj=stream, mode="r|gz") as tar:
            for member in tar:
                if member.name.lstrip("./") != name:
                    continue
                if not member.isreg():
                    raise InputError("BAD_ARTEFACT", f"{label}: member {name!r} is not a regular file")
                if member.size > MAX_MODEL_BYTES:
                    raise InputError("BAD_ARTEFACT", f"{label}: member {name!r} is {member.size} bytes, over the limit")
                handle = tar.extractfile(member)
                assert handle is not None
                return handle.read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise InputError("CORRUPT_ARCHIVE", f"{label}: not a readable tar.gz archive ({err})") from None
    raise InputError("BAD_ARTEFACT", f"{label}: no {name!r} member (not a SageMaker XGBoost model archive)")


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
