"""``governance validate``: the independent validator's assessment of one model, signed with the validator's key."""

from __future__ import annotations

import argparse
import os

from governance.errors import EXIT_OK, CheckFailed


def register(sub) -> None:
    parser = sub.add_parser("validate", help="independent validation: challenger, DeLong, sensitivity, robustness, "
                                             "security; signed by the validator")
    parser.add_argument("--model", required=True, metavar="ARTEFACT", help="the model.tar.gz to validate (or s3://)")
    parser.add_argument("--evidence", required=True, metavar="DIR",
                        help="the model's evidence folder, or its s3://…/ prefix (validated in place)")
    parser.add_argument("--key", required=True, metavar="VALIDATOR_PEM", help="the validator's private key PEM")
    parser.add_argument("--policy", metavar="FILE", help="validation policy (default: policies/validation.yaml)")
    parser.add_argument("--out", metavar="DIR", help="where validation.json goes (default: the evidence folder, "
                                                     "re-sealing its index)")
    parser.add_argument("--data", metavar="DIR", help="folder or s3:// prefix holding the recorded splits (default: "
                                                      "EVIDENCE/../data; in S3 the pipeline's process outputs)")
    parser.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint for S3, e.g. a local S3-compatible store")
    parser.add_argument("--by", default="model-validator", help="who validates (recorded in the ledger)")
    parser.add_argument("--ledger", metavar="LEDGER", help="where the validate record goes (default: the evidence "
                                                           "folder's ledger.jsonl; for pipeline evidence in S3 the "
                                                           "deployment's s3://BUCKET/PREFIX/ledger/)")
    parser.add_argument("--ledger-key", metavar="PEM", help="sign the evidence ledger's head with this key (default: "
                                                            "the validator's)")
    parser.add_argument("--json", action="store_true", help="print validation.json on stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from governance.cli.console import print_json, stderr, step_progress
    from governance.signing import load_signer
    from governance.storage import is_s3_uri
    from governance.validation import validate

    signer = load_signer(args.key)
    ledger_signer = load_signer(args.ledger_key) if args.ledger_key else None
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    options = {"policy": args.policy, "out_dir": args.out, "actor": args.by, "ledger_signer": ledger_signer,
               "ledger": args.ledger}
    with step_progress("validate") as advance:
        if is_s3_uri(args.evidence):
            from governance.validation import validate_s3

            result = validate_s3(args.model, args.evidence, signer, data=args.data, progress=advance, **options)
        else:
            result = validate(args.model, args.evidence, signer, data_dir=args.data, progress=advance, **options)
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
