"""``governance scan``: check storage, artefacts and SageMaker resources against the policy files.

Exit codes: 0 every check passed (or was waived / not applicable), 1 a check failed (``POLICY_VIOLATION``),
2 a bad call or policy file (with file:line), 3 some evidence could not be read and nothing failed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import timedelta

from governance.cli import scan_scale
from governance.errors import EXIT_CHECK_FAILED, EXIT_INCOMPLETE, InputError
from governance.output_guard import guard_output

FORMATS = ("json", "sarif", "junit", "csv")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="scan files, s3:// prefixes and SageMaker resources against the policy files",
        description="Scan TARGETs (local files or folders, s3://bucket/prefix, SageMaker model package group / "
                    "model package / training job / model ARNs) against the policies. Exit 0 pass, "
                    "1 a check failed, 2 bad call or policy, 3 some evidence could not be read.",
    )
    parser.add_argument("targets", nargs="*", metavar="TARGET")
    parser.add_argument("--discover", action="store_true",
                        help="also scan every S3 bucket of the account and every KMS key of the region")
    parser.add_argument("--policies", metavar="DIR", help="policy folder or file (default: the shipped policies)")
    parser.add_argument("--format", choices=FORMATS, default="json", help="output format (default json)")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the result here (local or s3://) "
                                                                "instead of stdout")
    parser.add_argument("--ignore-waivers", action="store_true", help="report waived findings as FAIL (audits)")
    parser.add_argument("--state", metavar="FILE",
                        help="incremental scan: reuse evidence of unchanged objects recorded in FILE (sealed)")
    parser.add_argument("--state-key", metavar="FILE", help="with --state: secret (32+ bytes) that authenticates "
                                                            "the state with an HMAC (default $GOVERNANCE_STATE_KEY)")
    parser.add_argument("--object-max-age", type=float, default=168.0, metavar="HOURS",
                        help="with --state: re-read an unchanged object's evidence after this long (default 168)")
    parser.add_argument("--config-max-age", type=float, default=60.0, metavar="MINUTES",
                        help="with --state: re-read bucket/KMS/SageMaker configuration after this long (default 60)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="parameters",
                        help="override a policy parameter (VALUE is YAML: --set 'trusted_accounts=[\"1111...\"]')")
    parser.add_argument("--workers", type=int, default=16, help="parallel API calls (default 16)")
    parser.add_argument("--ledger", metavar="LEDGER",
                        help="append a 'scan' record to this ledger (local file or s3:// prefix)")
    parser.add_argument("--actor", help="who runs the scan, in the ledger record (default: GOVERNANCE_ACTOR, the AWS "
                                        "principal, else user@host)")
    parser.add_argument("--ledger-key", metavar="PEM", help="sign the ledger record with this private key")
    parser.add_argument("--ledger-kms-key-id", metavar="ID", help="sign the ledger record with this KMS key")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress or summary on stderr")
    scan_scale.add_arguments(parser)
    parser.set_defaults(handler=scan_command)


def parse_parameters(items: list[str]) -> dict:
    from governance.yaml_lines import load_value

    values = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise InputError("BAD_PARAMETER", f"--set {item!r}: expected NAME=VALUE")
        try:
            values[name.strip()] = load_value(raw, f"--set {name.strip()}") if raw.strip() else ""
        except InputError as err:  # alias bombs and deep nesting are refused like any invalid YAML
            raise InputError("BAD_PARAMETER", f"VALUE is not acceptable YAML: {err.message}") from None
    return values


def scan_command(args: argparse.Namespace) -> int:
    from governance.cli.console import BarProgress, stderr
    from governance.policy import ScanState, load_policies, output, scan
    from governance.policy.scan_record import ledger_signer_for, record_scan
    from governance.policy.state import state_key
    from governance.policy.targets import DISCOVER_TARGET

    if args.workers < 1:
        raise InputError("BAD_PARAMETER", "--workers must be at least 1")
    if (args.ledger_key or args.ledger_kms_key_id) and not args.ledger:
        raise InputError("BAD_USAGE", "--ledger-key/--ledger-kms-key-id sign a --ledger record; give --ledger too")
    if args.discover:
        args.targets = [*args.targets, DISCOVER_TARGET]
    guard_output(args.output, inputs=[*args.targets, args.policies, args.state, args.ledger], flag="--output")
    mode = scan_scale.wanted(args)
    ledger_signer = ledger_signer_for(args.ledger, args.ledger_key, args.ledger_kms_key_id)  # before scanning
    bundle = load_policies(args.policies, parameters=parse_parameters(args.parameters))
    if not args.quiet:
        for skipped in bundle.skipped:
            stderr.print(f"[dim]skipped {skipped['file']} (kind: {skipped['kind']}; not a policy set)[/]")
    state = None
    if args.state:
        state = ScanState(args.state, object_max_age=timedelta(hours=args.object_max_age),
                          config_max_age=timedelta(minutes=args.config_max_age), key=state_key(args.state_key))
    elif args.state_key:
        raise InputError("BAD_USAGE", "--state-key authenticates a --state file; give --state too")
    if mode is not None:
        with BarProgress(stderr) if not args.quiet else contextlib.nullcontext() as progress:
            result = scan_scale.run(mode, args, bundle, state, progress)
    elif args.quiet:
        result = scan(args.targets, bundle=bundle, ignore_waivers=args.ignore_waivers, state=state,
                      workers=args.workers)
    else:
        with BarProgress(stderr) as progress:
            result = scan(args.targets, bundle=bundle, ignore_waivers=args.ignore_waivers, state=state,
                          workers=args.workers, progress=progress)
    data = output.render(result, args.format)
    if args.output:
        output.write(result, args.format, args.output)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    if args.ledger:
        from governance.actor import resolve_actor

        record_scan(args.ledger, result, {f"policy.{args.format}": data}, actor=resolve_actor(args.actor),
                    signer=ledger_signer)
    if not args.quiet:
        print_summary(result, stderr, args.output)
    if result.exit_code == EXIT_CHECK_FAILED:
        print(f"governance scan: POLICY_VIOLATION: {result.counts['FAIL']} finding(s) failed", file=sys.stderr)
    elif result.exit_code == EXIT_INCOMPLETE:
        print(f"governance scan: SCAN_INCOMPLETE: {result.counts['ERROR']} finding(s) could not be decided "
              "(evidence unreadable)", file=sys.stderr)
    return result.exit_code


def print_summary(result, console, output: str | None) -> None:
    from governance.policy import Status

    counts = result.counts
    colour = {"PASS": "green", "FAIL": "red", "WAIVED": "yellow", "N/A": "dim", "ERROR": "magenta"}
    line = "  ".join(f"[{colour[k]}]{k} {v}[/]" for k, v in counts.items())
    stats = result.stats
    console.print(f"scan: {line}   ({sum(stats['resources'].values())} resources, {stats['api_calls_total']} API "
                  f"calls, {stats['reused_evidence']} reused, {result.seconds:.1f} s)")
    notable = [f for f in result.findings if f.status in (Status.FAIL, Status.ERROR)]
    for finding in notable[:25]:
        why = finding.message if len(finding.message) <= 140 else finding.message[:137] + "..."
        console.print(f"  [{colour[str(finding.status)]}]{finding.status:<5}[/] {finding.check.id:<12} "
                      f"{finding.check.severity:<8} {finding.resource.id}\n        {why}", markup=True,
                      highlight=False, soft_wrap=True)
    if len(notable) > 25:
        console.print(f"  … and {len(notable) - 25} more (see the full result)")
    if output:
        console.print(f"written {output}")
