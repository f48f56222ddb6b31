"""Policy scan: findings by family (encryption, access, retention, artefact), what failed with its remediation,
and waivers with approver and expiry. Read from ``policy.json`` (``governance scan`` output)."""

from __future__ import annotations

from collections import Counter

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from reports import evidence_models as em
from reports.sections._base import Assessment, PackContext, count, missing, not_supplied
from reports.styles import data_table, esc, kv_table, p

KEY = "policy"
TITLE = "Policy scan"
REFERENCES = ("Art. 17(1)", "Art. 15(5)")
SOURCE = "policy.json"
STATUSES = ("PASS", "FAIL", "WAIVED", "N/A", "ERROR")
FAMILIES = ("encryption", "access", "retention", "artefact")


def assess(ctx: PackContext) -> Assessment:
    scan = em.policy(ctx.evidence)
    if scan is None:
        return not_supplied("Policy scan", KEY, "No policy scan in the evidence.",
                            blockers=["No policy scan (policy.json): storage encryption, access and retention are "
                                      "not evidenced."])
    counts = Counter(f.status for f in scan.findings)
    blockers = [f"Policy {esc(f.check)} failed on {esc(f.resource)}: {esc(f.message)}"
                for f in scan.findings if f.status == "FAIL"]
    blockers += [f"Policy {esc(f.check)} could not be decided on {esc(f.resource)} (ERROR): {esc(f.message)}"
                 for f in scan.findings if f.status == "ERROR"]
    ran = {f.policy for f in scan.findings if f.status in ("PASS", "FAIL", "WAIVED")}
    idle = [family for family in FAMILIES if family not in ran]
    review = [f"Policy family {family}: no check applied to the stores scanned (nothing was evidenced)."
              for family in idle]
    verdict = "red" if blockers else "amber" if counts["WAIVED"] else "green"
    headline = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "no findings"
    if idle:
        headline += f"; not applicable to these stores: {', '.join(idle)}"
    return Assessment("Policy scan", KEY, verdict, f"{len(scan.findings)} finding(s): {headline}.",
                      blockers=blockers, open_items=review)


def _overview(ctx: PackContext, scan: em.PolicyScan) -> list[Flowable]:
    return [kv_table([
        ("Verdict", scan.verdict.upper() + (f" ({scan.reason})" if scan.reason else "")),
        ("Targets scanned", ", ".join(scan.targets) or "—"),
        ("Policy files", ", ".join(scan.policy_files) or "—"),
        ("Waivers", "ignored: the unwaived truth" if scan.ignore_waivers else "applied where unexpired"),
        ("Scanned", f"{scan.started_at or '—'} to {scan.finished_at or '—'}"),
    ]), ctx.source(SOURCE)]


def _families(scan: em.PolicyScan) -> list[Flowable]:
    families: dict[str, Counter] = {family: Counter() for family in FAMILIES}
    for finding in scan.findings:
        families.setdefault(finding.policy, Counter())[finding.status] += 1
    rows = [[family, *(count(c[s]) for s in STATUSES),
             "checked" if c["PASS"] + c["FAIL"] + c["WAIVED"] else "not evidenced: no check applied"]
            for family, c in sorted(families.items())]
    return [p("Findings by family", "h2"),
            p("A family with no PASS, FAIL or WAIVED finding did not check anything on the stores scanned (a local "
              "folder has no bucket encryption or retention settings, for example): it evidences nothing, and the "
              "obligations map does not count it."),
            data_table(["Family", *STATUSES, "What it shows"], rows,
                       [24 * mm, 12 * mm, 12 * mm, 15 * mm, 11 * mm, 14 * mm, None], align_right=(1, 2, 3, 4, 5))]


def _failing(scan: em.PolicyScan) -> list[Flowable]:
    failing = [f for f in scan.findings if f.status in ("FAIL", "ERROR")]
    story: list[Flowable] = [p("Failed or undecided checks", "h2")]
    if not failing:
        return [*story, p("None: every applicable check passed or is waived.")]
    return [*story, data_table(
        ["Status", "Severity", "Check", "Resource", "Finding and remediation"],
        [[f.status, f.severity, f"{f.check}: {f.title}", f.resource,
          f.message + (f" Remediation: {f.remediation}" if f.remediation else "")] for f in failing],
        [14 * mm, 15 * mm, 40 * mm, 35 * mm, None])]


def _waivers(scan: em.PolicyScan) -> list[Flowable]:
    waived = [f for f in scan.findings if f.status == "WAIVED"]
    story: list[Flowable] = [p("Waivers", "h2")]
    if not waived:
        return [*story, p("No finding is waived.")]
    return [*story, data_table(
        ["Check", "Resource", "Approver", "Expires", "Reason"],
        [[f.check, f.resource, f.waiver.approver if f.waiver else None, f.waiver.expires if f.waiver else None,
          f.waiver.reason if f.waiver else None] for f in waived],
        [35 * mm, 40 * mm, 28 * mm, 20 * mm, None])]


def _every_check(scan: em.PolicyScan) -> list[Flowable]:
    by_check: dict[str, tuple[em.PolicyFinding, Counter]] = {}
    for finding in scan.findings:
        by_check.setdefault(finding.check, (finding, Counter()))[1][finding.status] += 1
    if not by_check:
        return []
    rows = [[f"{check}: {finding.title}", ", ".join(finding.regulations) or "—",
             *(count(counts[s]) if counts[s] else "" for s in STATUSES)]
            for check, (finding, counts) in sorted(by_check.items())]
    return [p("Every check, by resource count", "h2"),
            data_table(["Check", "Regulations", *STATUSES], rows,
                       [None, 38 * mm, 11 * mm, 11 * mm, 14 * mm, 10 * mm, 13 * mm], align_right=(2, 3, 4, 5, 6))]


def build(ctx: PackContext) -> list[Flowable]:
    scan = em.policy(ctx.evidence)
    if scan is None:
        return [missing("policy scan (policy.json): encryption, access and retention checks of the stores")]
    return [*_overview(ctx, scan), *_families(scan), *_failing(scan), *_waivers(scan), *_every_check(scan),
            ctx.source(SOURCE)]
