"""Typed readers for the evidence files the pack prints: one pydantic model per file, schema version checked.

A reader returns ``None`` when the file is not in the (verified) evidence folder, and raises
``InputError("EVIDENCE_SCHEMA")`` when it is there but written in another schema version or without a key the
pack prints, so a renamed key fails loudly instead of printing a dash. Keys the pack does not use are ignored, so
writers may add fields without breaking older packs.

>>> try:
...     Fairness.model_validate({"schema": "quickloan-governance/fairness/v2"})
... except ValidationError as err:
...     print(err.errors()[0]["loc"], err.errors()[0]["type"])
('schema',) literal_error
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from governance.errors import InputError
from reports.evidence_folder import EvidenceFolder

FAIRNESS_SCHEMA = "quickloan-governance/fairness/v1"
EXPLAIN_SCHEMA = "quickloan-governance/explain/v1"
MANIFEST_SCHEMA = "governance.integrity.manifest/v1"
LINEAGE_FORMAT = "quickloan-governance/lineage/v1"
POLICY_SCHEMA_VERSION = "1"

Verdict = Literal["green", "amber", "red"]


class _Reader(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# --- shared --------------------------------------------------------------------------------------------------------


class Waiver(_Reader):
    approver: str | None = None
    expires: Any = None
    reason: str | None = None


class CheckResult(_Reader):
    """One judged check, as fairness.json and explain.json write it."""

    check: str
    resource: str
    verdict: Verdict
    effective_verdict: Verdict
    status: str  # pass | uncertain | breach | significant | error | finding | not_judged
    waived: bool = False
    waiver: Waiver | None = None
    message: str
    metric: str | None = None
    value: float | None = None
    interval: tuple[float, float] | None = None
    limit: float | None = None
    direction: str | None = None


class Estimate(_Reader):
    value: float | None = None
    interval: tuple[float, float] | None = None
    reference_band: str | None = None


class DataRef(_Reader):
    file: str | None = None
    rows: int | None = None
    sha256: str | None = None


class ModelRef(_Reader):
    sha256: str | None = None


# --- fairness.json -------------------------------------------------------------------------------------------------


class FairnessBand(_Reader):
    label: str
    count: int
    judged: bool
    metrics: dict[str, Estimate] = Field(default_factory=dict)

    def metric(self, name: str) -> Estimate:
        return self.metrics.get(name) or Estimate()


class Bootstrap(_Reader):
    confidence: float
    resamples: int
    seed: int | None = None
    method: str | None = None


class PolicyRule(_Reader):
    enabled: bool = True
    blocking: bool = False
    limit: float
    on_significant: Verdict
    on_breach: Verdict
    on_uncertain: Verdict
    reason: str | None = None
    min_age: int | None = None


class FairnessPolicy(_Reader):
    checks: dict[str, PolicyRule]
    waivers: list[dict] = Field(default_factory=list)


class FairnessSettings(_Reader):
    protected_attribute: str
    decision_rule: str
    threshold: float
    threshold_source: str | None = None
    min_count: int
    bootstrap: Bootstrap
    policy: FairnessPolicy


class Coverage(_Reader):
    band: str
    count: int
    share: float | None = None
    defaults: int | None = None
    default_rate: float | None = None
    judged: bool


class DataChecks(_Reader):
    coverage: list[Coverage] = Field(default_factory=list)
    age_quality: dict[str, Any] = Field(default_factory=dict)


class Elderly(_Reader):
    enabled: bool
    min_age: int | None = None
    count: int | None = None
    mean_age_shap: float | None = None
    interval: tuple[float, float] | None = None
    share_adverse: float | None = None


class Fairness(_Reader):
    schema_: Literal["quickloan-governance/fairness/v1"] = Field(alias="schema")
    verdict: Verdict
    verdict_without_waivers: Verdict
    assessed_on: str | None = None
    settings: FairnessSettings
    data: DataRef
    model: ModelRef
    bands: list[FairnessBand]
    disparities: dict[str, Estimate]
    checks: list[CheckResult]
    data_checks: DataChecks = Field(default_factory=DataChecks)
    elderly: Elderly | None = None
    expired_waivers: list[dict] = Field(default_factory=list)
    charts: list[str] = Field(default_factory=list)
    libraries: dict[str, str] = Field(default_factory=dict)


# --- explain.json --------------------------------------------------------------------------------------------------


class Additivity(_Reader):
    passed: bool
    message: str


class CrossCheck(_Reader):
    reference: str | None = None
    max_abs_difference: float | None = None
    tolerance: float | None = None
    passed: bool = False


class Shap(_Reader):
    method: str
    rows: int
    crosscheck: CrossCheck = Field(default_factory=CrossCheck)


class Importance(_Reader):
    feature: str
    mean_abs_shap: float
    mean_shap: float


class Global(_Reader):
    importance: list[Importance]


class DecompositionBand(_Reader):
    label: str
    count: int
    mean_probability: float
    gap: float
    direct_age: float
    indirect: float
    residual: float


class Decomposition(_Reader):
    score: str
    reference: str
    identity: str
    bands: list[DecompositionBand]


class Reason(_Reader):
    code: str
    label: str
    text: str
    feature: str
    value: float | None = None
    shown_value: str | None = None
    shap: float


class Example(_Reader):
    age: float | None = None
    probability_of_default: float
    reasons: list[Reason]


class Frequency(_Reader):
    code: str
    label: str
    count: int
    share: float
    first: int


class ElderlyFlagged(_Reader):
    min_age: int | None = None
    declined_elderly: int | None = None
    count: int | None = None


class ReasonCodes(_Reader):
    top: int
    declined: int
    withheld: bool
    frequency: list[Frequency]
    examples: list[Example] = Field(default_factory=list)
    elderly_flagged: ElderlyFlagged = Field(default_factory=ElderlyFlagged)
    suppressed: dict[str, Any] = Field(default_factory=dict)


class Stability(_Reader):
    method: str | None = None
    applicants: int | None = None
    resamples: int | None = None
    background_rows: int | None = None
    mean_overlap: float | None = None
    threshold: float | None = None
    passed: bool
    first_reason_agreement: float | None = None
    min_applicant_overlap: float | None = None


class ExplainSettings(_Reader):
    score_space: str


class Explain(_Reader):
    schema_: Literal["quickloan-governance/explain/v1"] = Field(alias="schema")
    verdict: Verdict
    settings: ExplainSettings
    shap: Shap
    additivity: Additivity
    checks: list[CheckResult]
    global_: Global = Field(alias="global")
    decomposition: Decomposition
    reason_codes: ReasonCodes
    stability: Stability
    data: DataRef
    model: ModelRef
    charts: list[str] = Field(default_factory=list)


# --- policy.json ---------------------------------------------------------------------------------------------------


class PolicyWaiver(_Reader):
    approver: str | None = None
    expires: Any = None
    reason: str | None = None


class PolicyFinding(_Reader):
    check: str
    title: str
    policy: str
    resource: str
    status: Literal["PASS", "FAIL", "WAIVED", "N/A", "ERROR"]
    severity: str | None = None
    message: str
    remediation: str | None = None
    regulations: list[str] = Field(default_factory=list)
    evidence_sha256: str | None = None
    waiver: PolicyWaiver | None = None


class PolicyScan(_Reader):
    schema_version: Literal["1"]
    verdict: str
    reason: str | None = None
    targets: list[str]
    policy_files: list[str]
    ignore_waivers: bool = False
    started_at: str | None = None
    finished_at: str | None = None
    findings: list[PolicyFinding]


# --- manifest.json -------------------------------------------------------------------------------------------------


class SafetyFinding(_Reader):
    severity: str
    code: str
    member: str | None = None
    message: str


class Member(_Reader):
    name: str
    type: str
    mode: str | None = None
    size: int | None = None
    sha256: str | None = None


class Verification(_Reader):
    verified: bool
    reason: str | None = None
    message: str | None = None
    checked_at: str | None = None
    allow_unsafe: bool = False
    changes: list[dict] = Field(default_factory=list)


class Manifest(_Reader):
    schema_: Literal["governance.integrity.manifest/v1"] = Field(alias="schema")
    artefact: dict[str, Any]
    signature: dict[str, Any]
    signer: dict[str, Any]
    verification: Verification
    manifest_source: str | None = None
    members: list[Member]
    findings: list[SafetyFinding]
    blocking: list[SafetyFinding]


# --- evaluation.json (SageMaker model-quality layout; no schema field of its own) -----------------------------------


class Metric(_Reader):
    value: float | None = None
    standard_deviation: float | str | None = None  # SageMaker writes "NaN" where it has none


class Roc(_Reader):
    false_positive_rates: list[float]
    true_positive_rates: list[float]


class BinaryMetrics(_Reader):
    model_config = ConfigDict(extra="allow", frozen=True)
    auc: Metric
    confusion_matrix: dict[str, dict[str, int]] = Field(default_factory=dict)
    receiver_operating_characteristic_curve: Roc | None = None

    def metric(self, name: str) -> Metric | None:
        value = getattr(self, name, None) if name in type(self).model_fields else (self.model_extra or {}).get(name)
        return Metric.model_validate(value) if isinstance(value, dict) else value


class CalibrationBin(_Reader):
    bin: int
    count: int
    score_min: float
    score_max: float
    mean_predicted: float
    observed_rate: float


class EvaluatedData(_Reader):
    rows: int
    positives: int
    default_rate: float
    sha256: str


class Decision(_Reader):
    rule: str
    threshold: float
    approval_rate: float | None = None


class Evaluation(_Reader):
    binary_classification_metrics: BinaryMetrics
    calibration: list[CalibrationBin] = Field(default_factory=list)
    dataset: EvaluatedData
    decision: Decision
    model: dict[str, str]


# --- dataset.json (the process step's profile) ---------------------------------------------------------------------


class DataQualityFinding(_Reader):
    severity: str
    code: str
    count: int | None = None
    message: str


class Imputation(_Reader):
    strategy: str
    value: float | None = None
    learnt_on: str | None = None
    filled_train: int | None = None
    filled_validation: int | None = None


class ColumnProfile(_Reader):
    missing: int | None = None
    min: float | None = None
    median: float | None = None
    mean: float | None = None
    max: float | None = None


class DatasetProfile(_Reader):
    dataset: str
    synthetic: bool
    source: dict[str, Any]
    schema_: dict[str, Any] = Field(alias="schema")
    split: dict[str, Any]
    outputs: dict[str, dict[str, Any]]
    rows: dict[str, int]
    target_rate: dict[str, float]
    data_quality: list[DataQualityFinding]
    imputation: dict[str, Imputation] = Field(default_factory=dict)
    columns: dict[str, ColumnProfile] = Field(default_factory=dict)


# --- training.json -------------------------------------------------------------------------------------------------


class Training(_Reader):
    algorithm: str
    xgboost_version: str | None = None
    model_format: str
    member: str
    model_sha256: str
    rows: dict[str, int]
    features: list[str]
    hyperparameters: dict[str, Any]
    final_metrics: dict[str, float | None] = Field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = Field(default_factory=dict)


# --- lineage.json --------------------------------------------------------------------------------------------------


class LineageHop(_Reader):
    step: str
    started_at: str | None = None
    statement: str
    code: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    inputs: list[dict[str, Any]] = Field(default_factory=list)
    outputs: list[dict[str, Any]] = Field(default_factory=list)


class Lineage(_Reader):
    format: Literal["quickloan-governance/lineage/v1"]
    hops: list[LineageHop]


# --- ledger.jsonl --------------------------------------------------------------------------------------------------


class LedgerRecord(_Reader):
    v: Literal[1]
    seq: int
    time: str
    event: str
    actor: str
    subject: str
    hash: str
    details: dict[str, Any] = Field(default_factory=dict)


# --- readers -------------------------------------------------------------------------------------------------------

Model = TypeVar("Model", bound=BaseModel)


def read(folder: EvidenceFolder, relative: str, model: type[Model]) -> Model | None:
    """``relative`` parsed as ``model`` (once per folder), ``None`` if the evidence does not hold it."""
    cache = folder.parsed
    if relative in cache:
        return cache[relative]
    document = folder.json(relative) if folder.has(relative) else None
    if document is None:
        cache[relative] = None
        return None
    try:
        value = model.model_validate(document)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise InputError("EVIDENCE_SCHEMA", f"{relative}: {where}: {first['msg']} (this version of the pack "
                                            f"reads {model.__name__} as its writer documents it)") from None
    cache[relative] = value
    return value


def fairness(folder: EvidenceFolder) -> Fairness | None:
    return read(folder, "fairness.json", Fairness)


def explain(folder: EvidenceFolder) -> Explain | None:
    return read(folder, "explain.json", Explain)


def policy(folder: EvidenceFolder) -> PolicyScan | None:
    return read(folder, "policy.json", PolicyScan)


def manifest(folder: EvidenceFolder) -> Manifest | None:
    return read(folder, "manifest.json", Manifest)


def evaluation(folder: EvidenceFolder) -> Evaluation | None:
    return read(folder, "evaluation.json", Evaluation)


def dataset(folder: EvidenceFolder) -> DatasetProfile | None:
    return read(folder, "dataset.json", DatasetProfile)


def lineage(folder: EvidenceFolder) -> Lineage | None:
    return read(folder, "lineage.json", Lineage)


def ledger(folder: EvidenceFolder, relative: str) -> list[LedgerRecord] | None:
    """The ledger's records as sealed in the index (its signed checkpoints are records too), or ``None``."""
    key = f"ledger:{relative}"
    if key not in folder.parsed:
        lines = folder.jsonl(relative) if folder.has(relative) else None
        try:
            folder.parsed[key] = None if lines is None else [LedgerRecord.model_validate(r) for r in lines]
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise InputError("EVIDENCE_SCHEMA", f"{relative}: {where}: {first['msg']}") from None
    return folder.parsed[key]


def training(folder: EvidenceFolder) -> Training | None:
    return read(folder, "training.json", Training)
