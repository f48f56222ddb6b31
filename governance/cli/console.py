"""Shared terminal output: progress on stderr (so stdout stays machine-readable) and small helpers."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.console import Console

stderr = Console(stderr=True, highlight=False)
stdout = Console(highlight=False, soft_wrap=True)


@contextlib.contextmanager
def step_progress(title: str) -> Iterator[Callable[[str], None]]:
    """Yield ``advance(step_name)``; shows a spinner with the current step and ticks finished ones."""
    status = stderr.status(title)
    current: list[str] = []
    with status:
        def advance(name: str) -> None:
            if current:
                stderr.print(f"  [green]✓[/] {current[-1]}")
            current.append(name)
            status.update(f"{title}: {name} …")

        yield advance
        if current:
            stderr.print(f"  [green]✓[/] {current[-1]}")


def print_json(obj) -> None:
    from governance.jsonio import dumps

    sys.stdout.write(dumps(obj).decode("utf-8"))
    sys.stdout.flush()

