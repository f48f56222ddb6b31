"""Sensitivity: does the model's quality and its decisions depend on the seed, a hyperparameter step or a feature?

Each variant is a cheap retrain (the policy's ``retrain``: a subsample of the training split, fewer rounds) judged
on the untouched test split, compared with a baseline retrained with the same cheap settings — like with like.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from governance.credit_data import FEATURES
from governance.validation.data import ValidationData, fit_booster, predict, subsample

# One step down and up per hyperparameter; bounded where the parameter is.
STEPS: dict[str, Callable[[float], tuple[float, float]]] = {
    "max_depth": lambda v: (max(1, v - 1), v + 1),
    "eta": lambda v: (v / 2, min(1.0, v * 2)),
    "min_child_weight": lambda v: (max(0.0, v - 2), v + 2),
    "subsample": lambda v: (max(0.1, v - 0.1), min(1.0, v + 0.1)),
    "colsample_bytree": lambda v: (max(0.1, v - 0.1), min(1.0, v + 0.1)),
}


def _retrain(params: dict, data: ValidationData, rows: int, rounds: int, seed: int, columns=None):
    x, y = subsample(data.train.x, data.train.y, rows, seed=0)
    test = data.test.x
    if columns is not None:
        x, test = x[:, columns], test[:, columns]
        import xgboost

        booster = xgboost.train({**{k: v for k, v in params.items() if k not in ("monotone_constraints", "num_round")},
                                 **({"monotone_constraints": _constraints(params, columns)}
                                    if params.get("monotone_constraints") else {}), "seed": seed},
                                xgboost.DMatrix(x, label=y), num_boost_round=rounds)
        return booster.predict(xgboost.DMatrix(test)).astype(np.float64)
    return predict(fit_booster({**params, "seed": seed}, x, y, rounds), test)


def _constraints(params: dict, columns: list[int]) -> str:
    entries = str(params["monotone_constraints"]).strip("()").split(",")
    return "(" + ",".join(entries[c] for c in columns) + ")"


def sensitivity(params: dict, data: ValidationData, threshold: float, *, seeds: list[int], rows: int,
                rounds: int, progress: Callable[[str], None] = lambda message: None) -> dict:
    y = data.test.y
    base_seed = int(params.get("seed", 42))
    progress("sensitivity: baseline retrain")
    baseline = _retrain(params, data, rows, rounds, base_seed)
    base_auc = float(roc_auc_score(y, baseline))
    base_declined = baseline > threshold

    def judged(scores: np.ndarray) -> dict:
        auc = float(roc_auc_score(y, scores))
        return {"auc": auc, "auc_change": auc - base_auc,
                "decision_flip_rate": float(np.mean((scores > threshold) != base_declined))}

    progress(f"sensitivity: {len(seeds)} seeds")
    by_seed = [{"seed": s, **judged(_retrain(params, data, rows, rounds, s))} for s in seeds]
    aucs = [r["auc"] for r in by_seed]
    hyper = []
    for name, step in STEPS.items():
        if name not in params:
            continue
        for direction, value in zip(("down", "up"), step(float(params[name])), strict=True):
            value = int(value) if name == "max_depth" else round(float(value), 6)
            progress(f"sensitivity: {name} {direction} ({value})")
            hyper.append({"parameter": name, "direction": direction, "from": params[name], "to": value,
                          **judged(_retrain({**params, name: value}, data, rows, rounds, base_seed))})
    dropped = []
    for index, feature in enumerate(FEATURES):
        progress(f"sensitivity: without {feature}")
        columns = [c for c in range(len(FEATURES)) if c != index]
        dropped.append({"feature": feature, **judged(_retrain(params, data, rows, rounds, base_seed, columns))})
    return {
        "split": "test",
        "retrain": {"rows": min(rows, len(data.train.y)), "num_round": rounds,
                    "note": "cheap retrains (subsample, fewer rounds), the baseline included: like with like"},
        "baseline": {"seed": base_seed, "auc": base_auc, "declined_share": float(base_declined.mean())},
        "seeds": by_seed,
        "seed_auc_range": float(max(aucs) - min(aucs)),
        "seed_max_flip_rate": float(max(r["decision_flip_rate"] for r in by_seed)),
        "hyperparameters": hyper,
        "hyperparameter_max_auc_change": float(max((abs(r["auc_change"]) for r in hyper), default=0.0)),
        "features_dropped": sorted(dropped, key=lambda r: r["auc_change"]),
    }


__all__ = ["sensitivity"]
