"""``governance keygen --out DIR``: an ECDSA P-256 signing key pair for ``governance sign --key``."""

from __future__ import annotations

import argparse
import sys

from governance.errors import EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "keygen",
        help="create an ECDSA P-256 key pair (signing-key.pem + signing-key.pub.pem)",
        description="Write DIR/signing-key.pem (private, owner-only; encrypted when GOVERNANCE_KEY_PASSPHRASE is "
                    "set) and DIR/signing-key.pub.pem. Existing keys are never overwritten.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the key pair (created if missing)")
    parser.set_defaults(handler=keygen_command)


def keygen_command(args: argparse.Namespace) -> int:
    import os

    from governance.signing.signer import PASSPHRASE_ENV, load_verifier, write_key_pair

    private, public = write_key_pair(args.out)
    hint = load_verifier(public).key_hint
    encrypted = "encrypted" if os.environ.get(PASSPHRASE_ENV) else f"NOT encrypted (set {PASSPHRASE_ENV} to encrypt)"
    print(f"private key  {private}  (owner-only, {encrypted})", file=sys.stderr)
    print(f"public key   {public}", file=sys.stderr)
    print(f"key hint     sha256:{hint}", file=sys.stderr)
    return EXIT_OK
