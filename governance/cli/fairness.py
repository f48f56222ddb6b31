"""``governance fairness``: the age-band fairness assessment of a model on labelled data, judged by a policy."""

from __future__ import annotations

import argparse

from governance.errors import EXIT_OK, CheckFailed


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fairness", help="fairness of credit decisions by age band (fairlearn, bootstrap intervals, policy verdicts)",
        description="Per-band metrics, disparities with bootstrap intervals and green/amber/red verdicts from the "
        "fairness policy. Exit 1 on a red verdict that no waiver covers.")
    parser.add_argument("--model", required=True, help="model.tar.gz (local or s3://)")
    parser.add_argument("--data", required=True, help="labelled CSV: raw Give Me Some Credit file or a processed split")
    parser.add_argument("--policy", help="fairness policy YAML (default: the packaged policies/fairness.yaml)")
    parser.add_argument("--out", help="folder for fairness.json and fairness/*.png (default: write nothing)")
    parser.add_argument("--evaluation", help="evaluation.json whose decision.threshold is the operating point")
    parser.add_argument("--threshold", type=float, help="decline when P(default) is above this (overrides the rest)")
    parser.add_argument("--resamples", type=int, help="bootstrap resamples (overrides the policy; 0 = no intervals)")
    parser.add_argument("--ignore-waivers", action="store_true", help="judge as if the policy had no waivers")
    parser.add_argument("--json", action="store_true", help="print fairness.json content on stdout")
    parser.set_defaults(handler=fairness_command)


def fairness_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr, step_progress
    from governance.errors import InputError
    from governance.fairness import assess_fairness, load_policy
    from governance.output_guard import guard_output

    policy = load_policy(args.policy)
    if args.resamples is not None:
        if not 0 <= args.resamples <= 100_000:
            raise InputError("BAD_PARAMETER", f"--resamples must be between 0 and 100000, got {args.resamples}")
        bootstrap = policy.bootstrap.model_copy(update={"resamples": args.resamples})
        policy = policy.model_copy(update={"bootstrap": bootstrap})
    if args.out:
        guard_output(f"{args.out}/fairness.json", inputs=[args.model, args.data, args.evaluation, args.policy],
                     flag="--out")
    with step_progress("fairness") as advance:
        result = assess_fairness(args.model, args.data, policy, args.out, args.evaluation, threshold=args.threshold,
                                 ignore_waivers=args.ignore_waivers, progress=advance)
    if args.json:
        print_json(result)
    print_summary(result, stderr)
    if args.out:
        stderr.print(f"evidence    {args.out}/fairness.json (+ {len(result['charts'])} charts)")
    if result["verdict"] == "red":
        red = [c for c in result["checks"] if c["effective_verdict"] == "red"]
        raise CheckFailed("FAIRNESS_BREACH", f"{red[0]['check']} [{red[0]['resource']}]: {red[0]['message']}"
                          + (f" (and {len(red) - 1} more red)" if len(red) > 1 else ""))
    return EXIT_OK


COLOURS = {"green": "green", "amber": "yellow", "red": "red"}


def _cell(entry: dict) -> str:
    if entry["value"] is None:
        return "n/a"
    interval = entry.get("interval")
    return f"{entry['value']:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")


def print_summary(result: dict, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    settings = result["settings"]
    table = Table(title=f"Decisions by age band (decline when P(default) > {settings['threshold']:g}, "
                        f"{settings['threshold_source']}; {settings['bootstrap']['resamples']:,} resamples)")
    for column in ("band", "n", "approval", "adverse impact ratio", "equal-opp. ratio", "calibration error"):
        table.add_column(column, justify="left" if column == "band" else "right")
    for band in result["bands"]:
        metrics = band["metrics"]
        table.add_row(band["label"] + ("" if band["judged"] else " (not judged)"), f"{band['count']:,}",
                      _cell(metrics["approval_rate"]), _cell(metrics["adverse_impact_ratio"]),
                      _cell(metrics["equal_opportunity_ratio"]), _cell(metrics["calibration_error"]))
    console.print(table)
    for check in result["checks"]:
        if check["verdict"] == "green":
            continue
        colour = COLOURS[check["effective_verdict"]]
        waiver = check["waiver"]
        waived = f" (waived by {waiver['approver']} until {waiver['expires']})" if check["waived"] else ""
        console.print(f"[{colour}]{check['verdict'].upper():5}[/] "
                      + escape(f"{check['check']} [{check['resource']}]: {check['message']}{waived}"), highlight=False)
    verdict = result["verdict"]
    console.print(f"fairness    [{COLOURS[verdict]}]{verdict.upper()}[/]"
                  + (f" (without waivers: {result['verdict_without_waivers'].upper()})"
                     if result["verdict_without_waivers"] != verdict else ""))
