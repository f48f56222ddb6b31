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
