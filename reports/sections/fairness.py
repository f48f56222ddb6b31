"""Fairness by age band: per-band outcomes, disparities with intervals, the policy that judged them, verdicts,
waivers, and the threshold sweep.

Everything is read from ``fairness.json`` (schema ``quickloan-governance/fairness/v1``, parsed by
:mod:`reports.evidence_models`) and its charts under ``fairness/``; nothing is recomputed. Ratios and differences
print with three decimals, rates as percentages.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph

from reports import evidence_models as em
from reports.sections._base import (
    Assessment,
    PackContext,
    count,
    evidence_pngs,
    figure,
    missing,
    not_supplied,
    num,
    pct,
)
from reports.styles import badge, data_table, esc, kv_table, mono, p, styles, verdict_legend, verdict_text

KEY = "fairness"
TITLE = "Fairness"
REFERENCES = ("Art. 10(2)(f)", "Art. 10(2)(g)", "Art. 15(1)", "Annex IV 2(g)", "Annex IV 3")
SOURCE = "fairness.json"

DISPARITY_NAMES = {
    "adverse_impact_ratio": "Adverse impact ratio (lowest band's approval rate ÷ the best band's)",
    "demographic_parity_difference": "Demographic parity difference (approval rate spread)",
    "equal_opportunity_ratio": "Equal-opportunity ratio (good payers approved, lowest ÷ best)",
    "equal_opportunity_difference": "Equal-opportunity difference (good payers approved, spread)",
    "equalized_odds_difference": "Equalized-odds difference (largest TPR or FPR spread)",
    "auc_gap": "AUC gap between bands",
    "score_smd": "Largest standardized mean difference of scores",
}
TWO_INTERVALS = (
    "Two intervals describe the adverse impact ratio, and they answer different questions. The one under "
    "<i>Disparities</i> is for the lowest ratio across bands, whichever band is lowest in each bootstrap "
    "resample; the one under <i>Outcomes by age band</i> is for one band's own ratio. When the same band is "
    "lowest in most resamples the two nearly agree; where they differ, the per-band interval is the one the "
    "per-band checks judge.")


def ratio(value) -> str:
    """Disparities, ratios and differences: three decimals (the way fairness.json's own messages round them)."""
    return num(value, 3)


def interval(bounds) -> str:
    if bounds is None:
        return "—"
    return f"{ratio(bounds[0])} to {ratio(bounds[1])}"


def _level(fairness: em.Fairness) -> str:
    return f"{fairness.settings.bootstrap.confidence:.0%}"


def assess(ctx: PackContext) -> Assessment:
    fairness = em.fairness(ctx.evidence)
    if fairness is None:
        return not_supplied("Fairness", KEY, "No fairness assessment in the evidence.",
                            blockers=["No fairness evidence was supplied: the bias examination (Art. 10(2)(f)) is "
                                      "open."])
    checks = fairness.checks
    effective = [c.effective_verdict for c in checks]
    air = fairness.disparities.get("adverse_impact_ratio") or em.Estimate()
    headline = (f"{effective.count('red')} red, {effective.count('amber')} amber of {len(checks)} check(s); "
                f"adverse impact ratio {ratio(air.value)} (interval {interval(air.interval)}).")
    blockers = [f"Fairness: {esc(c.message)}" for c in checks if c.effective_verdict == "red"]
    if fairness.verdict == "red" and not blockers:
        blockers = ["The fairness verdict is red."]
    if fairness.expired_waivers:
        blockers.append(f"{len(fairness.expired_waivers)} fairness waiver(s) have expired and no longer apply.")
    review = [f"Fairness (AMBER, {esc(c.check)}, {esc(c.resource)}): {esc(c.message)}"
              + (" Waived." if c.waived else "") for c in checks if c.effective_verdict == "amber"]
    return Assessment("Fairness", KEY, fairness.verdict, headline, blockers=blockers, open_items=review)


def band_coverage(ctx: PackContext) -> list[Flowable]:
    """How many applicants (and defaults) fall in each age band; used by the data governance section."""
    fairness = em.fairness(ctx.evidence)
    if fairness is None or not fairness.data_checks.coverage:
        return []
    quality = fairness.data_checks.age_quality
    name = (fairness.data.file or "its data").rsplit("/", 1)[-1]
    scope = (f"In the {count(fairness.data.rows)} applicants the fairness assessment scored ({name}); bands below "
             "the minimum count are shown, not judged.")
    story: list[Flowable] = [p(esc(scope)), data_table(
        ["Age band", "Applicants", "Share", "Defaults", "Default rate", "Judged"],
        [[c.band, count(c.count), pct(c.share), count(c.defaults), pct(c.default_rate),
          "yes" if c.judged else f"no (fewer than {count(fairness.settings.min_count)})"]
         for c in fairness.data_checks.coverage],
        [25 * mm, 25 * mm, 20 * mm, 22 * mm, 25 * mm, None], align_right=(1, 2, 3, 4))]
    out_of_range = (quality.get("out_of_range") or {}).get("count")
    if out_of_range is not None:
        story.append(p(f"Ages outside the valid range {esc(quality.get('valid_range'))}: {count(out_of_range)} "
                       f"applicant(s), excluded from every band and reported as a data-quality finding. Ages no band "
                       f"covers: {count((quality.get('unbanded') or {}).get('count'))}.", "small"))
    story.append(ctx.source(SOURCE))
    return story


def per_band_performance(ctx: PackContext) -> list[Flowable]:
    """AUC, error rates and calibration per age band; used by the performance section."""
    fairness = em.fairness(ctx.evidence)
    if fairness is None or not fairness.bands:
        return []
    rows = [[b.label, count(b.count), num(b.metric("auc").value), pct(b.metric("true_positive_rate").value),
             pct(b.metric("false_positive_rate").value), num(b.metric("brier").value),
             pct(b.metric("mean_predicted").value), pct(b.metric("default_rate").value)] for b in fairness.bands]
    return [data_table(["Age band", "Applicants", "AUC", "Defaulters declined (TPR)", "Good payers declined (FPR)",
                        "Brier", "Mean predicted", "Observed default rate"], rows,
                       [18 * mm, 20 * mm, 16 * mm, None, None, 15 * mm, 20 * mm, 22 * mm],
                       align_right=(1, 2, 3, 4, 5, 6, 7)),
            p("At the operating threshold of the fairness assessment; intervals for these figures are in "
              f"{ctx.link(KEY)}.", "small"), ctx.source(SOURCE)]


def _settings(ctx: PackContext, fairness: em.Fairness) -> list[Flowable]:
    settings, boot = fairness.settings, fairness.settings.bootstrap
    shown = verdict_text(fairness.verdict) + (f" (without waivers: {verdict_text(fairness.verdict_without_waivers)})"
                                              if fairness.verdict_without_waivers != fairness.verdict else "")
    return [kv_table([
        ("Overall verdict", Paragraph(shown, styles()["cell"])),
        ("Protected attribute", f"{settings.protected_attribute}, in bands (see below)"),
        ("Decision rule", f"{settings.decision_rule}; threshold {num(settings.threshold, 3)} "
                          f"(from {settings.threshold_source})"),
        ("Uncertainty", f"{_level(fairness)} bootstrap intervals, {count(boot.resamples)} resamples, seed "
                        f"{boot.seed} ({boot.method})"),
        ("Bands judged", f"only bands with at least {count(settings.min_count)} applicants"),
        ("Data assessed", f"{fairness.data.file} ({count(fairness.data.rows)} rows)"),
        ("Data sha256", mono(fairness.data.sha256)),
        ("Model sha256", mono(fairness.model.sha256)),
        ("Assessed on", fairness.assessed_on),
    ]), ctx.source(SOURCE)]


def _policy_table(ctx: PackContext, fairness: em.Fairness) -> list[Flowable]:
    """The policy that judged the checks: limit, the one verdict rule, enabled or not, and why."""
    sheet = styles()
    rows = []
    for name, rule in fairness.settings.policy.checks.items():
        role = ("blocking" if rule.blocking else "monitored") if rule.enabled else "not judged"
        outcomes = (f"significant → {rule.on_significant.upper()}; breach → {rule.on_breach.upper()}; "
                    f"interval crosses → {rule.on_uncertain.upper()}") if rule.enabled else "reported only"
        rows.append([Paragraph(f"<b>{esc(name)}</b>", sheet["cell"]), num(rule.limit, 2), role, outcomes,
                     Paragraph(esc(rule.reason or "No reason given in the policy."), sheet["cell"])])
    return [
        p("The fairness policy", "h2"),
        p("The rules that judged the checks below, as sealed in the evidence. GREEN only when the whole interval "
          "is within the limit; a significant breach (the whole interval beyond the limit) of a blocking check is "
          "RED unless waived; a monitored check is at worst AMBER; a check that is not judged is still reported "
          "under Disparities."),
        data_table(["Check", "Limit", "Role", "Verdicts", "Why"], rows, [51 * mm, 11 * mm, 17 * mm, 36 * mm, None]),
        ctx.source(SOURCE)]


def _disparities(ctx: PackContext, fairness: em.Fairness) -> list[Flowable]:
    if not fairness.disparities:
        return []
    rows = [[DISPARITY_NAMES.get(name, name), ratio(entry.value), interval(entry.interval), entry.reference_band or "—"]
            for name, entry in fairness.disparities.items()]
    return [KeepTogether([p("Disparities across bands", "h2"),
                          p("Every measure the assessment computes, judged or not; which of them the policy judges, "
                            "and how, is in the table above.", "small"),
                          data_table(["Measure", "Value", f"{_level(fairness)} interval", "Best band"], rows,
                                     [None, 16 * mm, 32 * mm, 16 * mm], align_right=(1,)),
                          p(TWO_INTERVALS, "small"), ctx.source(SOURCE)])]


def _outcomes_by_band(ctx: PackContext, fairness: em.Fairness) -> list[Flowable]:
    if not fairness.bands:
        return []
    sheet, level = styles(), _level(fairness)
    rows = []
    for b in fairness.bands:
        air, eor, wrong = b.metric("adverse_impact_ratio"), b.metric("equal_opportunity_ratio"), b.metric(
            "wrongful_declines")
        rows.append([b.label, count(b.count), "yes" if b.judged else "no", pct(b.metric("approval_rate").value),
                     pct(b.metric("default_rate").value), count(int(wrong.value)) if wrong.value is not None else "—",
                     Paragraph(f"{ratio(air.value)}<br/>{interval(air.interval)}", sheet["cell"]),
                     Paragraph(f"{ratio(eor.value)}<br/>{interval(eor.interval)}", sheet["cell"])])
    return [p("Outcomes by age band", "h2"),
            data_table(["Band", "Applicants", "Judged", "Approval rate", "Default rate", "Good payers declined",
                        f"Adverse impact ratio ({level} interval)", f"Equal-opportunity ratio ({level} interval)"],
                       rows, [13 * mm, 19 * mm, 14 * mm, 18 * mm, 17 * mm, 18 * mm, None, None],
                       align_right=(1, 3, 4, 5)),
            ctx.source(SOURCE)]


def _checks(ctx: PackContext, fairness: em.Fairness) -> list[Flowable]:
    if not fairness.checks:
        return []
    rows = []
    for c in fairness.checks:
        note = c.message
        if c.waived and c.waiver:
            note += f" WAIVED by {c.waiver.approver} until {c.waiver.expires}: {c.waiver.reason}"
        rows.append([badge(c.effective_verdict), c.check, c.resource, c.status, note])
    return [p("Checks and verdicts", "h2"),
            p("Each enabled rule of the policy above, per band where it applies, with the verdict the assessment "
              "wrote. " + verdict_legend(), "small"),
            data_table(["Verdict", "Check", "Applies to", "Where the interval lies", "Finding"], rows,
                       [27 * mm, 30 * mm, 15 * mm, 20 * mm, None]),
            ctx.source(SOURCE)]


def _elderly(ctx: PackContext, fairness: em.Fairness) -> list[Flowable]:
    elderly = fairness.elderly
    if elderly is None or not elderly.enabled:
        return []
    return [p(f"Applicants aged {esc(elderly.min_age)} and over", "h2"), kv_table([
        ("Applicants", count(elderly.count)),
        ("Mean SHAP contribution of age", f"{num(elderly.mean_age_shap, 3)} log-odds ({_level(fairness)} interval "
                                          f"{interval(elderly.interval)}); negative means age lowers their "
                                          "predicted risk"),
        ("Share with an adverse age contribution", pct(elderly.share_adverse)),
    ]), ctx.source(SOURCE)]


def _waivers(fairness: em.Fairness) -> list[Flowable]:
    waived = [c for c in fairness.checks if c.waived and c.waiver]
    story: list[Flowable] = [p("Waivers", "h2")]
    if not waived and not fairness.expired_waivers:
        return [*story, p("No fairness finding is waived.")]
    rows = [[c.check, c.resource, c.waiver.approver, c.waiver.expires, c.waiver.reason] for c in waived]
    for w in fairness.expired_waivers:
        waiver = w.get("waiver") or {}
        rows.append([w.get("check"), w.get("resource"), waiver.get("approver"),
                     f"{waiver.get('expires')} (EXPIRED)", waiver.get("reason")])
    return [*story, data_table(["Check", "Resource", "Approver", "Expires", "Reason"], rows,
                               [35 * mm, 22 * mm, 30 * mm, 26 * mm, None])]


def _charts(ctx: PackContext, fairness: em.Fairness) -> list[Flowable]:
    pictures = evidence_pngs(ctx, "fairness")
    if not pictures:
        return []
    order = {name: i for i, name in enumerate(fairness.charts)}
    pictures.sort(key=lambda item: (order.get(item[0], 99), item[0]))
    charts = [figure(ctx, relative, data, 175 if "sweep" in relative else 135) for relative, data in pictures]
    return [KeepTogether([p("Charts", "h2"), p("Drawn by the fairness assessment and sealed in the evidence. The "
                                              "threshold sweep shows how approval rates and the disparities move "
                                              "with the cutoff."), charts[0]]), *charts[1:]]


def build(ctx: PackContext) -> list[Flowable]:
    fairness = em.fairness(ctx.evidence)
    if fairness is None:
        return [missing("fairness assessment (fairness.json)")]
    story = [*_settings(ctx, fairness), *_policy_table(ctx, fairness), *_disparities(ctx, fairness),
             *_outcomes_by_band(ctx, fairness), *_checks(ctx, fairness), *_elderly(ctx, fairness),
             *_waivers(fairness), *_charts(ctx, fairness)]
    if fairness.libraries:
        story.append(p("Libraries: " + ", ".join(f"{esc(k)} {esc(v)}" for k, v in sorted(fairness.libraries.items())),
                       "small"))
    return story
