"""``governance lineage show|verify|mirror EVIDENCE_DIR``: the chain from dataset to model package."""

from __future__ import annotations

import argparse
from pathlib import Path

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK
from governance.output_guard import guard_output


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("lineage", help="show or verify the signed lineage in an evidence folder")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True

    show = actions.add_parser("show", help="print the chain as a tree and draw lineage.png")
    show.add_argument("evidence_dir", metavar="EVIDENCE_DIR")
    show.add_argument("--key", metavar="PUB", help="public key PEM: verify the statements' signatures while showing")
    show.add_argument("--png", metavar="FILE", help="where to draw the graph (default EVIDENCE_DIR/lineage.png)")
    show.add_argument("--no-png", action="store_true", help="print the tree only")
    show.set_defaults(handler=show_command)

    verify = actions.add_parser("verify", help="check the index, every signature, every link and the bytes")
    verify.add_argument("evidence_dir", metavar="EVIDENCE_DIR")
    verify.add_argument("--key", metavar="PUB", required=True, help="public key PEM of the evidence signer")
    verify.add_argument("--anchor-key", metavar="PUB", help="public key that sealed the index when it is not the "
                                                           "evidence signer's (a validated folder: the validator's)")
    verify.add_argument("--no-files", action="store_true",
                        help="skip re-hashing the referenced data and model files (local or s3://)")
    verify.add_argument("--json", action="store_true", help="print the full report as JSON on stdout")
    verify.set_defaults(handler=verify_command)

    mirror = actions.add_parser("mirror", help="mirror the chain into SageMaker ML Lineage and the model package")
    mirror.add_argument("evidence_dir", metavar="EVIDENCE_DIR")
    mirror.add_argument("--model-package-arn", help="SageMaker model package version to annotate")
    mirror.add_argument("--signature-uri", help="where the artefact's signature is stored")
    mirror.add_argument("--evidence-uri", help="where this evidence folder is stored")
    mirror.add_argument("--audit-pack-uri", help="where the audit pack is stored")
    mirror.add_argument("--key", metavar="PUB", help="verify the statements before mirroring them")
    mirror.add_argument("--json", action="store_true", help="print what was created as JSON on stdout")
    mirror.set_defaults(handler=mirror_command)


def _verifier(path: str | None):
    from governance.signing import load_verifier

    return load_verifier(path) if path else None


def show_command(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from governance.cli.console import stderr, stdout
    from governance.errors import CheckFailed, InputError
    from governance.lineage import lineage_tree, load_chain
    from governance.lineage.graph import LINEAGE_PNG, refresh_lineage_png

    root = Path(args.evidence_dir)
    if not root.is_dir():
        raise InputError("NOT_A_DIRECTORY", f"{root}: no such evidence folder")
    chain, problems = load_chain(root, _verifier(args.key))
    if not chain.hops and not problems:
        raise InputError("NO_LINEAGE", f"{root}: no provenance statements (provenance/*.intoto.json)")
    signed = "signatures verified" if args.key else "signatures NOT verified (pass --key)"
    stdout.print(f"lineage of {root}: {len(chain.hops)} step(s), {signed}")
    stdout.print(lineage_tree(chain, "dataset → model package"))
    for problem in problems:
        stderr.print(f"[red]✗ {escape(problem.message)}[/]", soft_wrap=True)
    if not args.no_png:
        guard_output(args.png, inputs=[args.key], flag="--png")
        written = refresh_lineage_png(chain, root, args.png)
        if written is None:
            stderr.print(f"[yellow]{root} is sealed (index.json): {LINEAGE_PNG} not rewritten; pass --png FILE[/]",
                         soft_wrap=True)
        else:
            stderr.print(f"graph       {written}", soft_wrap=True)
    if problems:
        raise CheckFailed(problems[0].reason, problems[0].message)
    return EXIT_OK


def verify_command(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from governance.cli.console import print_json, stderr, stdout
    from governance.lineage import check_lineage

    report = check_lineage(args.evidence_dir, _verifier(args.key), check_files=not args.no_files,
                           anchor_verifier=_verifier(args.anchor_key))
    if args.json:
        print_json(report.to_dict())
    else:
        _print_report(report, stdout)
    for problem in report.problems:
        stderr.print(f"[red]✗ {problem.reason}: {escape(problem.message)}[/]", soft_wrap=True)
    for warning in report.warnings:
        stderr.print(f"[yellow]! {escape(warning)}[/]", soft_wrap=True)
    if not report.passed:
        first = report.problems[0]
        stderr.print(f"governance lineage verify: {first.reason}: {first.message}", soft_wrap=True, markup=False)
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _print_report(report, console) -> None:
    ok = "[green]✓[/]"
    index = report.index
    if index is not None and index.passed:
        console.print(f"{ok} index      {len(index.entries)} files, signature verified", soft_wrap=True)
    hops = report.chain.hops
    if hops:
        console.print(f"{ok if all(h.signature == 'verified' for h in hops) else '✗'} statements "
                      f"{len(hops)} signed: {', '.join(h.step for h in hops)}", soft_wrap=True)
    holding = sum(1 for link in report.chain.links if link.holds)
    console.print(f"{ok if holding == len(report.chain.links) else '✗'} chain      {holding}/{len(report.chain.links)} "
                  "links hold", soft_wrap=True)
    counts = {status: sum(1 for f in report.files if f.status == status) for status in ("match", "mismatch",
                                                                                            "unreachable")}
    if report.files:
        console.print(f"{ok if not counts['mismatch'] else '✗'} files      {counts['match']} re-hashed and match, "
                      f"{counts['mismatch']} differ, {counts['unreachable']} not reachable", soft_wrap=True)
    if report.ledger is not None:
        ledger = report.ledger
        console.print(f"{ok if ledger['passed'] else '✗'} ledger     {ledger['records']} records, "
                      f"{ledger['checkpoints_verified']}/{ledger['checkpoints']} checkpoints verified", soft_wrap=True)
    if report.passed:
        console.print("[bold green]lineage verified[/]", soft_wrap=True)


def mirror_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr
    from governance.lineage.sagemaker_mirror import mirror_evidence

    result = mirror_evidence(
        args.evidence_dir, verifier=_verifier(args.key), model_package_arn=args.model_package_arn,
        signature_uri=args.signature_uri, evidence_uri=args.evidence_uri, audit_pack_uri=args.audit_pack_uri,
    )
    if args.json:
        print_json(result)
    lineage = result["lineage"]
    stderr.print(f"lineage     {lineage['status']}: {len(lineage['artifacts'])} artifact(s), "
                 f"{len(lineage['actions'])} action(s), {len(lineage['associations'])} association(s)"
                 + (f" — {lineage['reason']}" if lineage.get("reason") else ""), soft_wrap=True)
    if result.get("model_package"):
        stderr.print(f"package     {result['model_package']['arn']}: CustomerMetadataProperties updated",
                     soft_wrap=True)
    return EXIT_OK
