"""Contract: how the code outside src/ may depend on itself.

Every import statement counts, at module level, under `if TYPE_CHECKING:` and inside functions, so a
cycle cannot hide behind a late import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The absolute names of every module the file imports (a `from a import b` names both a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _graph(package: str) -> dict[str, set[str]]:
    files = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    return {name: {m for m in _imports(path) if m in files and m != name} for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for dependency in sorted(graph[name]):
            found = visit(dependency, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for name in sorted(graph):
        found = visit(name, [])
        if found:
            return found
    return None


def test_cycle_finder_finds_a_cycle_through_a_package_init() -> None:
    graph = {"p": {"p.a"}, "p.a": {"p.b"}, "p.b": {"p.a"}, "p.c": set()}
    assert _cycle(graph) == ["p.a", "p.b", "p.a"]
    assert _cycle({"p": {"p.a"}, "p.a": set()}) is None


def test_the_simulator_has_no_import_cycle() -> None:
    graph = _graph("simulator")
    assert "simulator.service" in graph["simulator.world"], "the graph misses the simulator's own imports"
    graph.pop("simulator")  # the package re-exports its modules; none of them imports the package
    assert not any("simulator" in deps for deps in graph.values())
    assert _cycle(graph) is None


def test_the_world_loader_uses_only_the_service_s_public_api() -> None:
    tree = ast.parse((ROOT / "simulator" / "world.py").read_text(encoding="utf-8"))
    private = sorted(
        {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr.startswith("_")} - {"__name__"}
    )
    assert private == []
    assert "state" not in {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}


TEST_FILES = sorted((ROOT / "tests").rglob("*.py"))


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_tests_borrow_no_scaffolding_from_tools_or_other_tests(path: Path) -> None:
    imported = _imports(path)
    assert "tools.demo" not in imported or path.name == "test_tools.py", "tests take scaffolding from tests/support"
    borrowed = sorted(
        m for m in imported if m.startswith("tests.") and m.rpartition(".")[2].startswith(("test_", "conftest"))
    )
    assert borrowed == [], "a test module imports another test module or a conftest"
