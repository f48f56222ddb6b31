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

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from governance.age_bands import DEFAULT_BANDS, DEFAULT_VALID_RANGE, ELDERLY_AGE, AgeBand, validate_bands
from governance.errors import InputError
from governance.policy_document import parse_document
from governance.waivers import Waiver

Verdict = Literal["green", "amber", "red"]
DEFAULT_POLICY_RESOURCE = ("policies", "fairness.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Rule(_Strict):
    """How one check judges its metric. The one rule behind every verdict (and the pack's legend):

    - green only when the whole interval is within the limit: a breach or an interval crossing it never passes;
    - red only for a *blocking* check, and a significant breach of a blocking limit is always red (until waived);
    - a check that is not blocking is monitored: at worst amber;
    - a disabled check is still computed and reported, and says why it is not judged.
    """

    enabled: bool = True
    blocking: bool = False
    limit: float = Field(allow_inf_nan=False)  # NaN compares false to everything: it would pass every metric
    on_significant: Verdict = "amber"
    on_breach: Verdict = "amber"
    on_uncertain: Verdict = "amber"
    reason: str | None = None  # why this limit, why (not) blocking, why disabled

    @model_validator(mode="after")
    def _one_rule(self) -> Rule:
        outcomes = {"on_significant": self.on_significant, "on_breach": self.on_breach,
                    "on_uncertain": self.on_uncertain}
        green = [name for name, verdict in outcomes.items() if verdict == "green"]
        if green:
            raise ValueError(f"{green[0]}: green means the interval lies within the limit; a breach or an interval "
                             "crossing the limit is amber or red")
        if self.blocking and self.on_significant != "red":
            raise ValueError("on_significant: a significant breach of a blocking limit is red (waive a finding "
                             "instead of softening the rule)")
        red = [name for name, verdict in outcomes.items() if verdict == "red"]
        if red and not self.blocking:
            raise ValueError(f"{red[0]}: only a blocking check is red; set blocking: true")
        if not self.enabled and not self.reason:
            raise ValueError("a disabled check says why (reason)")
        return self

    def verdicts(self) -> dict[str, str]:
        """Status → verdict, as the pack prints it beside the policy."""
        return {"pass": "green", "uncertain": self.on_uncertain, "breach": self.on_breach,
                "significant": self.on_significant}


class ElderlyRule(Rule):
    """Regulation B: an elderly applicant's age must not count against them in a scoring system."""

    min_age: int = Field(default=ELDERLY_AGE, ge=0, le=150)


_AIR_REASON = ("Internal screening threshold taken from the four-fifths rule of thumb used in US employment "
               "selection (29 CFR 1607.4(D)); it is not a legal limit for credit. Blocking: a band approved at "
               "significantly less than 0.80 of the best band's rate stops the release until reviewed or waived.")
_ELDERLY_REASON = ("Regulation B (12 CFR 1002.6(b)(2)) lets a scoring system use age only if the age of an elderly "
                   "applicant (62+) is not assigned a negative value. Blocking, and red already on a point breach.")
_MONITORED = "Monitored, not blocking: {why} At worst amber; reviewed by the model owner and compliance."
_DISABLED = "Not judged: {why} Computed and reported on every run."


class Checks(_Strict):
    adverse_impact_ratio: Rule = Field(
        default=Rule(limit=0.80, blocking=True, on_significant="red", reason=_AIR_REASON),
        alias="adverse-impact-ratio")
    demographic_parity_difference: Rule = Field(
        default=Rule(limit=0.10, reason=_MONITORED.format(
            why="approval-rate gaps partly reflect real differences in repayment between bands; the adverse "
                "impact ratio is the blocking screen of the same rates.")),
        alias="demographic-parity-difference")
    equal_opportunity_ratio: Rule = Field(
        default=Rule(limit=0.80, reason=_MONITORED.format(
            why="good payers' approval by band, the error that harms applicants; kept as a review signal.")),
        alias="equal-opportunity-ratio")
    calibration: Rule = Field(default=Rule(limit=0.10, reason=_MONITORED.format(
        why="relative error of predicted against observed default rates per band; small bands are noisy.")))
    elderly_age_effect: ElderlyRule = Field(
        default=ElderlyRule(limit=0.0, blocking=True, on_significant="red", on_breach="red", reason=_ELDERLY_REASON),
        alias="elderly-age-effect")
    # Reported always; judged only when a policy enables them.
    equalized_odds_difference: Rule = Field(
        default=Rule(enabled=False, limit=0.10, reason=_DISABLED.format(
            why="its false-positive part moves with each band's default rate, so no limit has been agreed yet.")),
        alias="equalized-odds-difference")
    auc_gap: Rule = Field(default=Rule(enabled=False, limit=0.10, reason=_DISABLED.format(
        why="AUC in small bands has wide intervals; ranking quality by band is shown in the performance section.")),
                          alias="auc-gap")
    score_smd: Rule = Field(default=Rule(enabled=False, limit=0.50, reason=_DISABLED.format(
        why="score differences between bands are expected where risk differs; shown for context only.")),
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
                    default = info.default.model_dump()
                    if merged[key].get("enabled", default["enabled"]) != default["enabled"]:
                        default["reason"] = None  # the default's reason explains the default state only
                    merged[key] = {**default, **merged[key]}
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


def parse_policy(text: str, label: str = "<policy>") -> FairnessPolicy:
    """Validate a policy document; any problem is an :class:`InputError` naming ``label:line`` and the key."""
    return parse_document(text, label, FairnessPolicy, what="fairness policy")


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
