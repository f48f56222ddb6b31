"""The shape of the package, computed from its source: no import cycles, the data flows one way, small commands.

The import graph is read from the AST (every ``import``, including those inside functions), so a lazy import
that closes a cycle counts like any other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "governance"
FORBIDDEN = ("pipeline", "reports")  # governance never reaches up (pipeline) or down the flow (reports)
# The commands that wire the three packages together (docs/ARCHITECTURE.md: "the CLI is the one place that wires
# them"): the end-to-end demo, the pipeline commands, the audit pack, approve (which finds the deployment's
# ledger in the pipeline settings), deploy (its bucket, KMS key, role and ledger from the same settings) and reproduce
# (the pack is verified and its attachments read by the one pack verifier in reports; governance.reproduce re-derives
# the figures without it). No library module may join this list.
WIRING_COMMANDS = frozenset({"governance.cli.demo", "governance.cli.pipeline", "governance.cli.pack",
                             "governance.cli.approve", "governance.cli.deploy",
                             "governance.cli.pipeline_sagemaker", "governance.cli.reproduce"})
CLI_MAX_LINES = 150


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((REPO / PACKAGE).rglob("*.py"))}


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module ``name`` imports: ``from pkg import sub`` names ``pkg.sub`` when that is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            submodules = {f"{source}.{alias.name}" for alias in node.names} & set(modules)
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(source)
    return {imported for imported in found if imported != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), restricted to the package."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node] & graph.keys()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_reader_sees_lazy_relative_and_submodule_imports():
    graph = import_graph()
    assert "governance.policy.output" in graph["governance.policy.scheduled"]  # from governance.policy import output
    assert "governance.errors" in graph["governance.cli"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_in_the_package():
    assert cycles(import_graph()) == []


def test_no_import_cycles_between_subpackages():
    """``governance.fairness`` and ``governance.explain`` may share a module, not lean on each other."""
    def part(name: str) -> str:
        return ".".join(name.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for name, imports in import_graph().items():
        graph.setdefault(part(name), set()).update(
            part(i) for i in imports if i.startswith(f"{PACKAGE}.") and part(i) != part(name))
    assert cycles(graph) == []


def test_governance_never_imports_pipeline_or_reports():
    offenders = {name: sorted(i for i in imports if i.split(".")[0] in FORBIDDEN)
                 for name, imports in import_graph().items() if name not in WIRING_COMMANDS}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_the_wiring_commands_are_only_wiring():
    """They may reach ``pipeline`` and ``reports``, but nothing in the library may reach them."""
    graph = import_graph()
    assert graph.keys() >= WIRING_COMMANDS
    assert {name for name, imports in graph.items() if imports & WIRING_COMMANDS} <= WIRING_COMMANDS | {
        "governance.cli"}


@pytest.mark.parametrize("path", sorted((REPO / PACKAGE / "cli").glob("*.py")), ids=lambda p: p.name)
def test_command_modules_stay_small(path):
    """A command parses, calls the library and prints; gates, verdicts and formats live in library modules."""
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= CLI_MAX_LINES, f"{path.name}: {lines} lines (move the logic into a library module)"
