"""Independent validation: the validator's challenger, sensitivity, robustness and security results, as signed.

Read from ``validation.json`` (written and signed by ``governance validate`` with the validator's own key); every
figure is from the untouched test split unless the row says otherwise. Statuses are printed as the validator's
file states them (PASS / FAIL / ERROR).
"""

from __future__ import annotations

from reportlab.platypus import Flowable, KeepTogether

from reports.sections._base import PackContext, as_float, dig, missing, num, pct, png_image
from reports.sections.fairness import interval, ratio
from reports.styles import data_table, esc, gap, kv_table, p

KEY = "validation"
TITLE = "Independent validation"
REFERENCES = ("PRA SS1/23 Principle 4", "Art. 15(1)", "Art. 15(4)", "Art. 15(5)", "Reg B 12 CFR 1002.6(b)(2)")
FILE = "validation.json"


def _interval(values) -> str:
    if not isinstance(values, list) or len(values) != 2 or None in values:
        return "—"
    return f"[{num(values[0])}, {num(values[1])}]"


def _count_interval(values) -> str:
    """An interval of counts, as counts: [250, 500]."""
    if not isinstance(values, list) or len(values) != 2 or None in values:
        return "—"
    return f"[{as_float(values[0]):,.0f}, {as_float(values[1]):,.0f}]"


def _p_value(value) -> str:
    """A p-value readable at any size: 0.032, 4.1e-07 (fixed decimals would print a tiny one as 0.0000)."""
    number = as_float(value)
    if number is None:
        return "—"
    return f"{number:.2g}" if number >= 1e-3 or number == 0 else f"{number:.1e}"


def _rate(entry) -> str:
    """A rate with its interval when the file gives one (``{"value", "interval"}``), else the plain rate."""
    if not isinstance(entry, dict):
        return pct(entry)
    bounds = entry.get("interval")
    spread = f" ({pct(bounds[0])}–{pct(bounds[1])})" if isinstance(bounds, list) and len(bounds) == 2 else ""
    return pct(entry.get("value")) + spread


def _fairness(fairness: dict) -> list[Flowable]:
    """Approval and good-payer approval by band, then every disparity, champion beside challenger."""
    names = ("champion", "challenger")
    rows = [[b.get("band"), str(b.get("count"))] + [_rate(dig(b, name, metric)) for metric in
                                                     ("approval_rate", "good_payer_approval_rate") for name in names]
            for b in fairness.get("bands") or []]
    if not rows:
        return []
    out: list[Flowable] = [gap(), data_table(["Age band", "n", "Approval (champion)", "Approval (challenger)",
                                              "Good-payer approval (champion)", "Good-payer approval (challenger)"],
                                             rows)]
    disparities = fairness.get("disparities") or {}
    if disparities:
        boot = fairness.get("bootstrap") or {}
        out += [gap(), data_table(["Disparity across judged bands", "Champion", "Challenger"], [
            [metric.replace("_", " ")] + [f"{ratio(dig(disparities, name, metric, 'value'))} "
                                          f"({interval(dig(disparities, name, metric, 'interval'))})"
                                          for name in names]
            for metric in disparities.get("champion") or {}]),
            p(f"Intervals: {pct(boot.get('confidence'), 0)} bootstrap, {boot.get('resamples', '—')} resamples, seed "
              f"{boot.get('seed', '—')}, {esc(str(boot.get('method', '')))}; policy from "
              f"{esc(str(fairness.get('policy_from', '—')))}. Bands under {fairness.get('min_count', '—')} "
              "applicants are shown, not judged.", "small")]
    else:  # a validation written before intervals were recorded
        out.append(p(f"Adverse impact ratio: champion {num(dig(fairness, 'adverse_impact_ratio', 'champion'))}, "
                     f"challenger {num(dig(fairness, 'adverse_impact_ratio', 'challenger'))}.", "small"))
    return out


def _chart(ctx: PackContext, doc: dict, name: str) -> list[Flowable]:
    """The validator's chart ``validation/<name>``, captioned with the figures of validation.json it draws."""
    charts = [c for c in doc.get("charts") or [] if isinstance(c, dict)]
    for number, entry in enumerate(charts, start=1):
        if entry.get("file") != f"validation/{name}":
            continue
        data = ctx.evidence.read_bytes(entry["file"])
        if data is None or ctx.evidence.digest(entry["file"]) != entry.get("sha256"):
            return [p(f"Figure V{number} ({esc(entry['file'])}) is not in the sealed evidence as validation.json "
                      "lists it.", "small")]
        fields = ", ".join(esc(str(f)) for f in entry.get("draws_from") or [])
        return [KeepTogether([png_image(data, 160 if name != "roc.png" else 115),
                              p(f"Figure V{number}. {esc(str(entry.get('caption', '')))} Drawn from "
                                f"{FILE}: {fields}.", "small"),
                              ctx.source(entry["file"], FILE), gap()])]
    return []


def build(ctx: PackContext) -> list[Flowable]:
    doc = ctx.evidence.json(FILE)
    if not isinstance(doc, dict):
        return [missing("an independent validation (governance validate)")]
    out: list[Flowable] = [kv_table([
        ("Status", f"{doc.get('status', '—')}: {doc.get('summary', '—')}"),
        ("Validator", str(dig(doc, "validator", "identity", default="—"))),
        ("Independent of the model signer", "yes" if dig(doc, "independence", "independent") else "no"),
        ("Model", str(dig(doc, "model", "sha256", default="—"))[:16] + "…"),
        ("Figures from", str(doc.get("figures_from", "—"))),
    ]), gap()]
    checks = doc.get("checks") or []
    out.append(data_table(["Check", "Value", "Limit", "Blocking", "Status"],
                          [[c.get("id"), num(c.get("value")), f"{c.get('direction')} {c.get('limit')}",
                            "yes" if c.get("blocking") else "no", c.get("status")] for c in checks]))
    out.append(gap())
    champion, challenger = dig(doc, "challenger", "champion") or {}, dig(doc, "challenger", "challenger") or {}
    delong = dig(doc, "challenger", "delong") or {}
    out.append(p(f"Champion (XGBoost, monotone in age) against the challenger ({challenger.get('model', '—')}), "
                 "on the same test split:"))
    out.append(data_table(["Model", "AUC", "KS", "Brier"],
                          [["Champion", num(champion.get("auc")), num(champion.get("ks")), num(champion.get("brier"))],
                           ["Challenger", num(challenger.get("auc")), num(challenger.get("ks")),
                            num(challenger.get("brier"))]]))
    out.append(p(f"DeLong test of the AUC difference: {num(delong.get('difference'))} "
                 f"(standard error {num(delong.get('standard_error'))}, "
                 f"95% interval {_interval(delong.get('interval'))}), "
                 f"two-sided p = {_p_value(delong.get('p_value'))}.", "small"))
    out += _chart(ctx, doc, "roc.png")
    out += _fairness(dig(doc, "challenger", "fairness") or {})
    elderly = doc.get("elderly_counterfactual") or {}
    out += [gap(), p(f"Per-applicant elderly test: {elderly.get('failed', '—')} of {elderly.get('applicants', '—')} "
                     f"applicants aged {elderly.get('min_age', 62)}+ score worse at their real age than at the most "
                     f"favourable age under {elderly.get('min_age', 62)} (share {pct(elderly.get('share_failed'))}).")]
    sens, robust, security = doc.get("sensitivity") or {}, doc.get("robustness") or {}, doc.get("security") or {}
    mi, ext, flip = security.get("membership_inference") or {}, security.get("extraction") or {}, \
        security.get("label_flip") or {}
    pairs = [
        ("Seeds: AUC range", f"{num(sens.get('seed_auc_range'))} over {len(sens.get('seeds') or [])} seeds; "
                             f"decisions changed at most {pct(sens.get('seed_max_flip_rate'))}"),
        ("Hyperparameters ± one step", f"largest AUC change {num(sens.get('hyperparameter_max_auc_change'))}"),
        ("Feature dropped (largest AUC loss)", ", ".join(
            f"{r.get('feature')} {num(r.get('auc_change'))}" for r in (sens.get("features_dropped") or [])[:3])),
        ("Retrains", str(dig(sens, "retrain", "note", default="—"))),
        ("Perturbation ± 5 %", f"decision flip rate at most {pct(robust.get('perturbation_max_flip_rate'))}"),
        ("Feature missing", ", ".join(f"{r.get('feature')} {pct(r.get('flip_rate'))}"
                                      for r in (robust.get("missing_feature") or [])[:3])),
        ("Out-of-range inputs", f"{dig(robust, 'out_of_range', 'bounded')} of {dig(robust, 'out_of_range', 'tried')} "
                                f"scored within [0, 1]; {len(dig(robust, 'out_of_range', 'errors') or [])} error(s)"),
        ("Membership inference (loss threshold)", f"attack AUC {num(mi.get('auc'))}, 95% interval "
                                                 f"{_interval(mi.get('interval'))} (0.5 = no leak)"),
        ("Extraction (surrogate tree)", f"{ext.get('queries_needed') or 'not reached'} label queries to "
                                        f"{pct(ext.get('agreement_target'), 0)} agreement, 95% interval "
                                        f"{_count_interval(ext.get('interval'))} (draws "
                                        f"{_count_interval(ext.get('range'))}; "
                                        "a constant answer agrees "
                                        f"{pct(ext.get('majority_class_agreement'))})"),
    ]
    for row in flip.get("flips") or []:
        pairs.append((f"Labels flipped {pct(row.get('rate'), 0)}", f"AUC drop {num(row.get('auc_drop'))}, 95% "
                                                                  f"interval {_interval(row.get('interval'))}"))
    out += [gap(), kv_table(pairs), ctx.source(FILE, "validation.json.sig"), gap()]
    for name in ("sensitivity.png", "robustness.png", "membership_inference.png", "extraction.png"):
        out += _chart(ctx, doc, name)
    return out
