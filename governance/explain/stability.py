"""Reason-code stability: do an applicant's reasons survive a change of SHAP background data?

The reasons given to customers come from tree-path-dependent SHAP (no background data). Interventional SHAP
explains the same prediction against a sample of applicants instead; if the top reasons change a lot with the
background sample, they are fragile. For a seeded sample of declined applicants, each background resample gives
reasons, and the overlap ``|A ∩ B| / max(|A|, |B|)`` with the reported reasons is averaged.

>>> overlap(frozenset({1, 2, 3, 4}), frozenset({1, 2, 3, 5}))
0.75
"""

from __future__ import annotations

import warnings

import numpy as np

from governance.explain.reason_codes import reason_sets, top_reasons

DEFAULT_APPLICANTS = 200
DEFAULT_RESAMPLES = 10
DEFAULT_BACKGROUND = 200
DEFAULT_THRESHOLD = 0.75


def overlap(a: frozenset, b: frozenset) -> float:
    return len(a & b) / max(len(a), len(b)) if (a or b) else 1.0


def interventional_shap(booster, background: np.ndarray, rows: np.ndarray) -> np.ndarray:
    import shap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(booster, data=background, feature_perturbation="interventional",
                                       model_output="raw")
        return np.asarray(explainer.shap_values(rows, check_additivity=False), dtype=np.float64)


def reason_stability(booster, features: np.ndarray, declined: np.ndarray, reference_values: np.ndarray, *,
                     applicants: int = DEFAULT_APPLICANTS, resamples: int = DEFAULT_RESAMPLES,
                     background: int = DEFAULT_BACKGROUND, top: int = 4, threshold: float = DEFAULT_THRESHOLD,
                     seed: int = 20261129) -> dict:
    """Mean reason overlap over ``resamples`` background samples for up to ``applicants`` declined applicants.

    ``declined`` are row positions in ``features``; ``reference_values`` their SHAP values as reported.
    Returns plain data, plus ``per_applicant`` (mean overlap per sampled applicant) for the chart.
    """
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(declined), size=min(applicants, len(declined)), replace=False))
    rows = declined[chosen]
    reference = reason_sets(top_reasons(reference_values[chosen], top, features[rows]))
    overlaps = np.zeros((resamples, len(rows)))
    first_agree = np.zeros((resamples, len(rows)))
    previous = None
    between = []
    for k in range(resamples):
        sample = features[rng.choice(len(features), size=min(background, len(features)), replace=False)]
        codes = top_reasons(interventional_shap(booster, sample, features[rows]), top, features[rows])
        sets = reason_sets(codes)
        overlaps[k] = [overlap(a, b) for a, b in zip(reference, sets, strict=True)]
        first_reference = top_reasons(reference_values[chosen], 1, features[rows])[:, 0]
        first_agree[k] = codes[:, 0] == first_reference
        if previous is not None:
            between.append(np.mean([overlap(a, b) for a, b in zip(previous, sets, strict=True)]))
        previous = sets
    per_applicant = overlaps.mean(axis=0) if len(rows) else np.zeros(0)
    mean = float(overlaps.mean()) if overlaps.size else None
    return {
        "method": "interventional TreeSHAP against background resamples vs the reported (path-dependent) reasons",
        "applicants": len(rows),
        "resamples": resamples,
        "background_rows": int(min(background, len(features))),
        "seed": seed,
        "top": top,
        "mean_overlap": mean,
        "min_applicant_overlap": float(per_applicant.min()) if len(rows) else None,
        "first_reason_agreement": float(first_agree.mean()) if first_agree.size else None,
        "between_backgrounds_overlap": float(np.mean(between)) if between else None,
        "threshold": threshold,
        "passed": bool(mean is not None and mean >= threshold),
        "per_applicant": per_applicant,
    }
