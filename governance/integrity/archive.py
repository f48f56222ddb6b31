"""Inspect a ``model.tar.gz`` in one streaming pass: file digest, per-member manifest, safety findings.

Nothing is extracted and nothing is unpickled. The bytes flow once through three layers — SHA-256 of the file,
gzip inflation (bounded, so a bomb stops at the limit), and a tar header walk that reads each header exactly as
Python's ``tarfile`` does but refuses every construct extractors disagree on (:mod:`.tar_format`) and, unlike
the standard library's reader, does not stop quietly at a corrupt header — while each member's bytes are hashed
and scanned for pickle data on the way. ``sign``, ``verify``, ``scan`` and the model loader all read through it.

>>> import io
>>> from governance.model_artifact import tarball_bytes
>>> report = inspect_stream(io.BytesIO(tarball_bytes({"code/inference.py": b"print(1)"})), name="model.tar.gz")
>>> [m.name for m in report.members], [f.code for f in report.findings]
(['code/inference.py'], ['CODE_PRESENT', 'NO_MODEL_MEMBER'])
>>> report.blocking
[]
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from governance.integrity import pickles, tar_format
from governance.integrity.findings import ArchiveFinding as Finding  # the parser raises dozens: a short name
from governance.integrity.findings import Limits
from governance.integrity.members import Member
from governance.integrity.model_check import MAX_MODEL_BYTES, MODEL_MEMBER, check_model
from governance.integrity.source import Progress, display_name, open_artefact, read_chunks

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
# Inflate in bounded steps so one small input chunk cannot expand into gigabytes of memory.
_INFLATE_STEP = 1 << 20
_MAX_HEADER_DATA = 1 << 20  # pax / GNU long-name records are a few hundred bytes; a megabyte is plenty
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")

_TYPES = {
    tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "directory", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char-device", tarfile.BLKTYPE: "block-device", tarfile.FIFOTYPE: "fifo",
}
_NO_DATA = {"directory", "symlink", "hardlink", "char-device", "block-device", "fifo"}


@dataclass
class ArchiveReport:
    """The result of one inspection; plain data, JSON-ready through :meth:`to_dict`."""

    uri: str
    name: str
    sha256: str = ""
    size: int = 0
    members: list[Member] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    uncompressed_size: int = 0
    complete: bool = False
    limits: Limits = field(default_factory=Limits)
    s3: dict | None = None
    # The model member's bytes, kept only when asked for (a loader reads the model through this same walk).
    model_bytes: bytes | None = field(default=None, repr=False)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def safe(self) -> bool:
        return not self.blocking

    @property
    def code_members(self) -> list[str]:
        return [m.name for m in self.members if _is_code(m.name)]

    @property
    def compression_ratio(self) -> float | None:
        return round(self.uncompressed_size / self.size, 3) if self.size else None

    def to_dict(self) -> dict:
        return {
            "artefact": {"uri": self.uri, "name": self.name, "sha256": self.sha256, "size": self.size},
            "archive": {"format": "tar+gzip", "members": len(self.members), "uncompressed_size": self.uncompressed_size,
                        "compression_ratio": self.compression_ratio, "read_to_end": self.complete},
            "safe": self.safe,
            "blocking": [f.code for f in self.blocking],
            "findings": [f.to_dict() for f in self.findings],
            "code_members": self.code_members,
            "members": [m.to_dict() for m in self.members],
            "limits": self.limits.to_dict(),
            **({"s3": self.s3} if self.s3 else {}),
        }


class _Stop(Exception):
    """Reading cannot go on (corrupt, truncated, over a limit); carries the finding that says why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class _Raw:
    """The file's bytes, hashed as they pass; the single read of the artefact."""

    def __init__(self, stream: BinaryIO, on_progress: Progress | None) -> None:
        self._chunks: Iterator[memoryview] = read_chunks(stream, on_progress=on_progress)
        self._digest = hashlib.sha256()
        self.size = 0

    def read(self) -> bytes:
        chunk = next(self._chunks, None)
        if chunk is None:
            return b""
        self._digest.update(chunk)
        self.size += len(chunk)
        return bytes(chunk)

    def drain(self) -> bytes:
        """Hash whatever is left; returns the first non-zero byte run seen (``b''`` when all zeros or empty)."""
        stray = b""
        while chunk := self.read():
            if not stray and chunk.strip(b"\0"):
                stray = chunk.strip(b"\0")[:16]
        return stray

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


class _Gunzip:
    """Inflates gzip members in order (bounded steps), enforcing the size and ratio limits as it goes."""

    def __init__(self, raw: _Raw, limits: Limits) -> None:
        self._raw = raw
        self._limits = limits
        self._d = zlib.decompressobj(31)
        self._buf = bytearray()
        self._done = False
        self._started = False
        self.total_out = 0
        self.fed = 0

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and not self._done:
            self._fill()
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read_exact(self, n: int, what: str) -> bytes:
        data = self.read(n)
        if len(data) < n:
            raise _Stop(Finding("TRUNCATED_ARCHIVE", f"the archive ends in the middle of {what}"))
        return data

    def rest_is_zero(self) -> bool:
        """Consume everything left (so the gzip CRC and length are checked); ``False`` if any byte is not zero."""
        clean = not self._buf.strip(b"\0")
        self._buf.clear()
        while not self._done:
            self._fill()
            clean = clean and not self._buf.strip(b"\0")
            self._buf.clear()
        return clean

    def _feed(self, data: bytes) -> None:
        self.fed += len(data)
        try:
            out = self._d.decompress(data, _INFLATE_STEP)
        except zlib.error as err:
            raise _Stop(Finding("CORRUPT_ARCHIVE", f"the gzip stream is corrupt ({err})")) from None
        self._out(out)

    def _out(self, out: bytes) -> None:
        if not out:
            return
        self.total_out += len(out)
        self._buf += out
        if self.total_out > self._limits.max_total_bytes:
            raise _Stop(Finding("TOO_LARGE", f"more than {self._limits.max_total_bytes:,} bytes once uncompressed"))
        if self.total_out > self._limits.ratio_floor_bytes and self.total_out > self._limits.max_ratio * self.fed:
            raise _Stop(Finding("COMPRESSION_RATIO", f"inflates more than {self._limits.max_ratio:g}x "
                                                     f"({self.total_out:,} bytes from {self.fed:,})"))

    def _fill(self) -> None:
        if self._d.unconsumed_tail:
            try:
                self._out(self._d.decompress(self._d.unconsumed_tail, _INFLATE_STEP))
            except zlib.error as err:
                raise _Stop(Finding("CORRUPT_ARCHIVE", f"the gzip stream is corrupt ({err})")) from None
            return
        if self._d.eof:
            self._next_member()
            return
        chunk = self._raw.read()
        if not chunk:
            if not self._started:
                raise _Stop(Finding("CORRUPT_ARCHIVE", "the file is empty"))
            raise _Stop(Finding("TRUNCATED_ARCHIVE", "the gzip stream ends before its end marker"))
        if not self._started:
            self._started = True
            if not chunk.startswith(b"\x1f\x8b"):
                raise _Stop(Finding("CORRUPT_ARCHIVE", "not a gzip stream (a model.tar.gz starts with 1f 8b)"))
        self._feed(chunk)

    def _next_member(self) -> None:
        # One gzip member and nothing after it: stream readers (tarfile's "r|gz") stop after the first member
        # while file readers go on, so a second member is read by some extractors and not by others.
        rest = self._d.unused_data
        self.fed -= len(rest)  # counted once already, when it was fed to the finished member
        while len(rest) < 2:
            more = self._raw.read()
            if not more:
                break
            rest += more
        if not rest:
            self._done = True
            return
        if rest.startswith(b"\x1f\x8b"):
            raise _Stop(Finding("AMBIGUOUS_ARCHIVE", "a second gzip member follows the first (stream readers stop "
                                                     "after the first, file readers go on)"))
        raise _Stop(Finding("TRAILING_DATA", f"{len(rest):,}+ bytes follow the end of the gzip stream"))


def _is_code(name: str) -> bool:
    return _normal(name) == "code" or _normal(name).startswith("code/")


def _normal(name: str) -> str:
    """The path a member extracts to, relative: ``./a//b/`` → ``a/b``."""
    return "/".join(part for part in name.replace("\\", "/").split("/") if part not in ("", "."))


def _folded(normal: str) -> str:
    """The key under which case-insensitive, normalising file systems (macOS, Windows) store a name."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", normal).casefold())


def _printable(name: str) -> str:
    """A member name fit for reports: undecodable bytes shown as ``\\xNN`` escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class _TarWalk:
    def __init__(self, source: _Gunzip, report: ArchiveReport, limits: Limits, keep_model: bool = False) -> None:
        self.keep_model = keep_model
        self.source = source
        self.report = report
        self.limits = limits
        self.seen: dict[str, str] = {}
        self.folded: dict[str, str] = {}

    def run(self) -> None:
        pax: dict[str, bytes] | None = None
        while True:
            block = self.source.read(BLOCK)
            where = f"after member {self.report.members[-1].name!r}" if self.report.members else "at the start"
            if len(block) < BLOCK:
                if not block and not self.report.members:
                    raise _Stop(Finding("CORRUPT_ARCHIVE", "the gzip stream holds no tar data"))
                raise _Stop(Finding("TRUNCATED_ARCHIVE", f"the tar stream ends {where} without its end marker"))
            if block == _ZERO_BLOCK:
                if pax is not None:
                    raise _Stop(Finding("AMBIGUOUS_ARCHIVE", f"a pax header {where} describes no member"))
                if not self.source.rest_is_zero():
                    raise _Stop(Finding("TRAILING_DATA", "data follows the tar end-of-archive marker"))
                return
            try:
                info = tar_format.header(block)
            except tarfile.HeaderError as err:
                raise _Stop(Finding("CORRUPT_ARCHIVE", f"a tar header {where} is invalid ({err})")) from None
            except tar_format.Ambiguous as err:
                raise _Stop(Finding("AMBIGUOUS_ARCHIVE", f"{where}: {err}")) from None
            except tar_format.UnknownType as err:
                raise _Stop(Finding("UNSUPPORTED_MEMBER", f"{where}: {err}, which extractors read differently"))\
                    from None
            if info.type == tar_format.PAX_LOCAL:
                if pax is not None:
                    raise _Stop(Finding("AMBIGUOUS_ARCHIVE", f"two pax headers in a row {where}"))
                try:
                    pax = tar_format.pax_records(self._header_data(info.size, "a pax header"))
                except tar_format.Ambiguous as err:
                    raise _Stop(Finding("AMBIGUOUS_ARCHIVE", f"{where}: {err}")) from None
                continue
            records, pax = pax or {}, None
            name = _decode(records["path"]) if "path" in records else info.name
            linkname = _decode(records["linkpath"]) if "linkpath" in records else info.linkname
            size = int(records["size"]) if "size" in records else info.size
            if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE) and name.endswith("/"):
                raise _Stop(Finding("AMBIGUOUS_ARCHIVE", f"the file {_printable(name)!r} has a directory's name "
                                                         "(extractors disagree on what it becomes)"))
            self._member(info, name, linkname, size)

    def _header_data(self, size: int, what: str) -> bytes:
        if size > _MAX_HEADER_DATA:
            raise _Stop(Finding("CORRUPT_ARCHIVE", f"{what} declares {size:,} bytes"))
        data = self.source.read_exact(size, what)
        self.source.read_exact(-size % BLOCK, what)
        return data

    def _member(self, info: tarfile.TarInfo, name: str, linkname: str, size: int) -> None:
        report, shown = self.report, _printable(name)
        if len(report.members) >= self.limits.max_members:
            raise _Stop(Finding("TOO_MANY_MEMBERS", f"more than {self.limits.max_members:,} members"))
        kind = _TYPES[info.type]
        add = report.findings.append
        if kind in _NO_DATA and size:
            raise _Stop(Finding("CORRUPT_ARCHIVE", f"{shown} is a {kind} but declares {size:,} bytes of data "
                                                   "(tar readers disagree on such members)", shown))
        if shown != name:
            add(Finding("NON_UTF8_NAME", f"the name '{shown}' is not valid UTF-8", shown))
        if name.startswith(("/", "\\")) or _WINDOWS_ABSOLUTE.match(name):
            add(Finding("ABSOLUTE_PATH", f"{shown} is an absolute path", shown))
        if ".." in name.replace("\\", "/").split("/"):
            add(Finding("PATH_TRAVERSAL", f"{shown} has a '..' segment", shown))
        if kind == "symlink":
            add(Finding("SYMLINK", f"{shown} is a symbolic link to {_printable(linkname)!r}", shown))
        elif kind == "hardlink":
            add(Finding("HARDLINK", f"{shown} is a hard link to {_printable(linkname)!r}", shown))
        elif kind in ("char-device", "block-device"):
            add(Finding("DEVICE_NODE", f"{shown} is a {kind.replace('-', ' ')}", shown))
        elif kind == "fifo":
            add(Finding("FIFO", f"{shown} is a named pipe", shown))
        if info.mode & 0o6000:
            add(Finding("SETUID_SETGID", f"{shown} has mode {info.mode:04o} (setuid/setgid)", shown))
        normal = _normal(name)
        if normal in self.seen:
            add(Finding("DUPLICATE_MEMBER", f"{shown} appears more than once (also as {self.seen[normal]!r})", shown))
        else:
            self.seen[normal] = shown
            folded = _folded(normal)
            if folded in self.folded:
                add(Finding("TWIN_NAMES", f"{shown} and {self.folded[folded]!r} differ only in case or Unicode "
                                          "normalisation (one overwrites the other on such file systems)", shown))
            else:
                self.folded[folded] = shown
        digest = None
        if kind not in _NO_DATA:
            digest = self._data(shown, size, normal == MODEL_MEMBER and kind == "file")
        elif normal == MODEL_MEMBER:
            add(Finding("BAD_XGBOOST_MODEL", f"{shown} is a {kind}, not a regular file", shown))
        report.members.append(Member(shown, kind, size, info.mode & 0o7777, digest,
                                     _printable(linkname) if kind in ("symlink", "hardlink") else None))

    def _data(self, shown: str, size: int, is_model: bool) -> str:
        digest = hashlib.sha256()
        scanner = pickles.PickleScanner()
        keep = bytearray() if is_model and size <= MAX_MODEL_BYTES else None
        left = size
        while left:
            chunk = self.source.read(min(left, _INFLATE_STEP))
            if not chunk:
                raise _Stop(Finding("TRUNCATED_ARCHIVE", f"the archive ends inside {shown} "
                                                         f"({size - left:,} of {size:,} bytes)", shown))
            digest.update(chunk)
            scanner.feed(chunk)
            if keep is not None:
                keep += chunk
            left -= len(chunk)
        self.source.read_exact(-size % BLOCK, f"the padding after {shown}")
        match = scanner.finish()
        if match is not None:
            self.report.findings.append(Finding("PICKLE_DATA", f"{shown} holds {match.describe()}", shown))
        if is_model:
            if keep is None:
                self.report.findings.append(Finding("BAD_XGBOOST_MODEL", f"{shown}: it is {size:,} bytes, over the "
                                                    f"{MAX_MODEL_BYTES:,}-byte limit for a model", shown))
            elif match is None and (problem := check_model(bytes(keep))) is not None:
                self.report.findings.append(Finding(problem.code, f"{shown}: {problem.message}", shown))
            if keep is not None and self.keep_model:
                self.report.model_bytes = bytes(keep)
        return digest.hexdigest()


def inspect_stream(stream: BinaryIO, *, name: str = "model.tar.gz", uri: str | None = None,
                   limits: Limits | None = None, on_progress: Progress | None = None,
                   keep_model: bool = False) -> ArchiveReport:
    """Inspect an open ``tar.gz`` stream in one pass (see the module docstring).

    With ``keep_model`` the ``xgboost-model`` bytes are kept on the report, for loaders that must read exactly
    what was inspected.
    """
    limits = limits or Limits()
    report = ArchiveReport(uri=uri or name, name=name, limits=limits)
    raw = _Raw(stream, on_progress)
    gunzip = _Gunzip(raw, limits)
    try:
        _TarWalk(gunzip, report, limits, keep_model).run()
        report.complete = True
    except _Stop as stop:
        report.findings.append(stop.finding)
    raw.drain()  # hash to the last byte even when reading the archive had to stop
    report.sha256, report.size, report.uncompressed_size = raw.sha256, raw.size, gunzip.total_out
    if report.code_members:
        listed = ", ".join(report.code_members[:5]) + (" …" if len(report.code_members) > 5 else "")
        has_requirements = any(_normal(n) == "code/requirements.txt" for n in report.code_members)
        report.findings.append(Finding(
            "CODE_PRESENT",
            f"code/ holds {len(report.code_members)} member(s) ({listed}); the serving container runs this code"
            + (" and pip-installs code/requirements.txt at start-up" if has_requirements else ""),
            "code/",
        ))
    if report.complete and not any(_normal(m.name) == MODEL_MEMBER for m in report.members):
        report.findings.append(Finding("NO_MODEL_MEMBER", f"no top-level {MODEL_MEMBER} member"))
    return report


def inspect_artefact(uri: str | os.PathLike, *, limits: Limits | None = None,
                     on_progress: Progress | None = None) -> ArchiveReport:
    """Inspect a local or ``s3://`` ``model.tar.gz`` in one streaming pass; nothing is written anywhere.

    >>> report = inspect_artefact("model/model.tar.gz")
    >>> len(report.sha256), [f.code for f in report.blocking], [m.name for m in report.members]
    (64, [], ['xgboost-model'])
    """
    with open_artefact(uri) as (stream, s3, _size):
        report = inspect_stream(stream, name=display_name(uri), uri=str(uri), limits=limits, on_progress=on_progress)
    if s3 is not None:
        report.s3 = s3.cross_check(report.sha256)
    return report
