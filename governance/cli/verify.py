"""``governance verify ARTEFACT [--signature SIG] (--key PUB | --trusted FILE) [--json]``: the deploy gate.

Kept light on purpose: the artefact's digest starts while the rest of the toolkit is still being imported.
"""

from __future__ import annotations

import argparse
import sys

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK, GovernanceError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="verify a model.tar.gz against its signature (digest, signer, signed safety findings)",
        description="Recompute ARTEFACT's sha256 in one pass, check the OMS signature and the signer, and refuse "
                    "an archive whose signed safety findings block; on a digest mismatch, name the members that "
                    "changed. Accepts signatures from `governance sign` and `model_signing sign key`. Exit 1 with "
                    "a reason: DIGEST_MISMATCH, SIGNATURE_INVALID, UNTRUSTED_SIGNER, SIGNER_EXPIRED, "
                    "SIGNER_REVOKED, UNSAFE_ARCHIVE.",
    )
    parser.add_argument("artefact", metavar="ARTEFACT", help="model.tar.gz, local path or s3://bucket/key")
    parser.add_argument("--signature", metavar="SIG", help="signature path or s3:// URI (default ARTEFACT.sig)")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--key", metavar="PUB", help="the signer's PEM public key")
    key.add_argument("--trusted", metavar="FILE", help="trusted-signers YAML (keys, validity, revocation, prefixes)")
    parser.add_argument("--allow-unsafe", action="store_true",
                        help="pass even when the signed safety findings block (reported, not hidden)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON on stdout")
    parser.set_defaults(handler=verify_command)


def verify_command(args: argparse.Namespace) -> int:
    from governance.cli.inspect import byte_progress
    from governance.integrity.verify import verify_artefact

    try:
        with byte_progress(args.artefact, "verifying") as on_progress:
            # The key is passed as a path: it is loaded after the digest has started.
            result = verify_artefact(args.artefact, args.signature, verifier=args.key, trusted=args.trusted,
                                     allow_unsafe=args.allow_unsafe, raise_on_failure=False, on_progress=on_progress)
    except GovernanceError as err:
        if args.json:
            _print_json({"verified": False, "reason": err.reason, "message": err.message, "exit_code": err.exit_code})
        raise
    if args.json:
        _print_json(result.to_dict())
    if not result.passed:
        print(f"governance verify: {result.reason}: {result.message}", file=sys.stderr)
        for change in result.changes:
            print(f"  changed: {_change_line(change)}", file=sys.stderr)
        return EXIT_CHECK_FAILED
    if not args.json:
        print(f"OK {result.message}")
        for finding in result.findings:
            print(f"  {finding.severity}: {finding.code}: {finding.message}")
    return EXIT_OK


def _change_line(change: dict) -> str:
    details = {k: v for k, v in change.items() if k not in {"change", "member"}}
    extra = " ".join(f"{k}={v}" for k, v in details.items())
    return f"{change['change']} {change.get('member') or ''} {extra}".strip()


def _print_json(obj) -> None:
    from governance.jsonio import dumps

    sys.stdout.write(dumps(obj).decode("utf-8"))
    sys.stdout.flush()
