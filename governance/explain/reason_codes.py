"""Reason codes for declined applicants: the features that pushed hardest towards decline, in plain language.

For each declined applicant, the (up to) four features with the largest *positive* SHAP values — those that raised
the predicted default risk — become the reasons, largest first, worded from :data:`REASONS` so a customer can
act on them: Regulation B (12 CFR 1002.9(b)(2)) asks for the specific principal reasons, CFPB Circular 2023-03
for reasons that are accurate for the applicant even when the model is complex, UK/EU practice for a meaningful
explanation. Three rules keep the reasons accurate:

- a factor whose value is neutral for its wording is never a reason: "payments 30-59 days late" is not given to
  someone with none, nor "dependants" to someone with none, even when the model's SHAP value is positive;
- the past-due columns' sentinel values 96 and 98 are codes, not counts, and are worded as such;
- age is named as age, with the applicant's age, not as something vaguer.

>>> import numpy as np
>>> values = np.zeros((2, 10)); values[0, [6, 0, 1]] = [1.5, 0.7, -0.3]; values[1, 3] = 0.2
>>> codes = top_reasons(values, top=4)
>>> [REASONS[FEATURES[i]].code for i in codes[0] if i >= 0]
['LATE_90', 'UTILISATION']
>>> features = np.zeros((2, 10)); features[0, 0] = 0.9        # 0 payments 90 days late: not a reason
>>> [REASONS[FEATURES[i]].code for i in top_reasons(values, top=4, features=features)[0] if i >= 0]
['UTILISATION']
>>> text, shown = REASONS["NumberOfTimes90DaysLate"].wording(98.0)
>>> shown, text.startswith("Your credit record holds the special code 98 in place of a count")
('code 98 (not a count)', True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from governance.credit_data import FEATURES

NO_REASON = -1
SENTINELS = (96.0, 98.0)  # in the past-due counts of the source data: codes, not counts

Kind = Literal["late", "count", "amount", "ratio", "age"]


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    text: str
    kind: Kind = "ratio"

    def to_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "text": self.text}

    def applies(self, value: float) -> bool:
        """Whether this factor can be a reason at this value (never at a neutral one)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.kind == "amount"  # a missing income is itself a reason; a missing count says nothing
        if self.kind in ("late", "count", "ratio"):
            return value > 0
        return True

    def wording(self, value: float) -> tuple[str, str]:
        """What the applicant reads for ``value``, and the value as shown beside it."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return f"No {self.label.lower()} was recorded on your application.", "not recorded"
        if self.kind == "late" and value in SENTINELS:
            what = self.label.lower().removeprefix("payments ")
            return (f"Your credit record holds the special code {value:.0f} in place of a count of payments {what}; "
                    "our model treats it as a sign of serious delinquency."), f"code {value:.0f} (not a count)"
        if self.kind == "age":
            return f"Your age ({value:.0f}): {self.text}", f"{value:.0f} years"
        shown = f"{value:,.0f}" if self.kind in ("late", "count", "amount") else f"{value:.2f}"
        return self.text.format(value=shown), shown


REASONS: dict[str, Reason] = {
    "RevolvingUtilizationOfUnsecuredLines": Reason(
        "UTILISATION", "High use of revolving credit",
        "The balances on your credit cards and personal lines of credit are high compared with their limits."),
    "age": Reason(
        "AGE", "Age of applicant",
        "applicants of your age repaid less often in the data the scoring model learnt from.", "age"),
    "NumberOfTime30-59DaysPastDueNotWorse": Reason(
        "LATE_30_59", "Payments 30-59 days late",
        "You have made payments 30 to 59 days late {value} time(s) in the last two years.", "late"),
    "DebtRatio": Reason(
        "DEBT_RATIO", "Debt high compared with income",
        "Your monthly debt payments and living costs are high compared with your monthly income."),
    "MonthlyIncome": Reason(
        "INCOME", "Monthly income",
        "Your monthly income is low compared with applicants who repaid.", "amount"),
    "NumberOfOpenCreditLinesAndLoans": Reason(
        "OPEN_CREDIT", "Number of open loans and credit lines",
        "You have {value} loans and credit lines open.", "count"),
    "NumberOfTimes90DaysLate": Reason(
        "LATE_90", "Payments 90 days or more late",
        "You have been 90 days or more late with a payment {value} time(s).", "late"),
    "NumberRealEstateLoansOrLines": Reason(
        "PROPERTY_LOANS", "Number of mortgage and property loans",
        "You have {value} mortgages or property loans or lines.", "count"),
    "NumberOfTime60-89DaysPastDueNotWorse": Reason(
        "LATE_60_89", "Payments 60-89 days late",
        "You have made payments 60 to 89 days late {value} time(s) in the last two years.", "late"),
    "NumberOfDependents": Reason(
        "DEPENDANTS", "Number of dependants",
        "You have {value} people who depend on you financially.", "count"),
}
assert set(REASONS) == set(FEATURES), "every feature needs plain-language wording"


def _eligible(features: np.ndarray) -> np.ndarray:
    """Boolean mask: where each feature's value can be a reason."""
    features = np.asarray(features, dtype=np.float64)
    mask = np.ones(features.shape, dtype=bool)
    for column, name in enumerate(FEATURES):
        reason = REASONS[name]
        mask[:, column] = [reason.applies(float(v)) for v in features[:, column]]
    return mask


def top_reasons(values: np.ndarray, top: int = 4, features: np.ndarray | None = None) -> np.ndarray:
    """Per row, the feature indices of the ``top`` largest positive SHAP values (largest first), padded with -1.

    With ``features`` (the applicants' values), a factor whose value is neutral for its wording is skipped.
    """
    values = np.asarray(values, dtype=np.float64)
    if features is not None:
        values = np.where(_eligible(features), values, -np.inf)
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(values, order, axis=1)
    return np.where(chosen > 0, order, NO_REASON)


def suppressed(values: np.ndarray, features: np.ndarray, top: int = 4) -> dict[str, int]:
    """How often each code would have been a top reason but was skipped for a neutral value (for the record)."""
    plain = top_reasons(values, top)
    kept = top_reasons(values, top, features)
    counts: dict[str, int] = {}
    for row_plain, row_kept in zip(plain, kept, strict=True):
        for index in set(int(i) for i in row_plain if i >= 0) - set(int(i) for i in row_kept if i >= 0):
            code = REASONS[FEATURES[index]].code
            counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items()))


def reason_sets(codes: np.ndarray) -> list[frozenset]:
    return [frozenset(int(i) for i in row if i >= 0) for row in codes]


def describe(row_codes: np.ndarray, row_values: np.ndarray, row_features: np.ndarray) -> list[dict]:
    """The reasons of one applicant as plain data: code, wording for their value, the value and its SHAP value."""
    out = []
    for index in row_codes:
        if index < 0:
            continue
        feature = FEATURES[int(index)]
        value = float(row_features[int(index)])
        text, shown = REASONS[feature].wording(value)
        out.append({**REASONS[feature].to_dict(), "text": text, "feature": feature,
                    "value": None if math.isnan(value) else value, "shown_value": shown,
                    "shap": float(row_values[int(index)])})
    return out


def frequency(codes: np.ndarray) -> list[dict]:
    """How often each reason appears among the top reasons and as the first reason, most frequent first."""
    declined = len(codes)
    rows = []
    for index, feature in enumerate(FEATURES):
        anywhere = int((codes == index).any(axis=1).sum()) if declined else 0
        first = int((codes[:, 0] == index).sum()) if declined else 0
        rows.append({"code": REASONS[feature].code, "feature": feature, "label": REASONS[feature].label,
                     "count": anywhere, "first": first, "share": anywhere / declined if declined else 0.0})
    return sorted(rows, key=lambda r: (-r["count"], r["code"]))
