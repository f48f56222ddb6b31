"""Explainability: how the SHAP values were checked, global importance, the age-band decomposition, reason codes
given to declined applicants, and their stability. Read from ``explain.json`` and the charts under ``explain/``.
"""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph

from reports.sections._base import (
    EVIDENCED,
    OPEN,
    Assessment,
    PackContext,
    checks_table,
    count,
    dig,
    figure,
    missing,
    num,
    pct,
    verdict_of,
)
from reports.styles import data_table, esc, kv_table, p, styles, verdict_text

KEY = "explainability"
TITLE = "Explainability"
REFERENCES = ("Art. 13(1)", "Art. 13(3)(b)(iv)", "Art. 14(4)(c)", "Art. 86", "Annex IV 2(b)", "Annex IV 3")
SOURCE = "explain.json"
# Charts the explain step writes, in the order a reader needs them (others follow by name).
CHART_ORDER = ("importance", "beeswarm", "dependence", "age_gap_decomposition", "reason_codes", "waterfall",
               "reason_stability")


def _explain(ctx: PackContext) -> dict | None:
    document = ctx.evidence.json(SOURCE)
    return document if isinstance(document, dict) else None


def assess(ctx: PackContext) -> Assessment:
    explain = _explain(ctx)
    if explain is None:
        return Assessment("Explainability", KEY, "grey", "No explainability assessment in the evidence.", OPEN,
                          open_items=["No explainability evidence (explain.json) was supplied: reasons for declines "
                                      "and the age decomposition are not evidenced."])
    verdict = verdict_of(explain.get("verdict"))
    checks = [c for c in explain.get("checks") or [] if isinstance(c, dict)]
    effective = [verdict_of(c.get("effective_verdict", c.get("verdict"))) for c in checks]
    additive = "holds" if dig(explain, "additivity", "passed") else "FAILS"
    headline = (f"{effective.count('red')} red, {effective.count('amber')} amber of {len(checks)} check(s); "
                f"SHAP additivity {additive}; reason-code overlap {pct(dig(explain, 'stability', 'mean_overlap'))}.")
    blockers = [f"Explainability: {esc(c.get('message'))}"
                for c, v in zip(checks, effective, strict=True) if v == "red"]
    if verdict == "red" and not blockers:
        blockers = ["The explainability verdict is red."]
    return Assessment("Explainability", KEY, verdict, headline, EVIDENCED, blockers=blockers)


def _charts(ctx: PackContext, stem: str) -> list[Flowable]:
    story = []
    for relative in ctx.evidence.paths(f"explain/{stem}*.png"):
        data = ctx.evidence.read_bytes(relative)
        if data is not None:
            story.append(figure(ctx, relative, data, 125 if "waterfall" in relative else 140))
    return story


def build(ctx: PackContext) -> list[Flowable]:
    explain = _explain(ctx)
    if explain is None:
        return [missing("explainability assessment (explain.json)")]
    settings, shap = explain.get("settings") or {}, explain.get("shap") or {}
    crosscheck = shap.get("crosscheck") or {}
    story: list[Flowable] = [kv_table([
        ("Overall verdict", Paragraph(verdict_text(verdict_of(explain.get("verdict"))), styles()["cell"])),
        ("Method", shap.get("method")),
        ("Score explained", settings.get("score_space")),
        ("Rows explained", count(shap.get("rows"))),
        ("Cross-check", f"against {crosscheck.get('reference')}: largest difference "
                        f"{num(crosscheck.get('max_abs_difference'), 6)} "
                        f"(tolerance {num(crosscheck.get('tolerance'), 4)})"
                        f", {'passed' if crosscheck.get('passed') else 'FAILED'}"),
        ("Additivity", dig(explain, "additivity", "message")),
        ("Data sha256", dig(explain, "data", "sha256")),
        ("Model sha256", dig(explain, "model", "sha256")),
    ]), ctx.source(SOURCE)]
    checks = [c for c in explain.get("checks") or [] if isinstance(c, dict)]
    if checks:
        story += [p("Checks and verdicts", "h2"), checks_table(checks), ctx.source(SOURCE)]

    importance = dig(explain, "global", "importance", default=[]) or []
    story += [p("Global importance", "h2")]
    if importance:
        story += [p("Mean absolute SHAP value per feature, in log-odds of default: how much each feature moves the "
                    "score on average. The mean signed value shows the usual direction."),
                  data_table(["Feature", "Mean |SHAP|", "Mean SHAP"],
                             [[i.get("feature"), num(i.get("mean_abs_shap")), num(i.get("mean_shap"))]
                              for i in importance if isinstance(i, dict)],
                             [80 * mm, 30 * mm, 30 * mm], align_right=(1, 2)), ctx.source(SOURCE)]
    story += _charts(ctx, "importance") + _charts(ctx, "beeswarm") + _charts(ctx, "dependence")

    decomposition = explain.get("decomposition") or {}
    bands = [b for b in decomposition.get("bands") or [] if isinstance(b, dict)]
    story += [p("Age-band decomposition", "h2")]
    if bands:
        story += [p(f"The gap in mean {esc(decomposition.get('score'))} between each band and the reference band "
                    f"<b>{esc(decomposition.get('reference'))}</b>, split exactly into the direct part of age and the "
                    "part carried by other features (possible proxies). "
                    f"Identity: {esc(decomposition.get('identity'))}."),
                  data_table(["Band", "Applicants", "Mean probability", "Gap (log-odds)", "Age directly",
                              "Other features", "Residual"],
                             [[b.get("label"), count(b.get("count")), pct(b.get("mean_probability")), num(b.get("gap")),
                               num(b.get("direct_age")), num(b.get("indirect")), num(b.get("residual"), 6)]
                              for b in bands],
                             [18 * mm, 20 * mm, 26 * mm, 26 * mm, 24 * mm, 26 * mm, None],
                             align_right=(1, 2, 3, 4, 5, 6)),
                  ctx.source(SOURCE)]
    else:
        story.append(missing("age-band decomposition"))
    story += _charts(ctx, "age_gap_decomposition")

    reasons = explain.get("reason_codes") or {}
    story += [p("Reason codes for declined applicants", "h2")]
    if reasons.get("withheld"):
        story.append(p("<b>Reason codes were withheld</b>: the SHAP values did not pass their checks, so no reasons "
                       "are given to applicants from them."))
    frequency = [f for f in reasons.get("frequency") or [] if isinstance(f, dict)]
    if frequency:
        flagged = reasons.get("elderly_flagged") or {}
        story += [p(f"The top {esc(reasons.get('top'))} features pushing each of the {count(reasons.get('declined'))} "
                    "declined applicants towards decline, in the words a customer reads. "
                    f"Declined applicants aged {esc(flagged.get('min_age'))}+: "
                    f"{count(flagged.get('declined_elderly'))}; "
                    f"with age among their reasons (flagged for review): {count(flagged.get('count'))}."),
                  data_table(["Code", "Reason shown to the applicant", "Declines citing it", "Share",
                              "As first reason"],
                             [[f.get("code"), f.get("label"), count(f.get("count")), pct(f.get("share")),
                               count(f.get("first"))] for f in frequency],
                             [28 * mm, None, 28 * mm, 18 * mm, 26 * mm], align_right=(2, 3, 4)),
                  ctx.source(SOURCE)]
    examples = [e for e in reasons.get("examples") or [] if isinstance(e, dict)]
    for number, example in enumerate(examples, start=1):
        rows = [[r.get("code"), r.get("text"), num(r.get("value"), 2), num(r.get("shap"), 3)]
                for r in example.get("reasons") or [] if isinstance(r, dict)]
        story.append(KeepTogether([
            p(f"Example {number}: applicant aged {num(example.get('age'), 0)}, predicted default probability "
              f"{pct(example.get('probability_of_default'))}", "h2"),
            data_table(["Code", "What the applicant is told", "Value", "SHAP"], rows,
                       [28 * mm, None, 22 * mm, 18 * mm], align_right=(2, 3))]))
    story += _charts(ctx, "reason_codes") + _charts(ctx, "waterfall")

    stability = explain.get("stability") or {}
    story += [p("Stability of the reasons", "h2")]
    if stability:
        story += [kv_table([
            ("Method", stability.get("method")),
            ("Applicants × resamples", f"{count(stability.get('applicants'))} × {count(stability.get('resamples'))} "
                                       f"(background of {count(stability.get('background_rows'))} rows)"),
            ("Mean overlap of top reasons", f"{pct(stability.get('mean_overlap'))} (threshold "
                                            f"{pct(stability.get('threshold'))}): "
                                            f"{'passed' if stability.get('passed') else 'FAILED'}"),
            ("Same first reason", pct(stability.get("first_reason_agreement"))),
            ("Lowest overlap for one applicant", pct(stability.get("min_applicant_overlap"))),
        ]), ctx.source(SOURCE)]
    else:
        story.append(missing("reason-code stability results"))
    story += _charts(ctx, "reason_stability")
    known = {stem for stem in CHART_ORDER}
    for relative in ctx.evidence.paths("explain/*.png"):
        stem = relative.rsplit("/", 1)[-1].removesuffix(".png")
        if not any(stem.startswith(k) for k in known):
            story += _charts(ctx, stem)
    return story
