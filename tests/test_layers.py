"""The layers of the code, read from the source: analytics/ computes and knows no Streamlit and no page;
ui/ lays out widgets; pages/ and app.py read like the pages. Imports run downward only, with no circle,
and the dashboard never imports a command of the command line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    """Every module of analytics/, ui/ and pages/, and app.py, by its dotted name."""
    files = [*(ROOT / "analytics").rglob("*.py"), *(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py"),
             ROOT / "app.py"]
    return {_module_name(p): p for p in files}


def _imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The dotted names a module imports, anywhere in it (a function's own imports too): `import a.b` is
    a.b; `from a import b` is a.b when that is one of our modules (a submodule), else a."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            for alias in node.names:
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return out


def _imports() -> dict[str, set[str]]:
    """Each module of ours with the names it imports (ours and others')."""
    sources = _sources()
    return {name: _imported(ast.parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py",
                            set(sources))
            for name, path in sources.items()}


def _internal(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {m: {n for n in deps if n in graph and n != m} for m, deps in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A circle of the directed graph (its modules in order, the first repeated at the end), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    for start in sorted(graph):
        if colour[start] != WHITE:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = GREY
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = BLACK
                stack.pop()
                path.pop()
            elif colour.get(child, BLACK) == GREY:
                return path[path.index(child):] + [child]
            elif colour.get(child) == WHITE:
                colour[child] = GREY
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


def _layer(module: str) -> int:
    if module == "app" or module.startswith("pages."):
        return 3
    if module == "ui" or module.startswith("ui."):
        return 2
    if module.startswith("analytics.commands") or module in ("analytics.cli", "analytics.__main__"):
        return 1  # the command line: beside the dashboard, never under it
    return 0


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return _imports()


def test_the_detector_finds_a_circle_and_only_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}) is None  # a diamond is no circle
    assert find_cycle({}) is None


def test_the_reader_sees_every_kind_of_import():
    tree = ast.parse("import ui\nimport polars as pl\nfrom ui import cached as c\nfrom . import x\n"
                     "from .y import z\ndef f():\n    from analytics.db import connect\n")
    known = {"ui", "ui.cached", "ui.x", "ui.y", "analytics.db"}
    assert _imported(tree, "ui.views", False, known) == {"ui", "polars", "ui.cached", "ui.x", "ui.y", "analytics.db"}


def test_the_graph_is_read(graph):
    # The reader must find the imports it checks, or every test below would pass on an empty graph.
    assert {"analytics.report", "ui.setup", "pages.5_What-if", "app"} <= set(graph)
    assert "ui.database" in graph["ui.setup"] or "ui.database" in graph["ui.picker"]
    assert "analytics.report" in graph["app"] and "streamlit" in graph["ui.setup"]


def test_no_module_of_analytics_imports_streamlit(graph):
    offenders = {m: sorted(n for n in deps if n.split(".")[0] == "streamlit")
                 for m, deps in graph.items() if m.startswith("analytics")}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_the_dashboard_imports_no_command_of_the_command_line(graph):
    offenders = {m: sorted(n for n in deps if n.startswith("analytics.commands") or n == "analytics.cli")
                 for m, deps in graph.items() if _layer(m) >= 2}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_analytics_never_imports_the_dashboard(graph):
    offenders = {m: sorted(n for n in deps if n.split(".")[0] in ("ui", "pages", "app", "streamlit"))
                 for m, deps in graph.items() if m.startswith("analytics")}
    assert {m: n for m, n in offenders.items() if n} == {}


def test_imports_run_downward_only(graph):
    upward = sorted((m, n) for m, deps in _internal(graph).items() for n in deps if _layer(n) > _layer(m))
    assert upward == []


def test_the_import_graph_has_no_circle(graph):
    assert find_cycle(_internal(graph)) is None
