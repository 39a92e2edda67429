"""Architecture rules, read from the source with ``ast`` (nothing is imported or executed).

The import graph covers the project's own modules: ``posture/**``, ``ui/**`` and ``app.py``. Every
``import``/``from ... import`` statement counts wherever it stands (module level, inside a function, in a
``try``), except those under ``if TYPE_CHECKING:``, which never run: they count for the layer rules
but not for cycles. ``from pkg import name`` is an edge to ``pkg.name`` when that is a module, else to
``pkg``. Importing ``a.b`` is an edge to ``a.b`` only (not also to ``a``'s ``__init__``).

Rules (docs: /work/shared/DESIGN.md, "Layers"):
* no import cycle among the project's modules;
* nothing in posture/ imports ui or app;
* posture/geometry.py imports no project module;
* only posture/pose.py imports mediapipe;
* posture/store, posture/report and posture/findings never import posture.cli;
* the pages in ui/pages/ never import each other;
* every third-party import is declared in pyproject.toml where it is used: posture/ in the core
  dependencies, ui/ and app.py in the core + the ``app`` extra (so ``make run`` installs what it imports).
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("posture", "ui")
SCRIPTS = ("app.py",)


@dataclass(frozen=True)
class Import:
    """One import statement's target, as written (absolute) and as resolved to a project module."""

    source: str  # importing module
    target: str  # absolute dotted name as written (after resolving relative dots)
    module: str | None  # the project module it lands on, None for third-party / stdlib
    line: int
    runtime: bool  # False under `if TYPE_CHECKING:`


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path, packages: Iterable[str], scripts: Iterable[str]) -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            mods[module_name(path, root)] = path
    for script in scripts:
        path = root / script
        if path.exists():
            mods[module_name(path, root)] = path
    return mods


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, mods: Mapping[str, Path]) -> str | None:
    """The longest project module that `name` is or lies in."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in mods:
            return candidate
    return None


def imports_of(mod: str, path: Path, mods: Mapping[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    found: list[Import] = []

    def add(target: str, line: int, runtime: bool) -> None:
        found.append(Import(mod, target, _resolve(target, mods), line, runtime))

    def visit(node: ast.AST, runtime: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, False)
            for child in node.orelse:
                visit(child, runtime)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno, runtime)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = mod.split(".") if is_pkg else mod.split(".")[:-1]
                base_parts = package[: len(package) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in mods else base, node.lineno, runtime)
        for sub_node in ast.iter_child_nodes(node):
            visit(sub_node, runtime)

    visit(tree, True)
    return found


def all_imports(root: Path = ROOT) -> list[Import]:
    mods = project_modules(root, PACKAGES, SCRIPTS)
    return [imp for mod, path in mods.items() for imp in imports_of(mod, path, mods)]


def import_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    """Runtime edges between project modules (self-imports dropped)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set())
        if imp.runtime and imp.module is not None and imp.module != imp.source:
            graph[imp.source].add(imp.module)
    return graph


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Import cycles (first node repeated at the end): the strongly connected components (Tarjan's
    algorithm, iterative), and in each the shortest cycle through every member, each cycle once."""
    edges = {node: sorted(set(targets)) for node, targets in graph.items()}
    for targets in list(edges.values()):
        for t in targets:
            edges.setdefault(t, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp.append(member)
                    if member == node:
                        break
                components.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    cycles: list[list[str]] = []
    for comp in components:
        members = set(comp)
        if len(comp) == 1 and comp[0] not in edges[comp[0]]:
            continue
        for head in comp:  # the shortest cycle through each member, each cycle listed once
            cycle = _shortest_cycle(head, edges, members)
            first = cycle.index(min(cycle[:-1]))
            canonical = [*cycle[first:-1], *cycle[:first], cycle[first]]
            if canonical not in cycles:
                cycles.append(canonical)
    return cycles


def _shortest_cycle(head: str, edges: Mapping[str, list[str]], members: set[str]) -> list[str]:
    """Breadth-first from head back to head, staying inside its strongly connected component."""
    prev: dict[str, str] = {}
    frontier = [head]
    while frontier and head not in prev:
        nxt_frontier = []
        for node in frontier:
            for t in edges[node]:
                if t in members and t not in prev:
                    prev[t] = node
                    nxt_frontier.append(t)
        frontier = nxt_frontier
    back = []
    node = prev[head]
    while node != head:
        back.append(node)
        node = prev[node]
    return [head, *reversed(back), head]


def _where(imp: Import) -> str:
    return f"{imp.source} (line {imp.line}) imports {imp.target}"


# ---- the cycle finder and the reader can fail ------------------------------------------------------


def test_find_cycles_on_a_synthetic_graph() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"a"}, "f": {"f"}}
    cycles = find_cycles(graph)
    assert sorted(cycles) == [["a", "b", "c", "a"], ["f", "f"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) == []
    # Two cycles through one hub are both reported (a component is not just its first cycle).
    assert find_cycles({"x": {"y", "z"}, "y": {"x"}, "z": {"x"}}) == [["x", "y", "x"], ["x", "z", "x"]]


def test_function_level_and_relative_imports_make_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import os\n\ndef f():\n    from pkg.sub import b\n    return b\n")
    (pkg / "sub" / "b.py").write_text("from .. import a\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\nfrom pkg.sub import b\n"
    )
    mods = project_modules(tmp_path, ["pkg"], [])
    imports = [imp for mod, path in mods.items() for imp in imports_of(mod, path, mods)]
    graph = import_graph(imports)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert graph["pkg.c"] == {"pkg.sub.b"}  # the TYPE_CHECKING import is not a runtime edge
    assert find_cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.a"]]
    assert any(imp.target == "os" and imp.module is None for imp in imports)


# ---- the project's rules ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    found = all_imports()
    assert {imp.source for imp in found} >= {"posture.analysis", "posture.cli", "app"}, "reader saw no code"
    return found


def test_no_import_cycles(imports: list[Import]) -> None:
    cycles = find_cycles(import_graph(imports))
    text = "\n".join(" -> ".join(c) for c in cycles)
    print(text)
    assert not cycles, f"import cycles:\n{text}"


def test_posture_never_imports_ui_or_app(imports: list[Import]) -> None:
    bad = [
        _where(i)
        for i in imports
        if i.source.split(".")[0] == "posture" and i.target.split(".")[0] in {"ui", "app"}
    ]
    assert not bad, "\n".join(bad)


def test_geometry_imports_no_project_module(imports: list[Import]) -> None:
    bad = [_where(i) for i in imports if i.source == "posture.geometry" and i.module is not None]
    assert not bad, "\n".join(bad)


def test_only_pose_imports_mediapipe(imports: list[Import]) -> None:
    users = {i.source for i in imports if i.target.split(".")[0] == "mediapipe"}
    assert users <= {"posture.pose"}, sorted(users)


def test_store_report_findings_never_import_cli(imports: list[Import]) -> None:
    lower = ("posture.store", "posture.report", "posture.findings")
    bad = [
        _where(i)
        for i in imports
        if any(i.source == m or i.source.startswith(m + ".") for m in lower)
        and (i.target == "posture.cli" or i.target.startswith("posture.cli."))
    ]
    assert not bad, "\n".join(bad)


def test_ui_pages_never_import_each_other(imports: list[Import]) -> None:
    if not (ROOT / "ui" / "pages").is_dir():
        pytest.skip("ui/pages/ does not exist yet")
    bad = [
        _where(i)
        for i in imports
        if i.source.startswith("ui.pages.") and i.target.startswith("ui.pages.") and i.target != i.source
    ]
    assert not bad, "\n".join(bad)


def _dist_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(extras: Iterable[str]) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in extras:
        specs += project["optional-dependencies"][extra]
    return {_dist_name(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in specs}


@pytest.mark.parametrize(
    ("layer", "extras"), [(("posture",), ()), (("ui", "app"), ("app",))], ids=["posture-core", "ui-app"]
)
def test_third_party_imports_are_declared(
    imports: list[Import], layer: tuple[str, ...], extras: tuple[str, ...]
) -> None:
    declared = _declared(extras)
    providers = importlib.metadata.packages_distributions()
    bad = []
    for imp in imports:
        top = imp.target.split(".")[0]
        if imp.source.split(".")[0] not in layer or imp.module is not None or top in sys.stdlib_module_names:
            continue
        dists = {_dist_name(d) for d in providers.get(top, [])}
        if not dists & declared:
            bad.append(f"{_where(imp)}: provided by {sorted(dists) or 'nothing installed'}, not declared")
    assert not bad, "\n".join(bad)
