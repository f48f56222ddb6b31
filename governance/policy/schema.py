"""Policy files: their schema, and loading a folder of them with errors that name the file and line.

A folder may hold files of several kinds; this module reads ``kind: policy`` (a policy set) and ``kind: waivers``
(waivers kept apart from the checks they waive) and leaves the other kinds to their own readers (the fairness
thresholds live beside these files, for instance). Every other mistake is an error: an unknown key, an unknown
operator, an evidence path the resource's collector does not provide, a waiver without an approver, two checks
with the same id.

A policy set::

    kind: policy
    name: encryption
    title: Encryption at rest and in transit
    parameters:
      allowed_kms_keys: []            # key ARNs allowed for governed data
    checks:
      - id: ENC-S3-001
        title: Bucket default encryption is SSE-KMS or DSSE-KMS with an allow-listed customer managed key
        resource: s3_bucket
        severity: high
        regulations: ["GDPR Art. 32(1)(a)", "EU AI Act Art. 15(4)"]
        assert:
          all:
            - in: {path: encryption.algorithm, values: [aws:kms, aws:kms:dsse]}
            - in: {path: encryption.kms_key_arn, values: "${allowed_kms_keys}"}
        remediation: Set default encryption to SSE-KMS with a customer managed key from the allow-list.
    waivers:
      - {check: ENC-S3-001, resource: "s3://legacy-*", reason: migration, approver: J. Doe, expires: 2027-03-31}

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "bad.yaml").write_text("kind: policy\\nname: x\\nchecks:\\n  - id: X-1\\n    colour: red\\n")
>>> try:
...     load_policies(folder)
... except InputError as err:
...     print(err.message.split(": ", 1)[0].endswith("bad.yaml:5"))
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from governance.errors import InputError
from governance.policy import collectors  # noqa: F401 - registers every collector
from governance.policy.collectors.base import COLLECTORS
from governance.policy.operators import Compiler, Condition, ConditionError, compile_condition
from governance.waivers import Waiver
from governance.yaml_lines import YamlDocument, load_yaml

POLICY_KIND = "policy"
WAIVERS_KIND = "waivers"
SEVERITIES = ("critical", "high", "medium", "low", "info")
Severity = Literal["critical", "high", "medium", "low", "info"]


class CheckSpec(BaseModel):
    """One check as written in the file (the condition is compiled separately, with line numbers)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$", description="stable id, e.g. ENC-S3-001")
    title: str = Field(min_length=3)
    description: str | None = None
    resource: str
    severity: Severity
    regulations: list[str] = Field(default_factory=list)
    when: dict[str, Any] | None = Field(default=None, description="applies only where this holds; else N/A")
    assert_: dict[str, Any] = Field(alias="assert")
    remediation: str = Field(min_length=3)
    decided_by: str | None = Field(default=None, description="evidence path naming the engine that decides")

    @field_validator("resource")
    @classmethod
    def _known_resource(cls, value: str) -> str:
        if value not in COLLECTORS:
            raise ValueError(f"unknown resource type {value!r} (known: {', '.join(sorted(COLLECTORS))})")
        return value


class PolicySetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["policy"]
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str | None = None
    description: str | None = None
    version: int | str = 1
    parameters: dict[str, Any] = Field(default_factory=dict)
    artefact_patterns: list[str] | None = None
    checks: list[CheckSpec] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)


class WaiverFileSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["waivers"]
    description: str | None = None
    waivers: list[Waiver] = Field(default_factory=list)


@dataclass(frozen=True)
class Check:
    """A compiled check, ready to evaluate; ``source`` is ``file:line`` of its definition."""

    id: str
    title: str
    policy: str
    resource: str
    severity: str
    regulations: tuple[str, ...]
    condition: Condition
    when: Condition | None
    remediation: str
    description: str | None
    source: str
    decided_by: str | None = None  # evidence path whose value names the engine that decided the finding

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "policy": self.policy, "resource": self.resource,
                "severity": self.severity, "regulations": list(self.regulations), "remediation": self.remediation,
                "description": self.description, "source": self.source,
                **({"decided_by": self.decided_by} if self.decided_by else {})}


@dataclass
class SourcedWaiver:
    waiver: Waiver
    source: str


@dataclass
class PolicyBundle:
    """Everything loaded from a policies folder."""

    checks: list[Check] = field(default_factory=list)
    waivers: list[SourcedWaiver] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)  # merged across sets, for collectors
    artefact_patterns: tuple[str, ...] = ()
    files: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # files of other kinds: {"file", "kind"}
    source: Any = None  # what was loaded, and with which overrides: to reload with resolved parameters
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def resource_types(self) -> set[str]:
        return {c.resource for c in self.checks}

    def checks_for(self, resource_type: str) -> list[Check]:
        return [c for c in self.checks if c.resource == resource_type]


def default_policies_dir() -> Path:
    """The policy files shipped with the package (``policies/`` beside ``governance/``)."""
    import policies

    return Path(policies.__file__).parent


def load_policies(
    source: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
    *,
    parameters: Mapping[str, Any] | None = None,
) -> PolicyBundle:
    """Load every ``kind: policy`` and ``kind: waivers`` file from a folder (or a list of files).

    ``parameters`` override a set's declared parameters by name (``{"allowed_kms_keys": ["arn:..."]}``);
    overriding a parameter no set declares is an error.
    """
    files = _policy_files(source)
    bundle = PolicyBundle(source=source, overrides=dict(parameters or {}))
    overrides = dict(parameters or {})
    used: set[str] = set()
    seen_ids: dict[str, str] = {}
    patterns: list[str] = []
    for path in files:
        doc = _read(path)
        kind = doc.data.get("kind") if isinstance(doc.data, dict) else None
        if kind not in (POLICY_KIND, WAIVERS_KIND):
            bundle.skipped.append({"file": str(path), "kind": kind})
            continue
        bundle.files.append(str(path))
        if kind == WAIVERS_KIND:
            spec = _validate(WaiverFileSpec, doc)
            bundle.waivers.extend(SourcedWaiver(w, f"{doc.name}:{doc.line(('waivers', i))}")
                                  for i, w in enumerate(spec.waivers))
            continue
        spec = _validate(PolicySetSpec, doc)
        params = dict(spec.parameters)
        for name in params.keys() & overrides.keys():
            params[name] = _override(doc, name, params[name], overrides[name])
            used.add(name)
        for name, value in params.items():
            if name in bundle.parameters and bundle.parameters[name] != value:
                raise doc.error(("parameters", name), f"parameter {name!r} is declared with a different value in "
                                                      "another policy set; give it one value or another name")
            bundle.parameters[name] = value
        patterns.extend(spec.artefact_patterns or [])
        for index, check in enumerate(spec.checks):
            loc = ("checks", index)
            if check.id in seen_ids:
                raise doc.error((*loc, "id"), f"duplicate check id {check.id} (also at {seen_ids[check.id]})")
            seen_ids[check.id] = f"{doc.name}:{doc.line(loc)}"
            bundle.checks.append(_compile_check(doc, spec.name, check, params, loc))
        bundle.waivers.extend(SourcedWaiver(w, f"{doc.name}:{doc.line(('waivers', i))}")
                              for i, w in enumerate(spec.waivers))
    unknown = sorted(overrides.keys() - used)
    if unknown:
        raise InputError("INVALID_POLICY", f"parameter {unknown[0]!r} is not declared by any policy set")
    if not bundle.checks:
        where = source if source is not None else default_policies_dir()
        raise InputError("INVALID_POLICY", f"{where}: no checks found (no file with 'kind: policy')")
    from governance.policy.targets import DEFAULT_ARTEFACT_PATTERNS

    bundle.artefact_patterns = tuple(dict.fromkeys(patterns)) or DEFAULT_ARTEFACT_PATTERNS
    return bundle


def _policy_files(source) -> list[Path]:
    if source is None:
        source = default_policies_dir()
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if path.is_file():
            return [path]
        raise InputError("FILE_NOT_FOUND", f"{path}: no such policy file or folder")
    paths = [Path(p) for p in source]
    for path in paths:
        if not path.is_file():
            raise InputError("FILE_NOT_FOUND", f"{path}: no such policy file")
    return paths


def _read(path: Path) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("INVALID_POLICY", f"{path}:1: not UTF-8 text") from None
    except OSError as err:
        raise InputError("FILE_NOT_FOUND", f"{path}: cannot read ({err.strerror or err})") from None
    doc = load_yaml(text, str(path))
    if doc.data is not None and not isinstance(doc.data, dict):
        raise doc.error((), "a policy file is a mapping with a 'kind' key")
    if doc.data is None:
        doc.data = {}
    return doc


def _validate(model: type[BaseModel], doc: YamlDocument):
    try:
        return model.model_validate(doc.data)
    except ValidationError as err:
        # An unknown key is usually a misspelt known one: report it before the "missing" it causes.
        errors = sorted(err.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif first["type"] == "missing":
            message = f"missing required key {loc[-1]!r}"
            loc = loc[:-1]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise doc.error(loc, f"{where}: {message}{more}") from None


def _override(doc: YamlDocument, name: str, declared: Any, value: Any) -> Any:
    def kind(v: Any) -> str:
        return "list" if isinstance(v, list) else "number" if isinstance(v, int | float) and not isinstance(v, bool) \
            else type(v).__name__

    if declared is not None and kind(declared) != kind(value):
        raise InputError("INVALID_POLICY", f"parameter {name!r} ({doc.name}) is a {kind(declared)}; "
                                           f"got a {kind(value)}: {value!r}")
    return value


def _compile_check(doc: YamlDocument, policy: str, spec: CheckSpec, params: dict, loc: tuple) -> Check:
    collector = COLLECTORS[spec.resource]
    compiler = Compiler(params, collector.shape, spec.resource)
    try:
        condition = compile_condition(spec.assert_, compiler, (*loc, "assert"))
        when = compile_condition(spec.when, compiler, (*loc, "when")) if spec.when is not None else None
        if spec.decided_by is not None:  # validated like any evidence path
            compile_condition({"exists": spec.decided_by}, compiler, (*loc, "decided_by"))
    except ConditionError as err:
        raise doc.error(err.loc, f"check {spec.id}: {err.message}") from None
    return Check(
        id=spec.id, title=spec.title, policy=policy, resource=spec.resource, severity=spec.severity,
        regulations=tuple(spec.regulations), condition=condition, when=when, remediation=spec.remediation.strip(),
        description=spec.description, source=f"{doc.name}:{doc.line(loc)}", decided_by=spec.decided_by,
    )
