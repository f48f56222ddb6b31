"""``governance pipeline definition|deploy|rehearse``: the pipeline on SageMaker (built offline, upserted,
rehearsed)."""

from __future__ import annotations

import argparse

from governance.errors import EXIT_OK
from governance.output_guard import guard_output

# --- SageMaker: definition (offline) and deploy -------------------------------------------------------------------

SETTINGS_HELP = (
    "pipeline settings YAML (region, role_arn, bucket, kms_key_id, signing_key_id, image_uri, ...); "
    "GOVERNANCE_SAGEMAKER_<KEY> environment variables override it (default: $GOVERNANCE_SAGEMAKER_CONFIG, "
    "else ./sagemaker.yaml when present)"
)


def add_sagemaker_actions(actions: argparse._SubParsersAction) -> None:
    definition = actions.add_parser(
        "definition", help="the SageMaker pipeline definition JSON, built offline (no AWS account needed)"
    )
    definition.add_argument("--out", help="write the JSON here instead of stdout")
    definition.add_argument("--config", help=SETTINGS_HELP)
    definition.set_defaults(handler=definition_command)

    deploy = actions.add_parser("deploy", help="upsert the pipeline in SageMaker (and start it with --start)")
    deploy.add_argument("--start", action="store_true", help="start an execution after the upsert")
    deploy.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pipeline parameter for the started execution, e.g. AucThreshold=0.8 (repeatable)",
    )
    deploy.add_argument("--config", help=SETTINGS_HELP)
    deploy.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    deploy.set_defaults(handler=deploy_command)

    rehearse = actions.add_parser(
        "rehearse", help="run the definition as SageMaker would, against S3/SageMaker (or --endpoint-url), "
                         "before paying for it; exit 0 when it registers, 1 when it ends in the Fail step")
    rehearse.add_argument("--definition", help="definition JSON (default: built from the settings first)")
    rehearse.add_argument("--config", help=SETTINGS_HELP)
    rehearse.add_argument("--endpoint-url", help="AWS endpoint for every call, e.g. a local moto server")
    rehearse.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                          help="pipeline parameter for this rehearsal, e.g. NumRound=20 (repeatable)")
    rehearse.add_argument("--as-role", action="store_true",
                          help="run each step with credentials of the role the definition names (sts:AssumeRole)")
    rehearse.add_argument("--workdir", help="keep the steps' folders and logs here (default: a temporary folder)")
    rehearse.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    rehearse.set_defaults(handler=rehearse_command)


def definition_command(args: argparse.Namespace) -> int:
    from governance.cli.console import stderr
    from governance.jsonio import dumps
    from governance.storage import write_bytes_atomic
    from pipeline.sagemaker.config import load_settings
    from pipeline.sagemaker.definition import pipeline_definition

    guard_output(args.out, inputs=[args.config], flag="--out")
    loaded = load_settings(args.config, require=False)
    if loaded.missing:
        stderr.print(
            f"[yellow]note: example values (account 123456789012) for {', '.join(loaded.missing)}; "
            "set them before deploying[/]"
        )
    with stderr.status("building the SageMaker pipeline definition"):
        data = dumps(pipeline_definition(loaded.values))
    if args.out:
        write_bytes_atomic(args.out, data)
        stderr.print(f"definition  {args.out}")
    else:
        import sys

        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def deploy_command(args: argparse.Namespace) -> int:
    from governance.cli.console import name_value_pairs, print_json, stderr
    from governance.errors import InputError
    from pipeline.sagemaker.config import load_settings
    from pipeline.sagemaker.deploy import deploy

    parameters = name_value_pairs(args.parameter, "--parameter")
    if parameters and not args.start:
        raise InputError("BAD_CALL", "--parameter only applies to a started execution: add --start")
    settings = load_settings(args.config).values
    with stderr.status(f"deploying {settings.pipeline_name} to SageMaker in {settings.region}"):
        result = deploy(settings, start=args.start, parameters=parameters)
    if args.json:
        print_json(result.to_dict())
    stderr.print(f"pipeline    {result.pipeline_arn}")
    stderr.print(f"definition  sha256:{result.definition_sha256}")
    created = " (created)" if result.model_package_group_created else ""
    stderr.print(f"registry    {result.model_package_group_arn}{created}")
    if result.execution_arn:
        stderr.print(f"execution   {result.execution_arn} [{result.execution_status}]")
    return EXIT_OK


def rehearse_command(args: argparse.Namespace) -> int:
    import os

    from governance.cli.console import name_value_pairs, print_json, stderr
    from pipeline.sagemaker.rehearse import rehearse

    parameters = name_value_pairs(args.parameter, "--parameter")
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url  # the step containers inherit it
    region = None
    if args.definition:
        from governance.jsonio import read_json

        definition = read_json(args.definition)
        name = "rehearsal"
    else:
        from pipeline.sagemaker.config import load_settings
        from pipeline.sagemaker.definition import pipeline_definition

        settings = load_settings(args.config).values
        region, name = settings.region, settings.pipeline_name
        with stderr.status("building the SageMaker pipeline definition"):
            definition = pipeline_definition(settings)
    result = rehearse(definition, parameters=parameters, region=region, workdir=args.workdir, pipeline_name=name,
                      as_role=args.as_role,
                      on_event=lambda message: stderr.print(message, markup=False, highlight=False))
    if args.json:
        print_json(result.to_dict())
    colour = "green" if result.exit_code == 0 else "red"
    stderr.print(f"[{colour}]{result.outcome}[/]: ", end="")
    stderr.print(result.message, markup=False, highlight=False)
    return result.exit_code
