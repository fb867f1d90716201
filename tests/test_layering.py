"""The import layers of the project, read from the source with `ast` (nothing is imported).

The packages stack up: `queries` (tables, rules, measures, marts) at the bottom, `data_seed`
(generator, importer, loader, mart refresh), `lake` (Parquet lake, refresh on Spark) and
`dashboard`/`pages` on top of it, `bench` on top of everything. An import pointing down the
stack is fine; one pointing back up, or a cycle, is what these tests refuse. Imports inside
functions count as much as module-level ones: a function-local import hides a cycle from
Python, not from the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dashboard", "pages", "queries", "data_seed", "lake", "bench")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_files() -> dict[str, Path]:
    """Every project module by dotted name."""
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(path: Path, name: str, modules: Iterable[str]) -> set[str]:
    """The project modules that the import statements anywhere in the file (module level or
    inside functions) reach: `from x import y` reaches x.y when y is a submodule, else x."""
    modules = set(modules)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    reached = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            reached.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([source] if source else [])])
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                reached.add(submodule if submodule in modules else source)
    return {module for module in reached if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports."""
    files = project_files()
    return {name: imported_modules(path, name, files) for name, path in files.items()}


def package_of(module: str) -> str:
    return module.partition(".")[0]


def cycles(graph: dict[str, set[str]], packages: Iterable[str]) -> list[list[str]]:
    """The import cycles among the modules of `packages` (each as a path a -> b -> ... -> a),
    one per strongly connected component of more than one module (or a module importing itself)."""
    wanted = set(packages)
    nodes = sorted(module for module in graph if package_of(module) in wanted)
    edges = {module: sorted(t for t in graph[module] if package_of(t) in wanted) for module in nodes}

    # Tarjan's strongly connected components, iteratively (no recursion limit to meet).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(edges[successor])))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    components.append(sorted(component))
    return [_cycle_path(component, edges) for component in components]


def _cycle_path(component: list[str], edges: dict[str, list[str]]) -> list[str]:
    """One closed path through a strongly connected component, for a readable failure."""
    members = set(component)
    path = [component[0]]
    while True:
        following = next(t for t in edges[path[-1]] if t in members)
        if following in path:
            return [*path[path.index(following) :], following]
        path.append(following)


FORBIDDEN = {
    # importer package -> packages it must not import
    "queries": {"data_seed", "lake", "dashboard", "pages", "bench"},
    "data_seed": {"lake", "dashboard", "pages", "bench"},
    # The lake runs the warehouse's refresh on Spark: it sits on data_seed, below nothing.
    "lake": {"dashboard", "pages", "bench"},
    "dashboard": {"data_seed", "lake", "pages", "bench"},
    "pages": {"data_seed", "lake", "bench"},
}


def back_arrows(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if package_of(target) in FORBIDDEN.get(package_of(module), ())
    )


def test_no_cycles_anywhere():
    found = cycles(import_graph(), PACKAGES)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def function_local_project_imports() -> list[tuple[str, int, str]]:
    """(file, line, the line above) of every import of a project module inside a function."""
    found = []
    for path in project_files().values():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines), filename=str(path))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                names = [alias.name for alias in inner.names] if isinstance(inner, ast.Import) else []
                if isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                    names = [inner.module]
                if any(package_of(name) in PACKAGES for name in names):
                    above = lines[inner.lineno - 2].strip() if inner.lineno > 1 else ""
                    found.append((str(path.relative_to(ROOT)), inner.lineno, above))
    return found


def test_a_function_local_import_is_a_lazy_load_that_says_so():
    """Inside a function, a project import hides a cycle or loads something heavy lazily; only
    the second is allowed, with a comment right above (or above the first of a group) saying so."""
    unexplained = []
    imports = sorted(function_local_project_imports())
    for index, (file, line, above) in enumerate(imports):
        grouped = index and imports[index - 1][:2] == (file, line - 1)
        if not above.startswith("#") and not grouped:
            unexplained.append(f"{file}:{line}")
    assert unexplained == []


def test_no_back_arrows():
    assert back_arrows(import_graph()) == []


def test_cycle_check_finds_a_cycle():
    """The check itself: a two-module cycle and a self-import are found, a chain is not."""
    graph = {"queries.a": {"queries.b"}, "queries.b": {"queries.a"}, "queries.c": {"queries.a"}, "bench.x": {"bench.x"}}
    assert cycles(graph, ("queries",)) == [["queries.a", "queries.b", "queries.a"]]
    assert cycles(graph, ("bench",)) == [["bench.x", "bench.x"]]
    assert cycles({"queries.a": {"queries.b"}, "queries.b": set()}, ("queries",)) == []


def test_imports_inside_functions_and_submodules_are_seen(tmp_path):
    source = tmp_path / "module.py"
    source.write_text(
        "from queries import tables as t, no_such_name\n"
        "def later():\n"
        "    from data_seed.load import atomic_load\n"
        "    import bench.warehouses\n"
        "    from . import sibling\n",
        encoding="utf-8",
    )
    modules = {"queries", "queries.tables", "data_seed.load", "bench.warehouses", "pages.sibling", "pages.module"}
    assert imported_modules(source, "pages.module", modules) == {
        "queries.tables",  # a submodule named by `from queries import tables`
        "queries",  # `no_such_name` is not a module: the package itself is reached
        "data_seed.load",
        "bench.warehouses",
        "pages.sibling",
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_is_read(package):
    assert any(package_of(module) == package for module in import_graph())
