"""One small storage interface over local paths (the embedded default) and ``s3://bucket/key`` URIs.

Callers never branch on the scheme: they open, read and write URIs, and errors come back as the toolkit's
own types (a missing file is an :class:`~governance.errors.InputError`, an unreachable endpoint is
:class:`~governance.errors.Incomplete`).

>>> import tempfile, os
>>> target = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> _ = write_bytes_atomic(target, b"hello")
>>> read_bytes(target)
b'hello'
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from governance.errors import Incomplete, InputError, NotFound, reading


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def is_s3_uri(uri: str | os.PathLike) -> bool:
    return isinstance(uri, str) and uri.startswith("s3://")


def parse_s3_uri(uri: str) -> S3Location:
    if not is_s3_uri(uri):
        raise InputError("BAD_URI", f"{uri}: not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise InputError("BAD_URI", f"{uri}: no bucket in the URI")
    return S3Location(bucket, key)


def s3_client(region: str | None = None, *, validate_checksums: bool = True):
    """A boto3 S3 client; ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` point it at a local server.

    Each client gets a session of its own, so clients may be built on several threads at once. Callers that
    compare S3's checksum with their own digest pass ``validate_checksums=False`` to avoid hashing twice.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 5, "mode": "adaptive"},
        s3={"addressing_style": "path"},
        response_checksum_validation="when_supported" if validate_checksums else "when_required",
    )
    session = boto3.session.Session()
    return session.client(
        "s3", region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1", config=config
    )


def aws_error(err: Exception, what: str) -> Exception:
    """Translate a botocore exception into the toolkit's error types (used by every AWS caller)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ParamValidationError

    if isinstance(err, ParamValidationError):  # the request itself is wrong (s3://bucket with no key, say)
        return InputError("BAD_URI", f"{what}: {' '.join(str(err).split())}")
    if isinstance(err, ClientError):
        code = err.response.get("Error", {}).get("Code", "")
        message = err.response.get("Error", {}).get("Message", "") or code
        if code in {"NoSuchKey", "NoSuchBucket", "404", "NotFound", "NoSuchVersion"}:
            return NotFound("NOT_FOUND", f"{what}: not found ({code})")
        if code in {"AccessDenied", "403", "Forbidden", "AccessDeniedException"}:
            return Incomplete("ACCESS_DENIED", f"{what}: access denied ({message})")
        return Incomplete("AWS_ERROR", f"{what}: {code}: {message}")
    if isinstance(err, NoCredentialsError):
        return Incomplete("NO_CREDENTIALS", f"{what}: no AWS credentials configured")
    if isinstance(err, BotoCoreError):
        return Incomplete("ENDPOINT_UNREACHABLE", f"{what}: {err}")
    return Incomplete("IO_ERROR", f"{what}: {err}")


@contextlib.contextmanager
def open_stream(
    uri: str | os.PathLike, *, version_id: str | None = None, checksum_mode: bool = False
) -> Iterator[BinaryIO]:
    """Open ``uri`` for streaming reads; S3 bodies are streamed, never spooled to a temporary file.

    For S3 the stream's ``.response`` holds the GetObject metadata; ``checksum_mode`` asks S3 for the stored
    ``ChecksumSHA256`` (returned, not validated, so the caller can compare it with its own digest).
    """
    if is_s3_uri(uri):
        from botocore.exceptions import BotoCoreError, ClientError

        location = parse_s3_uri(str(uri))
        try:
            extra = {"VersionId": version_id} if version_id else {}
            if checksum_mode:
                extra["ChecksumMode"] = "ENABLED"
            client = s3_client(validate_checksums=not checksum_mode)
            response = client.get_object(Bucket=location.bucket, Key=location.key, **extra)
        except (ClientError, BotoCoreError) as err:
            raise aws_error(err, str(uri)) from None
        body = response["Body"]
        try:
            yield _BotoStream(body, response)
        except (ClientError, BotoCoreError) as err:
            raise aws_error(err, str(uri)) from None
        finally:
            body.close()
        return
    with open_regular(uri) as handle:
        yield handle


@contextlib.contextmanager
def open_regular(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a local file for reading only if it is a regular file.

    A FIFO would block the reader forever and ``/dev/zero`` never ends, so anything else is refused before a
    byte is read (the open itself does not block: it is non-blocking until the type is known).
    """
    path = Path(path)
    try:
        with reading(path):
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise InputError("NOT_A_FILE", f"{path}: cannot be opened as a file ({err.strerror or err})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError("NOT_A_FILE", f"{path}: is a directory, expected a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError("NOT_A_REGULAR_FILE", f"{path}: is not a regular file (a pipe, socket or device); "
                                                   "only regular files are read")
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


class _BotoStream:
    """File-like wrapper over a botocore StreamingBody that also exposes the GetObject response metadata."""

    def __init__(self, body, response: dict) -> None:
        self._body = body
        self.response = response

    def read(self, size: int = -1) -> bytes:
        return self._body.read(None if size is None or size < 0 else size)

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._body.close()


def read_bytes(uri: str | os.PathLike, *, max_bytes: int | None = None) -> bytes:
    """All of ``uri``'s bytes; with ``max_bytes``, a larger input is refused (bad input) instead of read."""
    with open_stream(uri) as stream:
        data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise InputError("INPUT_TOO_LARGE", f"{uri}: larger than {max_bytes:,} bytes, the limit for this input")
    return data


def exists(uri: str | os.PathLike) -> bool:
    if is_s3_uri(uri):
        from botocore.exceptions import BotoCoreError, ClientError

        location = parse_s3_uri(str(uri))
        try:
            s3_client().head_object(Bucket=location.bucket, Key=location.key)
            return True
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise aws_error(err, str(uri)) from None
        except BotoCoreError as err:
            raise aws_error(err, str(uri)) from None
    return Path(uri).is_file()


def write_bytes_atomic(uri: str | os.PathLike, data: bytes, *, mode: int | None = None,
                       encryption: dict[str, str] | None = None) -> Path | str:
    """Write all of ``data`` or nothing: a temporary file in the same folder, fsync, then rename.

    For ``s3://`` a single PutObject is already all-or-nothing; ``encryption`` (see :func:`object_encryption`) asks
    for that server-side encryption instead of the bucket's default.
    """
    if is_s3_uri(uri):
        from botocore.exceptions import BotoCoreError, ClientError

        location = parse_s3_uri(str(uri))
        try:
            s3_client().put_object(Bucket=location.bucket, Key=location.key, Body=data, ChecksumAlgorithm="SHA256",
                                   **(encryption or {}))
        except (ClientError, BotoCoreError) as err:
            raise aws_error(err, str(uri)) from None
        return str(uri)
    path = Path(uri)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _write_error(err, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _write_error(err, path) from None
        raise
    return path


def _write_error(err: OSError, path: Path) -> Exception:
    """A failed local write as the toolkit's error: a wrong output path is bad input, the rest incomplete."""
    if isinstance(err, IsADirectoryError):
        return InputError("BAD_OUTPUT", f"{path}: is a directory, expected a file path")
    if isinstance(err, (NotADirectoryError, FileExistsError)):
        return InputError("BAD_OUTPUT", f"{path}: a parent of this path is a file, not a folder")
    if isinstance(err, PermissionError):
        return Incomplete("PERMISSION_DENIED", f"{path}: cannot write ({err.strerror})")
    return Incomplete("IO_ERROR", f"{path}: cannot write ({err.strerror or err})")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block finishes.

    For writers (tarfile, reportlab, matplotlib) that want a file name rather than bytes.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as err:
        raise _write_error(err, target) from None
    os.close(fd)
    try:
        yield Path(tmp)
        try:
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except OSError as err:
            raise _write_error(err, target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


# Bounds on reading a folder of evidence from S3: an evidence folder is a few MB of JSON, charts and provenance.
FOLDER_MAX_OBJECTS = 2_000
FOLDER_MAX_BYTES = 512 * 1024 * 1024


def object_encryption(uri: str) -> dict[str, str]:
    """The server-side encryption ``uri`` was written with, as PutObject arguments (empty when none is reported).

    Files added beside an object written by a SageMaker job (which encrypts its outputs with the job's KMS key) are
    written the same way, so the folder stays under one key whatever the bucket's default.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    location = parse_s3_uri(uri)
    try:
        head = s3_client().head_object(Bucket=location.bucket, Key=location.key)
    except (ClientError, BotoCoreError) as err:
        raise aws_error(err, uri) from None
    algorithm = head.get("ServerSideEncryption")
    if algorithm in ("aws:kms", "aws:kms:dsse") and head.get("SSEKMSKeyId"):
        return {"ServerSideEncryption": algorithm, "SSEKMSKeyId": head["SSEKMSKeyId"]}
    return {"ServerSideEncryption": algorithm} if algorithm else {}


def download_folder(uri: str, target: str | os.PathLike, *, max_objects: int = FOLDER_MAX_OBJECTS,
                    max_bytes: int = FOLDER_MAX_BYTES) -> dict[str, str]:
    """Copy every object under the ``s3://`` prefix ``uri`` into ``target``; ``{relative name: sha256}``.

    Bounded: more than ``max_objects`` objects or ``max_bytes`` bytes in all is refused before anything is read
    (``INPUT_TOO_LARGE``), and a key that would land outside ``target`` (``..``, empty parts) is refused
    (``UNSAFE_NAME``). Nothing is executed or extracted; an empty prefix is :class:`~governance.errors.NotFound`.
    """
    import hashlib

    from botocore.exceptions import BotoCoreError, ClientError

    location = parse_s3_uri(uri.rstrip("/") + "/")
    client = s3_client()
    listed: list[tuple[str, int]] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.key):
            listed += [(item["Key"], int(item.get("Size", 0))) for item in page.get("Contents", [])]
            if len(listed) > max_objects:
                raise InputError("INPUT_TOO_LARGE", f"{uri}: more than {max_objects:,} objects under the prefix")
    except (ClientError, BotoCoreError) as err:
        raise aws_error(err, uri) from None
    listed = [(key, size) for key, size in listed if not key.endswith("/")]
    if not listed:
        raise NotFound("NOT_FOUND", f"{uri}: no objects under this prefix")
    if sum(size for _, size in listed) > max_bytes:
        raise InputError("INPUT_TOO_LARGE", f"{uri}: more than {max_bytes:,} bytes under the prefix")
    root = Path(target)
    found = {}
    for key, size in listed:
        relative = key[len(location.key):]
        if any(part in ("", ".", "..") for part in relative.split("/")):
            raise InputError("UNSAFE_NAME", f"s3://{location.bucket}/{key}: not a plain file name under {uri}")
        data = read_bytes(f"s3://{location.bucket}/{key}", max_bytes=max(size, 0))
        write_bytes_atomic(root.joinpath(*relative.split("/")), data)
        found[relative] = hashlib.sha256(data).hexdigest()
    return found
