"""Champion and challenger fairness by age band, side by side, each figure with its bootstrap interval.

Both are measured by :func:`governance.fairness.measures.measure_bands`, the routine behind the model's own
fairness assessment, with the fairness policy that assessment recorded in ``fairness.json`` (bands, minimum count,
bootstrap resamples, seed and confidence); without one, the packaged default policy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from governance.credit_data import FEATURES, PROTECTED_ATTRIBUTE
from governance.errors import InputError
from governance.jsonio import read_json

# The band figures the side-by-side table shows (every disparity is kept).
SHOWN = ("approval_rate", "good_payer_approval_rate", "true_positive_rate", "false_positive_rate",
         "adverse_impact_ratio")


def _policy(evidence: Path):
    from governance.fairness.policy import load_policy

    path = evidence / "fairness.json"
    if path.is_file():
        try:
            return load_policy(read_json(path)["settings"]["policy"]), "fairness.json (the model's assessment)"
        except (InputError, KeyError, TypeError):
            pass
    return load_policy(None), "packaged default fairness policy (no readable fairness.json)"


def fairness_side_by_side(evidence: Path, x: np.ndarray, y: np.ndarray, scores: dict[str, np.ndarray],
                          threshold: float) -> dict:
    """Band figures and disparities of each named score set at ``threshold``, with intervals."""
    from governance.age_bands import assign_bands
    from governance.fairness.measures import measure_bands

    policy, source = _policy(evidence)
    banding = assign_bands(x[:, FEATURES.index(PROTECTED_ATTRIBUTE)], policy.age.age_bands(), policy.age.valid_range)
    counts = banding.counts()
    judged = counts >= policy.age.min_count
    boot = policy.bootstrap
    measured = {name: measure_bands(banding, y, s, threshold, judged, resamples=boot.resamples, seed=boot.seed,
                                    confidence=boot.confidence) for name, s in scores.items()}
    bands = [{"band": label, "count": int(counts[code]), "judged": bool(judged[code]),
              **{name: {metric: m.bands[code][metric] for metric in SHOWN} for name, m in measured.items()}}
             for code, label in enumerate(banding.labels)]
    return {"threshold": threshold, "split": "test", "policy_from": source, "min_count": policy.age.min_count,
            "bootstrap": {"resamples": boot.resamples, "seed": boot.seed, "confidence": boot.confidence,
                          "method": "as the model's fairness assessment: percentile, rows resampled with "
                                    "replacement (multinomial counts over band x score-slice x outcome cells)"},
            "bands": bands,
            "disparities": {name: m.overall for name, m in measured.items()},
            "adverse_impact_ratio": {name: m.overall["adverse_impact_ratio"]["value"] for name, m in measured.items()}}


__all__ = ["fairness_side_by_side"]
