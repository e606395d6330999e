"""leonet.hypatia is an adapter above the stages: nothing below it imports it, and it imports no engine or CLI.

The import graph is read from the source with ``ast`` (relative imports
resolved against each module's package), so a lazy import inside a function
counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "leonet"

#: Modules allowed to import leonet.hypatia: the package itself and the command line.
ABOVE = ("leonet.hypatia", "leonet.cli", "leonet.cli_hypatia")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (``from X import y`` gives X and X.y)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _is(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def test_only_the_cli_imports_leonet_hypatia():
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        name = _module_name(path)
        if any(_is(name, m) for m in ABOVE):
            continue
        bad = sorted(i for i in _imports(path) if _is(i, "leonet.hypatia"))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_hypatia_imports_no_engine_cli_or_report():
    modules = sorted((SRC / "hypatia").glob("*.py"))
    assert {p.stem for p in modules} >= {"files", "network", "geometry", "router", "state", "paths"}
    for path in modules:
        bad = sorted(
            i for i in _imports(path)
            if any(_is(i, m) for m in ("leonet.engine", "leonet.cli", "leonet.cli_hypatia", "leonet.cli_report", "leonet.api", "leonet.report"))
        )
        assert bad == [], f"{_module_name(path)} imports {bad}"


def test_the_checker_sees_relative_imports():
    # The router really uses the run's graph builder: the check above would catch a reverse import the same way.
    assert "leonet.routing.graph.GraphBuilder" in _imports(SRC / "hypatia" / "router.py")
    assert "leonet.hypatia.state.gen_state" in _imports(SRC / "cli_hypatia.py")
