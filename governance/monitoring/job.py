"""The scheduled monitoring job: one ``governance monitor`` run as a SageMaker Processing job.

EventBridge Scheduler starts it (``CreateProcessingJob``, ``pipeline/infra/monitor-schedule.yaml``) with the steps
image and ``python3 -m governance.monitoring.job``; everything it needs is in the environment the schedule sets:

==========================  =================================================================================
``MONITOR_MODEL_URI``       the deployed ``model.tar.gz`` (s3://)
``MONITOR_EVIDENCE_URI``    the model's evidence folder (s3:// prefix; copied locally, its index re-hashed)
``MONITOR_CAPTURE_URI``     Data Capture prefix ``…/ENDPOINT/VARIANT/``
``MONITOR_LABELS_URI``      Model Monitor ground truth prefix (optional)
``MONITOR_OUTPUT_URI``      s3:// prefix for ``runs/<scheduled time>/`` and ``latest/`` reports
``MONITOR_LEDGER_URI``      s3:// ledger prefix to append the ``monitor`` record to (optional)
``MONITOR_KMS_KEY_ID``      KMS key that signs the report and the ledger record (optional)
``MONITOR_POLICY_URI``      monitoring policy YAML (optional; default the shipped one)
``MONITOR_SCHEDULED_TIME``  the schedule's time (``<aws.scheduler.scheduled-time>``); default now
``MONITOR_WINDOW_HOURS``    hours of capture before the scheduled time to judge (0: all; default 24)
==========================  =================================================================================

Exit status is the command's: 0 no drift beyond policy, 1 a FAIL, 2 bad configuration or input, 3 a check could
not run. Any non-zero status fails the Processing job, which the template's EventBridge rule turns into an alarm;
the reports are written before that.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from governance.errors import EXIT_CHECK_FAILED, EXIT_INCOMPLETE, EXIT_OK, GovernanceError, InputError


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise InputError("BAD_CONFIGURATION", f"{name} is not set")
    return value


def scheduled_window(environ=os.environ) -> tuple[datetime, tuple[datetime, datetime] | None]:
    """The run's time and the capture hours it judges: ``[time - hours, time)`` cut to whole hours."""
    text = environ.get("MONITOR_SCHEDULED_TIME", "").strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else datetime.now(UTC)
        hours = int(environ.get("MONITOR_WINDOW_HOURS", "24") or 0)
    except ValueError as err:
        raise InputError("BAD_CONFIGURATION", f"MONITOR_SCHEDULED_TIME / MONITOR_WINDOW_HOURS: {err}") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if hours < 0:
        raise InputError("BAD_CONFIGURATION", "MONITOR_WINDOW_HOURS must not be negative")
    end = when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return when, ((end - timedelta(hours=hours), end) if hours else None)


def run() -> dict:
    """One monitoring run from the environment; returns the report (written, and recorded when configured)."""
    from governance import storage
    from governance.monitoring import load_policy, monitor, write_report
    from governance.policy.scan_record import open_ledger_signer

    model, evidence_uri = _required("MONITOR_MODEL_URI"), _required("MONITOR_EVIDENCE_URI")
    capture, output = _required("MONITOR_CAPTURE_URI"), _required("MONITOR_OUTPUT_URI").rstrip("/")
    when, window = scheduled_window()
    policy_uri = os.environ.get("MONITOR_POLICY_URI") or None
    signer = open_ledger_signer(kms_key_id=os.environ.get("MONITOR_KMS_KEY_ID") or None)
    with tempfile.TemporaryDirectory(prefix="monitor-evidence-") as scratch:
        evidence = Path(scratch)
        storage.download_folder(evidence_uri, evidence)  # bounded; names that would escape are refused
        report = monitor(model, evidence, capture, load_policy(policy_uri), labels=os.environ.get("MONITOR_LABELS_URI")
                         or None, policy_source=policy_uri, capture_window=window)
    report["evidence"]["folder"] = evidence_uri
    for place in (f"{output}/runs/{when:%Y%m%dT%H%M%SZ}", f"{output}/latest"):
        write_report(report, place, signer)
    if os.environ.get("MONITOR_LEDGER_URI"):
        from governance.monitoring.report import record_monitoring

        record_monitoring(os.environ["MONITOR_LEDGER_URI"], report, signer)
    return report


def main() -> int:
    try:
        report = run()
    except GovernanceError as err:
        print(f"governance monitor job: {err.reason}: {err.message}", file=sys.stderr)
        return err.exit_code
    failed = [f"{c['check']} [{c['subject']}]" for c in report["checks"] if c["status"] == "FAIL"]
    print(f"governance monitor job: {report['verdict']}: {report['capture']['rows']} rows"
          + (f"; FAIL: {'; '.join(failed[:6])}" if failed else ""), file=sys.stderr)
    return {"FAIL": EXIT_CHECK_FAILED, "ERROR": EXIT_INCOMPLETE}.get(report["verdict"], EXIT_OK)


if __name__ == "__main__":
    sys.exit(main())
