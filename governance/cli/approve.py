"""``governance approve ARTEFACT|PACKAGE --by NAME``: the deployment gate (:mod:`governance.approval`) from the shell.

PACKAGE is a SageMaker model package ARN (``arn:aws:sagemaker:…:model-package/GROUP/N``) or a local registry ARN
(``local:model-package/GROUP/N``); an ARTEFACT path finds its package in the local registry. A refusal exits 1 with
its reason code, and is recorded in the ledger like an approval.
"""

from __future__ import annotations

import argparse

from governance.errors import EXIT_OK, GovernanceError, InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "approve", help="approve a registered model only if it verifies and its governance checks passed"
    )
    parser.add_argument("target", metavar="ARTEFACT|PACKAGE",
                        help="SageMaker model package ARN, local:model-package/GROUP/N, or a model.tar.gz path")
    parser.add_argument("--by", required=True, metavar="NAME", help="who approves (recorded in the ledger)")
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument("--key", metavar="PUB", help="trusted public key PEM")
    trust.add_argument("--kms-key-id", metavar="ID", help="trusted KMS signing key (id, ARN or alias)")
    trust.add_argument("--trusted", metavar="FILE", help="trusted-signers file (rotation, revocation)")
    parser.add_argument("--evidence-key", metavar="PUB", help="public key that sealed the evidence and signed the "
                        "verdict, when it is not the model's signing key")
    parser.add_argument("--governance-file", metavar="FILE", help="model governance YAML; its "
                        "oversight.allow_self_approval lets the model's signer approve it")
    parser.add_argument("--reason", default="", help="why it is approved (kept with the approval)")
    parser.add_argument("--registry", help="local registry database (default ./registry.db, else the one beside "
                                           "the artefact's work folder)")
    parser.add_argument("--signature", help="artefact signature (default: the package's signature_uri)")
    parser.add_argument("--governance", metavar="FILE", help="governance.json (default: the package's governance_uri)")
    parser.add_argument("--ledger", help="ledger to record the approval in (default: the evidence folder's "
                                         "ledger.jsonl; for SageMaker, s3://BUCKET/PREFIX/ledger/ from the settings)")
    parser.add_argument("--ledger-key", metavar="PEM", help="sign the ledger's head with this private key")
    parser.add_argument("--validator-key", metavar="PUB", help="the independent validator's public key PEM "
                                                               "(pins who must have signed validation.json)")
    parser.add_argument("--validation-policy", metavar="FILE",
                        help="validation policy whose approval rule applies (default: policies/validation.yaml)")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")
    parser.set_defaults(handler=approve_command)


def _settings_ledger() -> str | None:
    """The deployment's ledger (``s3://BUCKET/PREFIX/ledger/``) from the pipeline settings, when a bucket is set."""
    from pipeline.sagemaker.config import load_settings

    try:
        settings = load_settings(require=False)
    except InputError:
        return None
    return f"{settings.values.root_uri}/ledger/" if "bucket" not in settings.missing else None


def approve_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr

    ledger_signer = None
    if args.ledger_key:
        from governance.signing import load_signer

        ledger_signer = load_signer(args.ledger_key)
    from governance.approval import Trust, approve

    trust = Trust(key=args.key, kms_key_id=args.kms_key_id, trusted=args.trusted, evidence_key=args.evidence_key,
                  validator_key=args.validator_key)
    allow_self_approval = False
    if args.governance_file:
        from reports.governance_file import load_governance_file

        oversight = load_governance_file(args.governance_file).oversight
        allow_self_approval = bool(oversight and oversight.allow_self_approval)
    try:
        with stderr.status("checking before approval") as status:
            result = approve(
                args.target, args.by, trust, reason=args.reason, registry=args.registry, signature=args.signature,
                governance=args.governance, ledger=args.ledger, ledger_signer=ledger_signer,
                default_ledger=_settings_ledger, allow_self_approval=allow_self_approval,
                validation_policy=args.validation_policy,
                progress=lambda message: status.update(message),
            )
    except GovernanceError as refusal:  # every refusal, not only a failed check
        if args.json:
            print_json({"approved": False, "target": args.target, "by": args.by, **refusal.to_dict()})
        raise
    if args.json:
        print_json(result.to_dict())
    for name, message in result.checks.items():
        stderr.print(f"  [green]✓[/] {name}: {message}")
    stderr.print(f"approved    {result.package} by {result.approved_by} at {result.approved_at}")
    stderr.print(f"ledger      {result.ledger['location']} (record {result.ledger['seq']})")
    return EXIT_OK
