"""The model governance file: the human-written parts of the pack, kept in YAML next to the model.

Evidence says what the model *is* and how it *measured*; only people can say what it is *for*, which risks they
accept, who signs it off and how it will be watched. Those parts live here. Every section is optional: a missing
one is printed as an open item in the pack, never invented.

>>> from reports.governance_file import load_governance_file, example_path
>>> doc = load_governance_file(example_path())
>>> doc.model.name
'QuickLoan credit default model'

A mistake is reported with the file and line::

    governance pack: BAD_GOVERNANCE_FILE: gov.yaml:14: risks.0.likelihood: Input should be less than or equal to 5
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from governance.changes.plan import ChangePlan
from governance.errors import InputError, reading

SCHEMA_VERSION = "quickloan-governance/v1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelInfo(_Strict):
    name: str
    version: str | None = None
    provider: str | None = None
    owner: str | None = None
    description: str | None = None


class DocumentControl(_Strict):
    id: str | None = None
    version: str | None = None
    owner: str | None = None
    classification: str | None = None
    distribution: list[str] = Field(default_factory=list)
    retention: str | None = None


Role = Literal["provider", "deployer"]
Framework = Literal["uk", "us"]


class Classification(_Strict):
    risk_level: Literal["high", "limited", "minimal", "unacceptable"]
    legal_basis: str
    rationale: str
    # Who the organisation is under the EU AI Act: the pack lists the duties of each role it names.
    roles: list[Role] = Field(default_factory=lambda: ["provider", "deployer"], min_length=1)
    other_frameworks: list[str] = Field(default_factory=list)


# What only people can state about an obligation, by key. The obligations map (reports/obligations.py) says which
# article each key answers; a key missing from the file is an open item.
STATEMENTS: dict[str, str] = {
    "conformity-assessment": "the conformity assessment based on internal control",
    "ce-marking": "the CE marking",
    "eu-database-registration": "the registration in the EU database",
    "fria": "the fundamental-rights impact assessment",
    "dpia": "the data protection impact assessment",
    "notice-to-applicants": "the notice telling applicants that a high-risk AI system is used",
    "explanation-process": "the process giving applicants an explanation of the decision",
    "independent-validation": "the independent validation of the model",
    "runtime-logging": "the automatic event logs of the running system",
    "deployer-log-retention": "the retention of the running system's logs by the deployer",
    "provider-log-retention": "the retention of the logs under the provider's control",
    "robustness-testing": "the robustness testing (errors, faults, inconsistent inputs)",
    "security-testing": "the security testing (adversarial inputs, data and model poisoning)",
    "foreseeable-misuse": "the evaluation of reasonably foreseeable misuse",
    "residual-risk-acceptance": "the acceptance of the residual risks",
    "vulnerable-groups": "the consideration of vulnerable groups",
    "data-representativeness": "the representativeness of the data for the people scored",
    "data-setting": "the geographical, contextual and behavioural setting the data reflects",
    "instructions-for-use": "the instructions for use",
    "system-description": "the general description of the system",
    "metrics-rationale": "why the performance metrics suit the system",
    "quality-management-system": "the quality management system",
    "automated-decision-basis": "the lawful basis and safeguards for automated decisions",
    "uk-model-risk-management": "the application of the PRA's model risk management principles",
    "uk-consumer-duty": "the Consumer Duty outcomes assessment",
    "uk-age-exception": "the basis for using age under the Equality Act's financial-services exception",
    "uk-automated-decisions": "the safeguards for significant decisions based solely on automated processing",
    "adverse-action-notices": "the adverse action notices with their specific reasons",
}


class Statement(_Strict):
    """What the accountable people say about one obligation; only ``done`` (with a reference) closes it."""

    status: Literal["done", "in progress", "not started", "not applicable"]
    reference: str | None = None
    owner: str | None = None
    date: dt.date | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _closed_items_name_their_record(self) -> Statement:
        if self.status == "done" and not self.reference:
            raise ValueError("a done item names the document that records it (reference)")
        if self.status == "not applicable" and not self.note:
            raise ValueError("a not applicable item gives the reason (note)")
        return self


class UserGroup(_Strict):
    role: str
    description: str


class IntendedUse(_Strict):
    purpose: str
    decision_supported: str | None = None
    users: list[UserGroup] = Field(default_factory=list)
    affected_persons: str | None = None
    out_of_scope: list[str] = Field(default_factory=list)
    limitations: list[str] = Field(default_factory=list)
    instructions_for_use: str | None = None


class Acceptance(_Strict):
    """Criteria people set in advance; the pack compares evidence against them and says which side it falls."""

    auc_min: float | None = Field(default=None, ge=0, le=1)


class Risk(_Strict):
    id: str
    title: str
    description: str | None = None
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    owner: str
    mitigations: list[str] = Field(default_factory=list)
    status: Literal["open", "mitigating", "mitigated", "accepted", "closed"] = "open"
    references: list[str] = Field(default_factory=list)


class Approver(_Strict):
    role: str
    name: str | None = None


class Approval(_Strict):
    role: str
    name: str
    decision: Literal["approved", "rejected", "approved with conditions", "pending"]
    date: dt.date | None = None
    note: str | None = None


class Oversight(_Strict):
    human_review: str
    override: str | None = None
    stop: str | None = None
    competence: str | None = None
    sign_off_required_from: list[Approver] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    # Segregation of duties: `governance approve` refuses the person who signed the model unless this is true.
    allow_self_approval: bool = False


class MonitoredMetric(_Strict):
    name: str
    what: str
    frequency: str
    trigger: str
    action: str
    owner: str | None = None


class Monitoring(_Strict):
    owner: str
    review_frequency: str
    metrics: list[MonitoredMetric] = Field(min_length=1)
    incident_reporting: str | None = None
    data_collection: str | None = None


class Change(_Strict):
    date: dt.date
    version: str
    description: str


class Standard(_Strict):
    reference: str
    how: str


class Conformity(_Strict):
    status: Literal["not started", "drafted", "signed"]
    reference: str | None = None
    note: str | None = None


class Lesson(_Strict):
    date: dt.date | None = None
    title: str
    lesson: str
    action: str | None = None


class GovernanceFile(_Strict):
    """The whole file; only ``schema`` and ``model`` are required."""

    schema_: Literal["quickloan-governance/v1"] = Field(alias="schema")
    model: ModelInfo
    document: DocumentControl | None = None
    classification: Classification | None = None
    intended_use: IntendedUse | None = None
    acceptance: Acceptance | None = None
    risks: list[Risk] | None = None
    oversight: Oversight | None = None
    monitoring: Monitoring | None = None
    changes: list[Change] | None = None
    change_plan: ChangePlan | None = None
    standards: list[Standard] | None = None
    declaration_of_conformity: Conformity | None = None
    lessons_learned: list[Lesson] | None = None
    # Frameworks beyond the EU AI Act (and the EU GDPR) whose duties the obligations map lists.
    frameworks: list[Framework] | None = None
    obligations: dict[str, Statement] | None = None

    @field_validator("obligations")
    @classmethod
    def _known_obligations(cls, value: dict[str, Statement] | None) -> dict[str, Statement] | None:
        unknown = sorted(set(value or {}) - set(STATEMENTS))
        if unknown:
            raise ValueError(f"unknown obligation {unknown[0]!r}; known: {', '.join(sorted(STATEMENTS))}")
        return value


def example_path() -> Path:
    """The complete QuickLoan example shipped with the package."""
    return Path(str(resources.files("reports") / "templates" / "quickloan-governance.yaml"))


def parse_governance_file(text: str, name: str = "<governance file>") -> GovernanceFile:
    from governance.yaml_lines import load_yaml  # bounded: alias bombs, depth and duplicate keys refused

    try:
        data = load_yaml(text, name).data
    except InputError as err:
        raise InputError("BAD_GOVERNANCE_FILE", f"not valid YAML: {err.message}") from None
    if not isinstance(data, dict):
        raise InputError("BAD_GOVERNANCE_FILE", f"{name}: expected a mapping at the top level")
    try:
        return GovernanceFile.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        location = tuple(first["loc"])
        dotted = ".".join(str(part) for part in location) or "(top level)"
        line = _line_of(text, location)
        where = f"{name}:{line}" if line else name
        extra = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise InputError("BAD_GOVERNANCE_FILE", f"{where}: {dotted}: {first['msg']}{extra}") from None


def load_governance_file(path: str | os.PathLike) -> GovernanceFile:
    try:
        with reading(path, "governance file"):
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError("BAD_GOVERNANCE_FILE", f"{path}: cannot read ({err})") from None
    return parse_governance_file(text, str(path))


def _line_of(text: str, location: tuple) -> int | None:
    """1-based line of the YAML node at ``location`` (or of its nearest existing parent)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == str(part)), None)
            if match is None:
                key_node = next((key for key, _ in node.value if key.value == str(part)), None)
                return key_node.start_mark.line + 1 if key_node is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line
