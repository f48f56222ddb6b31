"""Policy scan: findings by family (encryption, access, retention, artefact), what failed with its remediation,
and waivers with approver and expiry. Read from ``policy.json`` (``governance scan`` output)."""

from __future__ import annotations

from collections import Counter

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports.sections._base import EVIDENCED, OPEN, Assessment, PackContext, count, missing
from reports.styles import data_table, esc, kv_table, p

KEY = "policy"
TITLE = "Policy scan"
REFERENCES = ("Art. 17(1)", "Art. 15(5)")
SOURCE = "policy.json"
STATUSES = ("PASS", "FAIL", "WAIVED", "N/A", "ERROR")


def _findings(result: dict) -> list[dict]:
    return [f for f in result.get("findings") or [] if isinstance(f, dict)]


def assess(ctx: PackContext) -> Assessment:
    result = ctx.evidence.json(SOURCE)
    if not isinstance(result, dict):
        return Assessment("Policy scan", KEY, "grey", "No policy scan in the evidence.", OPEN,
                          blockers=["No policy scan (policy.json): storage encryption, access and retention are "
                                    "not evidenced."])
    findings = _findings(result)
    counts = Counter(str(f.get("status")) for f in findings)
    blockers = [f"Policy {esc(f.get('check'))} failed on {esc(f.get('resource'))}: {esc(f.get('message'))}"
                for f in findings if f.get("status") == "FAIL"]
    blockers += [f"Policy {esc(f.get('check'))} could not be decided on {esc(f.get('resource'))} (ERROR): "
                 f"{esc(f.get('message'))}" for f in findings if f.get("status") == "ERROR"]
    verdict = "red" if blockers else "amber" if counts["WAIVED"] else "green"
    headline = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "no findings"
    return Assessment("Policy scan", KEY, verdict, f"{len(findings)} finding(s): {headline}.", EVIDENCED,
                      blockers=blockers)


def build(ctx: PackContext) -> list[Flowable]:
    result = ctx.evidence.json(SOURCE)
    if not isinstance(result, dict):
        return [missing("policy scan (policy.json): encryption, access and retention checks of the stores")]
    findings = _findings(result)
    story: list[Flowable] = [kv_table([
        ("Verdict", f"{str(result.get('verdict', '—')).upper()}" + (f" ({result.get('reason')})"
                                                                     if result.get("reason") else "")),
        ("Targets scanned", ", ".join(str(t) for t in result.get("targets") or []) or "—"),
        ("Policy files", ", ".join(str(f) for f in result.get("policy_files") or []) or "—"),
        ("Waivers", "ignored: the unwaived truth" if result.get("ignore_waivers") else "applied where unexpired"),
        ("Scanned", f"{result.get('started_at') or '—'} to {result.get('finished_at') or '—'}"),
    ]), ctx.source(SOURCE)]

    families: dict[str, Counter] = {}
    for finding in findings:
        families.setdefault(str(finding.get("policy") or "—"), Counter())[str(finding.get("status"))] += 1
    story += [p("Findings by family", "h2"),
              data_table(["Family", *STATUSES], [[family, *(count(c[s]) for s in STATUSES)]
                                                 for family, c in sorted(families.items())],
                         [50 * mm, None, None, None, None, None], align_right=(1, 2, 3, 4, 5))]

    failing = [f for f in findings if f.get("status") in ("FAIL", "ERROR")]
    story += [p("Failed or undecided checks", "h2")]
    if failing:
        story.append(data_table(
            ["Status", "Severity", "Check", "Resource", "Finding and remediation"],
            [[f.get("status"), f.get("severity"), f"{f.get('check')}: {f.get('title')}", f.get("resource"),
              f"{f.get('message')}" + (f" Remediation: {f.get('remediation')}" if f.get("remediation") else "")]
             for f in failing], [14 * mm, 15 * mm, 40 * mm, 35 * mm, None]))
    else:
        story.append(p("None: every applicable check passed or is waived."))

    waived = [f for f in findings if f.get("status") == "WAIVED"]
    story += [p("Waivers", "h2")]
    if waived:
        story.append(data_table(
            ["Check", "Resource", "Approver", "Expires", "Reason"],
            [[f.get("check"), f.get("resource"), (f.get("waiver") or {}).get("approver"),
              (f.get("waiver") or {}).get("expires"), (f.get("waiver") or {}).get("reason")] for f in waived],
            [35 * mm, 40 * mm, 28 * mm, 20 * mm, None]))
    else:
        story.append(p("No finding is waived."))

    by_check: dict[str, dict] = {}
    for finding in findings:
        entry = by_check.setdefault(str(finding.get("check")), {"finding": finding, "counts": Counter()})
        entry["counts"][str(finding.get("status"))] += 1
    if by_check:
        story += [p("Every check, by resource count", "h2"),
                  data_table(["Check", "Regulations", *STATUSES],
                             [[f"{check}: {entry['finding'].get('title')}",
                               ", ".join(str(r) for r in entry["finding"].get("regulations") or []) or "—",
                               *(count(entry["counts"][s]) if entry["counts"][s] else "" for s in STATUSES)]
                              for check, entry in sorted(by_check.items())],
                             [None, 38 * mm, 11 * mm, 11 * mm, 14 * mm, 10 * mm, 13 * mm],
                             align_right=(2, 3, 4, 5, 6))]
    story.append(ctx.source(SOURCE))
    return story
