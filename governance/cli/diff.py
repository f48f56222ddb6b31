"""``governance diff OLD NEW``: what changed between two versions, and whether it is a substantial modification."""

from __future__ import annotations

import argparse
import sys

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff", help="change log between two model versions; exit 1 when the change is substantial",
        description="OLD and NEW are evidence folders (or a demo folder holding evidence/), registered versions "
        "(local:model-package/GROUP/N) or SageMaker model package ARNs. Compares data, schema, hyperparameters, "
        "code digests, metrics (AUC with an interval), fairness by age band, SHAP ranking and reason codes, policy "
        "results, then judges the change against the change plan of the governance file.")
    parser.add_argument("old", metavar="OLD")
    parser.add_argument("new", metavar="NEW")
    parser.add_argument("--governance-file", help="model governance YAML holding change_plan (default: the "
                                                  "built-in plan, the same as the QuickLoan example's)")
    parser.add_argument("--registry", help="local registry (registry.db) for local:model-package/... references")
    parser.add_argument("--out", help="write the change log (changes.json) here")
    parser.add_argument("--json", action="store_true", help="print the change log on stdout")
    parser.set_defaults(handler=diff_command)


def resolve_evidence(reference: str, registry: str | None) -> tuple[str, str]:
    """(evidence location, label) for a folder, a demo folder, a local registry version or a SageMaker ARN."""
    from pathlib import Path

    from governance.errors import InputError

    if reference.startswith(("local:", "arn:")):
        from governance.approval import find_candidate

        candidate = find_candidate(reference, registry)
        evidence = candidate.metadata.get("evidence_uri")
        if not evidence:
            raise InputError("NO_EVIDENCE", f"{reference}: the package names no evidence_uri")
        return evidence, candidate.arn
    path = Path(reference)
    if (path / "evidence" / "evaluation.json").is_file():
        return str(path / "evidence"), reference
    return reference, reference


def diff_command(args: argparse.Namespace) -> int:
    from governance.changes import compare_versions, load_change_plan
    from governance.cli.console import print_json, stderr

    plan, source = load_change_plan(args.governance_file)
    old, old_label = resolve_evidence(args.old, args.registry)
    new, new_label = resolve_evidence(args.new, args.registry)
    changes = compare_versions(old, new, plan, source, old_label=old_label, new_label=new_label)
    if args.out:
        from governance import storage
        from governance.jsonio import dumps

        storage.write_bytes_atomic(args.out, dumps(changes))
    if args.json:
        print_json(changes)
    print_summary(changes, stderr)
    if changes["assessment"]["substantial"]:
        broken = [r["rule"] for r in changes["assessment"]["rules"] if r["status"] == "BROKEN"]
        print(f"governance diff: SUBSTANTIAL_MODIFICATION: {', '.join(broken)}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _number(value) -> str:
    return "—" if value is None else f"{value:.4f}"


def print_summary(changes: dict, console) -> None:
    from rich.markup import escape

    console.print(f"old         {escape(changes['old']['label'])}")
    console.print(f"new         {escape(changes['new']['label'])}")
    for name, entry in changes["metrics"].items():
        interval = entry.get("interval")
        console.print(f"{name:11} {_number(entry['old'])} → {_number(entry['new'])} (Δ {_number(entry['delta'])}"
                      + (f", 95% [{interval[0]:+.4f}, {interval[1]:+.4f}]" if interval else "") + ")")
    if changes["hyperparameters"]:
        console.print("hyperparams " + escape(", ".join(f"{k}: {v['old']} → {v['new']}"
                                                        for k, v in changes["hyperparameters"].items())))
    for rule in changes["assessment"]["rules"]:
        colour = {"HOLDS": "green", "BROKEN": "red", "STATED": "yellow"}[rule["status"]]
        console.print(f"[{colour}]{rule['status']:6}[/] " + escape(f"{rule['rule']}: {rule['detail']}"))
    console.print(escape(changes["assessment"]["conclusion"]))
