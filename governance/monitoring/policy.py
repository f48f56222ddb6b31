"""The monitoring policy: warn and fail levels for drift, missing values, fairness drift and, with labels, quality.

The shipped default is ``policies/monitoring.yaml``; its values are also the defaults here, so a custom policy
names only what it changes. Unknown keys are errors naming the file and line:

>>> load_policy().drift.psi.fail
0.25
>>> parse_policy("kind: monitoring\\ndrift:\\n  pis: {}\\n", "m.yaml")
Traceback (most recent call last):
...
governance.errors.InputError: m.yaml:3: drift.pis: unknown key
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from governance.errors import InputError
from governance.policy_document import parse_document

DEFAULT_POLICY_RESOURCE = ("policies", "monitoring.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Levels(_Strict):
    """A warn and a fail level for one measure; ``fail`` must be at least as severe as ``warn``."""

    warn: float = Field(ge=0, allow_inf_nan=False)
    fail: float = Field(ge=0, allow_inf_nan=False)


class Above(Levels):
    @model_validator(mode="after")
    def _ordered(self) -> Above:
        if self.fail < self.warn:
            raise ValueError(f"fail ({self.fail}) must not be below warn ({self.warn})")
        return self


class Below(Levels):
    @model_validator(mode="after")
    def _ordered(self) -> Below:
        if self.fail > self.warn:
            raise ValueError(f"fail ({self.fail}) must not be above warn ({self.warn}) for a lower limit")
        return self


class Drift(_Strict):
    psi: Above = Above(warn=0.10, fail=0.25)
    min_rows: int = Field(default=200, ge=1)


class Missing(_Strict):
    increase: Above = Above(warn=0.02, fail=0.05)


class ApprovalByBand(_Strict):
    change: Above = Above(warn=0.005, fail=0.01)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    min_count: int = Field(default=100, ge=1)


class Fairness(_Strict):
    adverse_impact_ratio: Below = Below(warn=0.85, fail=0.80)
    equal_opportunity_ratio: Below = Below(warn=0.85, fail=0.80)


class Performance(_Strict):
    auc_drop: Above = Above(warn=0.02, fail=0.05)
    calibration_gap: Above = Above(warn=0.02, fail=0.05)
    min_labels: int = Field(default=200, ge=1)


class ServedModel(_Strict):
    score_tolerance: float = Field(default=1e-5, gt=0, allow_inf_nan=False)


class MonitoringPolicy(_Strict):
    kind: Literal["monitoring"] = "monitoring"
    version: Literal[1] = 1
    description: str | None = None
    drift: Drift = Drift()
    missing: Missing = Missing()
    approval_by_band: ApprovalByBand = ApprovalByBand()
    fairness: Fairness = Fairness()
    performance: Performance = Performance()
    served_model: ServedModel = ServedModel()

    def settings(self) -> dict:
        return self.model_dump(mode="json")


def parse_policy(text: str, label: str = "<policy>") -> MonitoringPolicy:
    """Validate a policy document; any problem is an :class:`InputError` naming ``label:line`` and the key."""
    return parse_document(text, label, MonitoringPolicy, what="monitoring policy")


def load_policy(source: str | os.PathLike | None = None) -> MonitoringPolicy:
    """The packaged default (``None``) or a YAML file (local or ``s3://``)."""
    if source is None:
        text = resources.files(DEFAULT_POLICY_RESOURCE[0]).joinpath(DEFAULT_POLICY_RESOURCE[1]).read_text("utf-8")
        return parse_policy(text, "policies/monitoring.yaml")
    from governance import storage

    try:
        text = storage.read_bytes(source).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("INVALID_POLICY", f"{source}: not UTF-8 text") from None
    return parse_policy(text, str(source))
