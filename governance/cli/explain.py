"""``governance explain``: SHAP explanations of a model on labelled data, with additivity and stability checks."""

from __future__ import annotations

import argparse

from governance.errors import EXIT_OK, CheckFailed


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain", help="SHAP explanations: importance, age-band decomposition, reason codes, additivity, stability",
        description="TreeSHAP on every row (cross-checked with XGBoost), the additivity check, global importance, "
        "the age-band gap decomposition and reason codes for declined applicants. Exit 1 when the SHAP values fail "
        "their checks.")
    parser.add_argument("--model", required=True, help="model.tar.gz (local or s3://)")
    parser.add_argument("--data", required=True, help="labelled CSV: raw Give Me Some Credit file or a processed split")
    parser.add_argument("--out", help="folder for explain.json and explain/* (default: write nothing)")
    parser.add_argument("--evaluation", help="evaluation.json whose decision.threshold decides who is declined")
    parser.add_argument("--threshold", type=float,
                        help="decline when P(default) is above this (overrides --evaluation)")
    parser.add_argument("--stability-resamples", type=int, default=None,
                        help="background resamples for the reason-stability check (default 10; 0 = skip)")
    parser.add_argument("--json", action="store_true", help="print explain.json content on stdout")
    parser.set_defaults(handler=explain_command)


def explain_command(args: argparse.Namespace) -> int:
    from governance.cli.console import print_json, stderr, step_progress
    from governance.errors import InputError
    from governance.explain import explain_model
    from governance.explain.stability import DEFAULT_RESAMPLES
    from governance.output_guard import guard_output

    resamples = DEFAULT_RESAMPLES if args.stability_resamples is None else args.stability_resamples
    if not 0 <= resamples <= 1000:
        raise InputError("BAD_PARAMETER", f"--stability-resamples must be between 0 and 1000, got {resamples}")
    if args.out:
        guard_output(f"{args.out}/explain.json", inputs=[args.model, args.data, args.evaluation], flag="--out")
    with step_progress("explain") as advance:
        result = explain_model(args.model, args.data, args.out, evaluation=args.evaluation, threshold=args.threshold,
                               stability_resamples=resamples, progress=advance)
    if args.json:
        print_json(result)
    print_summary(result, stderr)
    if args.out:
        stderr.print(f"evidence    {args.out}/explain.json (+ {len(result['charts'])} charts)")
    red = [c for c in result["checks"] if c["verdict"] == "red"]
    if red:
        reason = {"shap-additivity": "SHAP_ADDITIVITY", "shap-crosscheck": "SHAP_CROSSCHECK"}.get(red[0]["check"],
                                                                                                 "EXPLAIN_CHECK_FAILED")
        raise CheckFailed(reason, red[0]["message"] + "; reason codes withheld")
    return EXIT_OK


def print_summary(result: dict, console) -> None:
    from rich.markup import escape

    from governance.cli.fairness import COLOURS

    top = ", ".join(f"{item['feature']} {item['mean_abs_shap']:.3f}" for item in result["global"]["importance"][:4])
    console.print(f"importance  mean |SHAP| (log-odds): {top}")
    reasons = result["reason_codes"]
    if not reasons["withheld"]:
        common = ", ".join(f"{r['code']} {r['share']:.0%}" for r in reasons["frequency"][:4])
        threshold = result["settings"]["threshold"]
        console.print(f"reasons     {reasons['declined']:,} declined at P(default) > {threshold:g}; "
                      f"most given: {common}")
    for check in result["checks"]:
        colour = COLOURS[check["verdict"]]
        console.print(f"[{colour}]{check['verdict'].upper():5}[/] " + escape(f"{check['check']}: {check['message']}"),
                      highlight=False)
    console.print(f"explain     [{COLOURS[result['verdict']]}]{result['verdict'].upper()}[/]")
