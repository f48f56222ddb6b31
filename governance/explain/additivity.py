"""The additivity check: per applicant, the expected value plus the SHAP values must equal the model's margin.

It is SHAP's defining property (local accuracy). The margin is recomputed here from the booster, never taken from
the object that carries the SHAP values, so tampered or misaligned values fail:

>>> import numpy as np
>>> additivity(np.array([[0.5, -0.25]]), -2.0, np.array([-1.75]))["passed"]
True
>>> additivity(np.array([[0.5, -0.25]]), -2.0, np.array([-1.0]))["max_abs_error"]
0.75
"""

from __future__ import annotations

import numpy as np

# Log-odds. XGBoost sums float32 leaves, so honest values agree to ~1e-5; anything near 1e-3 is a real defect.
DEFAULT_TOLERANCE = 1e-3


def additivity(values: np.ndarray, base_value: float, margin: np.ndarray, tolerance: float = DEFAULT_TOLERANCE) -> dict:
    """Compare ``base_value + values.sum(axis=1)`` with ``margin``; plain data with the worst row named."""
    values = np.asarray(values, dtype=np.float64)
    margin = np.asarray(margin, dtype=np.float64)
    if values.shape[0] != margin.shape[0]:
        return {"passed": False, "rows": int(margin.shape[0]), "tolerance": tolerance, "max_abs_error": None,
                "mean_abs_error": None, "worst_row": None,
                "message": f"{values.shape[0]} rows of SHAP values for {margin.shape[0]} rows of data"}
    error = np.abs(base_value + values.sum(axis=1) - margin)
    worst = int(np.argmax(error)) if error.size else None
    max_error = float(error.max()) if error.size else 0.0
    finite = bool(np.isfinite(error).all())
    passed = finite and max_error <= tolerance
    return {
        "passed": passed,
        "rows": int(error.size),
        "tolerance": tolerance,
        "max_abs_error": max_error if finite else None,
        "mean_abs_error": float(error.mean()) if error.size and finite else None,
        "worst_row": worst,
        "message": (f"SHAP values sum to the margin within {max_error:.2g} log-odds on all {error.size:,} rows"
                    if passed else
                    f"SHAP values do not sum to the model's margin: off by {max_error:.3g} log-odds at row {worst} "
                    f"(tolerance {tolerance:g})"),
    }
