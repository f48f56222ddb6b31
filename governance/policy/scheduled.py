"""A scheduled scan: scan, keep the results where they can be found, log the run, and fail loudly.

The same function runs behind all three schedules — a cron or systemd-timer line, the Lambda handler
(:mod:`governance.policy.lambda_handler`) fired by EventBridge Scheduler, and a SageMaker processing step
(``python -m governance.policy.scheduled``)::

    python -m governance.policy.scheduled s3://quickloan-models/ \\
        --output-uri s3://quickloan-audit/scans/ --state-uri s3://quickloan-audit/scans/state.json \\
        --ledger s3://quickloan-audit/ledger/ --ledger-kms-key-id alias/quickloan-ledger

Each run writes ``policy.json``, ``policy.sarif`` and ``policy.junit.xml`` under ``OUTPUT/runs/<UTC time>/`` and
copies them to ``OUTPUT/latest/``, appends a ``scan`` record to the ledger when one is given (signed with the
ledger's key when given: a ledger whose head is signed refuses unsigned appends), and raises
:class:`ScheduledScanFailed` (exit 1 or 3 from the command line) unless every check passed — a schedule that
swallows a failure is no control.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance.errors import GovernanceError
from governance.policy import output
from governance.policy.engine import scan
from governance.policy.findings import ScanResult
from governance.policy.scan_record import open_ledger_signer, record_scan
from governance.policy.state import ScanState, state_key
from governance.signing.signer import Signer
from governance.storage import is_s3_uri


class ScheduledScanFailed(Exception):
    """The scheduled scan found a violation or could not complete; ``summary`` says which and where to look."""

    def __init__(self, summary: dict) -> None:
        self.summary = summary
        counts = summary["summary"]
        super().__init__(f"governance scan {summary['verdict'].upper()}: {counts['FAIL']} failed, "
                         f"{counts['ERROR']} could not be decided; results at {summary['results'].get('json')}")


def _join(base: str, *parts: str) -> str:
    if is_s3_uri(base):
        return "/".join([base.rstrip("/"), *parts])
    return str(Path(base, *parts))


def _fetch_state(state_uri: str | None, workdir: Path) -> Path | None:
    """A local copy of the state file (S3 state is downloaded; a missing one starts empty)."""
    if not state_uri:
        return None
    if not is_s3_uri(state_uri):
        return Path(state_uri)
    from governance import storage

    local = workdir / "state.json"
    if storage.exists(state_uri):
        local.write_bytes(storage.read_bytes(state_uri))
    return local


def run_scheduled_scan(
    targets: Sequence[str],
    output_uri: str,
    *,
    policies_dir: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    state_uri: str | None = None,
    ledger_uri: str | None = None,
    ledger_signer: Signer | None = None,
    state_secret: bytes | None = None,
    ignore_waivers: bool = False,
    raise_on_failure: bool = True,
    now: datetime | None = None,
) -> dict:
    """Scan ``targets``, write the three reports under ``output_uri``, log to the ledger; return a summary.

    Raises :class:`ScheduledScanFailed` when the scan failed or was incomplete (unless ``raise_on_failure`` is
    false), after the reports and the ledger record are written. ``state_secret`` authenticates the state file
    (default: ``$GOVERNANCE_STATE_KEY``); ``ledger_signer`` signs the ledger record.
    """
    if not targets:
        raise GovernanceError("NO_TARGETS", "a scheduled scan needs at least one target")
    if ledger_uri:
        from governance.ledger import Ledger

        Ledger(ledger_uri, ledger_signer).check_appendable()  # refused before any report is written
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H%M%SZ")
    with tempfile.TemporaryDirectory(prefix="governance-scan-") as work:
        state_path = _fetch_state(state_uri, Path(work))
        secret = state_secret if state_secret is not None else state_key()
        state = ScanState(state_path, config_max_age=timedelta(minutes=30), key=secret) if state_path else None
        result: ScanResult = scan(list(targets), policies_dir, parameters=parameters, state=state,
                                  ignore_waivers=ignore_waivers)
        if state_uri and is_s3_uri(state_uri) and state_path is not None and state_path.exists():
            from governance.storage import write_bytes_atomic

            write_bytes_atomic(state_uri, state_path.read_bytes())
    written: dict[str, str] = {}
    for fmt in ("json", "sarif", "junit"):
        name = f"policy{output.SUFFIXES[fmt]}"
        data = output.render(result, fmt)
        written[fmt] = str(_write(_join(output_uri, "runs", stamp, name), data))
        _write(_join(output_uri, "latest", name), data)
    summary = {
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "reason": result.reason,
        "summary": result.counts,
        "targets": result.targets,
        "results": written,
        "stats": {k: result.stats[k] for k in ("api_calls_total", "reused_evidence", "resources")},
        "seconds": result.seconds,
    }
    if ledger_uri:
        record = record_scan(ledger_uri, result, {"policy.json": output.render(result, "json")},
                             actor=os.environ.get("GOVERNANCE_ACTOR", "governance scheduled scan"),
                             signer=ledger_signer, details={"results": written["json"]})
        summary["ledger_record"] = record.get("seq", -1)
    if raise_on_failure and result.exit_code:
        raise ScheduledScanFailed(summary)
    return summary


def _write(uri: str, data: bytes):
    from governance.storage import write_bytes_atomic

    return write_bytes_atomic(uri, data)


def main(argv: list[str] | None = None) -> int:
    """``python -m governance.policy.scheduled TARGET... --output-uri URI`` (a SageMaker step or a cron line)."""
    import json

    parser = argparse.ArgumentParser(prog="python -m governance.policy.scheduled", description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="+")
    parser.add_argument("--output-uri", required=True, help="folder or s3:// prefix for the reports")
    parser.add_argument("--policies", help="policy folder (default: the shipped policies)")
    parser.add_argument("--parameters", help="JSON object of policy parameter overrides")
    parser.add_argument("--state-uri", help="incremental state file (local path or s3:// key)")
    parser.add_argument("--state-key", help="secret file that authenticates the state (default $GOVERNANCE_STATE_KEY)")
    parser.add_argument("--ledger", help="ledger to append the run to (local file or s3:// prefix)")
    parser.add_argument("--ledger-key", help="private key (PEM) that signs the ledger record")
    parser.add_argument("--ledger-kms-key-id", help="AWS KMS key that signs the ledger record")
    args = parser.parse_args(argv)
    try:
        parameters = json.loads(args.parameters) if args.parameters else None
        summary = run_scheduled_scan(args.targets, args.output_uri, policies_dir=args.policies,
                                     parameters=parameters, state_uri=args.state_uri, ledger_uri=args.ledger,
                                     ledger_signer=open_ledger_signer(args.ledger_key, args.ledger_kms_key_id),
                                     state_secret=state_key(args.state_key) if args.state_key else None)
    except ScheduledScanFailed as err:
        print(str(err), file=sys.stderr)
        return err.summary["exit_code"]
    except GovernanceError as err:
        print(f"scheduled scan: {err.reason}: {err.message}", file=sys.stderr)
        return err.exit_code
    except json.JSONDecodeError as err:
        print(f"scheduled scan: BAD_PARAMETER: --parameters is not JSON ({err})", file=sys.stderr)
        return 2
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
