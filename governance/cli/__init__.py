"""The ``governance`` command line: one parser, one place where errors become exit codes.

Each subcommand lives in its own module under :mod:`governance.cli` with a ``register(subparsers)`` function;
handlers return an exit code and import heavy libraries lazily so ``governance --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from governance import __version__
from governance.errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, GovernanceError

# Subcommand modules, in the order they appear in --help.
COMMAND_MODULES = (
    "demo",
    "pipeline",
    "keygen",
    "sign",
    "verify",
    "inspect",
    "lineage",
    "ledger",
    "fairness",
    "explain",
    "scan",
    "pack",
    "approve",
    "validate",
    "diff",
    "reproduce",
    "deploy",
    "monitor",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr, exit 2, no usage dump
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="governance",
        description="Model governance and audit toolkit: integrity, lineage, fairness, explainability, policy, "
        "audit packs.",
        epilog="Exit codes: 0 passed, 1 a governance check failed, 2 bad call or input, 3 could not complete.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"governance.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from governance.runtime import prefer_passive_openmp

    prefer_passive_openmp()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except GovernanceError as err:
        print(f"governance {args.command}: {err.reason}: {err.message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("governance: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a defect: still one line, and never a pass
        if os.environ.get("GOVERNANCE_DEBUG"):
            raise
        print(
            f"governance {args.command}: INTERNAL_ERROR: {type(err).__name__}: {err} "
            "(set GOVERNANCE_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE


if __name__ == "__main__":
    raise SystemExit(main())
