"""What each pipeline step consumed and produced, with digests: the facts the provenance statements are made of.

The runner's :class:`~pipeline.runner.StepRecord` list (or its ``run.json``) names the files; this module hashes
them (local or ``s3://``), identifies the code that ran (the step module's sha256, the package version, the git
commit and whether the file matches it) and the runtime, and checks every digest a step wrote about its own
inputs and outputs against the bytes now on disk — so a file swapped between the run and the recording is
caught here rather than signed.

>>> steps = record_steps("run.json")
>>> [(s.name, [o.role for o in s.outputs]) for s in steps]
[('process', ['profile', 'test', 'train', 'validation']), ('train', ['model', 'training_metadata']), ...]
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

from governance import __version__, hashing, storage
from governance.errors import CheckFailed, InputError
from governance.jsonio import read_json
from governance.runtime import installed_version

PACKAGE = "quickloan-governance"
REGISTER_STEP = "register"
DATASET_ROLE = "dataset"
# Steps that decide rather than produce: their results are the evidence itself, not a hop in the chain.
NON_PRODUCING_STEPS = {"govern"}
# Distribution names to try for each runtime library (xgboost ships as xgboost or xgboost-cpu).
RUNTIME_DISTRIBUTIONS = {
    "xgboost": ("xgboost-cpu", "xgboost"),
    "pandas": ("pandas",),
    "numpy": ("numpy",),
    "scikit-learn": ("scikit-learn",),
}


@dataclass(frozen=True)
class Resource:
    """A file a step read or wrote: its role in the pipeline, where it is, and its digest."""

    role: str
    uri: str  # s3://…; a path relative to the run folder for files inside it; else an absolute file:// URI
    sha256: str
    size: int
    path: str | None = None  # relative to the run folder, so a copied folder is checked where it now is
    content_sha256: str | None = None  # decompressed content, for .gz inputs
    content_size: int | None = None
    annotations: dict = field(default_factory=dict, compare=False)
    location: str = field(default="", compare=False, repr=False)  # where it was read while recording

    @property
    def readable(self) -> str:
        """What :mod:`governance.storage` opens for this resource while the run is being recorded."""
        return self.location or location_of(self.uri)

    @property
    def name(self) -> str:
        return PurePosixPath(self.uri.split("://", 1)[-1]).name or self.role

    def descriptor(self) -> dict:
        """An in-toto ResourceDescriptor (the shape SLSA uses for subjects and resolved dependencies)."""
        notes = {"role": self.role, "bytes": self.size, **self.annotations}
        if self.path:
            notes["path"] = self.path
        if self.content_sha256:
            notes.update(content_sha256=self.content_sha256, content_bytes=self.content_size)
        return {"name": self.name, "uri": self.uri, "digest": {"sha256": self.sha256}, "annotations": notes}


@dataclass(frozen=True)
class CodeIdentity:
    """The code a step ran: its module file's sha256, the package version, and the git commit when there is one."""

    module: str
    path: str  # e.g. pipeline/steps/train.py
    uri: str
    sha256: str
    package_version: str
    git_commit: str | None = None
    git_state: str | None = None  # clean | modified | untracked (the step file against the commit)

    def descriptors(self) -> list[dict]:
        code = {"name": self.path, "uri": self.uri, "digest": {"sha256": self.sha256},
                "annotations": {"role": "code", "module": self.module}}
        if self.git_state:
            code["annotations"]["git"] = self.git_state
        package = {"name": PACKAGE, "uri": f"pkg:pypi/{PACKAGE}@{self.package_version}",
                   "annotations": {"role": "package", "version": self.package_version}}
        if self.git_commit:
            package["digest"] = {"gitCommit": self.git_commit}
        return [code, package]


@dataclass
class StepLineage:
    """One step as the provenance statement will describe it."""

    name: str
    code: CodeIdentity
    parameters: dict
    inputs: list[Resource]
    outputs: list[Resource]
    started_at: str
    finished_at: str
    seconds: float
    runtime: dict
    job_arn: str | None = None
    image_uri: str | None = None
    model_package: str | None = None  # the registration step's output: a package id, not a file

    def output(self, role: str) -> Resource | None:
        return next((r for r in self.outputs if r.role == role), None)

    def input(self, role: str) -> Resource | None:
        return next((r for r in self.inputs if r.role == role), None)


def runtime_versions() -> dict:
    """Python and the numeric libraries as installed here (read from package metadata, nothing imported)."""
    found = {"python": platform.python_version(), "implementation": sys.implementation.name,
             "platform": platform.platform(terse=True)}
    for library, distributions in RUNTIME_DISTRIBUTIONS.items():
        version = installed_version(*distributions)
        if version is not None:
            found[library] = version
    return found


def package_version() -> str:
    return __version__


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@cache
def _git_top_and_commit(folder: Path) -> tuple[Path, str] | None:
    out = _git(["rev-parse", "--show-toplevel", "HEAD"], folder)
    if not out or len(out.splitlines()) != 2:
        return None
    top, commit = out.splitlines()
    return Path(top), commit


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def git_state(path: Path) -> tuple[str | None, str | None]:
    """``(commit, clean|modified|untracked)`` for a file in a git work tree, else ``(None, None)``."""
    found = _git_top_and_commit(path.parent)
    if found is None:
        return None, None
    top, commit = found
    try:
        relative = path.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None, None
    committed = _git(["rev-parse", f"HEAD:{relative}"], top)
    if committed is None:
        return commit, "untracked"
    return commit, "clean" if committed == _git_blob_sha1(path.read_bytes()) else "modified"


def code_identity(module: str, code_uri: str | None = None) -> CodeIdentity:
    """Identify a step's code by module name (``pipeline.steps.train``); ``code_uri`` names an uploaded copy."""
    relative = module.replace(".", "/") + ".py"
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if code_uri:
        with storage.open_stream(code_uri) as stream:
            digest = hashing.sha256_stream(stream)[0]
        return CodeIdentity(module, relative, code_uri, digest, package_version())
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        raise InputError("CODE_NOT_FOUND", f"step module {module!r}: its source file cannot be found to hash it")
    path = Path(spec.origin)
    if path.name == "__init__.py":
        relative = module.replace(".", "/") + "/__init__.py"
    commit, state = git_state(path)
    return CodeIdentity(module, relative, path.resolve().as_uri(), hashing.sha256_file(path), package_version(),
                        commit, state)


class _Hasher:
    """Hash each file once even when several steps name it (the validation split feeds train and evaluate)."""

    def __init__(self, workdir: Path | None) -> None:
        self.workdir = workdir.resolve() if workdir else None
        self._seen: dict[tuple[str, str], Resource] = {}

    def locate(self, uri: str) -> str:
        if storage.is_s3_uri(uri):
            return uri
        path = Path(uri)
        if not path.exists() and not path.is_absolute() and self.workdir is not None:
            # run.json holds paths as the run saw them; relative ones are relative to where it was started.
            beside = self.workdir.parent / path
            if beside.exists():
                path = beside
        if path.is_dir():
            candidates = sorted(p for p in path.iterdir() if p.name.endswith((".csv", ".csv.gz")))
            if len(candidates) != 1:
                raise InputError("BAD_INPUT", f"{path}: expected exactly one .csv or .csv.gz file, found "
                                              f"{len(candidates)}")
            path = candidates[0]
        if not path.is_file():
            raise InputError("FILE_NOT_FOUND", f"{uri}: the step recorded this file but it is not there to hash")
        return str(path.resolve())

    def resource(self, role: str, uri: str) -> Resource:
        location = self.locate(uri)
        key = (role, location)
        if key not in self._seen:
            # The raw dataset is also identified by its content, so a recompressed copy is recognisably the same.
            compressed = role == DATASET_ROLE and location.endswith(".gz")
            with storage.open_stream(location) as stream:
                if compressed:
                    digest, size, *content = hashing.sha256_gzip_stream(stream, location)
                else:
                    digest, size = hashing.sha256_stream(stream)
                    content = [None, None]
            if storage.is_s3_uri(location):
                resource_uri, relative = location, None
            else:
                # Inside the run folder the URI is relative to it (RFC 3986 relative reference), so a folder
                # copied to another machine is checked where it now is, never against the original paths.
                relative = self._relative(Path(location))
                resource_uri = relative or Path(location).as_uri()
            self._seen[key] = Resource(role, resource_uri, digest, size, relative, *content, location=location)
        return self._seen[key]

    def _relative(self, path: Path) -> str | None:
        if self.workdir is None:
            return None
        try:
            return path.relative_to(self.workdir).as_posix()
        except ValueError:
            return None


def _run_view(run) -> tuple[list[dict], Path | None]:
    """The step records and work folder of a PipelineRun, a run.json path (or its folder), or a run.json dict."""
    if isinstance(run, str | os.PathLike):
        path = Path(run)
        if path.is_dir():
            path = path / "run.json"
        data = read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            raise InputError("MALFORMED_RUN", f"{path}: not a pipeline run record (no steps list)")
        return data["steps"], path.parent
    if isinstance(run, Mapping):
        return list(run.get("steps", [])), None
    steps = [s.to_dict() if hasattr(s, "to_dict") else dict(s) for s in run.steps]
    return steps, Path(run.workdir)


def location_of(uri: str) -> str:
    """What :mod:`governance.storage` opens for a recorded URI: the ``s3://`` URI itself, or a local path (a
    relative one stays relative: resolve it against the run folder)."""
    if uri.startswith("file://"):
        return unquote(urlparse(uri).path)
    return uri


def _rfc3339(stamp: str) -> str:
    return stamp.replace("+00:00", "Z") if stamp else stamp


def _read_json_output(resource: Resource | None) -> dict:
    if resource is None:
        return {}
    try:
        data = json.loads(storage.read_bytes(resource.readable))
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _claims(step: StepLineage) -> list[tuple[str, str | None, str]]:
    """``(role, digest the step wrote down, where)``: what each step said about its own files."""
    claims: list[tuple[str, str | None, str]] = []
    if step.name == "process":
        profile = _read_json_output(step.output("profile"))
        claims.append(("dataset", profile.get("source", {}).get("sha256"), "the dataset profile"))
        for role in ("train", "validation", "test"):
            claims.append((role, profile.get("outputs", {}).get(role, {}).get("sha256"), "the dataset profile"))
    elif step.name == "train":
        meta = _read_json_output(step.output("training_metadata"))
        for role in ("train", "validation"):
            claims.append((role, meta.get("inputs", {}).get(role, {}).get("sha256"), "training.json"))
        claims.append(("model", meta.get("model_sha256"), "training.json"))
    elif step.name == "evaluate":
        evaluation = _read_json_output(step.output("evaluation"))
        claims.append(("model", evaluation.get("model", {}).get("artefact_sha256"), "evaluation.json"))
        # The evaluate step scores the split its evaluation.json names: the untouched test split (the validation
        # split on runs from before it existed). A step record without that input leaves the claim unchecked.
        role = "test" if evaluation.get("dataset", {}).get("split") == "test" else "validation"
        claims.append((role, evaluation.get("dataset", {}).get("sha256"), "evaluation.json"))
    return claims


def _check_claims(step: StepLineage) -> None:
    files = {r.role: r for r in [*step.inputs, *step.outputs]}
    for role, claimed, where in _claims(step):
        actual = files.get(role)
        if claimed and actual and claimed != actual.sha256:
            raise CheckFailed(
                "DIGEST_MISMATCH",
                f"{actual.name}: changed since the {step.name} step ran ({where} records sha256 {claimed[:16]}…, "
                f"the file now hashes to {actual.sha256[:16]}…); not recording lineage over it",
            )


def _dataset_annotations(step: StepLineage) -> dict:
    profile = _read_json_output(step.output("profile"))
    schema = profile.get("schema", {})
    return {
        "synthetic": bool(profile.get("synthetic", False)),
        "rows": profile.get("rows", {}).get("total"),
        "target": schema.get("raw_target"),
        "columns": schema.get("raw_columns"),
    }


def record_steps(run, *, sagemaker: Mapping[str, Mapping[str, str]] | None = None) -> list[StepLineage]:
    """Per-step lineage of a finished run.

    ``run`` is a :class:`~pipeline.runner.PipelineRun`, a path to ``run.json`` (or its folder), or that JSON as a
    dict. ``sagemaker`` maps a step name to ``{"job_arn", "image_uri", "code_uri"}`` when the step ran there.
    """
    records, workdir = _run_view(run)
    hasher = _Hasher(workdir)
    runtime = runtime_versions()
    steps: list[StepLineage] = []
    for raw in records:
        name = raw.get("name", "")
        outputs = raw.get("outputs") or {}
        if name in NON_PRODUCING_STEPS or (not outputs and name != REGISTER_STEP):
            continue
        extra = {**{k: raw[k] for k in ("job_arn", "image_uri", "code_uri") if raw.get(k)},
                 **dict((sagemaker or {}).get(name, {}))}
        inputs = [hasher.resource(role, uri) for role, uri in sorted((raw.get("inputs") or {}).items())]
        package = outputs.get("model_package") if name == REGISTER_STEP else None
        files = [hasher.resource(role, uri) for role, uri in sorted(outputs.items()) if role != "model_package"]
        step = StepLineage(
            name=name,
            code=code_identity(raw.get("module", ""), extra.get("code_uri")),
            parameters=dict(raw.get("parameters") or {}),
            inputs=inputs,
            outputs=files,
            started_at=_rfc3339(raw.get("started_at", "")),
            finished_at=_rfc3339(raw.get("finished_at", "")),
            seconds=float(raw.get("seconds") or 0.0),
            runtime=dict(runtime),
            job_arn=extra.get("job_arn"),
            image_uri=extra.get("image_uri"),
            model_package=package,
        )
        if name == "train":
            trained_with = _read_json_output(step.output("training_metadata")).get("xgboost_version")
            if trained_with:
                step.runtime["xgboost"] = trained_with
        if name == "process" and step.input("dataset"):
            dataset = step.input("dataset")
            step.inputs = [Resource(r.role, r.uri, r.sha256, r.size, r.path, r.content_sha256, r.content_size,
                                    _dataset_annotations(step), r.location) if r is dataset else r
                           for r in step.inputs]
        _check_claims(step)
        steps.append(step)
    if not steps:
        raise InputError("EMPTY_RUN", "the run records no steps that produced anything")
    return steps
