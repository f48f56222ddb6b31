"""The tar dialect a model archive may use: every header field read exactly as Python's ``tarfile`` reads it,
and every construct on which tar readers disagree refused.

A ``model.tar.gz`` is unpacked later by readers we do not control — Python's ``tarfile`` and GNU tar in the serving
containers. An inspector that interprets a header differently from them can pass an archive that extracts
something it never listed. So this is an allow-list, not a second parser: plain POSIX ustar and GNU headers
whose numbers are canonical octal, with the ustar name prefix, and *local* pax records limited to the keys a
writer needs (``path``, ``linkpath``, ``size``, times, owners). Everything else — pax global headers, GNU
long-name/long-link and sparse members, ``GNU.sparse.*`` and charset records, non-canonical numbers (a leading
``+``, leading spaces, base-256 where octal fits), a GNU header with data in the ustar prefix field, v7 headers
without a magic, a pax header not followed by a member — raises :class:`Ambiguous`. What remains is decoded by
``tarfile.TarInfo.frombuf`` itself, so the names and sizes reported are the ones ``tarfile`` extracts.

>>> import tarfile
>>> info = tarfile.TarInfo("xgboost-model"); info.size = 3
>>> header(info.tobuf(tarfile.USTAR_FORMAT)).name
'xgboost-model'
>>> try:
...     pax_records(b"+26 path=code/evil.py\\n")
... except Ambiguous as err:
...     print(err)
a pax record length is not a plain decimal number
"""

from __future__ import annotations

import re
import tarfile

BLOCK = 512
USTAR_MAGIC = b"ustar\x0000"
GNU_MAGIC = b"ustar  \x00"

# Member types a model archive may hold; the unsafe ones among them (links, devices) are findings of their own.
MEMBER_TYPES = {tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE,
                tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE}
PAX_LOCAL = tarfile.XHDTYPE
# Constructs readers disagree on, by type flag; named in the finding.
_REFUSED_TYPES = {
    tarfile.XGLTYPE: "a pax global header (readers apply it to different members, or not at all)",
    tarfile.GNUTYPE_LONGNAME: "a GNU long-name header (readers combine it with pax records differently)",
    tarfile.GNUTYPE_LONGLINK: "a GNU long-link header (readers combine it with pax records differently)",
    tarfile.GNUTYPE_SPARSE: "a GNU sparse member (its data map is read differently, or not at all)",
    tarfile.SOLARIS_XHDTYPE: "a Solaris extended header",
    b"M": "a GNU multi-volume continuation",
    b"N": "a GNU old long-name header",
    b"V": "a GNU volume header",
    b"D": "a GNU dump directory",
}
# Numeric fields: (name, offset, width).
_NUMBERS = (("mode", 100, 8), ("uid", 108, 8), ("gid", 116, 8), ("size", 124, 12), ("mtime", 136, 12),
            ("chksum", 148, 8))
_DEVICE_NUMBERS = (("devmajor", 329, 8), ("devminor", 337, 8))
_CANONICAL_OCTAL = re.compile(rb"[0-7]+[\0 ]*\Z")
_PAX_KEYS = {"path", "linkpath", "size", "mtime", "atime", "ctime", "uid", "gid", "uname", "gname"}
_PAX_INTEGER = re.compile(rb"(0|[1-9][0-9]*)\Z")
_PAX_TIME = re.compile(rb"-?(0|[1-9][0-9]*)(\.[0-9]+)?\Z")
_PAX_LENGTH = re.compile(rb"[1-9][0-9]*\Z")


class Ambiguous(Exception):
    """A construct that tar readers interpret differently: the archive is refused, not guessed at."""


class UnknownType(Exception):
    """A member type no extractor agrees on (readers fall back to treating it as a regular file)."""


def _number(raw: bytes, name: str, *, empty_ok: bool = False) -> None:
    if raw[:1] in (b"\x80", b"\xff"):
        # Base-256 is only canonical where the value does not fit in octal (sizes of 8 GiB and more).
        value = int.from_bytes(raw[1:], "big") if raw[:1] == b"\x80" else -1
        if name != "size" or value < 8 ** (len(raw) - 1):
            raise Ambiguous(f"the {name} field is base-256 where octal fits (readers parse it differently)")
        return
    if empty_ok and not raw.strip(b"\0"):
        return
    if not _CANONICAL_OCTAL.match(raw):
        raise Ambiguous(f"the {name} field {raw!r} is not canonical octal (readers parse it differently)")


def header(block: bytes) -> tarfile.TarInfo:
    """The member a 512-byte header describes, as ``tarfile`` reads it; raises on anything outside the dialect.

    Raises :class:`Ambiguous`, :class:`UnknownType`, or ``tarfile.HeaderError`` (bad checksum, not a header).
    """
    info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")  # checks the checksum first
    kind = block[156:157]
    if kind in _REFUSED_TYPES:
        raise Ambiguous(f"the archive holds {_REFUSED_TYPES[kind]}")
    magic = block[257:265]
    if magic not in (USTAR_MAGIC, GNU_MAGIC):
        raise Ambiguous(f"a tar header without the ustar or GNU magic ({magic!r}): v7 and unknown dialects "
                        "are read differently by different tools")
    if magic == GNU_MAGIC:
        if block[345:500].strip(b"\0"):
            raise Ambiguous("a GNU header carries data in the ustar prefix field (tarfile prepends it to the "
                            "name, GNU tar does not)")
        if kind == PAX_LOCAL:
            raise Ambiguous("a pax extended header with the GNU magic (a mixed dialect)")
    for name, offset, width in _NUMBERS:
        _number(block[offset:offset + width], name)
    for name, offset, width in _DEVICE_NUMBERS:
        _number(block[offset:offset + width], name, empty_ok=True)
    if kind not in MEMBER_TYPES and kind != PAX_LOCAL:
        raise UnknownType(f"unknown tar member type {kind!r}")
    return info


def pax_records(data: bytes) -> dict[str, bytes]:
    """Parse one local pax header's ``"%d %s=%s\\n"`` records strictly; refuse keys outside the allow-list."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 21)
        if space < 0 or not _PAX_LENGTH.match(data[pos:space]):
            raise Ambiguous("a pax record length is not a plain decimal number")
        end = pos + int(data[pos:space])
        record = data[space + 1:end]
        if end > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise Ambiguous("a pax record is malformed (its length does not end at a newline)")
        raw_key, _, value = record[:-1].partition(b"=")
        try:
            key = raw_key.decode("ascii")
        except UnicodeDecodeError:
            raise Ambiguous("a pax record key is not ASCII") from None
        if key not in _PAX_KEYS:
            raise Ambiguous(f"the pax record {key!r} is not one a model archive needs (readers disagree on it)")
        if key in records:
            raise Ambiguous(f"the pax record {key!r} appears twice in one header")
        if b"\0" in value:
            raise Ambiguous(f"the pax record {key!r} holds a NUL byte")
        if key in ("size", "uid", "gid") and not _PAX_INTEGER.match(value):
            raise Ambiguous(f"the pax record {key!r} is not a canonical decimal number ({value[:20]!r})")
        if key.endswith("time") and not _PAX_TIME.match(value):
            raise Ambiguous(f"the pax record {key!r} is not a canonical time ({value[:30]!r})")
        records[key] = value
        pos = end
    return records
