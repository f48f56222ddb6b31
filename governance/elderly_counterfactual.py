"""The per-applicant elderly test: no applicant aged 62+ is scored worse with their real age than with any younger age.

Regulation B (12 CFR 1002.6(b)(2)) lets an empirically derived system use age only if no elderly applicant is given
a worse value for age than the most favoured younger applicants. A mean effect cannot show that; this test asks it of
every applicant: with all other inputs equal, the predicted default probability at the real age must be no higher
than the lowest probability over every age from the valid minimum to ``min_age - 1``.

>>> import numpy as np, pandas as pd, xgboost
>>> from governance.credit_data import FEATURES
>>> rng = np.random.default_rng(0); X = pd.DataFrame(rng.uniform(0, 1, (400, 10)), columns=list(FEATURES))
>>> X["age"] = rng.integers(20, 90, 400); y = (X["age"] > 70).astype(int)   # risk *rises* with age
>>> booster = xgboost.train({"max_depth": 2}, xgboost.DMatrix(X, label=y), 10)
>>> result = elderly_counterfactual(booster, X)
>>> result["passed"], result["failed"] > 0
(False, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from governance.age_bands import DEFAULT_VALID_RANGE, ELDERLY_AGE
from governance.credit_data import FEATURES, PROTECTED_ATTRIBUTE
from governance.errors import Incomplete

VALID_MIN_AGE = DEFAULT_VALID_RANGE[0]
# XGBoost predicts in float32: differences below this are rounding, not age.
TOLERANCE = 1e-6
SHOWN = 5


def _predict(booster, values: np.ndarray) -> np.ndarray:
    import xgboost

    names = list(FEATURES) if booster.feature_names else None
    scores = np.asarray(booster.predict(xgboost.DMatrix(values, feature_names=names)), dtype=np.float64)
    if scores.shape != (len(values),):
        raise Incomplete("COUNTERFACTUAL_UNSUPPORTED", f"the model returned {scores.shape} scores for {len(values)} "
                                                       "rows: it cannot be asked what-if questions")
    return scores


def elderly_counterfactual(booster, features: pd.DataFrame, *, min_age: int = ELDERLY_AGE,
                           valid_min_age: int = VALID_MIN_AGE, tolerance: float = TOLERANCE) -> dict:
    """Count the applicants aged ``min_age``+ whose real-age score exceeds their best score at a younger age.

    Raises :class:`~governance.errors.Incomplete` for a model that is not an XGBoost booster (it cannot be asked the
    what-if question the test needs).
    """
    import xgboost

    if not isinstance(booster, xgboost.Booster):
        raise Incomplete("COUNTERFACTUAL_UNSUPPORTED", f"needs an XGBoost booster, got {type(booster).__name__}")
    values = features[list(FEATURES)].to_numpy(dtype=np.float64)
    age_column = FEATURES.index(PROTECTED_ATTRIBUTE)
    elderly = np.flatnonzero(values[:, age_column] >= min_age)
    ages = np.arange(valid_min_age, min_age)
    result = {"min_age": min_age, "compared_ages": [int(ages[0]), int(ages[-1])], "applicants": len(elderly),
              "tolerance": tolerance,
              "rule": f"for every applicant aged {min_age}+, the score at the real age must be at most the lowest "
                      f"score over ages {ages[0]}-{ages[-1]}, all other inputs equal"}
    if not len(elderly):
        return {**result, "failed": 0, "share_failed": None, "max_excess": None, "examples": [], "passed": None}
    rows = values[elderly]
    real = _predict(booster, rows)
    stacked = np.repeat(rows[None, :, :], len(ages), axis=0)
    stacked[:, :, age_column] = ages[:, None]
    younger = _predict(booster, stacked.reshape(-1, rows.shape[1])).reshape(len(ages), len(rows))
    best_index = younger.argmin(axis=0)
    best = younger[best_index, np.arange(len(rows))]
    excess = real - best
    failed = np.flatnonzero(excess > tolerance)
    worst = failed[np.argsort(-excess[failed], kind="stable")][:SHOWN]
    examples = [{"row": int(elderly[i]), "age": float(rows[i, age_column]), "score": float(real[i]),
                 "best_younger_score": float(best[i]), "best_younger_age": int(ages[best_index[i]]),
                 "excess": float(excess[i])} for i in worst]
    return {**result, "failed": len(failed), "share_failed": len(failed) / len(elderly),
            "max_excess": float(excess.max()), "examples": examples, "passed": len(failed) == 0}


__all__ = ["ELDERLY_AGE", "elderly_counterfactual"]
