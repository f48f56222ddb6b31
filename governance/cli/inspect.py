"""``governance inspect ARTEFACT [--json]``: per-member manifest and archive safety findings, nothing extracted."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK

# Below this size a progress bar would only flicker.
PROGRESS_MIN_BYTES = 256 << 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inspect",
        help="list a model.tar.gz's members and safety findings (streamed, nothing extracted)",
        description="Read ARTEFACT (a local path or s3:// URI) once: its sha256, every member's name, type, size, "
                    "mode and sha256, and safety findings (path traversal, links, devices, setuid, duplicates, "
                    "tar bombs, corrupt streams, pickle data, unparseable xgboost-model, code/). Exit 1 with "
                    "UNSAFE_ARCHIVE when a finding blocks.",
    )
    parser.add_argument("artefact", metavar="ARTEFACT", help="model.tar.gz, local path or s3://bucket/key")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    parser.set_defaults(handler=inspect_command)


@contextlib.contextmanager
def byte_progress(uri: str, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress callback drawing a bar on stderr for large local files on a terminal; ``None`` otherwise."""
    size = None
    if not str(uri).startswith("s3://"):
        with contextlib.suppress(OSError):
            size = os.path.getsize(uri)
    if not sys.stderr.isatty() or (size is not None and size < PROGRESS_MIN_BYTES):
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from governance.cli.console import stderr

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=stderr, transient=True) as progress:
        task = progress.add_task(label, total=size)
        yield lambda done: progress.update(task, completed=done)


def inspect_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json
    from governance.integrity.archive import inspect_artefact

    with byte_progress(args.artefact, "inspecting") as on_progress:
        report = inspect_artefact(args.artefact, on_progress=on_progress)
    if args.json:
        print_json({**report.to_dict(), "reason": "UNSAFE_ARCHIVE" if report.blocking else None})
    else:
        print_report(report)
    if report.blocking:
        codes = ", ".join(sorted({f.code for f in report.blocking}))
        print(f"governance inspect: UNSAFE_ARCHIVE: {args.artefact}: {codes}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return EXIT_OK


def print_report(report) -> None:
    from rich.table import Table

    from governance.cli.console import stdout

    stdout.print(f"artefact  {report.uri}")
    stdout.print(f"sha256    {report.sha256}")
    ratio = f", ratio {report.compression_ratio:g}x" if report.compression_ratio else ""
    stdout.print(f"size      {report.size:,} bytes ({report.uncompressed_size:,} uncompressed{ratio}), "
                 f"{len(report.members)} member(s)" + ("" if report.complete else " [red](not read to the end)[/]"))
    if report.s3:
        stdout.print(f"s3        ChecksumSHA256 {report.s3.get('checksum_sha256')} "
                     f"({'matches' if report.s3.get('matched') else 'not comparable'})")
    if report.code_members:
        stdout.print(f"[bold yellow]code/     {len(report.code_members)} member(s) run by the serving container: "
                     f"{', '.join(report.code_members)}[/]")
    table = Table(show_edge=False, pad_edge=False, box=None)
    for column in ("type", "mode", "size", "sha256", "name"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for member in report.members:
        name = member.name + (f" -> {member.linkname}" if member.linkname else "")
        table.add_row(member.type, f"{member.mode:04o}", f"{member.size:,}", (member.sha256 or "-")[:16], name)
    stdout.print(table)
    if not report.findings:
        stdout.print("[green]no findings[/]")
    for finding in report.findings:
        colour = "red" if finding.blocking else "yellow"
        stdout.print(f"[{colour}]{finding.severity.upper():8s} {finding.code}[/]: {finding.message}", highlight=False)
