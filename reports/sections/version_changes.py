"""Changes since the previous version: the change log ``governance diff`` wrote into the evidence (``changes.json``)
and its substantial-modification verdict against the pre-determined change plan."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections._base import PackContext, num
from reports.styles import data_table, esc, kv_table, notice, p

KEY = "changes"
TITLE = "Changes since the previous version"
# Art. 43(4) and Annex IV 2(f): whether the change stays within the pre-determined change plan; Annex IV 6: the record.
REFERENCES = ("Art. 43(4)", "Annex IV 2(f)", "Annex IV 6")
SOURCE = "changes.json"


def _signed(value) -> str:
    return "—" if value is None else f"{value:+.4f}"


def build(ctx: PackContext) -> list[Flowable]:
    changes = ctx.evidence.json(SOURCE)
    if not isinstance(changes, dict):
        return [notice("This is the first version kept in this work folder: there is no earlier version to compare "
                       "with, so no change log.", "info")]
    assessment = changes.get("assessment") or {}
    previous = changes.get("previous_version")
    story: list[Flowable] = [
        p(f"Changes since version {esc(previous)}" if previous is not None else "Changes since the previous version",
          "h2"),
        notice(esc(assessment.get("conclusion", "no assessment recorded")),
               "warn" if assessment.get("substantial") else "info"),
        kv_table([("Previous", changes["old"]["label"]), ("This version", changes["new"]["label"]),
                  ("Change plan", assessment.get("plan_source", "—"))]),
        p("Change plan rules", "h2"),
        data_table(["Rule", "Result", "Detail"],
                   [[r["rule"], r["status"], r["detail"]] for r in assessment.get("rules", [])],
                   [50 * mm, 18 * mm, None]),
        p("Metrics (validation split)", "h2"),
        data_table(["Metric", "Previous", "This version", "Change", "95% interval of the change"],
                   [[name, num(m["old"]), num(m["new"]), _signed(m["delta"]),
                     f"[{m['interval'][0]:+.4f}, {m['interval'][1]:+.4f}]" if m.get("interval") else
                     "no standard error recorded"] for name, m in changes["metrics"].items()],
                   align_right=(1, 2, 3)),
    ]
    hyper = changes.get("hyperparameters") or {}
    story.append(p("Hyperparameters", "h2"))
    story.append(data_table(["Parameter", "Previous", "This version"],
                            [[k, str(v["old"]), str(v["new"])] for k, v in hyper.items()])
                 if hyper else p("No hyperparameter changed."))
    data = changes.get("data") or {}
    if data.get("available"):
        story.append(p("Data", "h2"))
        story.append(p("The training data's content digest "
                       + ("changed." if data["digest_changed"] else "is unchanged.")
                       + (" Rows: " + ", ".join(f"{k} {v['old']} → {v['new']}" for k, v in data["rows"].items())
                          if data["rows"] else "")))
    code = (changes.get("code") or {}).get("changed") or []
    story.append(p("Pipeline code", "h2"))
    story.append(data_table(["File", "Previous sha256", "This version"],
                            [[c["name"], (c["old"] or "—")[:16], (c["new"] or "—")[:16]] for c in code],
                            mono_columns=(1, 2)) if code else p("The pipeline code digests are unchanged."))
    fairness = changes.get("fairness") or {}
    if fairness.get("available"):
        story.append(p("Fairness by age band", "h2"))
        story.append(data_table(
            ["Band", "Approval (prev.)", "Approval (now)", "Change", "AIR (prev.)", "AIR (now)"],
            [[b["band"], num(b["approval_rate"]["old"], 3), num(b["approval_rate"]["new"], 3),
              _signed(b["approval_rate"]["delta"]), num(b["adverse_impact_ratio"]["old"], 3),
              num(b["adverse_impact_ratio"]["new"], 3)] for b in fairness["bands"]], align_right=(1, 2, 3, 4, 5)))
        if fairness["checks_changed"]:
            story.append(data_table(["Fairness check", "Previous", "This version"],
                                    [[c["check"], c["old"] or "—", c["new"] or "—"]
                                     for c in fairness["checks_changed"]]))
    explain = changes.get("explain") or {}
    if explain.get("available"):
        story.append(p("Explanations", "h2"))
        moved = explain["moved"]
        story.append(p("SHAP global ranking: " + ("unchanged." if not moved else "; ".join(
            f"{m['feature']} {m['old_rank'] or 'new'} → {m['new_rank']}" for m in moved) + ".")))
        top = [r for r in explain["reason_codes"] if r["delta"]][:6]
        if top:
            story.append(data_table(["Reason code", "Share of declines (prev.)", "Now", "Change"],
                                    [[r["code"], num(r["old"], 3), num(r["new"], 3), _signed(r["delta"])]
                                     for r in top], align_right=(1, 2, 3)))
    policy = changes.get("policy") or {}
    if policy.get("available"):
        story.append(p("Policy results", "h2"))
        story.append(data_table(["Finding", "Previous", "This version"],
                                [[c["finding"], c["old"] or "—", c["new"] or "—"] for c in policy["changed"][:30]])
                     if policy["changed"] else p("No policy result changed."))
    story.append(ctx.source(SOURCE))
    return story
