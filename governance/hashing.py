"""SHA-256 over files, streams and bytes, in one pass with a large buffer.

>>> sha256_bytes(b"")
'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path
from typing import BinaryIO

# 1 MiB reads keep hashlib near memory bandwidth without holding large buffers.
CHUNK_SIZE = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_stream(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """Return ``(hex digest, byte count)`` of everything left in ``stream``."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    readinto = getattr(stream, "readinto", None)
    if readinto is not None:
        while n := readinto(view):
            digest.update(view[:n])
            size += n
    else:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class _HashingReader:
    """Passes reads through while hashing every byte, so one pass yields the digest of the bytes as stored."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def sha256_gzip_stream(stream: BinaryIO, label: str = "gzip file") -> tuple[str, int, str, int]:
    """``(sha256, size)`` of a gzip stream's bytes and of its decompressed content, in one pass over the stream."""
    from governance.errors import InputError

    reader = _HashingReader(stream)
    content, total = hashlib.sha256(), 0
    try:
        with gzip.GzipFile(fileobj=reader) as plain:
            while chunk := plain.read(CHUNK_SIZE):
                content.update(chunk)
                total += len(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise InputError("BAD_GZIP", f"{label}: not a readable gzip file ({err})") from None
    while reader.read(CHUNK_SIZE):  # anything after the last member still belongs to the file's digest
        pass
    return reader.digest.hexdigest(), reader.size, content.hexdigest(), total


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a local regular file's bytes (a FIFO or a device is refused, not read forever)."""
    from governance.storage import open_regular

    with open_regular(path) as handle:
        return sha256_stream(handle)[0]
