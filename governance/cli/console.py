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


def name_value_pairs(items: list[str], flag: str) -> dict[str, str]:
    """``{NAME: VALUE}`` from repeated ``FLAG NAME=VALUE`` arguments; a malformed one is a bad call."""
    from governance.errors import InputError

    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError("BAD_PARAMETER", f"{flag} {item!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values


def print_json(obj) -> None:
    from governance.jsonio import dumps

    sys.stdout.write(dumps(obj).decode("utf-8"))
    sys.stdout.flush()


class BarProgress:
    """Rich progress bars on ``console``, one per stage, as ``progress(stage, done, total)`` (totals may grow)."""

    def __init__(self, console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=console, transient=True)
        self._tasks: dict[str, int] = {}

    def __enter__(self):
        self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._bar.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total)
        self._bar.update(self._tasks[stage], completed=done, total=total)
