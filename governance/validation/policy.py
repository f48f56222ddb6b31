"""The validation policy (``policies/validation.yaml``): thresholds, their blocking flag, and the approval rule.

>>> policy = load_validation_policy()
>>> policy.checks["membership-inference-auc"].limit, policy.approval.require_validation
(0.6, True)
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from governance.errors import InputError
from governance.policy_document import parse_document


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    limit: float
    direction: Literal["min", "max"]
    blocking: bool = True
    description: str = ""


class Retrain(_Strict):
    rows: int = Field(default=15000, ge=1000)
    num_round: int = Field(default=40, ge=1)


class Sensitivity(_Strict):
    seeds: list[int] = Field(default=[1, 2, 3, 4, 5], min_length=5)


class Security(_Strict):
    membership_rows: int = Field(default=10000, ge=100)
    bootstrap: int = Field(default=200, ge=0)
    extraction_budgets: list[int] = Field(default=[250, 500, 1000, 2000, 4000, 8000, 16000], min_length=1)
    extraction_repeats: int = Field(default=10, ge=1)
    extraction_agreement: float = Field(default=0.95, gt=0, le=1)
    label_flip_rates: list[float] = Field(default=[0.01, 0.05], min_length=1)


class Robustness(_Strict):
    perturbation: float = Field(default=0.05, gt=0, lt=1)


class Approval(_Strict):
    require_validation: bool = True
    independent_signer: bool = True
    block_on_failed: bool = True


CHECK_IDS = ("challenger-not-better", "champion-auc-min", "seed-auc-range", "seed-decision-flip",
             "hyperparameter-auc-change", "perturbation-flip-rate", "missing-feature-flip-rate",
             "out-of-range-bounded", "membership-inference-auc", "extraction-queries", "label-flip-auc-drop",
             "elderly-counterfactual")


class ValidationPolicy(_Strict):
    kind: Literal["validation"]
    version: Literal[1]
    description: str = ""
    retrain: Retrain = Retrain()
    sensitivity: Sensitivity = Sensitivity()
    security: Security = Security()
    robustness: Robustness = Robustness()
    approval: Approval = Approval()
    checks: dict[str, Threshold]

    def model_post_init(self, _context) -> None:
        unknown = sorted(set(self.checks) - set(CHECK_IDS))
        missing = sorted(set(CHECK_IDS) - set(self.checks))
        if unknown or missing:
            raise ValueError(f"checks: unknown {unknown}, missing {missing}")


def load_validation_policy(path: str | os.PathLike | None = None) -> ValidationPolicy:
    """The packaged ``policies/validation.yaml``, or the file given; a malformed file is :class:`InputError`."""
    if path is None:
        text = resources.files("policies").joinpath("validation.yaml").read_text(encoding="utf-8")
        label = "policies/validation.yaml"
    else:
        try:
            text, label = Path(path).read_text(encoding="utf-8"), str(path)
        except FileNotFoundError:
            raise InputError("FILE_NOT_FOUND", f"{path}: no such validation policy") from None
        except (OSError, UnicodeDecodeError) as err:
            raise InputError("BAD_POLICY", f"{path}: not a readable policy file ({err})") from None
    return parse_document(text, label, ValidationPolicy, what="validation policy", reason="BAD_POLICY")


__all__ = ["CHECK_IDS", "ValidationPolicy", "load_validation_policy"]
