"""The package's import graph against its declared layers (issue 11).

Layers, from the foundation up (docs/design.md, "The map").  A module may
import only modules of its own layer or of layers below it -- lazy imports
inside functions count too -- and no two modules may import each other,
directly or around a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

#: Bottom first.  Each entry: module or package names (a package holds its submodules).
LAYERS: list[tuple[str, ...]] = [
    ("leonet._version", "leonet.errors", "leonet.constants", "leonet.timebase", "leonet.inputs", "leonet.kepler"),
    ("leonet.scenario",),
    ("leonet.orbits",),
    ("leonet.ground",),
    ("leonet.links",),
    ("leonet.scheduling",),
    ("leonet.routing",),
    ("leonet.latency",),
    ("leonet.capacity",),
    ("leonet.service",),
    ("leonet.results",),
    ("leonet.engine",),
    ("leonet.report",),
    ("leonet.hypatia",),
    ("leonet.api",),
    ("leonet", "leonet.cli", "leonet.cli_report", "leonet.cli_hypatia"),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / "leonet").rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """leonet modules ``name`` imports (anywhere in the file), as full names of known modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    # Imports under `if TYPE_CHECKING:` are for annotations only: they do not run.
    typing_only = {
        id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body for n in ast.walk(stmt)
    }
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from . import geo` imports the module leonet.report.geo, not the package.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t.startswith("leonet") and t != name:
                out.add(t)
    return out


def _layer(name: str) -> int:
    best = None
    for i, group in enumerate(LAYERS):
        for entry in group:
            if name == entry or name.startswith(entry + ".") and entry != "leonet":
                best = i
    if best is None:
        raise AssertionError(f"module {name} is in no layer: add it to LAYERS and docs/design.md")
    return best


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_every_module_has_a_layer():
    for name in _modules():
        _layer(name)


def test_imports_point_down_the_layers():
    upward = []
    for name, targets in _graph().items():
        for t in targets:
            if t == "leonet" and name != "leonet":
                upward.append(f"{name} imports the package root 'leonet' (import the module it needs)")
            elif _layer(t) > _layer(name):
                upward.append(f"{name} (layer {_layer(name)}) imports {t} (layer {_layer(t)})")
    assert not upward, "imports that run back up the layers:\n  " + "\n  ".join(sorted(upward))


def test_no_import_cycles():
    graph = _graph()
    # Tarjan-free: a DFS that reports the first cycle of each start.
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if m == "leonet":
                continue
            if state.get(m) == 1:
                cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert not cycles, "import cycles:\n  " + "\n  ".join(cycles)


def test_package_cycles():
    """No two packages import each other (through any of their modules)."""
    graph = _graph()

    def pkg(n: str) -> str:
        parts = n.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 else n

    edges = {(pkg(a), pkg(b)) for a, ts in graph.items() for b in ts if pkg(a) != pkg(b)}
    both = sorted({tuple(sorted(e)) for e in edges if (e[1], e[0]) in edges})
    assert not both, f"packages that import each other: {both}"


@pytest.mark.parametrize("limit", [120])
def test_no_function_longer_than(limit):
    long = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    long.append(f"{name}.{node.name}: {lines} lines")
    assert not long, f"functions over {limit} lines:\n  " + "\n  ".join(long)
