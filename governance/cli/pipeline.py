"""``governance pipeline run|definition|deploy|rehearse``: the local pipeline, and the same pipeline on SageMaker."""

from __future__ import annotations

import argparse

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK
from governance.output_guard import guard_output


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pipeline", help="run the pipeline locally, or define/deploy it on SageMaker")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    run = actions.add_parser("run", help="process → train → evaluate → AUC gate → register, locally")
    run.add_argument("--data", required=True, help="Give Me Some Credit CSV (plain or .gz, local or s3://)")
    run.add_argument("--workdir", required=True, help="work folder (data/, model/, evidence/, registry.db)")
    add_run_options(run)
    run.add_argument("--json", action="store_true", help="print the run record as JSON on stdout")
    run.set_defaults(handler=run_command)
    add_sagemaker_actions(actions)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--auc-threshold", type=float, default=0.75, help="registration gate (default 0.75)")
    parser.add_argument(
        "--decision-threshold",
        type=float,
        default=0.2,
        help="decline when the predicted default probability is above this (default 0.2)",
    )
    parser.add_argument("--num-round", type=int, default=None, help="boosting rounds (default 200)")
    parser.add_argument("--seed", type=int, default=42, help="split seed (default 42)")
    parser.add_argument("--split-column", default=None, metavar="DATE_COLUMN",
                        help="make the test split out-of-time: the latest rows by this date column (the public "
                             "Give Me Some Credit file has none; its test split is a stratified random draw)")


def hyperparameters(args: argparse.Namespace) -> dict:
    return {"num_round": args.num_round} if args.num_round else {}


def run_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr, step_progress
    from pipeline.runner import run_pipeline, run_record

    with step_progress("pipeline") as advance:
        run = run_pipeline(
            args.data,
            args.workdir,
            hyperparameters=hyperparameters(args),
            auc_threshold=args.auc_threshold,
            decision_threshold=args.decision_threshold,
            seed=args.seed,
            split_column=args.split_column,
            on_step=advance,
        )
    if args.json:
        print_json(run_record(run))
    print_run_summary(run, stderr)
    return EXIT_OK if run.registered else EXIT_CHECK_FAILED


def print_run_summary(run, console) -> None:
    from pipeline.summary import run_summary_lines

    for line in run_summary_lines(run):
        console.print(line, markup=False, highlight=False)


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


def _read_definition(path: str) -> dict:
    import json
    from pathlib import Path

    from governance.errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("FILE_NOT_FOUND", f"{path}: no such definition file") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError("BAD_DEFINITION", f"{path}: not a readable definition JSON ({err})") from None
    return data


def rehearse_command(args: argparse.Namespace) -> int:
    import os

    from governance.cli.console import name_value_pairs, print_json, stderr
    from pipeline.sagemaker.rehearse import rehearse

    parameters = name_value_pairs(args.parameter, "--parameter")
    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url  # the step containers inherit it
    region = None
    if args.definition:
        definition = _read_definition(args.definition)
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
