"""Explainability: how the SHAP values were checked, global importance, the age-band decomposition, reason codes
given to declined applicants, and their stability. Read from ``explain.json`` and the charts under ``explain/``.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph

from reports import evidence_models as em
from reports.sections._base import (
    Assessment,
    PackContext,
    checks_table,
    count,
    figure,
    missing,
    not_supplied,
    num,
    pct,
)
from reports.styles import data_table, esc, kv_table, mono, p, styles, verdict_text

KEY = "explainability"
TITLE = "Explainability"
REFERENCES = ("Art. 13(1)", "Art. 13(3)(b)(iv)", "Art. 14(4)(c)", "Art. 86(1)", "Annex IV 2(b)", "Annex IV 3",
              "Reg B 12 CFR 1002.9(a)(2), (b)(2)", "CFPB Circular 2023-03")
SOURCE = "explain.json"
# Charts the explain step writes, in the order a reader needs them (others follow by name).
CHART_ORDER = ("importance", "beeswarm", "dependence", "age_gap_decomposition", "reason_codes", "waterfall",
               "reason_stability")


def assess(ctx: PackContext) -> Assessment:
    explain = em.explain(ctx.evidence)
    if explain is None:
        return not_supplied("Explainability", KEY, "No explainability assessment in the evidence.",
                            open_items=["No explainability evidence (explain.json) was supplied: reasons for "
                                        "declines and the age decomposition are not evidenced."])
    effective = [c.effective_verdict for c in explain.checks]
    additive = "holds" if explain.additivity.passed else "FAILS"
    headline = (f"{effective.count('red')} red, {effective.count('amber')} amber of {len(explain.checks)} check(s); "
                f"SHAP additivity {additive}; reason-code overlap {pct(explain.stability.mean_overlap)}.")
    blockers = [f"Explainability: {esc(c.message)}" for c in explain.checks if c.effective_verdict == "red"]
    if explain.verdict == "red" and not blockers:
        blockers = ["The explainability verdict is red."]
    review = [f"Explainability (AMBER, {esc(c.check)}, {esc(c.resource)}): {esc(c.message)}"
              for c in explain.checks if c.effective_verdict == "amber"]
    return Assessment("Explainability", KEY, explain.verdict, headline, blockers=blockers, open_items=review)


def _charts(ctx: PackContext, stem: str) -> list[Flowable]:
    story = []
    for relative in ctx.evidence.paths(f"explain/{stem}*.png"):
        data = ctx.evidence.read_bytes(relative)
        if data is not None:
            story.append(figure(ctx, relative, data, 125 if "waterfall" in relative else 140))
    return story


def _method(ctx: PackContext, explain: em.Explain) -> list[Flowable]:
    cross = explain.shap.crosscheck
    story: list[Flowable] = [kv_table([
        ("Overall verdict", Paragraph(verdict_text(explain.verdict), styles()["cell"])),
        ("Method", explain.shap.method),
        ("Score explained", explain.settings.score_space),
        ("Rows explained", count(explain.shap.rows)),
        ("Cross-check", f"against {cross.reference}: largest difference {num(cross.max_abs_difference, 6)} "
                        f"(tolerance {num(cross.tolerance, 4)}), {'passed' if cross.passed else 'FAILED'}"),
        ("Additivity", explain.additivity.message),
        ("Data sha256", mono(explain.data.sha256)),
        ("Model sha256", mono(explain.model.sha256)),
    ]), ctx.source(SOURCE)]
    if explain.checks:
        story += [p("Checks and verdicts", "h2"), checks_table([c.model_dump() for c in explain.checks]),
                  ctx.source(SOURCE)]
    return story


def _importance(ctx: PackContext, explain: em.Explain) -> list[Flowable]:
    story: list[Flowable] = [p("Global importance", "h2"), p(
        "Mean absolute SHAP value per feature, in log-odds of default: how much each feature moves the score on "
        "average. The mean signed value shows the usual direction."),
        data_table(["Feature", "Mean |SHAP|", "Mean SHAP"],
                   [[i.feature, num(i.mean_abs_shap), num(i.mean_shap)] for i in explain.global_.importance],
                   [80 * mm, 30 * mm, 30 * mm], align_right=(1, 2)), ctx.source(SOURCE)]
    return story + _charts(ctx, "importance") + _charts(ctx, "beeswarm") + _charts(ctx, "dependence")


def _decomposition(ctx: PackContext, explain: em.Explain) -> list[Flowable]:
    d = explain.decomposition
    story: list[Flowable] = [p("Age-band decomposition", "h2")]
    if not d.bands:
        return [*story, missing("age-band decomposition")]
    story += [p(f"The gap in mean {esc(d.score)} between each band and the reference band <b>{esc(d.reference)}</b>, "
                "split exactly into the direct part of age and the part carried by other features (possible "
                f"proxies). Identity: {esc(d.identity)}."),
              data_table(["Band", "Applicants", "Mean probability", "Gap (log-odds)", "Age directly",
                          "Other features", "Residual"],
                         [[b.label, count(b.count), pct(b.mean_probability), num(b.gap), num(b.direct_age),
                           num(b.indirect), num(b.residual, 6)] for b in d.bands],
                         [18 * mm, 20 * mm, 26 * mm, 26 * mm, 24 * mm, 26 * mm, None],
                         align_right=(1, 2, 3, 4, 5, 6)),
              ctx.source(SOURCE)]
    return story + _charts(ctx, "age_gap_decomposition")


def _reason_codes(ctx: PackContext, explain: em.Explain) -> list[Flowable]:
    reasons = explain.reason_codes
    story: list[Flowable] = [p("Reason codes for declined applicants", "h2")]
    if reasons.withheld:
        story.append(p("<b>Reason codes were withheld</b>: the SHAP values did not pass their checks, so no reasons "
                       "are given to applicants from them."))
    if reasons.frequency:
        flagged = reasons.elderly_flagged
        story += [p(f"The top {esc(reasons.top)} features pushing each of the {count(reasons.declined)} declined "
                    "applicants towards decline, in the words a customer reads. A factor is never given as a reason "
                    "where the applicant's value is neutral for its wording (no late payments, no dependants), "
                    "past-due codes 96 and 98 are worded as codes, not counts, and age is named as age with the "
                    f"applicant's age. Declined applicants aged {esc(flagged.min_age)}+: "
                    f"{count(flagged.declined_elderly)}; with age among their reasons (flagged for review under "
                    f"Reg B 12 CFR 1002.6(b)(2)): {count(flagged.count)}."),
                  data_table(["Code", "Reason", "Declines citing it", "Share", "As first reason"],
                             [[f.code, f.label, count(f.count), pct(f.share), count(f.first)]
                              for f in reasons.frequency],
                             [28 * mm, None, 28 * mm, 18 * mm, 26 * mm], align_right=(2, 3, 4)),
                  ctx.source(SOURCE)]
        if reasons.suppressed:
            story.append(p("Skipped because the value was neutral for the wording (times a factor would otherwise "
                           "have been a top reason): " + ", ".join(f"{esc(k)} {count(v)}" for k, v in
                                                                  reasons.suppressed.items()) + ".", "small"))
    for number, example in enumerate(reasons.examples, start=1):
        rows = [[r.code, r.text, r.shown_value or num(r.value, 2), num(r.shap, 3)] for r in example.reasons]
        story.append(KeepTogether([
            p(f"Example {number}: applicant aged {num(example.age, 0)}, predicted default probability "
              f"{pct(example.probability_of_default)}", "h2"),
            data_table(["Code", "What the applicant is told", "Value", "SHAP"], rows,
                       [28 * mm, None, 30 * mm, 16 * mm], align_right=(3,))]))
    return story + _charts(ctx, "reason_codes") + _charts(ctx, "waterfall")


def _stability(ctx: PackContext, explain: em.Explain) -> list[Flowable]:
    s = explain.stability
    story: list[Flowable] = [p("Stability of the reasons", "h2"), kv_table([
        ("Method", s.method),
        ("Applicants × resamples", f"{count(s.applicants)} × {count(s.resamples)} (background of "
                                   f"{count(s.background_rows)} rows)"),
        ("Mean overlap of top reasons", f"{pct(s.mean_overlap)} (threshold {pct(s.threshold)}): "
                                        f"{'passed' if s.passed else 'FAILED'}"),
        ("Same first reason", pct(s.first_reason_agreement)),
        ("Lowest overlap for one applicant", pct(s.min_applicant_overlap)),
    ]), ctx.source(SOURCE)]
    story += _charts(ctx, "reason_stability")
    for relative in ctx.evidence.paths("explain/*.png"):
        stem = relative.rsplit("/", 1)[-1].removesuffix(".png")
        if not any(stem.startswith(k) for k in CHART_ORDER):
            story += _charts(ctx, stem)
    return story


def build(ctx: PackContext) -> list[Flowable]:
    explain = em.explain(ctx.evidence)
    if explain is None:
        return [missing("explainability assessment (explain.json)")]
    return [*_method(ctx, explain), *_importance(ctx, explain), *_decomposition(ctx, explain),
            *_reason_codes(ctx, explain), *_stability(ctx, explain)]
