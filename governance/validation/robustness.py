"""Robustness (EU AI Act Art. 15(4)): decisions under missing inputs, small perturbations and out-of-range values."""

from __future__ import annotations

import math

import numpy as np

from governance.credit_data import FEATURES
from governance.validation.data import predict

# Values no application form should produce: each feature is set to each in turn, on every test row sampled.
OUT_OF_RANGE = (-1e12, -1.0, 0.0, 1e6, 1e12, math.nan)
OUT_OF_RANGE_ROWS = 200


def robustness(booster, x: np.ndarray, threshold: float, perturbation: float, seed: int = 0) -> dict:
    base = predict(booster, x) > threshold

    def flip(changed: np.ndarray) -> float:
        return float(np.mean((predict(booster, changed) > threshold) != base))

    missing, perturbed = [], []
    for index, feature in enumerate(FEATURES):
        changed = x.copy()
        changed[:, index] = np.nan
        missing.append({"feature": feature, "flip_rate": flip(changed)})
        rates = {}
        for sign, label in ((1, "up"), (-1, "down")):
            changed = x.copy()
            changed[:, index] = changed[:, index] * (1 + sign * perturbation)
            rates[label] = flip(changed)
        perturbed.append({"feature": feature, **rates, "max": max(rates.values())})
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=x.shape)
    together = flip(x * (1 + signs * perturbation))
    sample = x[np.random.default_rng(seed).choice(len(x), min(OUT_OF_RANGE_ROWS, len(x)), replace=False)]
    scored, bounded, errors = 0, 0, []
    for index, feature in enumerate(FEATURES):
        for value in OUT_OF_RANGE:
            changed = sample.copy()
            changed[:, index] = value
            try:
                scores = predict(booster, changed)
            except Exception as err:  # a crash is the finding, not a reason to stop
                errors.append(f"{feature}={value}: {type(err).__name__}: {err}"[:200])
                continue
            scored += len(scores)
            bounded += int(np.sum(np.isfinite(scores) & (scores >= 0) & (scores <= 1)))
    tried = len(FEATURES) * len(OUT_OF_RANGE) * len(sample)
    return {
        "split": "test",
        "rows": len(x),
        "perturbation": perturbation,
        "missing_feature": sorted(missing, key=lambda r: -r["flip_rate"]),
        "missing_feature_max_flip_rate": max(r["flip_rate"] for r in missing),
        "perturbed_feature": sorted(perturbed, key=lambda r: -r["max"]),
        "perturbation_max_flip_rate": max(max(r["max"] for r in perturbed), together),
        "perturbation_all_features_flip_rate": together,
        "out_of_range": {"values": [None if math.isnan(v) else v for v in OUT_OF_RANGE], "rows": len(sample),
                         "tried": tried, "scored": scored, "bounded": bounded, "errors": errors,
                         "bounded_share": bounded / tried if tried else 0.0},
    }


__all__ = ["robustness"]
