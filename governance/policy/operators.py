"""The closed set of assertion operators a policy may use, compiled once and evaluated per resource.

A condition is a mapping with exactly one operator key. Leaves name an evidence ``path`` (dotted, as the
resource's collector documents it) and an expected ``value``/``values``/``pattern``; ``${name}`` refers to a
policy-set parameter. Combinators nest conditions::

    all:
      - in: {path: encryption.algorithm, values: [aws:kms, aws:kms:dsse]}
      - not: {eq: {path: encryption.kms_key_manager, value: AWS}}
      - none:
          path: acl.grants
          where: {in: {path: grantee_uri, values: ["http://acs.amazonaws.com/groups/global/AllUsers"]}}

Evaluation is three-valued (Kleene logic): a leaf over evidence that could not be collected is *unknown*, ``all``
is false as soon as one part is false, ``any`` is true as soon as one part is true, and whatever stays unknown
becomes an ERROR finding — never a pass. Every evaluation returns a trace of each condition with the actual value
it saw, so a finding shows why it was reached.

>>> cond = compile_condition({"gte": {"path": "days", "value": "${min_days}"}}, Compiler({"min_days": 30}))
>>> outcome = cond.evaluate(EvidenceView({"days": 10}))
>>> outcome.value, outcome.trace["actual"], outcome.trace["expected"]
(False, 10, 30)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

from governance.yaml_lines import Loc

_PATH = re.compile(r"^(\.|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$")
_PARAM = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")

# name -> argument keys it takes (None: takes a condition list / a condition / a path string directly).
OPERATORS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "any": None,
    "not": None,
    "exists": None,
    "eq": ("path", "value"),
    "ne": ("path", "value"),
    "gt": ("path", "value"),
    "gte": ("path", "value"),
    "lt": ("path", "value"),
    "lte": ("path", "value"),
    "contains": ("path", "value"),
    "in": ("path", "values"),
    "not_in": ("path", "values"),
    "subset": ("path", "values"),
    "startswith": ("path", "values"),
    "prefix_overlaps": ("path", "values"),
    "matches": ("path", "pattern"),
    "every": ("path", "where"),
    "some": ("path", "where"),
    "none": ("path", "where"),
}
MAX_PATTERN_LENGTH = 1000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is reported once, as a policy error, not logged to stderr too
_RE2_OPTIONS.max_mem = 8 << 20


class _Pattern:
    """A ``matches`` pattern run by RE2: time linear in the input, so no crafted name can stall a scan."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled = re2.compile(pattern, options=_RE2_OPTIONS)

    def fullmatch(self, text: str):
        return self._compiled.fullmatch(text)


def _matchable(text: str) -> str:
    """``text`` as RE2 can take it: undecodable file-name bytes (kept as surrogates) become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class ConditionError(Exception):
    """A condition that cannot compile; ``loc`` points into the YAML document for the line number."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


# --------------------------------------------------------------------------------------------------------------
# Evidence access


@dataclass(frozen=True)
class Lookup:
    value: Any
    present: bool
    error: str | None = None


_MISSING = Lookup(None, False)


class EvidenceView:
    """Read-only dotted-path access to one resource's evidence, aware of the parts that failed to collect.

    ``errors`` maps a top-level section (or ``"*"`` for all of it) to the reason it is unavailable.
    """

    def __init__(self, data: Mapping[str, Any], errors: Mapping[str, str] | None = None) -> None:
        self.data = data
        self.errors = dict(errors or {})

    def get(self, path: str) -> Lookup:
        if path == ".":
            return Lookup(self.data, True)
        if self.errors:
            reason = self.errors.get("*") or self.errors.get(path.split(".", 1)[0])
            if reason is None:
                reason = next((r for s, r in self.errors.items() if path == s or path.startswith(s + ".")), None)
            if reason is not None:
                return Lookup(None, False, reason)
        current: Any = self.data
        for part in path.split("."):
            if not isinstance(current, Mapping) or part not in current:
                return _MISSING
            current = current[part]
        return Lookup(current, current is not None)


class _ItemView(EvidenceView):
    """A list element seen by a ``where`` clause: paths are relative to the element, ``.`` is the element."""

    def __init__(self, item: Any) -> None:
        super().__init__(item if isinstance(item, Mapping) else {})
        self.item = item

    def get(self, path: str) -> Lookup:
        if path == ".":
            return Lookup(self.item, self.item is not None)
        return super().get(path)


# --------------------------------------------------------------------------------------------------------------
# Outcomes


@dataclass(frozen=True)
class Outcome:
    """``value`` is True, False, or None (unknown: the evidence it needed is unavailable)."""

    value: bool | None
    trace: dict = field(compare=False)


def _word(value: bool | None) -> str:
    return "error" if value is None else ("true" if value else "false")


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


# --------------------------------------------------------------------------------------------------------------
# Conditions


class Condition:
    op: str

    def evaluate(self, view: EvidenceView) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    def paths(self) -> list[str]:
        """Top-level evidence paths this condition reads (relative paths inside ``where`` are excluded)."""
        return []


@dataclass
class _Combine(Condition):
    op: str
    parts: list[Condition]

    def evaluate(self, view: EvidenceView) -> Outcome:
        # Evaluate every part (no short-circuit) so the trace is complete; combine with Kleene logic.
        outcomes = [part.evaluate(view) for part in self.parts]
        values = [o.value for o in outcomes]
        if self.op == "all":
            value = False if False in values else (None if None in values else True)
        else:
            value = True if True in values else (None if None in values else False)
        return Outcome(value, {"op": self.op, "result": _word(value), "conditions": [o.trace for o in outcomes]})

    def paths(self) -> list[str]:
        return [p for part in self.parts for p in part.paths()]


@dataclass
class _Not(Condition):
    part: Condition
    op: str = "not"

    def evaluate(self, view: EvidenceView) -> Outcome:
        inner = self.part.evaluate(view)
        value = None if inner.value is None else not inner.value
        return Outcome(value, {"op": "not", "result": _word(value), "condition": inner.trace})

    def paths(self) -> list[str]:
        return self.part.paths()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(actual: Any, expected: Any) -> bool:
    # YAML ``true`` must not equal evidence ``1`` (Python says True == 1).
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual is expected
    return actual == expected


def _prefix_related(value: Any, prefix: Any) -> bool:
    return isinstance(value, str) and isinstance(prefix, str) and (value.startswith(prefix) or prefix.startswith(value))


# Leaf predicates: (actual lookup, expected) -> bool. A missing value is a plain value here (None);
# unavailable evidence never reaches them.
_PREDICATES: dict[str, Callable[[Lookup, Any], bool]] = {
    "exists": lambda a, _: a.present,
    "eq": lambda a, e: _equal(a.value, e),
    "ne": lambda a, e: not _equal(a.value, e),
    "gt": lambda a, e: _number(a.value) and a.value > e,
    "gte": lambda a, e: _number(a.value) and a.value >= e,
    "lt": lambda a, e: _number(a.value) and a.value < e,
    "lte": lambda a, e: _number(a.value) and a.value <= e,
    "contains": lambda a, e: (isinstance(a.value, list) and e in a.value)
    or (isinstance(a.value, str) and isinstance(e, str) and e in a.value),
    "in": lambda a, e: a.present and a.value in e,
    "not_in": lambda a, e: not (a.present and a.value in e),
    "subset": lambda a, e: all(item in e for item in (a.value or [])) if isinstance(a.value or [], list) else False,
    "startswith": lambda a, e: isinstance(a.value, str) and any(a.value.startswith(p) for p in e),
    "prefix_overlaps": lambda a, e: any(_prefix_related(a.value, p) for p in e),
    "matches": lambda a, e: isinstance(a.value, str) and e.fullmatch(_matchable(a.value)) is not None,
}


@dataclass
class _Leaf(Condition):
    op: str
    path: str
    expected: Any = None
    relative: bool = False

    def evaluate(self, view: EvidenceView) -> Outcome:
        actual = view.get(self.path)
        trace: dict[str, Any] = {"op": self.op, "path": self.path}
        if self.op != "exists":
            expected = self.expected.pattern if isinstance(self.expected, _Pattern) else self.expected
            trace["expected"] = _jsonable(expected)
        if actual.error is not None:
            trace.update(result="error", error=actual.error)
            return Outcome(None, trace)
        value = bool(_PREDICATES[self.op](actual, self.expected))
        trace.update(actual=_jsonable(actual.value), result=_word(value))
        return Outcome(value, trace)

    def paths(self) -> list[str]:
        return [] if self.relative else [self.path]


@dataclass
class _Quantifier(Condition):
    op: str
    path: str
    where: Condition
    relative: bool = False

    def evaluate(self, view: EvidenceView) -> Outcome:
        actual = view.get(self.path)
        trace: dict[str, Any] = {"op": self.op, "path": self.path}
        if actual.error is not None:
            trace.update(result="error", error=actual.error)
            return Outcome(None, trace)
        items = actual.value if isinstance(actual.value, list) else []
        outcomes = [self.where.evaluate(_ItemView(item)) for item in items]
        values = [o.value for o in outcomes]
        if self.op == "every":
            value = False if False in values else (None if None in values else True)
        elif self.op == "some":
            value = True if True in values else (None if None in values else False)
        else:  # none
            value = False if True in values else (None if None in values else True)
        trace.update(result=_word(value), count=len(items),
                     items=[{"index": i, **o.trace} for i, o in enumerate(outcomes)])
        return Outcome(value, trace)

    def paths(self) -> list[str]:
        return [] if self.relative else [self.path]


# --------------------------------------------------------------------------------------------------------------
# Compilation


@dataclass
class Compiler:
    """What compiling needs: the policy set's parameters and, optionally, the evidence shape to check paths against.

    ``shape`` is the collector's description of its evidence: nested dicts, ``[shape]`` for lists, a type for leaves,
    and ``dict`` for free-form maps.
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    shape: Mapping[str, Any] | None = None
    resource: str = ""

    def value(self, raw: Any, loc: Loc) -> Any:
        if isinstance(raw, str) and (match := _PARAM.match(raw)):
            name = match.group(1)
            if name not in self.parameters:
                raise ConditionError(loc, f"unknown parameter ${{{name}}} (declare it under 'parameters')")
            return self.parameters[name]
        if isinstance(raw, str) and "${" in raw:
            raise ConditionError(loc, f"{raw!r}: a parameter reference must be the whole value, like '${{name}}'")
        if isinstance(raw, list):
            return [self.value(item, (*loc, i)) for i, item in enumerate(raw)]
        if isinstance(raw, dict):
            return {k: self.value(v, (*loc, k)) for k, v in raw.items()}
        return raw


def compile_condition(node: Any, compiler: Compiler, loc: Loc = ()) -> Condition:
    """Compile a YAML condition into a :class:`Condition`; raises :class:`ConditionError` with its location."""
    return _compile(node, compiler, loc, compiler.shape, relative=False)


def _compile(node: Any, compiler: Compiler, loc: Loc, scope: Any, *, relative: bool) -> Condition:
    # ``scope`` is the evidence shape paths are resolved against: the resource's, or a list element's in ``where``.
    if not isinstance(node, dict) or len(node) != 1:
        raise ConditionError(loc, "a condition is a mapping with exactly one operator, like {eq: {path: p, value: v}}")
    op, args = next(iter(node.items()))
    here = (*loc, op)
    if op not in OPERATORS:
        raise ConditionError(here, f"unknown operator {op!r} (allowed: {', '.join(sorted(OPERATORS))})")
    if op in ("all", "any"):
        if not isinstance(args, list) or not args:
            raise ConditionError(here, f"'{op}' takes a non-empty list of conditions")
        return _Combine(op, [_compile(a, compiler, (*here, i), scope, relative=relative) for i, a in enumerate(args)])
    if op == "not":
        return _Not(_compile(args, compiler, here, scope, relative=relative))
    if op == "exists":
        path = args.get("path") if isinstance(args, dict) and set(args) == {"path"} else args
        _check_path(path, compiler, scope, here, op)
        return _Leaf(op, path, relative=relative)
    keys = OPERATORS[op]
    if not isinstance(args, dict):
        raise ConditionError(here, f"'{op}' takes a mapping with keys: {', '.join(keys)}")
    unknown = sorted(set(args) - set(keys))
    if unknown:
        raise ConditionError((*here, unknown[0]), f"'{op}' does not take {unknown[0]!r} (it takes: {', '.join(keys)})")
    missing = [k for k in keys if k not in args]
    if missing:
        raise ConditionError(here, f"'{op}' needs {', '.join(repr(k) for k in missing)}")
    path = args["path"]
    leaf_shape = _check_path(path, compiler, scope, (*here, "path"), op)
    if op in ("every", "some", "none"):
        if scope is not None and not (isinstance(leaf_shape, list) and leaf_shape):
            raise ConditionError((*here, "path"), f"'{op}' needs a list; {path!r} is not one")
        element = leaf_shape[0] if scope is not None else None
        where = _compile(args["where"], compiler, (*here, "where"), element, relative=True)
        return _Quantifier(op, path, where, relative=relative)
    if op == "matches":
        pattern = compiler.value(args["pattern"], (*here, "pattern"))
        if not isinstance(pattern, str):
            raise ConditionError((*here, "pattern"), "'matches' needs a regular expression string")
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise ConditionError((*here, "pattern"), f"the regular expression is over {MAX_PATTERN_LENGTH} characters")
        try:
            return _Leaf(op, path, _Pattern(pattern), relative=relative)
        except re2.error as err:
            message = err.args[0].decode("utf-8", "replace") if err.args and isinstance(err.args[0], bytes) else err
            raise ConditionError((*here, "pattern"), f"invalid regular expression (RE2 syntax: no backreferences "
                                                     f"or lookaround): {message}") from None
    if "values" in keys:
        values = compiler.value(args["values"], (*here, "values"))
        if not isinstance(values, list):
            raise ConditionError((*here, "values"), f"'{op}' needs a list of values")
        return _Leaf(op, path, values, relative=relative)
    value = compiler.value(args["value"], (*here, "value"))
    if op in ("gt", "gte", "lt", "lte") and not _number(value):
        raise ConditionError((*here, "value"), f"'{op}' compares numbers; got {value!r}")
    return _Leaf(op, path, value, relative=relative)


def _check_path(path: Any, compiler: Compiler, scope: Any, loc: Loc, op: str) -> Any:
    """Validate the path's syntax and, when the evidence shape is known, that the collector provides it."""
    if not isinstance(path, str) or not _PATH.match(path):
        raise ConditionError(loc, f"'{op}' needs an evidence path like 'encryption.algorithm'; got {path!r}")
    if scope is None:
        return None
    if path == ".":
        return scope
    current: Any = scope
    for part in path.split("."):
        if current is dict:  # free-form map: any key
            return None
        if not isinstance(current, Mapping) or part not in current:
            where = f"resource type {compiler.resource!r}" if scope is compiler.shape else "the items of this list"
            known = ", ".join(_leaf_paths(scope)[:40])
            raise ConditionError(loc, f"unknown evidence path {path!r} for {where} (known: {known})")
        current = current[part]
    return current


def _leaf_paths(shape: Any, prefix: str = "") -> list[str]:
    if not isinstance(shape, Mapping):
        return [prefix.rstrip(".")] if prefix else []
    out: list[str] = []
    for key, sub in shape.items():
        if isinstance(sub, Mapping):
            out.extend(_leaf_paths(sub, f"{prefix}{key}."))
        else:
            out.append(f"{prefix}{key}")
    return out
