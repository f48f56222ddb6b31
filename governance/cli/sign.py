"""``governance sign ARTEFACT (--key PEM | --kms-key-id ID) [--out SIG]``: an OMS signature plus a signed manifest."""

from __future__ import annotations

import argparse
import sys

from governance.errors import EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sign",
        help="inspect and sign a model.tar.gz (OpenSSF Model Signing bundle + signed per-member manifest)",
        description="Inspect ARTEFACT in one pass, refuse it when a safety finding blocks, then write SIG (default "
                    "ARTEFACT.sig; an OMS Sigstore bundle that `model_signing verify key` accepts) and beside it "
                    "the signed per-member manifest (SIG with .manifest.sig in place of .sig).",
    )
    parser.add_argument("artefact", metavar="ARTEFACT", help="model.tar.gz, local path or s3://bucket/key")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--key", metavar="PEM", help="ECDSA P-256 private key (GOVERNANCE_KEY_PASSPHRASE if encrypted)")
    key.add_argument("--kms-key-id", metavar="ID",
                     help="AWS KMS ECC_NIST_P256 key: key id, key ARN, alias name or alias ARN")
    parser.add_argument("--out", metavar="SIG", help="signature path or s3:// URI (default ARTEFACT.sig)")
    parser.add_argument("--allow-unsafe", action="store_true",
                        help="sign even when a safety finding blocks (the findings are signed; verify still refuses)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(handler=sign_command)


def load_signer_from_args(args: argparse.Namespace):
    if args.kms_key_id:
        from governance.signing.kms import KmsSigner

        return KmsSigner(args.kms_key_id)
    from governance.signing.signer import load_signer

    return load_signer(args.key)


def sign_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json
    from governance.cli.inspect import byte_progress
    from governance.integrity.sign import sign_artefact

    signer = load_signer_from_args(args)
    with byte_progress(args.artefact, "signing") as on_progress:
        result = sign_artefact(args.artefact, signer, args.out, args.allow_unsafe, on_progress=on_progress)
    if args.json:
        print_json(result.to_dict())
    for finding in result.report.findings:
        print(f"{finding.severity.upper():8s} {finding.code}: {finding.message}", file=sys.stderr)
    if result.report.blocking:
        print("signed despite blocking findings (--allow-unsafe): verify will refuse it unless told the same",
              file=sys.stderr)
    print(f"signed     {result.artefact}  sha256:{result.sha256}", file=sys.stderr)
    print(f"signature  {result.signature}", file=sys.stderr)
    print(f"manifest   {result.manifest}  ({len(result.report.members)} member(s))", file=sys.stderr)
    print(f"signer     {result.identity}", file=sys.stderr)
    return EXIT_OK
