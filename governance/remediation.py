"""Data remediation: known defects of the credit file turned into missing values or excluded rows, each counted.

Three rules, applied to the raw frame before it is split (each looks at one row only, so nothing leaks between
splits), and recorded so a reviewer sees every change:

- **sentinel codes**: 96 and 98 in the three late-payment columns are codes ("unknown", "refused"), not counts of
  late payments; they become missing values, which XGBoost routes natively, so no model or reason code sees them;
- **age range**: rows with an age outside the valid range (an age of 0, say) are not applicants the model may score;
  they are excluded and counted;
- **debt ratio without income**: where ``MonthlyIncome`` is missing the file holds the debt *amount* in
  ``DebtRatio``, not a ratio; the value is set missing (the income is imputed later, the ratio is not invented).

>>> import pandas as pd
>>> frame = pd.DataFrame({"age": [0, 40, 50], "MonthlyIncome": [1.0, None, 2.0], "DebtRatio": [0.1, 900.0, 0.3],
...     "NumberOfTimes90DaysLate": [0, 98, 1], "NumberOfTime30-59DaysPastDueNotWorse": [0, 96, 0],
...     "NumberOfTime60-89DaysPastDueNotWorse": [0, 0, 0]})
>>> out, record = remediate(frame)
>>> len(out), record["excluded_rows"]["age_out_of_range"], record["sentinel_to_missing"]["NumberOfTimes90DaysLate"]
(2, 1, 1)
>>> bool(out["DebtRatio"].isna().iloc[0]), record["debt_ratio_without_income"]["set_missing"]
(True, 1)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The schema's three late-payment counts (re-exported by governance.credit_data), where the sentinel codes occur.
PAST_DUE_COLUMNS = (
    "NumberOfTime30-59DaysPastDueNotWorse",
    "NumberOfTime60-89DaysPastDueNotWorse",
    "NumberOfTimes90DaysLate",
)
SENTINEL_CODES = (96, 98)
# The same valid range the fairness policy bands ages within.
VALID_AGE_RANGE = (18, 120)
RULES = {
    "sentinel_to_missing": "96 and 98 in the late-payment columns are codes, not counts: set missing "
                           "(XGBoost routes missing values natively)",
    "age_out_of_range": f"rows with age outside {list(VALID_AGE_RANGE)} are excluded (not a valid applicant)",
    "debt_ratio_without_income": "DebtRatio where MonthlyIncome is missing holds a debt amount, not a ratio: "
                                 "set missing; MonthlyIncome is imputed with the training median as before",
}


def remediate(frame: pd.DataFrame, valid_age: tuple[int, int] = VALID_AGE_RANGE) -> tuple[pd.DataFrame, dict]:
    """Return the remediated copy of a raw frame and the record of what changed (counts per rule and column)."""
    out = frame.copy()
    age = out["age"].to_numpy(dtype=np.float64)
    in_range = (age >= valid_age[0]) & (age <= valid_age[1])
    excluded = int((~in_range).sum())
    out = out.loc[in_range].copy()
    sentinels = {}
    for column in PAST_DUE_COLUMNS:
        hit = out[column].isin(SENTINEL_CODES)
        sentinels[column] = int(hit.sum())
        out[column] = out[column].mask(hit)
    no_income = out["MonthlyIncome"].isna()
    debt_flagged = int(no_income.sum())
    out["DebtRatio"] = out["DebtRatio"].mask(no_income)
    record = {
        "rules": dict(RULES),
        "rows_in": len(frame),
        "rows_out": len(out),
        "excluded_rows": {"age_out_of_range": excluded, "valid_age_range": list(valid_age)},
        "sentinel_to_missing": sentinels,
        "debt_ratio_without_income": {"flagged": debt_flagged, "set_missing": debt_flagged},
    }
    return out, record


__all__ = ["PAST_DUE_COLUMNS", "RULES", "SENTINEL_CODES", "VALID_AGE_RANGE", "remediate"]
