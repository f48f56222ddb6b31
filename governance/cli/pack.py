"""``governance pack EVIDENCE_DIR [-o PDF]`` renders the audit pack; ``governance pack verify PDF [--key PUB]``
checks one.

Both live under one ``pack`` command because the command line contract puts a folder where a subcommand would
go: the first word decides. A folder literally named ``verify`` is rendered with ``governance pack ./verify``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from governance.errors import EXIT_OK, InputError
from governance.output_guard import guard_outputs

USAGE = ("governance pack EVIDENCE_DIR [-o PDF] [--governance FILE] [--key PEM | --kms-key-id ID] "
         "[--evidence-key PUB] [--pdfa] [--ledger LEDGER] [--json]\n"
         "       governance pack verify PDF (--key PUB | --no-key) [--signature SIG] [--json]")
_RENDER_ONLY = ("output", "governance", "kms_key_id", "evidence_key", "pdfa", "ledger", "actor")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pack", usage=USAGE,
        help="render the PDF audit pack from an evidence folder, or verify one (pack verify PDF)",
        description="Render: verify the evidence folder's signed index, then write a PDF for regulators rendered only "
                    "from that evidence, with every evidence file attached, and sign it (PDF.sig) when a key is "
                    "given. Verify: check the pack's signature and that the attached evidence matches the index "
                    "digest the pack states. Exit 1 with a reason code when the evidence or the pack does not verify.",
    )
    parser.add_argument("words", nargs="+", metavar="EVIDENCE_DIR | verify PDF", help=argparse.SUPPRESS)
    parser.add_argument("-o", "--output", metavar="PDF",
                        help="where to write the pack (default: audit-pack.pdf beside EVIDENCE_DIR)")
    parser.add_argument("--governance", metavar="FILE",
                        help="model governance file (YAML) with the human-written parts; default: governance.yaml "
                             "sealed in the evidence folder, else those parts are shown as open items")
    parser.add_argument("--key", metavar="PEM|PUB",
                        help="render: ECDSA P-256 private key that signs the pack (its public half also verifies "
                             "the evidence index); verify: the signer's public key")
    parser.add_argument("--kms-key-id", metavar="ID", help="render: sign the pack with this AWS KMS key instead")
    parser.add_argument("--evidence-key", metavar="PUB",
                        help="render: public key of the evidence signer, when it is not the pack signer")
    parser.add_argument("--pdfa", action="store_true",
                        help="render: convert to PDF/A-3b with ghostscript (conformance is not validated)")
    parser.add_argument("--ledger", metavar="LEDGER", help="render: append a 'pack' event (signed, same key) to it")
    parser.add_argument("--actor", help="render: who renders it, in the ledger record (default: see governance.actor)")
    parser.add_argument("--no-key", action="store_true",
                        help="verify: check digests only, without authenticating the signer (say so explicitly: "
                             "without --key or --no-key, 'pack verify' refuses to run)")
    parser.add_argument("--signature", metavar="SIG", help="verify: the pack's signature (default PDF.sig)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(handler=pack_command)


def pack_command(args: argparse.Namespace) -> int:
    words = args.words
    if words[0] == "verify" and len(words) == 2:
        misplaced = [name for name in _RENDER_ONLY if getattr(args, name)]
        if misplaced:
            flag = {"output": "-o/--output"}.get(misplaced[0], "--" + misplaced[0].replace("_", "-"))
            raise InputError("BAD_USAGE", f"{flag} is for rendering; 'pack verify' takes only --key, --no-key, "
                                          "--signature and --json")
        return verify_command(Path(words[1]), args)
    if len(words) != 1:
        raise InputError("BAD_USAGE", "expected 'pack EVIDENCE_DIR' or 'pack verify PDF'")
    if args.signature or args.no_key:
        raise InputError("BAD_USAGE", f"{'--signature' if args.signature else '--no-key'} is for 'pack verify'")
    return render_command(Path(words[0]), args)


def _signer(args: argparse.Namespace):
    if args.key and args.kms_key_id:
        raise InputError("BAD_USAGE", "give --key or --kms-key-id, not both")
    if args.kms_key_id:
        from governance.signing.kms import KmsSigner

        return KmsSigner(args.kms_key_id)
    if args.key:
        from governance.signing import load_signer

        return load_signer(args.key)
    return None


def render_command(evidence_dir: Path, args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr, step_progress
    from governance.hashing import sha256_file
    from reports import render_pack

    if not evidence_dir.is_dir():
        raise InputError("NOT_A_DIRECTORY", f"{evidence_dir}: no such evidence folder")
    signer = _signer(args)
    if args.ledger and signer is None:  # refused before anything is written
        raise InputError("BAD_USAGE", "--ledger needs --key or --kms-key-id (ledger records are signed)")
    verifier = None
    if args.evidence_key:
        from governance.signing import load_verifier

        verifier = load_verifier(args.evidence_key)
    out = Path(args.output) if args.output else evidence_dir.resolve().parent / "audit-pack.pdf"
    guard_outputs([out, f"{out}.sig"], inputs=[args.governance, args.key, args.evidence_key, args.ledger], flag="-o")
    with step_progress("pack") as advance:
        pdf = render_pack(evidence_dir, out, args.governance, signer, verifier=verifier, pdfa=args.pdfa,
                          on_step=advance)
    digest = sha256_file(pdf)
    signature = Path(f"{pdf}.sig") if signer is not None else None
    if args.ledger:
        from governance.actor import resolve_actor
        from governance.ledger import Ledger

        Ledger(args.ledger, signer).append("pack", resolve_actor(args.actor), subject=str(pdf), digests={
            "audit-pack.pdf": digest}, details={"evidence": str(evidence_dir), "signed_by": signer.identity})
    if not (signer or verifier):
        stderr.print("[yellow]no key given: the evidence index signature was not checked (digests only) and the "
                     "pack is not signed[/]")
    if args.json:
        print_json({"pdf": str(pdf), "sha256": digest, "signature": str(signature) if signature else None})
    stderr.print(f"pack       {pdf}  sha256:{digest}", soft_wrap=True)
    if signature:
        stderr.print(f"signature  {signature}", soft_wrap=True)
    return EXIT_OK


def verify_command(pdf: Path, args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr
    from reports import verify_pack

    if bool(args.key) == bool(args.no_key):
        raise InputError("BAD_USAGE", "give --key PUB to authenticate the signer, or --no-key to check digests only "
                                      "(not both)" if args.key else "no --key given: an unauthenticated pack proves "
                                      "nothing about who made it; pass --key PUB, or --no-key to check digests only")
    verifier = None
    if args.key:
        from governance.signing import load_verifier

        verifier = load_verifier(args.key)
    else:
        stderr.print("[bold yellow]--no-key: the SIGNER IS NOT AUTHENTICATED; only the pack's internal digests are "
                     "checked[/]")
    result = verify_pack(pdf, verifier, signature=args.signature)
    if args.json:
        print_json(result)
    for line in result["checks"]:
        stderr.print(f"  [green]✓[/] {line}")
    stderr.print(f"signature        {result['signature']}", soft_wrap=True)
    stderr.print(f"evidence index   sha256:{result['evidence_index_sha256']}", soft_wrap=True)
    stderr.print(f"index signature  {result['index_signature']}", soft_wrap=True)
    if verifier is None:
        stderr.print("[yellow]the signer was not authenticated: pass --key PUB to check who signed the pack[/]")
    return EXIT_OK
