"""Reason codes for declined applicants: the features that pushed hardest towards decline, in plain language.

For each declined applicant, the (up to) four features with the largest *positive* SHAP values — those that raised
the predicted default risk — become the reasons, largest first, worded from :data:`REASONS` so a customer can
understand them (US Regulation B asks for the principal reasons, UK/EU practice for a meaningful explanation).

>>> import numpy as np
>>> values = np.zeros((2, 10)); values[0, [6, 0, 1]] = [1.5, 0.7, -0.3]; values[1, 3] = 0.2
>>> codes = top_reasons(values, top=4)
>>> [REASONS[FEATURES[i]].code for i in codes[0] if i >= 0]
['LATE_90', 'UTILISATION']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from governance.credit_data import FEATURES

NO_REASON = -1


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    text: str

    def to_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "text": self.text}


REASONS: dict[str, Reason] = {
    "RevolvingUtilizationOfUnsecuredLines": Reason(
        "UTILISATION", "High use of revolving credit",
        "The balances on your credit cards and personal lines of credit are high compared with their limits."),
    "age": Reason(
        "AGE", "Age of applicant",
        "Your age, as it relates to repayment in our scoring model."),
    "NumberOfTime30-59DaysPastDueNotWorse": Reason(
        "LATE_30_59", "Payments 30-59 days late",
        "You have made payments 30 to 59 days late in the last two years."),
    "DebtRatio": Reason(
        "DEBT_RATIO", "Debt high compared with income",
        "Your monthly debt payments and living costs are high compared with your monthly income."),
    "MonthlyIncome": Reason(
        "INCOME", "Monthly income",
        "Your monthly income is low compared with applicants who repaid."),
    "NumberOfOpenCreditLinesAndLoans": Reason(
        "OPEN_CREDIT", "Number of open loans and credit lines",
        "The number of loans and credit lines you have open."),
    "NumberOfTimes90DaysLate": Reason(
        "LATE_90", "Payments 90 days or more late",
        "You have been 90 days or more late with a payment."),
    "NumberRealEstateLoansOrLines": Reason(
        "PROPERTY_LOANS", "Number of mortgage and property loans",
        "The number of mortgages and property loans or lines you have."),
    "NumberOfTime60-89DaysPastDueNotWorse": Reason(
        "LATE_60_89", "Payments 60-89 days late",
        "You have made payments 60 to 89 days late in the last two years."),
    "NumberOfDependents": Reason(
        "DEPENDANTS", "Number of dependants",
        "The number of people who depend on you financially."),
}
assert set(REASONS) == set(FEATURES), "every feature needs plain-language wording"


def top_reasons(values: np.ndarray, top: int = 4) -> np.ndarray:
    """Per row, the feature indices of the ``top`` largest positive SHAP values (largest first), padded with -1."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(-values, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(values, order, axis=1)
    return np.where(chosen > 0, order, NO_REASON)


def reason_sets(codes: np.ndarray) -> list[frozenset]:
    return [frozenset(int(i) for i in row if i >= 0) for row in codes]


def describe(row_codes: np.ndarray, row_values: np.ndarray, row_features: np.ndarray) -> list[dict]:
    """The reasons of one applicant as plain data: code, wording, the feature's value and its SHAP value."""
    out = []
    for index in row_codes:
        if index < 0:
            continue
        feature = FEATURES[int(index)]
        value = float(row_features[int(index)])
        # A missing value (a remediated sentinel code) is shown as missing, never as a number.
        out.append({**REASONS[feature].to_dict(), "feature": feature, "value": None if np.isnan(value) else value,
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
