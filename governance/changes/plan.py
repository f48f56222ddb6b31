"""The pre-determined change plan (EU AI Act Annex IV 2(f)): which changes a new version may make and still be
the same system, read from the ``change_plan`` section of the model governance file.

>>> plan = parse_change_plan({"auc_within": 0.02})
>>> plan.auc_within, plan.fairness_no_worse
(0.02, True)
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from governance.errors import InputError


class ChangePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str | None = None
    description: str | None = None
    # Checked against the evidence of the two versions:
    features_unchanged: bool = True
    hyperparameters_may_change: list[str] = Field(default_factory=lambda: [
        "num_round", "eta", "max_depth", "min_child_weight", "subsample", "colsample_bytree", "seed", "nthread"])
    training_data_may_change: bool = True
    code_may_change: bool = False
    auc_within: float = Field(default=0.02, ge=0, allow_inf_nan=False)
    ks_within: float = Field(default=0.05, ge=0, allow_inf_nan=False)
    brier_within: float = Field(default=0.01, ge=0, allow_inf_nan=False)
    fairness_no_worse: bool = True
    # Stated by the provider, not checkable from evidence (reported as a statement):
    intended_purpose: str | None = None


def parse_change_plan(data: object, label: str = "change_plan") -> ChangePlan:
    if data is None:
        return ChangePlan()
    if not isinstance(data, dict):
        raise InputError("BAD_GOVERNANCE_FILE", f"{label}: the change plan must be a mapping")
    try:
        return ChangePlan.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError("BAD_GOVERNANCE_FILE", f"{label}.{where}: {first['msg']}") from None


def load_change_plan(governance_file: str | os.PathLike | None) -> tuple[ChangePlan, str]:
    """The plan in a governance file (the defaults when the file has none); returns it with where it came from."""
    if governance_file is None:
        return ChangePlan(), "built-in defaults"
    from governance import storage
    from governance.yaml_lines import load_yaml  # bounded: alias bombs, depth and duplicate keys refused

    try:
        document = load_yaml(storage.read_bytes(governance_file).decode("utf-8"), str(governance_file)).data or {}
    except UnicodeDecodeError as err:
        raise InputError("BAD_GOVERNANCE_FILE", f"{governance_file}: not readable YAML ({err})") from None
    except InputError as err:
        raise InputError("BAD_GOVERNANCE_FILE", f"not readable YAML: {err.message}") from None
    if not isinstance(document, dict):
        raise InputError("BAD_GOVERNANCE_FILE", f"{governance_file}: not a mapping")
    if "change_plan" not in document:
        return ChangePlan(), f"{governance_file} (no change_plan: built-in defaults)"
    return parse_change_plan(document["change_plan"], f"{governance_file}: change_plan"), str(governance_file)
