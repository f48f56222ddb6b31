"""AWS Lambda entry points of the scheduled organisation scan (``pipeline/infra/org-scan.yaml``).

A Step Functions state machine runs them: ``accounts`` lists the organisation's accounts, a Distributed Map runs
``scan_account`` once per account (at most ``MaxConcurrency`` at a time, each retried on its own), and ``merge``
joins the per-account summaries, writes ``runs/<execution>/summary.json`` and ``latest/summary.json``, and raises
when any account failed or could not be reached — so the execution fails and the alarm fires.

==========================  ==========================================================================
environment                 meaning
==========================  ==========================================================================
``SCAN_TARGETS``            targets, separated by spaces or commas; ``{account}``/``{region}`` filled in
``SCAN_ROLE_NAME``          the read-only role assumed in each account
``SCAN_REGIONS``            regions, comma-separated (default: the function's)
``SCAN_OUTPUT_URI``         s3:// prefix for ``runs/<execution>/accounts/<account>.json`` and the summary
``SCAN_ACCOUNTS``           ``ORG`` (default) or account ids, comma-separated
``SCAN_PARAMETERS``         JSON object of policy parameter overrides (optional)
``SCAN_POLICIES_DIR``       policy folder inside the package (default: the shipped policies)
==========================  ==========================================================================
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from governance.errors import EXIT_OK


class OrganisationScanFailed(Exception):
    """Some account failed a check or could not be scanned; the merged summary says which."""

    def __init__(self, summary: dict) -> None:
        super().__init__(f"organisation scan {summary['verdict']}: {summary['failed_accounts']} account(s) failed, "
                         f"{summary['unreachable_accounts']} unreachable")
        self.summary = summary


def _env_list(name: str, default: str = "") -> list[str]:
    return [part for part in re.split(r"[\s,]+", os.environ.get(name, default)) if part]


def accounts(event: dict | None = None, context: Any = None) -> dict:
    """The accounts to scan, as the Distributed Map's items: ``{"accounts": [{"account": ID}, ...]}``."""
    from governance.policy.fanout import list_accounts

    spec = (event or {}).get("accounts") or os.environ.get("SCAN_ACCOUNTS") or "ORG"
    return {"accounts": [{"account": account} for account in list_accounts(spec)]}


def scan_account(event: dict, context: Any = None) -> dict:
    """Scan one account (every region); write its full result to S3 and return its summary for the merge."""
    from governance.policy import output
    from governance.policy.fanout import scan_accounts
    from governance.storage import write_bytes_atomic

    account = str(event["account"])
    execution = str(event.get("execution") or "manual").rsplit(":", 1)[-1]
    parameters = json.loads(os.environ.get("SCAN_PARAMETERS") or "{}")
    result = scan_accounts(_env_list("SCAN_TARGETS"), [account], os.environ["SCAN_ROLE_NAME"],
                           os.environ.get("SCAN_POLICIES_DIR") or None, regions=_env_list("SCAN_REGIONS") or None,
                           parameters=parameters or None, max_in_flight=1)
    uri = f"{os.environ['SCAN_OUTPUT_URI'].rstrip('/')}/runs/{execution}/accounts/{account}.json"
    write_bytes_atomic(uri, output.render(result, "json"))
    regions = result.stats["accounts"]
    return {"account": account, "verdict": result.verdict, "exit_code": result.exit_code, "summary": result.counts,
            "unreachable": any(r["status"] != "scanned" for r in regions), "result_uri": uri,
            "regions": [{k: r.get(k) for k in ("region", "status", "reason", "verdict")} for r in regions]}


def merge(event: dict, context: Any = None) -> dict:
    """Join the map's per-account summaries; write the merged summary; raise unless every account passed."""
    from governance.storage import write_bytes_atomic

    items = event.get("results") or []
    execution = str(event.get("execution") or "manual").rsplit(":", 1)[-1]
    per_account = []
    for item in items:
        # A map item that failed after its retries carries Error/Cause instead of a summary: unreachable.
        if "account" not in item or "verdict" not in item:
            per_account.append({"account": item.get("account", "?"), "verdict": "error", "unreachable": True,
                                "reason": item.get("Cause") or item.get("Error") or "the account's scan failed"})
        else:
            per_account.append(item)
    failed = [a["account"] for a in per_account if a["verdict"] == "fail"]
    unreachable = [a["account"] for a in per_account if a.get("unreachable") or a["verdict"] == "error"]
    verdict = "fail" if failed else "error" if unreachable or not per_account else "pass"
    summary = {"verdict": verdict, "accounts": len(per_account), "failed_accounts": len(failed),
               "unreachable_accounts": len(unreachable), "failed": failed, "unreachable": unreachable,
               "per_account": per_account, "exit_code": {"pass": EXIT_OK, "fail": 1, "error": 3}[verdict]}
    body = json.dumps(summary, indent=2, sort_keys=True, default=str).encode()
    output = os.environ["SCAN_OUTPUT_URI"].rstrip("/")
    write_bytes_atomic(f"{output}/runs/{execution}/summary.json", body)
    write_bytes_atomic(f"{output}/latest/summary.json", body)
    if verdict != "pass":
        print(json.dumps({"level": "ERROR", **summary}, sort_keys=True, default=str))
        raise OrganisationScanFailed(summary)
    return summary
