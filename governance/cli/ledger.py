"""``governance ledger verify|append|repair``: the append-only, hash-chained log of governance events."""

from __future__ import annotations

import argparse

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ledger", help="verify (or append to) the tamper-evident governance ledger")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True

    verify = actions.add_parser("verify", help="detect edited, deleted, reordered or truncated records")
    verify.add_argument("ledger", metavar="LEDGER", help="ledger.jsonl, or s3://bucket/prefix/ (Object Lock)")
    verify.add_argument("--key", metavar="PUB", help="public key PEM: also verify the signed checkpoints and head")
    verify.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    verify.add_argument("--anchor", metavar="INDEX", help="the evidence index.json that sealed the ledger (default: "
                                                          "an index.json beside it): detects a rollback")
    verify.add_argument("--anchor-key", metavar="PUB", help="public key that sealed the anchoring index when it is "
                                                            "not --key's (e.g. an index re-sealed by a validator)")
    verify.set_defaults(handler=verify_command)

    append = actions.add_parser("append", help="append one governance event (for scripts and CI steps)")
    append.add_argument("ledger", metavar="LEDGER", help="ledger.jsonl, or s3://bucket/prefix/ (Object Lock)")
    append.add_argument("event", metavar="EVENT", help="e.g. pipeline-run, sign, verify, scan, approve, pack")
    append.add_argument("--actor", required=True, help="who or what did it")
    append.add_argument("--subject", default="", help="what it was done to (an artefact URI, a package ARN)")
    append.add_argument("--digest", action="append", default=[], metavar="NAME=SHA256", help="a digest involved")
    append.add_argument("--detail", action="append", default=[], metavar="KEY=VALUE", help="a detail to record")
    append.add_argument("--key", metavar="PEM", help="signing key: sign checkpoints and the head")
    append.set_defaults(handler=append_command)

    repair = actions.add_parser("repair", help="move a crash's cut final line aside, recorded in the ledger")
    repair.add_argument("ledger", metavar="LEDGER", help="ledger.jsonl")
    repair.add_argument("--actor", default="governance ledger repair", help="who is repairing it")
    repair.add_argument("--key", metavar="PEM", help="signing key of a signed ledger (also moves aside unsigned "
                                                     "records after its signed head)")
    repair.set_defaults(handler=repair_command)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    from governance.errors import InputError

    found = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InputError("BAD_ARGUMENT", f"--{what} {item!r}: expected NAME=VALUE")
        found[name] = value
    return found


def verify_command(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from governance.cli.console import print_json, stderr, stdout
    from governance.ledger import check_ledger
    from governance.signing import load_verifier

    report = check_ledger(args.ledger, load_verifier(args.key) if args.key else None, anchor=args.anchor,
                          anchor_verifier=load_verifier(args.anchor_key) if args.anchor_key else None)
    if args.json:
        print_json(report.to_dict())
    elif report.passed:
        signed = (f"{report.checkpoints_verified}/{report.checkpoints} checkpoint(s) verified" if args.key
                  else f"{report.checkpoints} checkpoint(s), signatures not checked (pass --key)")
        stdout.print(f"[green]✓[/] {report.location}: {report.records} records, chain intact, {signed}, "
                     f"head {report.head}", soft_wrap=True)
    for warning in report.warnings:
        stderr.print(f"[yellow]! {escape(warning)}[/]", soft_wrap=True)
    if not report.passed:
        for problem in report.problems[1:]:
            stderr.print(f"[red]✗ {escape(problem.message)}[/]", soft_wrap=True)
        first = report.problems[0]
        stderr.print(f"governance ledger verify: {first.reason}: {first.message}", soft_wrap=True, markup=False)
        return EXIT_CHECK_FAILED
    return EXIT_OK


def append_command(args: argparse.Namespace) -> int:
    from governance.cli.console import stderr
    from governance.ledger import Ledger
    from governance.signing import load_signer

    ledger = Ledger(args.ledger, load_signer(args.key) if args.key else None)
    record = ledger.append(args.event, args.actor, args.subject, _pairs(args.digest, "digest"),
                           _pairs(args.detail, "detail"))
    stderr.print(f"record {record['seq']} appended to {ledger.location} ({record['hash'][:16]}…)",
                 soft_wrap=True)
    return EXIT_OK


def repair_command(args: argparse.Namespace) -> int:
    from governance.cli.console import stderr
    from governance.ledger import Ledger
    from governance.signing import load_signer

    ledger = Ledger(args.ledger, load_signer(args.key) if args.key else None)
    repaired = ledger.repair(args.actor)
    if repaired is None:
        stderr.print(f"{ledger.location}: nothing to repair", soft_wrap=True, markup=False)
        return EXIT_OK
    stderr.print(f"{ledger.location}: moved {repaired['moved_bytes']:,} byte(s) ({repaired['records_moved']} complete "
                 f"record(s)) to {repaired['moved_to']}; recorded as record {repaired['record']['seq']}",
                 soft_wrap=True, markup=False)
    return EXIT_OK
