"""Errors that carry a reason code and map to the command line's exit codes in one place.

Exit codes are the same for every command:

* 0 — done, and every check passed;
* 1 — a governance check failed (:class:`CheckFailed`);
* 2 — the call or its input is wrong (:class:`InputError`);
* 3 — the check could not be completed: I/O, network, permission (:class:`Incomplete`).

>>> try:
...     raise InputError("MALFORMED_CSV", "data.csv: line 3: 'abc' is not a number in column age")
... except GovernanceError as err:
...     (err.exit_code, err.reason)
(2, 'MALFORMED_CSV')
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3


class GovernanceError(Exception):
    """Base error: a machine-readable reason code plus a message a user can act on."""

    exit_code = EXIT_INCOMPLETE

    def __init__(self, reason: str, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict:
        return {"reason": self.reason, "message": self.message, **({"details": self.details} if self.details else {})}


class CheckFailed(GovernanceError):
    """A governance check ran to completion and failed (tampered, untrusted, unsafe, policy violation, ...)."""

    exit_code = EXIT_CHECK_FAILED


class InputError(GovernanceError):
    """The call or its input is wrong: unknown flag, unreadable or malformed file, invalid policy."""

    exit_code = EXIT_BAD_INPUT


class Incomplete(GovernanceError):
    """The check could not be completed (I/O, network, permission). Never to be reported as a pass."""

    exit_code = EXIT_INCOMPLETE


class NotFound(InputError):
    """What was named does not exist: a local file (``FILE_NOT_FOUND``), an S3 object or bucket (``NOT_FOUND``),
    a key file (``KEY_NOT_FOUND``), a registry entry. Catch this type rather than matching reason codes."""


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str = "file", *, missing: str = "FILE_NOT_FOUND") -> Iterator[None]:
    """Map the OS errors of reading a local ``path`` to the toolkit's errors, the same way everywhere.

    A missing file is :class:`NotFound` (reason ``missing``), a folder where a file was expected is ``NOT_A_FILE``
    (exit 2), an unreadable one ``PERMISSION_DENIED`` (exit 3: the check could not be made).

    >>> import tempfile
    >>> for path in (tempfile.gettempdir(), "no-such.pem"):
    ...     try:
    ...         with reading(path, "key file", missing="KEY_NOT_FOUND"):
    ...             open(path, "rb")
    ...     except GovernanceError as err:
    ...         print(type(err).__name__, err.reason)
    InputError NOT_A_FILE
    NotFound KEY_NOT_FOUND
    """
    try:
        yield
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(missing, f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise InputError("NOT_A_FILE", f"{path}: is a directory, expected a {what}") from None
    except PermissionError:
        raise Incomplete("PERMISSION_DENIED", f"{path}: cannot read the {what} (permission denied)") from None
