"""``governance pipeline run|definition|deploy|rehearse``: the local pipeline, and the same pipeline on SageMaker."""

from __future__ import annotations

import argparse

from governance.cli.pipeline_sagemaker import add_sagemaker_actions
from governance.errors import EXIT_CHECK_FAILED, EXIT_OK


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
