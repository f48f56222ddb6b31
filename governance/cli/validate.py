"""``governance validate``: the independent validator's assessment of one model, signed with the validator's key."""

from __future__ import annotations

import argparse

from governance.errors import EXIT_OK, CheckFailed


def register(sub) -> None:
    parser = sub.add_parser("validate", help="independent validation: challenger, DeLong, sensitivity, robustness, "
                                             "security; signed by the validator")
    parser.add_argument("--model", required=True, metavar="ARTEFACT", help="the model.tar.gz to validate")
    parser.add_argument("--evidence", required=True, metavar="DIR", help="the model's evidence folder")
    parser.add_argument("--key", required=True, metavar="VALIDATOR_PEM", help="the validator's private key PEM")
    parser.add_argument("--policy", metavar="FILE", help="validation policy (default: policies/validation.yaml)")
    parser.add_argument("--out", metavar="DIR", help="where validation.json goes (default: the evidence folder, "
                                                     "re-sealing its index)")
    parser.add_argument("--data", metavar="DIR", help="folder holding the recorded splits (default: EVIDENCE/../data)")
    parser.add_argument("--by", default="model-validator", help="who validates (recorded in the ledger)")
    parser.add_argument("--ledger-key", metavar="PEM", help="sign the evidence ledger's head with this key (default: "
                                                            "the validator's)")
    parser.add_argument("--json", action="store_true", help="print validation.json on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from governance.cli.console import print_json, stderr, step_progress
    from governance.signing import load_signer
    from governance.validation import validate

    signer = load_signer(args.key)
    ledger_signer = load_signer(args.ledger_key) if args.ledger_key else None
    with step_progress("validate") as advance:
        result = validate(args.model, args.evidence, signer, policy=args.policy, out_dir=args.out,
                          data_dir=args.data, actor=args.by, ledger_signer=ledger_signer,
                          progress=advance)
    document = result.document
    if args.json:
        print_json(document)
    for check in document["checks"]:
        value = "n/a" if check["value"] is None else f"{check['value']:.4g}"
        colour = {"PASS": "green", "FAIL": "red"}.get(check["status"], "yellow")
        stderr.print(f"[{colour}]{check['status']:5}[/] " + escape(
            f"{check['id']}: {value} (limit: {check['direction']} {check['limit']:g}"
            f"{', blocking' if check['blocking'] else ''}) — {check['detail']}"), highlight=False)
    stderr.print(f"validation  {document['status']}: {escape(document['summary'])} → {result.path}")
    if not result.passed:
        first = result.blocking_failures[0]
        raise CheckFailed("VALIDATION_FAILED", f"{first['id']}: {first['detail']} (value {first['value']}, limit "
                                               f"{first['direction']} {first['limit']:g})")
    return EXIT_OK
