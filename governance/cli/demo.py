"""``governance demo``: the whole toolkit end to end on the embedded default (synthetic data unless ``--data``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    from governance.cli.pipeline import add_run_options

    parser = subparsers.add_parser("demo", help="run the pipeline and every governance check end to end, locally")
    parser.add_argument("--data", help="Give Me Some Credit CSV; without it a synthetic data set is generated")
    parser.add_argument("--out", default="governance-demo", help="output folder (default ./governance-demo)")
    parser.add_argument("--rows", type=int, default=None, help="synthetic rows when --data is absent (default 20000)")
    add_run_options(parser)
    parser.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    from governance.cli.console import stderr, step_progress
    from governance.cli.pipeline import hyperparameters, print_run_summary
    from pipeline import synthetic
    from pipeline.runner import run_pipeline

    out = Path(args.out)
    data = args.data
    if data is None:
        data = str(out / "data" / "synthetic-cs-training.csv")
        synthetic.write_csv(data, rows=args.rows or synthetic.DEFAULT_ROWS)
        stderr.print(f"[yellow]No --data given: generated SYNTHETIC data ({synthetic.GENERATOR_ID}) at {data}[/]")
    with step_progress("demo") as advance:
        run = run_pipeline(
            data, out, hyperparameters=hyperparameters(args), auc_threshold=args.auc_threshold,
            decision_threshold=args.decision_threshold, seed=args.seed, on_step=advance,
        )
    print_run_summary(run, stderr)
    stderr.print(f"evidence    {run.evidence_dir}")
    return EXIT_OK if run.registered else EXIT_CHECK_FAILED
