"""Fairness by age band: per-band outcomes, disparities with intervals, verdicts, waivers, and the threshold sweep.

Everything is read from ``fairness.json`` (schema ``quickloan-governance/fairness/v1``) and its charts under
``fairness/``; nothing is recomputed. Ratios and differences print with three decimals, rates as percentages.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph

from reports.sections._base import (
    EVIDENCED,
    OPEN,
    Assessment,
    PackContext,
    as_float,
    checks_table,
    count,
    dig,
    evidence_pngs,
    figure,
    missing,
    num,
    pct,
    verdict_of,
)
from reports.styles import data_table, esc, kv_table, mono, p, styles, verdict_text

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


def ratio(value) -> str:
    """Disparities, ratios and differences: three decimals (the way fairness.json's own messages round them)."""
    return num(value, 3)


def interval(value) -> str:
    bounds = value if isinstance(value, list | tuple) and len(value) == 2 else None
    if bounds is None or as_float(bounds[0]) is None or as_float(bounds[1]) is None:
        return "—"
    return f"{ratio(bounds[0])} to {ratio(bounds[1])}"


def _fairness(ctx: PackContext) -> dict | None:
    document = ctx.evidence.json(SOURCE)
    return document if isinstance(document, dict) else None


def assess(ctx: PackContext) -> Assessment:
    fairness = _fairness(ctx)
    if fairness is None:
        return Assessment("Fairness", KEY, "grey", "No fairness assessment in the evidence.", OPEN,
                          blockers=["No fairness evidence was supplied: the bias examination (Art. 10(2)(f)) is open."])
    verdict = verdict_of(fairness.get("verdict"))
    checks = [c for c in fairness.get("checks") or [] if isinstance(c, dict)]
    effective = [verdict_of(c.get("effective_verdict", c.get("verdict"))) for c in checks]
    air = dig(fairness, "disparities", "adverse_impact_ratio", default={}) or {}
    headline = (f"{effective.count('red')} red, {effective.count('amber')} amber of {len(checks)} check(s); "
                f"adverse impact ratio {ratio(air.get('value'))} (interval {interval(air.get('interval'))}).")
    blockers = [f"Fairness: {esc(c.get('message'))}" for c, v in zip(checks, effective, strict=True) if v == "red"]
    if verdict == "red" and not blockers:
        blockers = ["The fairness verdict is red."]
    if fairness.get("expired_waivers"):
        blockers.append(f"{len(fairness['expired_waivers'])} fairness waiver(s) have expired and no longer apply.")
    return Assessment("Fairness", KEY, verdict, headline, EVIDENCED, blockers=blockers)


def band_coverage(ctx: PackContext) -> list[Flowable]:
    """How many applicants (and defaults) fall in each age band; used by the data governance section."""
    fairness = _fairness(ctx)
    coverage = dig(fairness, "data_checks", "coverage", default=None)
    if not coverage:
        return []
    quality = dig(fairness, "data_checks", "age_quality", default={}) or {}
    scope = (f"In the {count(dig(fairness, 'data', 'rows'))} applicants the fairness assessment scored "
             f"({str(dig(fairness, 'data', 'file') or 'its data').rsplit('/', 1)[-1]}); bands below the minimum "
             "count are shown, not judged.")
    story: list[Flowable] = [p(esc(scope)), data_table(
        ["Age band", "Applicants", "Share", "Defaults", "Default rate", "Judged"],
        [[c.get("band"), count(c.get("count")), pct(c.get("share")), count(c.get("defaults")),
          pct(c.get("default_rate")),
          "yes" if c.get("judged") else f"no (fewer than {count(dig(fairness, 'settings', 'min_count'))})"]
         for c in coverage if isinstance(c, dict)],
        [25 * mm, 25 * mm, 20 * mm, 22 * mm, 25 * mm, None], align_right=(1, 2, 3, 4))]
    out_of_range = dig(quality, "out_of_range", "count")
    if out_of_range is not None:
        story.append(p(f"Ages outside the valid range {esc(quality.get('valid_range'))}: {count(out_of_range)} "
                       f"applicant(s), excluded from every band and reported as a data-quality finding. Ages no band "
                       f"covers: {count(dig(quality, 'unbanded', 'count'))}.", "small"))
    story.append(ctx.source(SOURCE))
    return story


def _bands(fairness: dict | None) -> list[dict]:
    return [b for b in (fairness or {}).get("bands") or [] if isinstance(b, dict)]


def _metric(band: dict, name: str) -> dict:
    value = dig(band, "metrics", name, default={})
    return value if isinstance(value, dict) else {}


def per_band_performance(ctx: PackContext) -> list[Flowable]:
    """AUC, error rates and calibration per age band; used by the performance section."""
    bands = _bands(_fairness(ctx))
    if not bands:
        return []
    rows = [[b.get("label"), count(b.get("count")), num(_metric(b, "auc").get("value")),
             pct(_metric(b, "true_positive_rate").get("value")), pct(_metric(b, "false_positive_rate").get("value")),
             num(_metric(b, "brier").get("value")), pct(_metric(b, "mean_predicted").get("value")),
             pct(_metric(b, "default_rate").get("value"))] for b in bands]
    return [data_table(["Age band", "Applicants", "AUC", "Defaulters declined (TPR)", "Good payers declined (FPR)",
                        "Brier", "Mean predicted", "Observed default rate"], rows,
                       [18 * mm, 20 * mm, 16 * mm, None, None, 15 * mm, 20 * mm, 22 * mm],
                       align_right=(1, 2, 3, 4, 5, 6, 7)),
            p("At the operating threshold of the fairness assessment; intervals for these figures are in "
              f"{ctx.link(KEY)}.", "small"), ctx.source(SOURCE)]


def build(ctx: PackContext) -> list[Flowable]:
    fairness = _fairness(ctx)
    if fairness is None:
        return [missing("fairness assessment (fairness.json)")]
    settings = fairness.get("settings") or {}
    boot = settings.get("bootstrap") or {}
    confidence = as_float(boot.get("confidence"))
    level = f"{confidence:.0%}" if confidence is not None else "—"
    verdict = verdict_of(fairness.get("verdict"))
    raw = verdict_of(fairness.get("verdict_without_waivers"))
    story: list[Flowable] = [kv_table([
        ("Overall verdict", Paragraph(verdict_text(verdict) + (f" (without waivers: {verdict_text(raw)})"
                                                               if raw != verdict else ""), styles()["cell"])),
        ("Protected attribute", f"{settings.get('protected_attribute')}, in bands (see below)"),
        ("Decision rule", f"{settings.get('decision_rule')}; threshold {num(settings.get('threshold'), 3)} "
                          f"(from {settings.get('threshold_source')})"),
        ("Uncertainty", f"{level} bootstrap intervals, {count(boot.get('resamples'))} resamples, seed "
                        f"{boot.get('seed')} ({boot.get('method')})"),
        ("Bands judged", f"only bands with at least {count(settings.get('min_count'))} applicants"),
        ("Data assessed", f"{dig(fairness, 'data', 'file')} ({count(dig(fairness, 'data', 'rows'))} rows)"),
        ("Data sha256", mono(dig(fairness, "data", "sha256"))),
        ("Model sha256", mono(dig(fairness, "model", "sha256"))),
        ("Assessed on", fairness.get("assessed_on")),
    ]), ctx.source(SOURCE)]

    disparities = fairness.get("disparities") or {}
    if disparities:
        rows = [[DISPARITY_NAMES.get(name, name), ratio(entry.get("value")), interval(entry.get("interval")),
                 entry.get("reference_band") or "—"]
                for name, entry in disparities.items() if isinstance(entry, dict)]
        story += [KeepTogether([p("Disparities across bands", "h2"),
                                data_table(["Measure", "Value", f"{level} interval", "Best band"], rows,
                                           [None, 18 * mm, 36 * mm, 20 * mm], align_right=(1,)),
                                ctx.source(SOURCE)])]

    bands = _bands(fairness)
    if bands:
        rows = []
        for b in bands:
            air, eor = _metric(b, "adverse_impact_ratio"), _metric(b, "equal_opportunity_ratio")
            rows.append([b.get("label"), count(b.get("count")), "yes" if b.get("judged") else "no",
                         pct(_metric(b, "approval_rate").get("value")), pct(_metric(b, "default_rate").get("value")),
                         count(int(_metric(b, "wrongful_declines")["value"]))
                         if as_float(_metric(b, "wrongful_declines").get("value")) is not None else "—",
                         f"{ratio(air.get('value'))}<br/>{interval(air.get('interval'))}",
                         f"{ratio(eor.get('value'))}<br/>{interval(eor.get('interval'))}"])
        sheet = styles()
        rows = [[*r[:6], Paragraph(r[6], sheet["cell"]), Paragraph(r[7], sheet["cell"])] for r in rows]
        story += [p("Outcomes by age band", "h2"),
                  data_table(["Band", "Applicants", "Judged", "Approval rate", "Default rate", "Good payers declined",
                              f"Adverse impact ratio ({level} interval)",
                              f"Equal-opportunity ratio ({level} interval)"],
                             rows, [13 * mm, 19 * mm, 14 * mm, 18 * mm, 17 * mm, 18 * mm, None, None],
                             align_right=(1, 3, 4, 5)),
                  ctx.source(SOURCE)]

    checks = [c for c in fairness.get("checks") or [] if isinstance(c, dict)]
    if checks:
        story += [p("Checks and verdicts", "h2"),
                  p("Each rule of the fairness policy, per band where it applies. Amber where the interval crosses "
                    "the limit or a breach is not significant; red where a breach is significant (per policy)."),
                  checks_table(checks), ctx.source(SOURCE)]

    elderly = fairness.get("elderly") or {}
    if elderly.get("enabled"):
        story += [p(f"Applicants aged {esc(elderly.get('min_age'))} and over", "h2"), kv_table([
            ("Applicants", count(elderly.get("count"))),
            ("Mean SHAP contribution of age", f"{num(elderly.get('mean_age_shap'), 3)} log-odds "
                                              f"({level} interval {interval(elderly.get('interval'))}); "
                                              "negative means age lowers their predicted risk"),
            ("Share with an adverse age contribution", pct(elderly.get("share_adverse"))),
        ]), ctx.source(SOURCE)]

    expired = fairness.get("expired_waivers") or []
    waived = [c for c in checks if c.get("waived")]
    story += [p("Waivers", "h2")]
    if waived or expired:
        rows = [[c.get("check"), c.get("resource"), dig(c, "waiver", "approver"), dig(c, "waiver", "expires"),
                 dig(c, "waiver", "reason")] for c in waived]
        rows += [[dig(w, "check"), dig(w, "resource"), dig(w, "approver"), f"{dig(w, 'expires')} (EXPIRED)",
                  dig(w, "reason")] for w in expired if isinstance(w, dict)]
        story.append(data_table(["Check", "Resource", "Approver", "Expires", "Reason"], rows,
                                [35 * mm, 22 * mm, 30 * mm, 26 * mm, None]))
    else:
        story.append(p("No fairness finding is waived."))

    pictures = evidence_pngs(ctx, "fairness")
    if pictures:
        order = {name: i for i, name in enumerate(fairness.get("charts") or [])}
        pictures.sort(key=lambda item: (order.get(item[0], 99), item[0]))
        charts = [figure(ctx, relative, data, 175 if "sweep" in relative else 135) for relative, data in pictures]
        story += [KeepTogether([p("Charts", "h2"), p("Drawn by the fairness assessment and sealed in the evidence. "
                                                     "The threshold sweep shows how approval rates and the "
                                                     "disparities move with the cutoff."), charts[0]]), *charts[1:]]
    libraries = fairness.get("libraries") or {}
    if libraries:
        story.append(p("Libraries: " + ", ".join(f"{esc(k)} {esc(v)}" for k, v in sorted(libraries.items())), "small"))
    return story
