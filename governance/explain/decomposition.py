"""The age-band gap decomposition: why one band's mean score differs from another's, feature by feature.

With SHAP, a row's margin is ``base + sum of its SHAP values``, so the difference between two bands' mean margins
(log-odds of default) is exactly the sum over features of the difference in their mean SHAP values. The part
carried by ``age`` is the direct effect of age; the rest comes through features whose values differ between the
bands (income, delinquency, ...): the indirect effect, which includes any proxies for age.

>>> import numpy as np
>>> values = np.array([[0.2, 1.0], [0.4, 1.0], [0.1, -1.0], [0.1, -1.0]])   # two features; the second is "age"
>>> result = band_gap_decomposition(values, -2.0 + values.sum(axis=1), np.array([0, 0, 1, 1]), ["young", "old"],
...                                 ["x", "age"], reference="old")
>>> young = result["bands"][0]
>>> round(young["gap"], 10), young["direct_age"], round(young["indirect"], 10)
(2.2, 2.0, 0.2)
"""

from __future__ import annotations

import numpy as np


def band_gap_decomposition(values: np.ndarray, margin: np.ndarray, codes: np.ndarray, labels: list[str],
                           features: list[str], reference: str | None = None, protected: str = "age") -> dict:
    """Each band's mean-margin gap to ``reference`` (default: the largest band), split per feature.

    ``codes`` index ``labels`` (negative codes are left out); ``margin`` is the booster's own log-odds, so the
    ``residual`` (gap minus the sum of parts) shows the additivity error, not a modelling choice.
    """
    values = np.asarray(values, dtype=np.float64)
    margin = np.asarray(margin, dtype=np.float64)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    if reference is None:
        reference = labels[int(np.argmax(counts))]
    ref = labels.index(reference)
    if counts[ref] == 0:
        raise ValueError(f"reference band {reference!r} has no applicants")
    protected_index = features.index(protected)
    mean_values = {code: values[codes == code].mean(axis=0) for code in range(len(labels)) if counts[code]}
    mean_margin = {code: float(margin[codes == code].mean()) for code in mean_values}
    bands = []
    for code, label in enumerate(labels):
        if code not in mean_values:
            bands.append({"label": label, "count": 0, "mean_margin": None, "mean_probability": None, "gap": None,
                          "direct_age": None, "indirect": None, "by_feature": None, "residual": None,
                          "mean_age_shap": None})
            continue
        parts = mean_values[code] - mean_values[ref]
        gap = mean_margin[code] - mean_margin[ref]
        direct = float(parts[protected_index])
        bands.append({
            "label": label,
            "count": int(counts[code]),
            "mean_margin": mean_margin[code],
            "mean_probability": float(np.mean(1 / (1 + np.exp(-margin[codes == code])))),
            "gap": gap,
            "direct_age": direct,
            "indirect": float(parts.sum() - direct),
            "by_feature": {feature: float(parts[i]) for i, feature in enumerate(features)},
            "residual": float(gap - parts.sum()),
            "mean_age_shap": float(mean_values[code][protected_index]),
        })
    return {
        "reference": reference,
        "score": "mean log-odds of default (the booster's margin)",
        "identity": "gap = sum over features of (mean SHAP in band - mean SHAP in reference) + residual",
        "bands": bands,
        "max_abs_residual": max((abs(b["residual"]) for b in bands if b["residual"] is not None), default=0.0),
    }
