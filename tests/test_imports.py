"""No import cycle anywhere in the program (components/, k8s/, tools/, __main__.py).

The graph is read from the source with `ast`, so every import statement counts wherever it stands: at module level,
inside a function (a lazy import still runs, and still ties the two modules together), inside `if TYPE_CHECKING:`
(mypy follows it, and it is how the settings and the capacity check once imported each other). An edge goes to each
program module a statement names: `X` for `import X` and `from X import y`, plus `X.y` when `y` is a submodule. The
parent packages Python initialises on the way are not edges of their own: a package whose `__init__` re-exports its
submodules would otherwise form a cycle with each of them, yet Python loads that shape without a partial module —
as long as no submodule imports its own package's `__init__`, which this graph does catch.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tools.offline.engine import ROOT

PROGRAM = ("components", "k8s", "tools")


def program_modules(root: Path = ROOT) -> dict[str, Path]:
    """Module name -> file, for every module of the program (a package's `__init__` under the package's name)."""
    found = {"__main__": root / "__main__.py"}
    for top in PROGRAM:
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports_of(source: str, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The program modules that `source` (module `module`) imports, from any statement anywhere in it."""
    known = set(known)
    package = module if is_package else module.rpartition(".")[0]
    edges: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            edges.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if base in known:
                edges.add(base)
            edges.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)
    edges.discard(module)
    # A module's own ancestor packages are always initialised before it (Python imports parents first), so
    # `from pkg import sibling` inside pkg names pkg without making a cycle; the sibling is the edge.
    parts = module.split(".")
    edges -= {".".join(parts[:i]) for i in range(1, len(parts))}
    return edges


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = program_modules(root)
    return {
        name: imports_of(path.read_text(), name, path.name == "__init__.py", modules)
        for name, path in modules.items()
    }


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each as a sorted list of names."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_program_has_no_import_cycle() -> None:
    graph = import_graph()
    found = cycles(graph)
    described = "\n".join(
        "  " + ", ".join(f"{m} -> {sorted(set(graph[m]) & set(c))}" for m in c) for c in found
    )
    assert found == [], f"import cycles (module -> the modules of its cycle it imports):\n{described}"


def test_the_graph_sees_module_level_and_lazy_imports_of_the_real_program() -> None:
    """The walk reads the real files: known edges are present, so an empty cycle list is not an empty graph."""
    graph = import_graph()
    assert "components.config" in graph["__main__"], graph["__main__"]
    assert "k8s.capacity" in graph["components.config.cluster"], "settings -> capacity (module level)"
    assert "tools.offline.engine" in graph["tools.offline.policy_run"], "a function-level import"
    assert "components.config" not in graph["k8s.capacity"], "capacity reads plain values, not the settings"
    assert sum(len(v) for v in graph.values()) > 50, graph


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from b.c import X\n", {"b.c"}),
        ("def f():\n    import b.c\n", {"b.c"}),
        ("from b import c\n", {"b.c"}),
        ("from . import c\n", {"b.c"}),
        ("from .c import X\n", {"b.c"}),
        ("import os\nfrom pulumi import Output\n", set()),
    ],
    ids=[
        "type-checking",
        "function-level",
        "from-package-import-module",
        "relative",
        "relative-module",
        "external",
    ],
)
def test_imports_are_read_wherever_they_stand(snippet: str, expected: set[str]) -> None:
    assert imports_of(snippet, "b.a", False, {"b", "b.a", "b.c"}) == expected


def test_a_cycle_is_reported() -> None:
    """The check fails on the shape it guards against: the settings and the capacity check importing each other."""
    graph = {
        "components.config": {"k8s.capacity"},
        "k8s.capacity": {"k8s.catalogue", "components.config"},
        "k8s.catalogue": set(),
        "__main__": {"components.config"},
    }
    assert cycles(graph) == [["components.config", "k8s.capacity"]]
    assert cycles({**graph, "k8s.capacity": {"k8s.catalogue"}}) == []
