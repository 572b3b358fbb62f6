"""The plan of the house, checked: no import cycles, SQL and HTTP libraries each in one place.

The import graph is built with ``ast`` from every module of the package, counting module-level
imports and imports inside functions (``if TYPE_CHECKING:`` blocks aside, as they never run).
"""
from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dltasks"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    return {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)}


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Every module name ``module`` imports (absolute), with its line, TYPE_CHECKING blocks aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            out += [(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base, node.lineno) for a in node.names]
    return out


def _resolve(name: str) -> str | None:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in MODULES:
            return ".".join(parts[:i])
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = collections.defaultdict(set)
    for module, path in MODULES.items():
        for name, _ in _imports(module, path):
            target = _resolve(name) if name.split(".")[0] == "dltasks" else None
            if target and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return found


def test_no_import_cycle_among_dltasks_modules():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_persistence_never_imports_the_sdk():
    sdk = {"dltasks", "dltasks.client", "dltasks.datasets", "dltasks.items", "dltasks.annotations", "dltasks.tasks",
           "dltasks.task_work", "dltasks.users", "dltasks.widgets", "dltasks.server"}
    graph = _graph()
    wrong = [(m, t) for m in graph if m.startswith(("dltasks.backends", "dltasks.domain")) for t in graph[m]
             if t in sdk or t.startswith(("dltasks.widgets", "dltasks.server"))]
    assert wrong == []


@pytest.mark.parametrize("library, home", [("sqlalchemy", "dltasks.backends.sql"), ("requests", "dltasks.backends.http")],
                         ids=["sqlalchemy", "requests"])
def test_a_library_is_imported_in_one_package_only(library, home):
    outside = [f"{MODULES[m].relative_to(PACKAGE.parent)}:{line}" for m in MODULES
               for name, line in _imports(m, MODULES[m])
               if name.split(".")[0] == library and not (m == home or m.startswith(home + "."))]
    assert outside == []
