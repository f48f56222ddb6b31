"""``governance deploy``: serve an approved, verified model package on a SageMaker endpoint with Data Capture."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "deploy", help="the deploy gate: endpoint for an Approved, verified package with its approval on record",
        description="Refuses (exit 1, recorded in the ledger) unless the package is Approved, its artefact verifies "
        "against the trusted signers and the ledger holds its approval. Then creates the SageMaker model from the "
        "package, an endpoint configuration with Data Capture (inputs and outputs, KMS-encrypted, into the governed "
        "bucket) and the endpoint, and records the deployment. Settings default from the pipeline settings.")
    parser.add_argument("package", metavar="PACKAGE", help="SageMaker model package version ARN")
    parser.add_argument("--endpoint", required=True, help="endpoint name (created, or updated when it exists)")
    trust = parser.add_mutually_exclusive_group(required=True)
    trust.add_argument("--key", help="trusted public key PEM")
    trust.add_argument("--trusted", help="trusted-signers file")
    parser.add_argument("--sampling-percentage", type=int, default=100, help="Data Capture sampling (default 100)")
    parser.add_argument("--capture-uri", help="Data Capture destination (default s3://BUCKET/PREFIX/datacapture)")
    parser.add_argument("--kms-key-id", help="KMS key for captured data and the endpoint's volume "
                                             "(default: the pipeline settings' key)")
    parser.add_argument("--role-arn", help="execution role of the endpoint (default: the pipeline settings' role)")
    parser.add_argument("--instance-type", default="ml.m5.large")
    parser.add_argument("--config", help="pipeline settings file (sagemaker.yaml)")
    parser.add_argument("--ledger", help="ledger holding the approval, where the deployment is recorded "
                                         "(default s3://BUCKET/PREFIX/ledger/ from the settings)")
    parser.add_argument("--ledger-key", metavar="PEM", help="sign the ledger's head with this private key "
                                                            "(default: --signing-key)")
    parser.add_argument("--evidence", metavar="DIR", help="the model's sealed evidence folder: deployment.json "
                        "(+ .sig) and a deploy record go into it and its index is re-sealed (needs --signing-key)")
    parser.add_argument("--signing-key", metavar="PEM", help="the operator's private key: signs deployment.json "
                                                             "and re-seals the evidence index")
    parser.add_argument("--json", action="store_true", help="print the deployment record on stdout")
    parser.set_defaults(handler=deploy_command)


def _settings(path: str | None):
    from pipeline.sagemaker.config import load_settings

    return load_settings(path, require=False)


def deploy_command(args: argparse.Namespace) -> int:
    from governance.approval import Trust
    from governance.cli.console import print_json, stderr, step_progress
    from governance.deployment import CaptureSettings, deploy

    settings = _settings(args.config)
    known = "bucket" not in settings.missing
    capture = CaptureSettings(
        args.capture_uri or (f"{settings.values.root_uri}/datacapture" if known else ""),
        args.kms_key_id or ("" if "kms_key_id" in settings.missing else settings.values.kms_key_id),
        args.sampling_percentage)
    role = args.role_arn or ("" if "role_arn" in settings.missing else settings.values.role_arn)
    from governance.errors import InputError
    from governance.signing import load_signer

    if args.evidence and not args.signing_key:
        raise InputError("NO_SIGNING_KEY", "--evidence needs --signing-key: the evidence index is re-sealed with it")
    operator = load_signer(args.signing_key) if args.signing_key else None
    signer = load_signer(args.ledger_key) if args.ledger_key else operator
    if args.evidence:
        from governance.evidence_records import check_sealed

        check_sealed(args.evidence, signer)  # before the endpoint exists: a folder that cannot take the record
    with step_progress("deploy") as advance:
        result = deploy(args.package, args.endpoint, Trust(key=args.key, trusted=args.trusted), capture,
                        role_arn=role, instance_type=args.instance_type, ledger=args.ledger, ledger_signer=signer,
                        default_ledger=f"{settings.values.root_uri}/ledger/" if known else None, progress=advance)
    if args.json:
        print_json(result.to_dict())
    stderr.print(f"endpoint    {result.endpoint} (config {result.endpoint_config}, model {result.model})")
    stderr.print(f"capture     {capture.destination} ({capture.sampling_percentage}%, KMS {capture.kms_key_id})")
    stderr.print(f"ledger      {result.ledger['location']} (record {result.ledger['seq']})")
    if args.evidence:
        from governance.deployment import record_in_evidence

        record = record_in_evidence(result, args.evidence, operator, args.ledger_key and signer)
        stderr.print(f"evidence    {args.evidence}: deployment.json signed, ledger record {record['seq']}, "
                     "index re-sealed")
    return 0
