"""Find pickle data by its bytes, never by file name, and never by unpickling it.

Loading a pickle can run any code, so a model archive must not carry one where a loader might find it. A byte
sequence counts as a pickle when :mod:`pickletools` can walk it as opcodes *and* the walk keeps the unpickler's
own rules: the stack never underflows, every MARK is matched, every memo read was written, and STOP leaves an
empty stack. Random or model bytes almost never pass all of that; real pickles always do.

Where the scanner looks, all while the bytes stream past once:

* the start of every member, for every protocol (0-5);
* anywhere inside a member, for protocol 2-5 streams (they begin with the PROTO opcode ``\\x80``) — this finds
  pickles stored inside uncompressed containers such as PyTorch's zip checkpoints;
* the start of gzip, zlib, bzip2 and xz streams (joblib's compressed dumps), and each entry of a zip member.

>>> import pickle
>>> find_pickle(b"weights:" + pickle.dumps({"w": [1.0, 2.0]}, protocol=4)).offset
8
>>> find_pickle(b'{"learner": {}}') is None
True
"""

from __future__ import annotations

import bz2
import io
import lzma
import pickletools
import re
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field

# Bytes after a candidate start that are parsed before deciding; a pickle longer than this is judged on its head.
WINDOW = 64 << 10
# A zip member is opened (in memory, never on disk) only up to this size; larger ones get the raw scan alone.
MAX_ZIP_BYTES = 64 << 20

_OPCODES = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
_MARK = pickletools.markobject
_PROTO_HEADER = re.compile(rb"\x80[\x02-\x05]")
_IMPORT_NAME = re.compile(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*\Z")
_IMPORTING = {"GLOBAL", "STACK_GLOBAL", "INST"}
_CALLING = {"REDUCE", "BUILD", "OBJ", "NEWOBJ", "NEWOBJ_EX", "INST"}
_MEMO_WRITE = {"PUT", "BINPUT", "LONG_BINPUT"}
_MEMO_READ = {"GET", "BINGET", "LONG_BINGET"}
# Errors pickletools raises when the bytes simply run out (as opposed to bytes that are not pickle at all).
_EXHAUSTED = ("exhausted", "not enough data", "but only", "no newline found", "remain")


@dataclass(frozen=True)
class PickleMatch:
    offset: int
    protocol: int
    imports: tuple[str, ...] = ()
    container: str = ""

    def describe(self) -> str:
        where = f" inside {self.container}" if self.container else ""
        what = f"protocol {self.protocol} pickle at byte {self.offset}{where}"
        if self.imports:
            shown = ", ".join(self.imports[:3]) + (" …" if len(self.imports) > 3 else "")
            what += f", importing {shown}"
        return what


@dataclass
class _Walk:
    ops: int = 0
    protocol: int = 0
    stopped: bool = False
    exhausted: bool = False
    imports: list[str] = field(default_factory=list)
    calls: int = 0


def _walk(data: bytes | memoryview) -> _Walk | None:
    """Walk opcodes from the start of ``data`` like the unpickler would; ``None`` when the bytes break its rules."""
    with warnings.catch_warnings():
        # Random bytes decode as STRING opcodes with odd escapes, and pickletools warns about those.
        warnings.simplefilter("ignore", DeprecationWarning)
        return _walk_opcodes(data)


def _walk_opcodes(data: bytes | memoryview) -> _Walk | None:
    walk = _Walk()
    stack: list[bool] = []  # True marks a MARK
    memo: set = set()
    strings: list[str] = []
    try:
        for opcode, arg, _pos in pickletools.genops(bytes(data)):
            name = opcode.name
            before, after = opcode.stack_before, opcode.stack_after
            if name == "PROTO":
                if walk.ops or not 2 <= arg <= 5:
                    return None
                walk.protocol = arg
            if _MARK in before or (name == "POP" and stack and stack[-1]):
                if True not in stack:
                    return None
                mark = len(stack) - 1 - stack[::-1].index(True)
                below = before.index(_MARK) if _MARK in before else 0
                if mark < below or any(stack[mark - below : mark]):
                    return None
                del stack[mark - below :]
            else:
                if len(before) > len(stack) or any(stack[len(stack) - len(before) :]):
                    return None
                del stack[len(stack) - len(before) :]
            stack.extend(item is _MARK for item in after)
            if name in _MEMO_WRITE:
                memo.add(arg)
            elif name == "MEMOIZE":
                memo.add(len(memo))
            elif name in _MEMO_READ and arg not in memo:
                return None
            if isinstance(arg, str):
                strings = [*strings[-1:], arg]
            if name in _IMPORTING and isinstance(arg, str):
                walk.imports.append(arg.replace(" ", "."))
            elif name == "STACK_GLOBAL" and len(strings) == 2:
                walk.imports.append(".".join(strings))
            walk.calls += name in _CALLING
            walk.ops += 1
            if name == "STOP":
                if stack:
                    return None
                walk.stopped = True
                return walk
    except ValueError as err:
        if any(word in str(err) for word in _EXHAUSTED):
            walk.exhausted = True
            return walk
        return None
    return walk


def pickle_at(data: bytes | memoryview, offset: int = 0, *, complete: bool = True,
              require_proto: bool = False) -> PickleMatch | None:
    """Judge whether a pickle starts at ``offset``; ``complete`` says no further bytes follow ``data``."""
    head = data[offset : offset + WINDOW]
    if require_proto:
        if _PROTO_HEADER.match(head) is None:
            return None
        # Protocol 4+ writers always open a frame; random bytes rarely do.
        if head[1] >= 4 and head[2:3] != b"\x95" and len(head) > 12:
            return None
    walk = _walk(head)
    if walk is None or walk.ops < 3:
        return None
    imports = any(_IMPORT_NAME.match(name) for name in walk.imports)
    # Inside a member a short rule-abiding run occurs by chance in random bytes; one that imports, or a longer
    # one, does not. (Pickles that import nothing cannot run code anyway.)
    if walk.stopped and (not require_proto or imports or walk.ops >= 8):
        return PickleMatch(offset, walk.protocol, tuple(walk.imports))
    # Cut off by the window (not by the end of the bytes): judge the head — long and rule-abiding is enough.
    cut_by_window = not complete or len(data) - offset > WINDOW
    if walk.exhausted and cut_by_window and (
        (walk.ops >= 4 and imports)
        or (walk.protocol and walk.ops >= 16)
        or (offset == 0 and walk.ops >= 64)
    ):
        return PickleMatch(offset, walk.protocol, tuple(walk.imports))
    return None


def find_pickle(data: bytes | memoryview) -> PickleMatch | None:
    """The first pickle anywhere in ``data`` (start: any protocol; inside: protocol 2-5), or ``None``."""
    scanner = PickleScanner()
    scanner.feed(data)
    return scanner.finish()


class PickleScanner:
    """Streaming detector for one member's bytes: ``feed`` chunks in order, then ``finish``.

    Memory stays bounded: two windows of lookahead, the first bytes of a compressed stream, and a zip member
    up to :data:`MAX_ZIP_BYTES`.
    """

    def __init__(self, *, nested: bool = True) -> None:
        self._nested = nested
        self._buf = bytearray()
        self._base = 0  # member offset of _buf[0]
        self._size = 0
        self._head = bytearray()
        self._pending: list[bytes] | None = [] if nested else None
        self._inflater: _PrefixInflater | None = None
        self._zip: bytearray | None = None
        self.match: PickleMatch | None = None

    def feed(self, chunk: bytes | memoryview) -> None:
        if self.match is not None or not chunk:
            return
        self._size += len(chunk)
        if len(self._head) < WINDOW:
            self._head += chunk[: WINDOW - len(self._head)]
        if self._pending is not None:
            self._pending.append(bytes(chunk))
            if len(self._head) >= 8:
                self._start_nested()
        else:
            self._feed_nested(chunk)
        self._buf += chunk
        if len(self._buf) >= 2 * WINDOW:
            self._scan(final=False)

    def finish(self) -> PickleMatch | None:
        if self.match is None:
            self._scan(final=True)
        if self.match is None:
            self.match = pickle_at(self._head, 0, complete=self._size <= WINDOW)
        if self.match is None and self._pending is not None and len(self._head) >= 2:
            self._start_nested()
        if self.match is None and self._inflater is not None:
            self.match = self._inflater.finish()
        if self.match is None and self._zip is not None:
            self.match = _zip_entries(bytes(self._zip))
        self._buf, self._zip, self._inflater, self._pending = bytearray(), None, None, None
        return self.match

    def _start_nested(self) -> None:
        head = bytes(self._head[:8])
        if head.startswith(b"PK\x03\x04"):
            self._zip = bytearray()
        elif (kind := _compression(head)) is not None:
            self._inflater = _PrefixInflater(kind)
        pending, self._pending = self._pending or [], None
        for chunk in pending:
            self._feed_nested(chunk)

    def _feed_nested(self, chunk: bytes | memoryview) -> None:
        if self._inflater is not None:
            self._inflater.feed(chunk)
        if self._zip is not None:
            if len(self._zip) + len(chunk) > MAX_ZIP_BYTES:
                self._zip = None
            else:
                self._zip += chunk

    def _scan(self, *, final: bool) -> None:
        # Offset 0 is judged by ``finish`` for every protocol; here only PROTO headers further in.
        buf = self._buf
        limit = len(buf) if final else len(buf) - WINDOW
        for hit in _PROTO_HEADER.finditer(buf, 0, min(len(buf), limit + 1)):
            start = hit.start()
            if start >= limit:
                break
            if self._base + start == 0:
                continue
            match = pickle_at(buf, start, complete=final, require_proto=True)
            if match is not None:
                self.match = PickleMatch(self._base + start, match.protocol, match.imports)
                return
        del buf[:limit]
        self._base += limit


def _compression(head: bytes) -> str | None:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head[0] == 0x78 and head[1] in (0x01, 0x5E, 0x9C, 0xDA) and int.from_bytes(head[:2], "big") % 31 == 0:
        return "zlib"
    return None


class _PrefixInflater:
    """Decompresses only the first :data:`WINDOW` bytes of a compressed member (a bomb cannot grow past that)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._out = bytearray()
        self._done = False
        if kind == "gzip":
            self._d = zlib.decompressobj(31)
        elif kind == "zlib":
            self._d = zlib.decompressobj(15)
        elif kind == "bzip2":
            self._d = bz2.BZ2Decompressor()
        else:
            self._d = lzma.LZMADecompressor()

    def feed(self, chunk: bytes | memoryview) -> None:
        if self._done:
            return
        try:
            want = WINDOW + 1 - len(self._out)
            self._out += self._d.decompress(bytes(chunk), want)
        except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
            self._done = True
            return
        if len(self._out) > WINDOW or getattr(self._d, "eof", False):
            self._done = True

    def finish(self) -> PickleMatch | None:
        out = bytes(self._out[:WINDOW])
        match = pickle_at(out, 0, complete=len(self._out) <= WINDOW) or _inner(out)
        return PickleMatch(match.offset, match.protocol, match.imports, f"a {self.kind} stream") if match else None


def _inner(data: bytes) -> PickleMatch | None:
    scanner = PickleScanner(nested=False)
    scanner.feed(data)
    return scanner.finish()


def _zip_entries(data: bytes) -> PickleMatch | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        for info in archive.infolist():
            if info.is_dir():
                continue
            with archive.open(info) as entry:
                head = entry.read(WINDOW + 1)
            match = pickle_at(head[:WINDOW], 0, complete=len(head) <= WINDOW) or _inner(head[:WINDOW])
            if match is not None:
                return PickleMatch(match.offset, match.protocol, match.imports, f"zip entry {info.filename!r}")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError):
        return None
    return None
