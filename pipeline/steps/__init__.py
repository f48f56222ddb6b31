"""Pipeline steps. Each module has a function for library use and a ``main(argv)`` container entry point."""

from __future__ import annotations

import sys
from collections.abc import Callable

from governance.errors import GovernanceError


def run_entry_point(step: Callable[[], object]) -> int:
    """Run a step as a container entry point: one clear line on stderr and the documented exit code on error."""
    try:
        step()
    except GovernanceError as err:
        print(f"{err.reason}: {err.message}", file=sys.stderr)
        return err.exit_code
    return 0
