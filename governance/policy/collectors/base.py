"""What every collector shares: resource references, the evidence record, the registry and the scan context.

A collector owns one resource type. It is registered by name so a policy's ``resource:`` field can name it, it
declares the shape of its evidence (policies are checked against that shape when they load), and it turns a
:class:`ResourceRef` into :class:`Evidence`: plain data, the API calls made to get it, the sections that could
not be read and why, and any related resources worth scanning too (an S3 bucket names its KMS key).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from governance.hashing import sha256_bytes
from governance.jsonio import canonical
from governance.policy.aws import AwsCaller, AwsCallError


class EvidenceUnavailable(Exception):
    """Raised by a collector section that cannot produce its evidence (a missing package, an unreadable file)."""


@dataclass(frozen=True)
class ResourceRef:
    """One thing to scan. ``id`` is unique per type (a path, an ``s3://`` URI, an ARN); ``hints`` carry what
    discovery already knows (an object's ETag and VersionId from the listing) and are not part of identity."""

    type: str
    id: str
    hints: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.type}:{self.id}"

    def to_dict(self) -> dict:
        return {"type": self.type, "id": self.id, **({"hints": dict(self.hints)} if self.hints else {})}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceRef:
        return cls(data["type"], data["id"], dict(data.get("hints") or {}))


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Evidence:
    """Collected facts about one resource. ``errors`` maps a top-level section (``"*"``: all) to why it is missing."""

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    related: list[ResourceRef] = field(default_factory=list)
    collected_at: str = field(default_factory=now_iso)
    reused: bool = False
    # True when a failure may pass by itself (throttling, a network error): such evidence is never reused.
    transient: bool = False

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical evidence (computed once: evidence is not changed after collection)."""
        cached = self.__dict__.get("_sha256")
        if cached is None:
            cached = self.__dict__["_sha256"] = sha256_bytes(canonical({"data": self.data, "errors": self.errors}))
        return cached

    def section(self, name: str, read: Callable[[], Any]) -> None:
        """Fill ``data[name]`` from ``read()``; an AWS/IO failure marks the section as unavailable instead."""
        try:
            self.data[name] = read()
        except AwsCallError as err:
            self.data[name] = None
            self.errors[name] = str(err)
            self.transient = self.transient or err.kind not in ("unavailable", "denied", "not_found")
        except EvidenceUnavailable as err:
            self.data[name] = None
            self.errors[name] = str(err)
        except OSError as err:
            self.data[name] = None
            self.errors[name] = f"{type(err).__name__}: {err}"
            self.transient = True

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "errors": self.errors,
            "calls": self.calls,
            "related": [r.to_dict() for r in self.related],
            "collected_at": self.collected_at,
            "transient": self.transient,
            "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(dict(data.get("data") or {}), dict(data.get("errors") or {}), list(data.get("calls") or []),
                   [ResourceRef.from_dict(r) for r in data.get("related") or []], data.get("collected_at") or "",
                   transient=bool(data.get("transient")))

    @classmethod
    def failed(cls, reason: str, calls: list[str] | None = None) -> Evidence:
        """Evidence for a resource that could not be read at all (every check on it is an ERROR)."""
        return cls(errors={"*": reason}, calls=list(calls or []), transient=True)


class Memo:
    """Per-scan memo of shared look-ups (a KMS key described once however many objects use it). Thread-safe:
    concurrent askers for the same key wait for the first one instead of repeating its call."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}
        self._locks: dict[Any, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> tuple[Any, bool]:
        """``(value, computed_now)``; a raised exception is memoised too and re-raised to every asker."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self._values:
                outcome = self._values[key]
                fresh = False
            else:
                try:
                    outcome = (True, compute())
                except AwsCallError as err:
                    outcome = (False, err)
                self._values[key] = outcome
                fresh = True
        ok, value = outcome
        if not ok:
            raise value
        return value, fresh

    def peek(self, key: Any) -> Any:
        """The value remembered under ``key`` (``None`` if nothing, or a failure, is remembered)."""
        with self._guard:
            outcome = self._values.get(key)
        return outcome[1] if outcome and outcome[0] else None

    def seed(self, key: Any, value: Any) -> None:
        """Record a value learnt on the way (a key described by alias is known by its ARN too)."""
        with self._guard:
            self._locks.setdefault(key, threading.Lock())
            self._values.setdefault(key, (True, value))


@dataclass
class ScanContext:
    """Shared by the collectors of one scan: the AWS caller, the merged policy parameters, the memo."""

    aws: AwsCaller
    parameters: Mapping[str, Any] = field(default_factory=dict)
    memo: Memo = field(default_factory=Memo)


class Collector:
    """Base class: subclasses set ``resource_type``, ``shape`` and ``description`` and implement :meth:`collect`."""

    resource_type: ClassVar[str]
    description: ClassVar[str] = ""
    # The evidence shape: nested dicts, ``[shape]`` for lists, a type for leaves, ``dict`` for free-form maps.
    shape: ClassVar[dict[str, Any]]

    def collect(self, ref: ResourceRef, ctx: ScanContext) -> Evidence:  # pragma: no cover - abstract
        raise NotImplementedError


COLLECTORS: dict[str, Collector] = {}


def register(cls: type[Collector]) -> type[Collector]:
    """Class decorator: make the collector available to policies under its ``resource_type``."""
    COLLECTORS[cls.resource_type] = cls()
    return cls


def collector_for(resource_type: str) -> Collector:
    return COLLECTORS[resource_type]
