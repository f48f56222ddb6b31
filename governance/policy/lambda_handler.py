"""AWS Lambda entry point for the nightly scan (EventBridge Scheduler → Lambda → S3 reports + ledger).

Configured by environment variables, overridable per schedule through the event's JSON input:

==========================  ====================  ==========================================================
environment                 event key             meaning
==========================  ====================  ==========================================================
``SCAN_TARGETS``            ``targets``           targets, separated by spaces or commas (event: a list)
``SCAN_OUTPUT_URI``         ``output_uri``        s3:// prefix for ``runs/<time>/`` and ``latest/`` reports
``SCAN_STATE_URI``          ``state_uri``         s3:// key of the incremental state (optional)
``SCAN_LEDGER_URI``         ``ledger_uri``        s3:// ledger prefix to append the run to (optional)
``SCAN_LEDGER_KMS_KEY_ID``  ``ledger_kms_key_id`` KMS key (id, ARN or alias) that signs the ledger record
``GOVERNANCE_STATE_KEY``    —                     secret that authenticates the state file (HMAC; optional)
``SCAN_PARAMETERS``         ``parameters``        JSON object of policy parameter overrides (optional)
``SCAN_POLICIES_DIR``       ``policies_dir``      policy folder inside the image (default: shipped)
==========================  ====================  ==========================================================

The handler returns the summary when every check passed and *raises* otherwise, so the invocation counts as an
error: EventBridge Scheduler retries it and then sends it to the dead-letter queue, and the ``Errors`` alarm in
``pipeline/infra/scan-schedule.yaml`` pages someone. The reports are written before it raises.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from governance.errors import GovernanceError
from governance.policy.scan_record import open_ledger_signer
from governance.policy.scheduled import ScheduledScanFailed, run_scheduled_scan


class ScanConfigurationError(Exception):
    """The schedule is misconfigured (no targets, no output location, bad parameters)."""


def _setting(event: dict, key: str, env: str) -> Any:
    return event.get(key) if event.get(key) not in (None, "") else os.environ.get(env) or None


def configuration(event: dict | None) -> dict:
    event = event if isinstance(event, dict) else {}
    targets = _setting(event, "targets", "SCAN_TARGETS")
    if isinstance(targets, str):
        targets = [t for t in re.split(r"[\s,]+", targets) if t]
    output_uri = _setting(event, "output_uri", "SCAN_OUTPUT_URI")
    if not targets:
        raise ScanConfigurationError("no scan targets: set SCAN_TARGETS or pass {\"targets\": [...]}")
    if not output_uri:
        raise ScanConfigurationError("no output location: set SCAN_OUTPUT_URI (an s3:// prefix)")
    parameters = _setting(event, "parameters", "SCAN_PARAMETERS")
    if isinstance(parameters, str):
        try:
            parameters = json.loads(parameters)
        except json.JSONDecodeError as err:
            raise ScanConfigurationError(f"SCAN_PARAMETERS is not a JSON object ({err})") from None
    if parameters is not None and not isinstance(parameters, dict):
        raise ScanConfigurationError("SCAN_PARAMETERS must be a JSON object")
    return {
        "targets": list(targets),
        "output_uri": output_uri,
        "state_uri": _setting(event, "state_uri", "SCAN_STATE_URI"),
        "ledger_uri": _setting(event, "ledger_uri", "SCAN_LEDGER_URI"),
        "ledger_kms_key_id": _setting(event, "ledger_kms_key_id", "SCAN_LEDGER_KMS_KEY_ID"),
        "parameters": parameters,
        "policies_dir": _setting(event, "policies_dir", "SCAN_POLICIES_DIR"),
    }


def handler(event: dict | None, context: Any = None) -> dict:
    """Run the scan; return the summary on PASS, raise on FAIL, ERROR or a broken configuration."""
    settings = configuration(event)
    try:
        summary = run_scheduled_scan(
            settings["targets"], settings["output_uri"], policies_dir=settings["policies_dir"],
            parameters=settings["parameters"], state_uri=settings["state_uri"], ledger_uri=settings["ledger_uri"],
            ledger_signer=open_ledger_signer(kms_key_id=settings["ledger_kms_key_id"]),
        )
    except ScheduledScanFailed as err:
        print(json.dumps({"level": "ERROR", **err.summary}, sort_keys=True, default=str))
        raise
    except GovernanceError as err:
        print(json.dumps({"level": "ERROR", "reason": err.reason, "message": err.message}, sort_keys=True))
        raise
    print(json.dumps({"level": "INFO", **summary}, sort_keys=True, default=str))
    return summary
