"""Show a lineage chain: as a tree in the terminal, and as a top-to-bottom graph picture for the audit pack.

>>> from rich.console import Console
>>> from governance.lineage import load_chain
>>> chain, problems = load_chain("evidence", verifier)
>>> Console(width=100).print(lineage_tree(chain))
lineage
├── process  pipeline/steps/process.py sha256:...
│   ├── ← dataset: synthetic-cs-training.csv  sha256:...  (root)
...
    └── → local:model-package/quickloan-credit-default/1  sha256:...
>>> write_lineage_png(chain, "lineage-copy.png").read_bytes() == open("evidence/lineage.png", "rb").read()
True

The picture is drawn the same way every time (no timestamps, fixed font and size), so the same chain gives a
byte-identical PNG — re-drawing it never disturbs a sealed evidence folder. It is drawn at print size (its DPI is
stored in the PNG), so placed at its natural size its labels print at :data:`LABEL_POINTS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from rich.tree import Tree

from governance.lineage.chain import Chain, Hop, role, sha256_of
from governance.storage import atomic_output

LINEAGE_PNG = "lineage.png"
_STEP_COLOUR, _FILE_COLOUR, _PACKAGE_COLOUR, _BROKEN = "#dbe8f6", "#f4f4f4", "#e3f1df", "#c62828"


def _short(digest: str | None) -> str:
    return f"sha256:{digest[:12]}…" if digest else "no digest"


def _code_line(hop: Hop) -> str:
    code = hop.code or {}
    commit = ((hop.package or {}).get("digest") or {}).get("gitCommit")
    git = (code.get("annotations") or {}).get("git")
    where = (f" @ {commit[:8]}" + ("" if git == "clean" else f" ({git})")) if commit else ""
    return f"{code.get('name', '?')} {_short(sha256_of(code))}{where}"


def _file_label(descriptor: dict) -> str:
    name, kind = str(descriptor.get("name", "")), role(descriptor)
    stem = name.split(".")[0]
    return name if stem == kind or kind in ("model_package",) else f"{kind}: {name}"


def lineage_tree(chain: Chain, title: str = "lineage") -> Tree:
    """One branch per step: what it consumed (←, with the step it came from) and produced (→)."""
    tree = Tree(Text(title, style="bold"))
    for hop in chain.hops:
        mark = {"verified": "", "unverified": "  (signature not verified)"}.get(hop.signature, "  ✗ SIGNATURE INVALID")
        branch = tree.add(Text.assemble((hop.step, "bold cyan"), f"  {_code_line(hop)}", (mark, "yellow")))
        for dependency in hop.data_dependencies:
            link = next((k for k in chain.links if k.consumer == hop.step and k.role == role(dependency)), None)
            if link is None:
                origin, style = "(root)", "yellow"
            elif link.holds:
                origin, style = f"✓ {link.producer}", "green"
            else:
                origin, style = f"✗ not what {link.producer} produced", "bold red"
            branch.add(Text.assemble("← ", _file_label(dependency), "  ", (_short(sha256_of(dependency)), "dim"),
                                     "  ", (origin, style)))
        for subject in hop.subjects:
            branch.add(Text.assemble("→ ", _file_label(subject), "  ", (_short(sha256_of(subject)), "dim")))
    return tree


@dataclass
class _Graph:
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (label, kind)
    edges: list[tuple[str, str, bool]] = field(default_factory=list)  # (from, to, broken)


def _graph(chain: Chain) -> _Graph:
    graph = _Graph()

    def file_node(descriptor: dict) -> str:
        node = f"file:{role(descriptor)}:{sha256_of(descriptor)}"
        kind = "package" if role(descriptor) == "model_package" else "file"
        graph.nodes.setdefault(node, (f"{descriptor.get('name')}\n{_short(sha256_of(descriptor))}", kind))
        return node

    for hop in chain.hops:
        step = f"step:{hop.step}"
        code = hop.code or {}
        graph.nodes[step] = (f"{hop.step}\n{code.get('name', '')}\n{_short(sha256_of(code))}", "step")
        for dependency in hop.data_dependencies:
            graph.edges.append((file_node(dependency), step, False))
        for subject in hop.subjects:
            graph.edges.append((step, file_node(subject), False))
    for link in chain.links:
        if not link.holds:
            produced = f"file:{link.role}:{link.produced}"
            consumed = f"file:{link.role}:{link.consumed}"
            graph.edges.append((produced, consumed, True))
    return graph


def _layers(graph: _Graph) -> dict[str, int]:
    layer = dict.fromkeys(graph.nodes, 0)
    for _ in range(len(graph.nodes)):  # longest path from the sources; a DAG settles within len(nodes) rounds
        changed = False
        for start, end, broken in graph.edges:
            if not broken and layer[end] < layer[start] + 1:
                layer[end], changed = layer[start] + 1, True
        if not changed:
            break
    return layer


def _wrap(text: str, width: int = 26) -> str:
    """Break long names (URIs, package ids) after a '/' or ':' so they fit a box."""
    lines = []
    for line in text.split("\n"):
        while len(line) > width:
            cut = max(line.rfind("/", 0, width), line.rfind(":", 0, width))
            cut = cut + 1 if cut > 0 else width
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return "\n".join(lines)


_BOX_WIDTH, _BOX_HEIGHT = 0.86, 0.62  # in layer units: a column is 1.0 wide, a layer 1.0 high
# Drawn at print size: a column is 1.9 in wide and a layer 0.78 in high, top to bottom, so a nine-hop chain fits an
# A4 page at scale 1 and the labels print at LABEL_POINTS (the pack's lineage section places it unscaled).
COLUMN_INCHES, LAYER_INCHES, HEADER_INCHES, MIN_WIDTH_INCHES = 1.9, 0.78, 0.8, 5.2
LABEL_POINTS, TITLE_POINTS = 7, 9
DPI = 150


def write_lineage_png(chain: Chain, path: str | os.PathLike, title: str = "Lineage: dataset → model package") -> Path:
    """Draw the chain top to bottom (files grey, steps blue, the model package green; broken links red)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    graph = _graph(chain)
    layer = _layers(graph)
    layers: dict[int, list[str]] = {}
    for node in graph.nodes:  # insertion order: statement order, stable run to run
        layers.setdefault(layer[node], []).append(node)
    depth = max(len(layers), 1)
    breadth = max((len(nodes) for nodes in layers.values()), default=1)
    width_in = max(COLUMN_INCHES * breadth, MIN_WIDTH_INCHES)
    height_in = LAYER_INCHES * depth + HEADER_INCHES
    figure = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1 - HEADER_INCHES / height_in))
    columns = width_in / COLUMN_INCHES
    axes.set_xlim(-columns / 2, columns / 2)
    axes.set_ylim(-depth + 0.5, 0.5)
    axes.axis("off")
    position = {}
    for level, nodes in sorted(layers.items()):
        for index, node in enumerate(nodes):
            position[node] = (index - (len(nodes) - 1) / 2, -level)
    colours = {"step": _STEP_COLOUR, "file": _FILE_COLOUR, "package": _PACKAGE_COLOUR}
    for node, (label, kind) in graph.nodes.items():
        x, y = position[node]
        axes.add_patch(FancyBboxPatch(
            (x - _BOX_WIDTH / 2, y - _BOX_HEIGHT / 2), _BOX_WIDTH, _BOX_HEIGHT,
            boxstyle="round,pad=0,rounding_size=0.08" if kind == "step" else "square,pad=0",
            facecolor=colours[kind], edgecolor="#5f6b7a", linewidth=0.8))
        axes.text(x, y, _wrap(label, 28), ha="center", va="center", fontsize=LABEL_POINTS, family="DejaVu Sans",
                  fontweight="bold" if kind == "step" else "normal", linespacing=1.15)
    for start, end, broken in graph.edges:
        (x0, y0), (x1, y1) = position[start], position[end]
        if broken:  # produced and consumed copies sit in different layers or columns: join their nearest sides
            tail, head = (x0 + _BOX_WIDTH / 2, y0), (x1 + _BOX_WIDTH / 2, y1)
        else:
            tail, head = (x0, y0 - _BOX_HEIGHT / 2), (x1, y1 + _BOX_HEIGHT / 2)
        span = abs(y1 - y0)
        outward = -0.3 if x0 > 0 else 0.3  # an edge that skips a layer bows away from the middle column
        axes.add_patch(FancyArrowPatch(
            tail, head, arrowstyle="-|>", mutation_scale=8, linewidth=1.4 if broken else 0.8,
            linestyle="--" if broken else "-", color=_BROKEN if broken else "#5f6b7a",
            connectionstyle=f"arc3,rad={outward if broken or span > 1 else 0.0}"))
    figure.text(0.5, 1 - 0.25 / height_in, title, ha="center", va="center", fontsize=TITLE_POINTS,
                family="DejaVu Sans", fontweight="bold")
    figure.text(0.5, 1 - 0.52 / height_in,
                "Each arrow is a sha256 recorded in a signed in-toto Statement (SLSA Provenance v1);\n"
                "a red dashed arrow joins digests that do not match.",
                ha="center", va="center", fontsize=LABEL_POINTS, family="DejaVu Sans", color="#444444")
    target = Path(path)
    with atomic_output(target) as temporary:
        figure.savefig(temporary, format="png", metadata={"Software": None})
    return target


def refresh_lineage_png(chain: Chain, evidence_dir: str | os.PathLike, target: str | os.PathLike | None = None) \
        -> Path | None:
    """Draw the graph to ``target`` (default ``EVIDENCE_DIR/lineage.png``) and return where it is.

    ``None`` when the default target sits in a sealed folder (one with ``index.json``) and differs from the
    drawing: rewriting a sealed file would break the index, so the caller should name another ``target``.
    """
    import tempfile

    from governance.errors import InputError
    from governance.evidence import INDEX
    from governance.storage import write_bytes_atomic

    root = Path(evidence_dir)
    path = Path(target) if target is not None else root / LINEAGE_PNG
    if path.is_dir():
        raise InputError("NOT_A_FILE", f"{path}: is a directory; name the image to write")
    with tempfile.TemporaryDirectory() as scratch:
        drawn = write_lineage_png(chain, Path(scratch) / LINEAGE_PNG).read_bytes()
    if target is None and (root / INDEX).is_file() and path.is_file():
        return path if path.read_bytes() == drawn else None
    write_bytes_atomic(path, drawn)
    return path
