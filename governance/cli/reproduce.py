"""``governance reproduce PACK.pdf --data CSV (--key PUB | --trusted FILE) [--json] [--tolerance KIND=VALUE]``:
re-derive every figure the audit pack prints, from the evidence it carries and the raw data.

A wiring command: the pack is verified and its attachments read with :mod:`reports` (the one pack verifier), and
the figures are re-derived by :mod:`governance.reproduce`, which never imports ``reports``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from governance.errors import CheckFailed, InputError

USAGE = ("governance reproduce PACK.pdf --data CSV (--key PUB | --trusted FILE) [--signature SIG] [--json] "
         "[--tolerance KIND=VALUE ...]")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reproduce", usage=USAGE, help="re-perform an audit pack: re-derive every printed figure and compare",
        description="Verify the pack's signature and its attached evidence, then re-derive every figure of the "
                    "performance, fairness, explainability and data sections from the evidence the pack carries "
                    "and the raw data: splits re-drawn, model re-trained, metrics with scipy, fairness with pandas "
                    "and fairlearn, SHAP with shap.TreeExplainer. Exit 0 all match, 1 a figure differs (the first "
                    "is named) or the pack does not verify, 2 bad input, 3 could not complete.")
    parser.add_argument("pdf", metavar="PACK.pdf")
    parser.add_argument("--data", metavar="CSV",
                        help="the raw data file the pipeline read (plain or .gz); needed: every figure is re-derived "
                             "from it (without it: exit 2)")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--key", metavar="PUB", help="the pack signer's public key")
    key.add_argument("--trusted", metavar="FILE", help="trusted-signers YAML (as for 'governance verify')")
    parser.add_argument("--signature", metavar="SIG", help="the pack's signature (default PACK.pdf.sig)")
    parser.add_argument("--tolerance", action="append", default=[], metavar="KIND=VALUE",
                        help="override a tolerance (kinds: exact, metric, profile, interval, shap; docs/reproduce.md)")
    parser.add_argument("--json", action="store_true", help="print the figures and the summary as JSON on stdout")
    parser.set_defaults(handler=reproduce_command)


def _tolerances(items: list[str]) -> dict[str, float]:
    from governance.reproduce import TOLERANCES

    found = {}
    for item in items:
        kind, _, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if kind not in TOLERANCES or not number >= 0:
            raise InputError("BAD_USAGE", f"--tolerance {item!r}: expected KIND=VALUE with KIND one of "
                                          f"{', '.join(TOLERANCES)} and VALUE a number ≥ 0")
        found[kind] = number
    return found


def _verify(pdf: Path, args: argparse.Namespace) -> dict:
    """The pack verified with the key, or with the trusted signer whose key signed it (then admitted by the file)."""
    from governance.jsonio import loads
    from reports import verify_pack

    if args.key:
        from governance.signing import load_verifier

        return verify_pack(pdf, load_verifier(args.key), signature=args.signature)
    from governance.integrity.trust import TrustPolicy

    policy = TrustPolicy.load(args.trusted)
    signature = Path(args.signature or f"{pdf}.sig")
    try:
        envelope = loads(signature.read_bytes(), what=str(signature), error=CheckFailed)
    except OSError as err:
        raise InputError("SIGNATURE_MISSING", f"{signature}: cannot read the pack's signature "
                                              f"({err.strerror})") from None
    hint = next(iter(envelope.get("signatures") or [{}]), {}).get("keyid") if isinstance(envelope, dict) else None
    policy.admit(str(hint or ""), str(pdf.resolve()), datetime.now(UTC))
    candidate = policy.candidates(hint)[0]
    return verify_pack(pdf, candidate.verifier, signature=args.signature)


def reproduce_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr, stdout, step_progress
    from governance.reproduce import reproduce
    from reports.attachments import EVIDENCE_PREFIX, read_attachments

    tolerances = _tolerances(args.tolerance)
    pdf = Path(args.pdf)
    if args.data and not Path(args.data).is_file():
        raise InputError("NOT_A_FILE", f"{args.data}: no such data file")
    with step_progress("reproduce") as advance:
        advance("verify the pack's signature and evidence")
        verified = _verify(pdf, args)
        files, _ = read_attachments(pdf.read_bytes())
        evidence = {name.removeprefix(EVIDENCE_PREFIX): data for name, data in files.items()
                    if name.startswith(EVIDENCE_PREFIX)}
        report = reproduce(evidence, args.data, tolerances=tolerances, progress=advance)
    if args.json:
        print_json({"pdf": str(pdf), "signature": verified["signature"], **report.to_json()})
    else:
        stdout.print(_table(report))
    stderr.print(f"signature  {verified['signature']}", soft_wrap=True)
    stderr.print(report.summary(), soft_wrap=True)
    return report.exit_code()


def _table(report):
    from rich.table import Table

    colours = {"match": "green", "differs": "bold red", "attested": "yellow"}
    table = Table("Section", "Figure", "Printed", "Recomputed", "Tolerance", "Match", title="Re-performance")
    table.columns[1].overflow = "fold"
    for f in report.figures:
        table.add_row(f.section, f.figure, _shown(f.printed), _shown(f.recomputed),
                      "" if f.tolerance is None else f"{f.tolerance:g}", f"[{colours[f.status]}]{f.status}[/]")
    return table


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)
