"""Security (EU AI Act Art. 15(5)): membership inference, model extraction and training-label poisoning.

- **Membership inference**: the loss-threshold attack (Yeom et al. 2018) guesses "was in training" when the model's
  loss on a labelled row is low; its AUC over training rows (members) and test rows (non-members) measures the
  leak, 0.5 meaning none. The interval is a percentile bootstrap.
- **Extraction**: an attacker with realistic applicants (the validation split) queries the model's decisions and
  fits a decision tree on them; the number of queries it needs before the tree agrees with 95 % of the model's
  decisions on unseen applicants (the test split) is the exposure. Repeated with several query draws for a range.
- **Poisoning**: the test AUC lost when 1 % / 5 % of the training labels are flipped (a cheap retrain, the baseline
  retrained the same way), with DeLong's interval of the paired difference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from governance.validation.curves import histogram, roc_points
from governance.validation.data import ValidationData, fit_booster, predict, subsample
from governance.validation.delong import delong_test

EPSILON = 1e-12
# The per-row log loss of the attack's rows, kept as counts over log-spaced bins for the chart.
LOSS_BINS, LOSS_FLOOR = 40, 1e-4


def _log_loss_per_row(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def membership_inference(booster, data: ValidationData, rows: int, resamples: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    n = min(rows, len(data.train.y), len(data.test.y))
    members = rng.choice(len(data.train.y), n, replace=False)
    others = rng.choice(len(data.test.y), n, replace=False)
    loss = np.concatenate([_log_loss_per_row(data.train.y[members], predict(booster, data.train.x[members])),
                           _log_loss_per_row(data.test.y[others], predict(booster, data.test.x[others]))])
    is_member = np.concatenate([np.ones(n), np.zeros(n)])
    auc = float(roc_auc_score(is_member, -loss))
    boots = []
    for _ in range(resamples):
        index = rng.integers(0, 2 * n, 2 * n)
        if 0 < is_member[index].sum() < 2 * n:
            boots.append(roc_auc_score(is_member[index], -loss[index]))
    interval = [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))] if boots else None
    high = float(np.max(loss))
    return {"attack": "loss threshold (lower loss = member)", "members": n, "non_members": n,
            "members_from": "train", "non_members_from": "test", "auc": auc, "interval": interval,
            "confidence": 0.95, "resamples": len(boots), "reading": "0.5 = no membership signal",
            "roc": roc_points(is_member, -loss),
            "loss_histogram": {"members": histogram(loss[:n], bins=LOSS_BINS, low=LOSS_FLOOR, high=high),
                               "non_members": histogram(loss[n:], bins=LOSS_BINS, low=LOSS_FLOOR, high=high)}}


def extraction(booster, data: ValidationData, threshold: float, budgets: list[int], repeats: int,
               agreement_target: float, seed: int = 0) -> dict:
    from sklearn.tree import DecisionTreeClassifier

    pool, target_x = data.validation.x, data.test.x
    pool_labels = (predict(booster, pool) > threshold).astype(int)
    truth = predict(booster, target_x) > threshold
    majority = float(max(truth.mean(), 1 - truth.mean()))
    budgets = sorted(b for b in budgets if b <= len(pool)) or [len(pool)]
    runs = []
    for repeat in range(repeats):
        rng = np.random.default_rng(seed + repeat)
        curve, needed = [], None
        for budget in budgets:
            chosen = rng.choice(len(pool), budget, replace=False)
            tree = DecisionTreeClassifier(min_samples_leaf=5, random_state=seed + repeat)
            tree.fit(pool[chosen], pool_labels[chosen])
            agreement = float(np.mean(tree.predict(target_x) == truth))
            curve.append({"queries": budget, "agreement": agreement})
            if needed is None and agreement >= agreement_target:
                needed = budget
        runs.append({"repeat": repeat, "queries_needed": needed, "curve": curve})
    needed = [r["queries_needed"] for r in runs]
    reached = [n for n in needed if n is not None]
    all_reached = len(reached) == len(needed)
    return {"surrogate": "decision tree (min 5 applicants per leaf) on the model's decisions",
            "attacker_pool": "validation", "judged_on": "test", "agreement_target": agreement_target,
            "majority_class_agreement": majority, "budgets": budgets, "runs": runs,
            "queries_needed": int(np.median(reached)) if all_reached else None,
            "interval": _median_interval(reached, seed) if all_reached else None,
            "interval_method": f"bootstrap of the median over the {len(needed)} attacker draws "
                               f"({_MEDIAN_RESAMPLES:,} resamples, 2.5th–97.5th percentile; in budget steps)",
            "range": [min(reached), max(reached)] if reached else None,
            "reached_in_all_repeats": all_reached,
            "note": "a constant 'approve' agrees with the majority-class share of decisions; the tree must beat it"}


_MEDIAN_RESAMPLES = 1000


def _median_interval(values: list[int], seed: int) -> list[float]:
    """95 % percentile-bootstrap interval of the median: how far the count moves with the attacker's draws.

    >>> _median_interval([500] * 10, 0)
    [500.0, 500.0]
    """
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(np.asarray(values, dtype=float), (_MEDIAN_RESAMPLES, len(values))), axis=1)
    return [float(np.percentile(medians, 2.5)), float(np.percentile(medians, 97.5))]


def label_flip(params: dict, data: ValidationData, rates: list[float], rows: int, rounds: int,
               seed: int = 0, progress: Callable[[str], None] = lambda message: None) -> dict:
    x, y = subsample(data.train.x, data.train.y, rows, seed=0)
    base = predict(fit_booster(params, x, y, rounds), data.test.x)
    results = []
    for rate in rates:
        progress(f"security: retrain with {rate:.0%} of training labels flipped")
        flipped = y.copy()
        chosen = np.random.default_rng(seed).choice(len(y), round(rate * len(y)), replace=False)
        flipped[chosen] = 1 - flipped[chosen]
        scores = predict(fit_booster(params, x, flipped, rounds), data.test.x)
        test = delong_test(data.test.y, base, scores)
        results.append({"rate": rate, "labels_flipped": len(chosen), "auc": test["auc_b"],
                        "auc_drop": test["difference"], "interval": test["interval"], "p_value": test["p_value"]})
    return {"split": "test", "baseline_auc": float(roc_auc_score(data.test.y, base)),
            "retrain": {"rows": len(y), "num_round": rounds}, "flips": results,
            "interval_method": "DeLong, paired on the test split"}


__all__ = ["extraction", "label_flip", "membership_inference"]
