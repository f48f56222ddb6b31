"""``governance monitor``: captured endpoint traffic (and ground truth) judged against the training baseline."""

from __future__ import annotations

import argparse
import sys

from governance.errors import EXIT_CHECK_FAILED, EXIT_INCOMPLETE, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor", help="post-market monitoring: drift, fairness drift and quality of a deployed model",
        description="Reads SageMaker Data Capture (ENDPOINT/VARIANT/yyyy/mm/dd/hh/*.jsonl, CSV payloads) and, "
        "optionally, Model Monitor ground truth joined by event id; PSI per feature and for the score, missing "
        "rates, approval rate by age band with intervals and, with labels, AUC, calibration and equal opportunity, "
        "judged by the monitoring policy. Exit 0 no drift beyond policy, 1 a FAIL, 3 a check could not run.")
    parser.add_argument("--model", required=True, help="the deployed model.tar.gz (local or s3://)")
    parser.add_argument("--evidence", required=True, help="the model's evidence folder (holds the baselines)")
    parser.add_argument("--capture", required=True, help="Data Capture folder or s3:// prefix")
    parser.add_argument("--labels", help="ground truth (*.jsonl file, folder or s3:// prefix)")
    parser.add_argument("--policy", help="monitoring policy YAML (default: the packaged policies/monitoring.yaml)")
    parser.add_argument("--out", help="folder for monitoring.json, monitoring.sarif (+ monitoring.json.sig)")
    parser.add_argument("--key", metavar="PEM", help="the operator's private key: signs the report and the ledger "
                        "record; without --ledger, a sealed evidence folder gets the report, the record and a "
                        "re-sealed index")
    parser.add_argument("--ledger", help="append a 'monitor' record to this ledger (local file or s3:// prefix; "
                                         "default with --key: the evidence folder's ledger.jsonl)")
    parser.add_argument("--ledger-key", metavar="PEM", help="sign the ledger's head with this key, when the ledger "
                                                            "is kept on another key than --key's")
    parser.add_argument("--json", action="store_true", help="print monitoring.json content on stdout")
    parser.set_defaults(handler=monitor_command)


def monitor_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from governance.cli.console import print_json, stderr, step_progress
    from governance.monitoring import load_policy, monitor, write_report
    from governance.monitoring.report import record_in_evidence, record_monitoring
    from governance.signing import load_signer

    policy = load_policy(args.policy)
    signer = load_signer(args.key) if args.key else None
    ledger_signer = load_signer(args.ledger_key) if args.ledger_key else signer
    into_evidence = bool(signer and not args.ledger and (Path(args.evidence) / "index.json").is_file())
    if into_evidence:
        from governance.evidence_records import check_sealed

        check_sealed(args.evidence, ledger_signer)  # before the work: a folder that cannot take the record stops here
    elif args.ledger or signer:
        from governance.ledger import Ledger

        Ledger(args.ledger or str(Path(args.evidence) / "ledger.jsonl"), ledger_signer).check_appendable()
    with step_progress("monitor") as advance:
        report = monitor(args.model, args.evidence, args.capture, policy, labels=args.labels,
                         policy_source=args.policy, progress=advance)
    same = into_evidence and args.out and Path(args.out).resolve() == Path(args.evidence).resolve()
    written = write_report(report, args.out, signer) if args.out and not same else []  # the evidence: below
    ledger = args.ledger or (str(Path(args.evidence) / "ledger.jsonl") if signer else None)
    if into_evidence:
        record = record_in_evidence(args.evidence, report, signer, ledger_signer)
        stderr.print(f"evidence    {args.evidence}: monitoring.json signed, ledger record {record['seq']}, "
                     "index re-sealed")
    elif ledger:
        record = record_monitoring(ledger, report, ledger_signer)
        stderr.print(f"ledger      {ledger} (record {record['seq']})")
    if args.json:
        print_json(report)
    print_summary(report, stderr)
    for path in written:
        stderr.print(f"wrote       {path}")
    if report["verdict"] == "FAIL":
        failed = [c for c in report["checks"] if c["status"] == "FAIL"]
        named = "; ".join(f"{c['check']} [{c['subject']}]" for c in failed[:6])
        print(f"governance monitor: DRIFT: {len(failed)} check(s) FAIL: {named}"
              + (" …" if len(failed) > 6 else ""), file=sys.stderr)
        return EXIT_CHECK_FAILED
    if report["verdict"] == "ERROR":
        print("governance monitor: MONITORING_INCOMPLETE: a check could not be computed (see the report)",
              file=sys.stderr)
        return EXIT_INCOMPLETE
    return EXIT_OK


COLOURS = {"PASS": "green", "WARN": "yellow", "FAIL": "red", "ERROR": "red", "SKIPPED": "dim"}


def print_summary(report: dict, console) -> None:
    from rich.markup import escape

    capture = report["capture"]
    console.print(f"capture     {capture['rows']:,} rows in {capture['records']:,} records, "
                  f"{len(capture['files'])} file(s), {capture['first_inference']} … {capture['last_inference']}")
    if report["labels"]:
        console.print(f"labels      {report['labels']['matched_rows']:,} rows joined "
                      f"({report['labels']['unmatched_labels']:,} labels matched no captured event)")
    for check in report["checks"]:
        if check["status"] in ("PASS", "SKIPPED"):
            continue
        console.print(f"[{COLOURS[check['status']]}]{check['status']:5}[/] "
                      + escape(f"{check['check']} [{check['subject']}]: {check['message']}"), highlight=False)
    if report.get("approval_overall"):
        console.print("context     " + escape(report["approval_overall"]["message"]), highlight=False)
    performance = report["performance"] or {}
    if "auc" in performance:
        auc = performance["auc"]
        console.print(f"AUC         {auc['value']:.3f} [{auc['interval'][0]:.3f}, {auc['interval'][1]:.3f}] "
                      f"(evaluation {performance['auc_baseline']:.3f})")
    verdict = report["verdict"]
    console.print(f"monitoring  [{COLOURS[verdict]}]{verdict}[/] "
                  + ", ".join(f"{n} {s}" for s, n in report["counts"].items() if n))
