"""A seeded synthetic generator with the exact Give Me Some Credit schema, for the demo and fast tests.

The marginals follow the public file (default rate near 6.7%, about 20% missing income, 2.6% missing
dependents, rare 96/98 sentinel codes in the past-due counts, extreme utilisation and debt ratios, one
age of 0), and the default probability depends on past-due counts, utilisation, debt ratio, income and age,
so a model trained on it behaves like one trained on the real data. The index column is named
``synthetic_row`` so every output made from it can say that it is synthetic.

>>> frame = generate(1000, seed=7)
>>> list(frame.columns)[:3]
['synthetic_row', 'SeriousDlqin2yrs', 'RevolvingUtilizationOfUnsecuredLines']
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from governance.credit_data import FEATURES, RAW_TARGET, SYNTHETIC_INDEX_COLUMN

GENERATOR_ID = "quickloan-synthetic-gmsc/1"
DEFAULT_ROWS = 20_000
DEFAULT_SEED = 20261129
TARGET_DEFAULT_RATE = 0.0668


def _past_due(rng: np.random.Generator, n: int, risk: np.ndarray, base: float) -> np.ndarray:
    # Zero-inflated counts whose intensity grows with the applicant's latent risk.
    counts = rng.poisson(base * np.exp(1.3 * risk))
    return np.where(rng.random(n) < 0.8, 0, np.minimum(counts, 13)).astype(float)


def generate(rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return a raw-format frame (index column, target, ten features) of ``rows`` synthetic applicants."""
    if rows < 10:
        from governance.errors import InputError

        raise InputError("BAD_PARAMETER", f"at least 10 synthetic rows are needed for a stratified split, got {rows}")
    rng = np.random.default_rng(seed)
    n = rows
    age = np.clip(np.round(rng.normal(52, 14.8, n)), 21, 103)
    risk = rng.normal(0, 1, n) - 0.02 * (age - 52)  # younger applicants carry more latent risk

    utilisation = np.clip(rng.beta(0.55, 1.6, n) * (1 + 0.25 * np.maximum(risk, 0)), 0, None)
    outliers = rng.random(n) < 0.022
    utilisation[outliers] = np.exp(rng.normal(1.5, 2.2, outliers.sum()))

    income = np.round(np.exp(rng.normal(8.6, 0.62, n)) * (1 + 0.004 * (age - 40)).clip(0.6))
    income_missing = rng.random(n) < 0.198
    debt_ratio = np.exp(rng.normal(-1.2, 0.75, n)) * (1 + 0.2 * np.maximum(risk, 0))
    # In the real file, rows without income carry the debt amount itself in DebtRatio (large numbers).
    debt_ratio[income_missing] = np.round(np.exp(rng.normal(6.6, 1.4, income_missing.sum())))

    late_30 = _past_due(rng, n, risk, 0.9)
    late_60 = _past_due(rng, n, risk, 0.45)
    late_90 = _past_due(rng, n, risk, 0.55)
    sentinel = rng.random(n) < 0.0018
    sentinel_code = rng.choice([96.0, 98.0], sentinel.sum(), p=[0.02, 0.98])
    for column in (late_30, late_60, late_90):
        column[sentinel] = sentinel_code

    open_lines = rng.negative_binomial(5, 5 / (5 + 8.45), n).astype(float)
    real_estate = np.minimum(rng.poisson(1.0 * (1 + 0.3 * (income > 6000)), n), 54).astype(float)
    dependents = np.minimum(rng.poisson(0.76, n), 20).astype(float)
    dependents[rng.random(n) < 0.026] = np.nan

    income_model = np.where(income_missing, 5400.0, income)
    logit = (
        1.25 * np.minimum(utilisation, 1.5)
        + 0.55 * np.minimum(late_30, 6)
        + 0.75 * np.minimum(late_60, 6)
        + 0.95 * np.minimum(late_90, 6)
        + 2.0 * sentinel
        + 0.25 * np.minimum(np.where(income_missing, 0.3, debt_ratio), 3)
        - 0.25 * np.log(income_model / 5400.0)
        - 0.018 * (age - 52)
        + 0.45 * risk
    )
    # Solve for the intercept that gives the real file's default rate.
    low, high = -12.0, 4.0
    for _ in range(60):
        mid = (low + high) / 2
        rate = float(np.mean(1 / (1 + np.exp(-(mid + logit)))))
        low, high = (mid, high) if rate < TARGET_DEFAULT_RATE else (low, mid)
    default = (rng.random(n) < 1 / (1 + np.exp(-(low + logit)))).astype(float)

    age[rng.integers(n)] = 0  # the real file's single age of 0, for the data-quality checks

    frame = pd.DataFrame(
        {
            SYNTHETIC_INDEX_COLUMN: np.arange(1, n + 1),
            RAW_TARGET: default.astype(int),
            "RevolvingUtilizationOfUnsecuredLines": np.round(utilisation, 9),
            "age": age.astype(int),
            "NumberOfTime30-59DaysPastDueNotWorse": late_30.astype(int),
            "DebtRatio": np.round(debt_ratio, 9),
            "MonthlyIncome": np.where(income_missing, np.nan, income),
            "NumberOfOpenCreditLinesAndLoans": open_lines.astype(int),
            "NumberOfTimes90DaysLate": late_90.astype(int),
            "NumberRealEstateLoansOrLines": real_estate.astype(int),
            "NumberOfTime60-89DaysPastDueNotWorse": late_60.astype(int),
            "NumberOfDependents": dependents,
        }
    )
    assert list(frame.columns[2:]) == [c for c in frame.columns[2:] if c in FEATURES]
    return frame


def write_csv(path: str | os.PathLike, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> str:
    """Write a synthetic raw CSV (missing values as ``NA``, like the real file); returns the path."""
    from governance.storage import write_bytes_atomic

    text = generate(rows, seed).to_csv(index=False, na_rep="NA", float_format="%.10g", lineterminator="\n")
    write_bytes_atomic(path, text.encode("utf-8"))
    return str(path)
