"""``governance demo``: the whole toolkit end to end on the embedded default (synthetic data unless ``--data``).

Order of work, as an auditor would want it: generate (or reuse) three local keys, one per duty (signing the model,
sealing the evidence, signing the audit pack); run the pipeline with the govern step between evaluation and
registration (sign and verify the artefact, record lineage, fairness, SHAP, policy scan, seal the evidence); after
registration record the registration hop, scan the policies again over the final lineage (no check may judge
evidence that changes after it), and seal again; then render and sign the audit pack from the sealed evidence
alone. Every ledger record names the actor (``--actor``, ``GOVERNANCE_ACTOR``, the AWS principal, else the user).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from governance.errors import EXIT_CHECK_FAILED, EXIT_OK

KEY_DIR = "keys"
PACK = "audit-pack.pdf"
# One key per duty, so that no single key can both make a model and vouch for its evidence or its pack.
DUTIES = ("model", "evidence", "pack")


def register(subparsers: argparse._SubParsersAction) -> None:
    from governance.cli.pipeline import add_run_options

    parser = subparsers.add_parser("demo", help="run the pipeline and every governance check end to end, locally")
    parser.add_argument("--data", help="Give Me Some Credit CSV; without it a synthetic data set is generated")
    parser.add_argument("--out", default="governance-demo", help="output folder (default ./governance-demo)")
    parser.add_argument("--rows", type=int, default=None, help="synthetic rows when --data is absent (default 20000)")
    parser.add_argument(
        "--governance-file", help="model governance YAML for the audit pack (default: the QuickLoan example)"
    )
    parser.add_argument("--actor", help="who runs the demo, recorded in every ledger record (default: "
                                        "GOVERNANCE_ACTOR, the AWS principal, else the user@host)")
    add_run_options(parser)
    parser.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    from governance.actor import resolve_actor
    from governance.cli.console import stderr, step_progress
    from governance.cli.pipeline import hyperparameters, print_run_summary
    from governance.errors import InputError
    from governance.seal import seal_after_registration
    from governance.signing import load_signer
    from governance.signing.signer import duty_keys
    from pipeline import synthetic
    from pipeline.runner import run_pipeline
    from pipeline.steps.govern import govern_hook

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError("BAD_OUTPUT", f"--out {out}: exists and is not a folder")
    if args.governance_file:
        from reports.governance_file import load_governance_file

        load_governance_file(args.governance_file)  # a wrong file is refused before anything runs or registers
    data = args.data
    if data is None:
        data = str(out / "data" / "synthetic-cs-training.csv")
        synthetic.write_csv(data, rows=synthetic.DEFAULT_ROWS if args.rows is None else args.rows)
        stderr.print(f"[yellow]No --data given: generated SYNTHETIC data ({synthetic.GENERATOR_ID}) at {data}[/]")
    keys = duty_keys(out / KEY_DIR, DUTIES)
    signers = {duty: load_signer(path) for duty, path in keys.items()}
    actor = resolve_actor(args.actor)
    governance_file = args.governance_file or _example_governance_file()

    with step_progress("demo") as advance:
        hook = govern_hook(key=keys["evidence"], model_key=keys["model"], actor=actor, audit_pack=False,
                           on_check=lambda name: advance(f"govern: {name}"))
        run = run_pipeline(
            data,
            out,
            hyperparameters=hyperparameters(args),
            auc_threshold=args.auc_threshold,
            decision_threshold=args.decision_threshold,
            seed=args.seed,
            split_column=args.split_column,
            on_step=lambda name: None if name == "govern" else advance(name),  # its checks report themselves
            govern=hook,
        )
        advance("lineage: registration hop, final policy scan and evidence seal")
        scanned = seal_after_registration(run, signers["evidence"], keys["model"].parent / "signing-key.pub.pem",
                                          actor, keys["evidence"].parent / "signing-key.pub.pem")
        advance("audit pack")
        pack = _render_pack(run, out / PACK, signers, keys, governance_file, actor)

    print_run_summary(run, stderr)
    _print_verdict(out, stderr)
    stderr.print(f"evidence    {run.evidence_dir} (sealed: index.json + index.json.sig)")
    stderr.print(f"audit pack  {pack} (+ {pack.name}.sig)")
    for duty in DUTIES:
        public = keys[duty].parent / "signing-key.pub.pem"
        stderr.print(f"{duty + ' key':<11} {signers[duty].identity} (public: {public})")
    stderr.print(f"actor       {actor}")
    if scanned is not None and scanned != 0:
        stderr.print("[red]the final policy scan over the sealed lineage did not pass: see evidence/policy.json[/]")
        return EXIT_CHECK_FAILED
    return EXIT_OK if run.registered else EXIT_CHECK_FAILED


def _example_governance_file() -> str | None:
    from reports import example_path

    return str(example_path())


def _render_pack(run, pdf: Path, signers: dict, keys: dict[str, Path], governance_file: str | None,
                 actor: str) -> Path:
    """Render the pack from the sealed evidence, signed by the pack key; note it in the ledger and the registry."""
    from governance.hashing import sha256_file
    from governance.ledger import Ledger
    from governance.registry import META_AUDIT_PACK_URI, LocalRegistry
    from governance.signing import load_verifier
    from reports import render_pack

    verifier = load_verifier(keys["evidence"].parent / "signing-key.pub.pem")
    path = Path(render_pack(run.evidence_dir, pdf, governance_file=governance_file, signer=signers["pack"],
                            verifier=verifier))
    Ledger(run.evidence_dir / "ledger.jsonl", signers["evidence"]).append(
        "pack", actor=actor, subject=str(path.resolve()), digests={path.name: sha256_file(path)},
        details={"signed_by": signers["pack"].identity})
    if run.package is not None:
        registry = LocalRegistry(run.registry_path)
        run.package = registry.update(run.package, customer_metadata={META_AUDIT_PACK_URI: str(path.resolve())})
    return path


def _print_verdict(out: Path, console) -> None:
    from rich.table import Table

    from governance.jsonio import read_json

    verdict_path = out / "governance.json"
    if not verdict_path.is_file():
        console.print("verdict     none (the govern step did not run)")
        return
    verdict = read_json(verdict_path)
    table = Table(title=f"governance verdict: {verdict['status']}", title_justify="left", show_edge=False)
    for column in ("check", "status", "grade", "detail"):
        table.add_column(column)
    colours = {"PASS": "green", "FAIL": "red", "ERROR": "red", "SKIPPED": "yellow"}
    for check in verdict["checks"]:
        status, detail = check["status"], check.get("message", "")
        if check["name"] == "audit_pack" and status == "SKIPPED":
            detail = "rendered after registration, from the sealed evidence (below)"
        table.add_row(check["name"], f"[{colours.get(status, 'white')}]{status}[/]", check.get("verdict") or "", detail)
    console.print(table)
