"""Read the provenance statements of an evidence folder back into a chain: hops, and the digest links between them.

A link joins a step's resolved dependency to the earlier step whose subject has the same role (``train``,
``validation``, ``model`` …); it holds when the two digests are equal. A data dependency no step produced is a
root of the chain — the raw dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from governance.errors import CheckFailed, InputError
from governance.evidence import Problem, open_statement
from governance.jsonio import MAX_BYTES, loads
from governance.lineage.provenance import (
    BUILD_TYPES,
    NON_DATA_ROLES,
    PROVENANCE_DIR,
    SLSA_PROVENANCE_V1,
    STATEMENT_SUFFIX,
)
from governance.signing import Verifier, dsse
from governance.storage import read_bytes

LINEAGE_FORMAT = "quickloan-governance/lineage/v1"


def role(descriptor: dict) -> str:
    return (descriptor.get("annotations") or {}).get("role", "")


def sha256_of(descriptor: dict) -> str | None:
    return (descriptor.get("digest") or {}).get("sha256")


@dataclass
class Hop:
    """One step's verified (or, without a key, merely decoded) statement."""

    path: str
    statement: dict
    signature: str  # verified | unverified (no key given) | invalid

    @property
    def definition(self) -> dict:
        return self.statement.get("predicate", {}).get("buildDefinition", {})

    @property
    def run_details(self) -> dict:
        return self.statement.get("predicate", {}).get("runDetails", {})

    @property
    def step(self) -> str:
        return self.definition.get("externalParameters", {}).get("step", Path(self.path).name.split(".")[0])

    @property
    def subjects(self) -> list[dict]:
        return list(self.statement.get("subject") or [])

    @property
    def dependencies(self) -> list[dict]:
        return list(self.definition.get("resolvedDependencies") or [])

    @property
    def data_dependencies(self) -> list[dict]:
        return [d for d in self.dependencies if role(d) not in NON_DATA_ROLES]

    @property
    def code(self) -> dict | None:
        return next((d for d in self.dependencies if role(d) == "code"), None)

    @property
    def package(self) -> dict | None:
        return next((d for d in self.dependencies if role(d) == "package"), None)

    @property
    def started_at(self) -> str:
        return self.run_details.get("metadata", {}).get("startedOn", "")

    @property
    def finished_at(self) -> str:
        return self.run_details.get("metadata", {}).get("finishedOn", "")

    def subject(self, wanted: str) -> dict | None:
        return next((s for s in self.subjects if role(s) == wanted), None)

    def dependency(self, wanted: str) -> dict | None:
        return next((d for d in self.data_dependencies if role(d) == wanted), None)


@dataclass
class Link:
    consumer: str
    producer: str
    role: str
    name: str
    produced: str | None  # the producer's subject digest
    consumed: str | None  # the consumer's resolvedDependencies digest

    @property
    def holds(self) -> bool:
        return bool(self.produced) and self.produced == self.consumed


@dataclass
class Chain:
    hops: list[Hop] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    roots: list[tuple[str, dict]] = field(default_factory=list)  # (consuming step, descriptor) with no producer

    def hop(self, step: str) -> Hop | None:
        return next((h for h in self.hops if h.step == step), None)

    def producer_of(self, wanted: str) -> Hop | None:
        return next((h for h in self.hops if h.subject(wanted) is not None), None)


def _decode_unverified(envelope: dict) -> dict:
    payload_type, payload, _ = dsse.decode_envelope(envelope)
    if payload_type != dsse.IN_TOTO_PAYLOAD_TYPE:
        raise InputError("MALFORMED_ENVELOPE", f"unexpected payload type {payload_type!r}")
    return loads(payload, what="the statement payload")


def statement_files(evidence_dir: str | os.PathLike) -> list[str]:
    folder = Path(evidence_dir) / PROVENANCE_DIR
    return sorted(f"{PROVENANCE_DIR}/{p.name}" for p in folder.glob(f"*{STATEMENT_SUFFIX}") if p.is_file())


def _load_hop(root: Path, relative: str, verifier: Verifier | None) -> tuple[Hop, CheckFailed | None]:
    """The hop, and the signature failure if it did not verify (its content is then only decoded)."""
    try:
        envelope = loads(read_bytes(root / relative, max_bytes=MAX_BYTES), what=relative)
    except InputError as err:
        raise CheckFailed("MALFORMED_STATEMENT", f"{relative}: not a JSON DSSE envelope (edited?): "
                                                 f"{err.message}") from None
    if not isinstance(envelope, dict):
        raise CheckFailed("MALFORMED_STATEMENT", f"{relative}: not a DSSE envelope")
    failure = None
    try:
        statement, signature = _decode_unverified(envelope), "unverified"
        if verifier is not None:
            try:
                statement, signature = open_statement(envelope, verifier, relative), "verified"
            except CheckFailed as err:
                # Keep the hop (marked invalid) so the rest of the chain is still checked around it.
                signature, failure = "invalid", err
    except InputError as err:
        raise CheckFailed("MALFORMED_STATEMENT", f"{relative}: {err.message}") from None
    if statement.get("_type") != dsse.STATEMENT_TYPE or statement.get("predicateType") != SLSA_PROVENANCE_V1:
        raise CheckFailed("NOT_PROVENANCE",
                          f"{relative}: not an in-toto Statement v1 with a SLSA Provenance v1 predicate")
    hop = Hop(relative, statement, signature)
    if hop.definition.get("buildType") not in BUILD_TYPES or not hop.subjects:
        raise CheckFailed("NOT_PROVENANCE", f"{relative}: not a pipeline step statement of this toolkit")
    return hop, failure


def _ordered(hops: list[Hop]) -> list[Hop]:
    """Producers before consumers; among independent steps, the earlier start first."""
    pending = sorted(hops, key=lambda h: (h.started_at, h.step))
    ordered: list[Hop] = []

    def blocked(hop: Hop) -> bool:
        needs = {role(d) for d in hop.data_dependencies}
        return any(other is not hop and needs & {role(s) for s in other.subjects} for other in pending)

    while pending:
        ready = next((h for h in pending if not blocked(h)), pending[0])  # a cycle falls back to time order
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def load_chain(evidence_dir: str | os.PathLike, verifier: Verifier | None = None) -> tuple[Chain, list[Problem]]:
    """The chain of hops and their links, plus every statement that could not be read or verified."""
    root = Path(evidence_dir)
    hops, problems = [], []
    for relative in statement_files(root):
        try:
            hop, failure = _load_hop(root, relative, verifier)
        except CheckFailed as err:
            problems.append(Problem(err.reason, err.message, relative))
            continue
        hops.append(hop)
        if failure is not None:
            problems.append(Problem(failure.reason, failure.message, relative))
    chain = Chain(_ordered(hops))
    for index, hop in enumerate(chain.hops):
        earlier = chain.hops[:index]
        for dependency in hop.data_dependencies:
            wanted = role(dependency)
            producer = next((h for h in reversed(earlier) if h.subject(wanted) is not None), None)
            if producer is None:
                chain.roots.append((hop.step, dependency))
                continue
            chain.links.append(Link(hop.step, producer.step, wanted, dependency.get("name", wanted),
                                    sha256_of(producer.subject(wanted)), sha256_of(dependency)))
    return chain, problems


def _brief(descriptor: dict) -> dict:
    return {"role": role(descriptor), "name": descriptor.get("name"), "uri": descriptor.get("uri"),
            "sha256": sha256_of(descriptor)}


def summary(chain: Chain) -> dict:
    """The chain as plain data (``evidence/lineage.json``): a reader needs no DSSE decoding to follow it."""
    hops = []
    for hop in chain.hops:
        code = hop.code or {}
        package = hop.package or {}
        inputs = []
        for dependency in hop.data_dependencies:
            link = next((k for k in chain.links if k.consumer == hop.step and k.role == role(dependency)), None)
            inputs.append({**_brief(dependency), "from": link.producer if link else None})
        hops.append({
            "step": hop.step,
            "statement": hop.path,
            "started_at": hop.started_at,
            "finished_at": hop.finished_at,
            "invocation": hop.run_details.get("metadata", {}).get("invocationId"),
            "builder": hop.run_details.get("builder", {}).get("id"),
            "code": {"path": code.get("name"), "sha256": sha256_of(code),
                     "git_commit": (package.get("digest") or {}).get("gitCommit"),
                     "git": (code.get("annotations") or {}).get("git")},
            "parameters": hop.definition.get("externalParameters", {}).get("parameters", {}),
            "inputs": inputs,
            "outputs": [_brief(s) for s in hop.subjects],
        })
    datasets = [{**_brief(d), **{k: v for k, v in (d.get("annotations") or {}).items()
                                 if k in ("content_sha256", "content_bytes", "bytes", "synthetic", "rows")}}
                for _, d in chain.roots if role(d) == "dataset"]
    trainer = chain.producer_of("model")
    registration = chain.producer_of("model_package")
    return {
        "format": LINEAGE_FORMAT,
        "dataset": datasets[0] if datasets else None,
        "model": _brief(trainer.subject("model")) if trainer else None,
        "model_package": _brief(registration.subject("model_package")) if registration else None,
        "hops": hops,
    }
