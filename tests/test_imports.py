"""Imports point one way: no cycle between modules, and apps import only the apps below them.

Every project module's imports are read with `ast` (module-level and inside functions; an
`if TYPE_CHECKING:` block is skipped, since it never runs), without importing anything.
The apps, top to bottom; an app may import any app below it, never one above:

    wfm_site → api → collectors → tokens → notifications → integrations

Tests, benchmarks, scripts and migrations are not walked.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("wfm_site", "api", "collectors", "tokens", "notifications", "integrations")
SKIPPED_FOLDERS = {"migrations"}

# Edges outside this branch's work that other branches remove; each names its edge exactly.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if SKIPPED_FOLDERS.isdisjoint(path.relative_to(ROOT).parts):
                modules[module_name(path)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(name: str, path: Path) -> set[str]:
    """Every dotted name the module imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for statement in child.orelse:
                    visit(statement)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    source = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    source = child.module or ""
                found.add(source)
                # `from package import module` imports the module.
                found.update(f"{source}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (a name resolves to its longest known module)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_names(name, path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
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
            connect(node)
    return found


def upward_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """(importer, imported) pairs where an app imports an app above it."""
    rank = {app: position for position, app in enumerate(APPS)}
    return {
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if rank[target.split(".")[0]] < rank[source.split(".")[0]]
    }


def test_the_walk_sees_module_and_function_level_imports_but_not_type_checking_ones():
    graph = import_graph()
    # Module level, function level (the task imports the dispatcher inside its body), and a
    # TYPE_CHECKING-only import that must not count (the vendor base names its records).
    assert "collectors.models" in graph["collectors.dispatch"]
    assert "collectors.dispatch" in graph["collectors.tasks"]
    assert "integrations.vendors.records" not in graph["integrations.vendors.base"]


def test_no_module_imports_itself_back_through_others():
    assert cycles(import_graph()) == []


def test_apps_import_only_the_apps_below_them():
    upward = upward_edges(import_graph()) - KNOWN_EXCEPTIONS
    assert sorted(upward) == [], f"imports against {' → '.join(APPS)}"


def test_every_known_exception_is_still_an_edge_to_remove():
    assert upward_edges(import_graph()) >= KNOWN_EXCEPTIONS
