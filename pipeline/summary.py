"""What a finished local run did, as the lines a terminal prints (data, model, AUC gate, registration)."""

from __future__ import annotations


def run_summary_lines(run) -> list[str]:
    """Plain lines for a :class:`~pipeline.runner.PipelineRun`; synthetic data is always named as such."""
    rows = run.profile["rows"]
    origin = "SYNTHETIC data (generated, not real applicants)" if run.synthetic else run.data
    lines = [
        f"data        {origin}: {rows['total']:,} rows ({rows['train']:,} train / {rows['validation']:,} validation)",
        f"model       {run.model_path}",
        f"AUC         {run.auc:.4f} (gate {run.auc_threshold:.2f}: {'passed' if run.auc_passed else 'FAILED'})",
    ]
    if run.registered:
        lines.append(f"registered  {run.package.arn} [{run.package.approval_status}] in {run.registry_path}")
    else:
        lines.append("registered  NO: " + "; ".join(run.not_registered_reasons()))
    return lines
