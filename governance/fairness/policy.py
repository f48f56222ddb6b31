"""The fairness policy: bands, the decision threshold, bootstrap settings, thresholds per check, and waivers.

The shipped default is ``policies/fairness.yaml``; its values are also this model's defaults, so a custom policy
only needs the keys it changes. Unknown keys are errors that name the file and line:

>>> policy = load_policy()                                  # the packaged default
>>> policy.checks.adverse_impact_ratio.limit
0.8
>>> parse_policy("kind: fairness\\nchecks:\\n  calibraton: {}\\n", "p.yaml")
Traceback (most recent call last):
...
governance.errors.InputError: p.yaml:3: checks.calibraton: unknown key

Each check's rule maps where its bootstrap interval lies relative to its limit to a verdict:
``on_significant`` (the whole interval is beyond the limit), ``on_breach`` (the point estimate is beyond it but
the interval is not wholly), ``on_uncertain`` (the point estimate is within the limit, the interval crosses it).
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from governance.age_bands import DEFAULT_BANDS, DEFAULT_VALID_RANGE, ELDERLY_AGE, AgeBand, validate_bands
from governance.errors import InputError
from governance.waivers import Waiver

Verdict = Literal["green", "amber", "red"]
DEFAULT_POLICY_RESOURCE = ("policies", "fairness.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Rule(_Strict):
    enabled: bool = True
    limit: float = Field(allow_inf_nan=False)  # NaN compares false to everything: it would pass every metric
    on_significant: Verdict
    on_breach: Verdict
    on_uncertain: Verdict = "green"


class ElderlyRule(Rule):
    """Regulation B: an elderly applicant's age must not count against them in a scoring system."""

    min_age: int = Field(default=ELDERLY_AGE, ge=0, le=150)


class Checks(_Strict):
    adverse_impact_ratio: Rule = Field(
        default=Rule(limit=0.80, on_significant="red", on_breach="amber", on_uncertain="amber"),
        alias="adverse-impact-ratio")
    demographic_parity_difference: Rule = Field(
        default=Rule(limit=0.10, on_significant="amber", on_breach="amber"), alias="demographic-parity-difference")
    equal_opportunity_ratio: Rule = Field(
        default=Rule(limit=0.80, on_significant="amber", on_breach="amber"), alias="equal-opportunity-ratio")
    calibration: Rule = Field(default=Rule(limit=0.10, on_significant="amber", on_breach="amber"))
    elderly_age_effect: ElderlyRule = Field(
        default=ElderlyRule(limit=0.0, on_significant="red", on_breach="red", on_uncertain="amber"),
        alias="elderly-age-effect")
    # Reported always; judged only when a policy enables them.
    equalized_odds_difference: Rule = Field(
        default=Rule(enabled=False, limit=0.10, on_significant="amber", on_breach="amber"),
        alias="equalized-odds-difference")
    auc_gap: Rule = Field(default=Rule(enabled=False, limit=0.10, on_significant="amber", on_breach="amber"),
                          alias="auc-gap")
    score_smd: Rule = Field(default=Rule(enabled=False, limit=0.50, on_significant="amber", on_breach="amber"),
                            alias="score-smd")

    @model_validator(mode="before")
    @classmethod
    def _merge_with_defaults(cls, data):
        """A check written in part keeps the default for every key it leaves out."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, info in cls.model_fields.items():
            for key in (info.alias, name):
                if key in merged and isinstance(merged[key], dict):
                    merged[key] = {**info.default.model_dump(), **merged[key]}
        return merged


class Band(_Strict):
    label: str = Field(min_length=1)
    min: int = Field(ge=0, le=150)
    max: int | None = Field(default=None, ge=0, le=150)


class AgeSettings(_Strict):
    valid_range: tuple[int, int] = DEFAULT_VALID_RANGE
    bands: list[Band] = Field(
        default_factory=lambda: [Band(label=b.label, min=b.low, max=b.high) for b in DEFAULT_BANDS])
    min_count: int = Field(default=100, ge=1)

    @field_validator("bands")
    @classmethod
    def _bands_valid(cls, bands: list[Band]) -> list[Band]:
        validate_bands([AgeBand(b.label, b.min, b.max) for b in bands])
        return bands

    @model_validator(mode="after")
    def _range_valid(self) -> AgeSettings:
        low, high = self.valid_range
        if not 0 <= low <= high:
            raise ValueError(f"valid_range {list(self.valid_range)} must be [low, high] with 0 <= low <= high")
        return self

    def age_bands(self) -> tuple[AgeBand, ...]:
        return tuple(AgeBand(b.label, b.min, b.max) for b in self.bands)


class Decision(_Strict):
    threshold: float | None = Field(default=None, gt=0, lt=1)
    fallback_threshold: float = Field(default=0.2, gt=0, lt=1)


class Bootstrap(_Strict):
    resamples: int = Field(default=1000, ge=0, le=100_000)
    confidence: float = Field(default=0.95, gt=0, lt=1)
    seed: int = Field(default=20261129, ge=0)


class Sweep(_Strict):
    start: float = Field(default=0.02, gt=0, lt=1)
    stop: float = Field(default=0.60, gt=0, lt=1)
    step: float = Field(default=0.01, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> Sweep:
        if self.stop < self.start:
            raise ValueError("stop must not be below start")
        return self


class DataQuality(_Strict):
    out_of_range_ages: Verdict = "amber"
    band_below_min_count: Verdict = "amber"


class FairnessPolicy(_Strict):
    kind: Literal["fairness"] = "fairness"
    version: Literal[1] = 1
    description: str | None = None
    protected_attribute: Literal["age"] = "age"
    decision: Decision = Field(default_factory=Decision)
    age: AgeSettings = Field(default_factory=AgeSettings)
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)
    checks: Checks = Field(default_factory=Checks)
    sweep: Sweep = Field(default_factory=Sweep)
    data_quality: DataQuality = Field(default_factory=DataQuality)
    waivers: list[Waiver] = Field(default_factory=list)

    def settings(self) -> dict:
        """The policy as plain data (aliases as written in YAML), for the evidence file."""
        return self.model_dump(mode="json", by_alias=True)


def _explain(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def parse_policy(text: str, label: str = "<policy>") -> FairnessPolicy:
    """Validate a policy document; any problem is an :class:`InputError` naming ``label:line`` and the key."""
    # The policy engine's YAML reader: line of every key, duplicate keys refused.
    from governance.yaml_lines import load_yaml

    document = load_yaml(text, label)
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        raise InputError("INVALID_POLICY", f"{label}:1: a fairness policy must be a mapping")
    try:
        return FairnessPolicy.model_validate(data)
    except ValidationError as err:
        problems = []
        # Unknown keys first: a misspelt key is the likeliest cause of every other complaint.
        for error in sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden"):
            loc = tuple(error["loc"])
            line = document.line(loc)
            key = ".".join(str(part) for part in loc) or "(top level)"
            problems.append(f"{label}:{line}: {key}: {_explain(error)}")
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError("INVALID_POLICY", problems[0] + extra, details={"problems": problems}) from None


def default_policy_text() -> str:
    return resources.files(DEFAULT_POLICY_RESOURCE[0]).joinpath(DEFAULT_POLICY_RESOURCE[1]).read_text("utf-8")


def load_policy(source: str | os.PathLike | dict | FairnessPolicy | None = None) -> FairnessPolicy:
    """The packaged default (``None``), a YAML file (local or ``s3://``), a mapping, or a policy as is."""
    if source is None:
        return parse_policy(default_policy_text(), "policies/fairness.yaml")
    if isinstance(source, FairnessPolicy):
        return source
    if isinstance(source, dict):
        import yaml

        return parse_policy(yaml.safe_dump(source, sort_keys=False), "<policy>")
    from governance import storage

    raw = storage.read_bytes(source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("INVALID_POLICY", f"{source}: not UTF-8 text") from None
    return parse_policy(text, str(source))
