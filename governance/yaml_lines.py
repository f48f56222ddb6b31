"""YAML that remembers where every value came from, so a bad policy names its file and line.

>>> doc = load_yaml("a: 1\\nb:\\n  - x\\n  - y\\n", "p.yaml")
>>> doc.data
{'a': 1, 'b': ['x', 'y']}
>>> doc.line(("b", 1))
4
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from governance.errors import InputError

Loc = tuple[str | int, ...]
# libyaml's parser when PyYAML was built with it (same safe constructors, same marks), else the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Far above any policy, parameter or trust file; far below what alias expansion or recursion would reach.
MAX_DEPTH = 48
MAX_EXPANDED_NODES = 200_000


@dataclass
class YamlDocument:
    """Plain data (dicts, lists, scalars) plus the 1-based line of every mapping key and sequence item."""

    name: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Loc) -> int:
        """Line of ``loc``, or of its nearest located parent (pydantic's locations may point below a scalar)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def error(self, loc: Loc, message: str) -> InputError:
        return InputError("INVALID_POLICY", f"{self.name}:{self.line(loc)}: {message}")


def load_yaml(text: str, name: str) -> YamlDocument:
    """Parse one YAML document with the safe loader; syntax errors and duplicate keys raise ``InputError``."""
    loader = _Loader(text)
    node = None
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(name, None, {(): 1})
        lines: dict[Loc, int] = {}
        _check_graph(node, name)
        _check_keys(node, (), lines, name)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = err.problem or err.context or "invalid YAML"
        if err.context and err.context_mark is not None and err.problem:
            problem += f" ({err.context}, line {err.context_mark.line + 1})"
        raise InputError("INVALID_POLICY", f"{name}:{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as err:
        raise InputError("INVALID_POLICY", f"{name}:1: YAML error: {err}") from None
    except (ValueError, OverflowError) as err:  # a scalar that parses but cannot be built: 2031-13-01
        line = _unbuildable_line(node) if node is not None else 1
        raise InputError("INVALID_POLICY", f"{name}:{line}: invalid value: {err}") from None
    finally:
        loader.dispose()
    return YamlDocument(name, data, lines)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_graph(root: yaml.Node, name: str) -> None:
    """Refuse alias bombs, recursive aliases and deep nesting before anything walks or builds the document.

    Aliases make the node tree a graph: nine anchors of nine aliases each expand to 387 million nodes (the
    "billion laughs"). The expanded size is counted once per distinct node, so the check itself stays cheap.
    """
    expanded: dict[int, int] = {}
    depth_of: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            expanded[key] = 1 + sum(expanded[id(c)] for c in children)
            depth_of[key] = 1 + max((depth_of[id(c)] for c in children), default=0)
            line = node.start_mark.line + 1
            if depth_of[key] > MAX_DEPTH:
                raise InputError("INVALID_POLICY", f"{name}:{line}: nested more than {MAX_DEPTH} levels deep")
            if expanded[key] > MAX_EXPANDED_NODES:
                raise InputError("INVALID_POLICY", f"{name}:{line}: aliases expand to more than "
                                                   f"{MAX_EXPANDED_NODES:,} values (an alias bomb?)")
            continue
        if key in expanded:
            continue
        if key in on_path:
            raise InputError("INVALID_POLICY", f"{name}:{node.start_mark.line + 1}: a recursive alias (refers to "
                                               "itself)")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in expanded)


def load_value(text: str, name: str) -> Any:
    """One bounded YAML value (a ``--set`` parameter, a trust file): the same limits as a policy file."""
    return load_yaml(text, name).data


def _unbuildable_line(root: yaml.Node) -> int:
    """1-based line of the first scalar the safe constructor refuses (an impossible date, say)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node, deep=True)
            except (ValueError, OverflowError):
                return node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in reversed(node.value) for n in reversed(pair))
    return root.start_mark.line + 1


def _check_keys(node: yaml.Node, loc: Loc, lines: dict[Loc, int], name: str) -> None:
    # Walk the composed node tree (before construction) to record lines and refuse duplicate keys,
    # which PyYAML would otherwise resolve silently by keeping the last one.
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else repr(key_node.value)
            line = key_node.start_mark.line + 1
            if key == "<<":
                raise InputError("INVALID_POLICY", f"{name}:{line}: YAML merge keys (<<) are not supported here")
            if key in seen:
                raise InputError("INVALID_POLICY",
                                 f"{name}:{line}: duplicate key {key!r} (first on line {seen[key]})")
            seen[key] = line
            lines[(*loc, key)] = line
            _check_keys(value_node, (*loc, key), lines, name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _check_keys(item, (*loc, index), lines, name)
