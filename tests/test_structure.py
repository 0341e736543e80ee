"""The house rules, checked: rooms import one way, no module or function outgrows its name.

Why a test: a layering rule that lives only in a design note erodes one convenient import at a time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "moresprudentie"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
SHELLS = ("moresprudentie.ui", "moresprudentie.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Every module this one imports, at any depth of the file (lazy imports inside functions count)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES)
    return found


def _internal_graph() -> dict[str, set[str]]:
    return {name: {other for other in _imports(name) if other in MODULES and other != name} for name in MODULES}


def _in(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_no_import_cycles() -> None:
    graph = _internal_graph()
    # a package's __init__ importing its own modules is how packages export; not a cycle between rooms
    edges = {
        name: {other for other in targets if not (MODULES[name].name == "__init__.py" and _in(other, name))}
        for name, targets in graph.items()
    }
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle.extend([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
                return True
            if nxt not in state and visit(nxt, [*path, nxt]):
                return True
        state[node] = 2
        return False

    for start in sorted(edges):
        if start not in state and visit(start, [start]):
            break
    assert not cycle, " → ".join(cycle)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_layers(name: str) -> None:
    """Only ui/ imports streamlit and only cli/ typer; the core imports neither shell; ui never imports cli."""
    imported = _imports(name)
    if not _in(name, "moresprudentie.ui"):
        assert not any(_in(module, "streamlit") for module in imported), f"{name} imports streamlit"
        assert not any(_in(module, "moresprudentie.ui") for module in imported), f"{name} imports the UI"
    if not _in(name, "moresprudentie.cli"):
        assert not any(_in(module, "typer") for module in imported), f"{name} imports typer"
        assert not any(_in(module, "moresprudentie.cli") for module in imported) or name == "moresprudentie.__main__"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_sizes(name: str) -> None:
    source = MODULES[name].read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MAX_MODULE_LINES, f"{name}: over {MAX_MODULE_LINES} lines; split it by concern"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{name}.{node.name}: {length} lines; give its parts names"
