"""The runtime's import structure (README, Layout): no cycles among its modules, even
through imports inside functions, and nothing in it imports the front end."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "hpcarray" / "runtime"


def _module_name(path: Path) -> str:
    parts = path.relative_to(RUNTIME.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the hpcarray modules it imports (anywhere in its code)."""
    graph: dict[str, set[str]] = {}
    for path in RUNTIME.rglob("*.py"):
        name, deps = _module_name(path), set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.startswith("hpcarray"):
                    deps.add(node.module)
                    deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("hpcarray"))
        graph[name] = deps
    return graph


def test_no_import_cycles_in_the_runtime():
    imports = _imports()
    graph = {m: {d for d in deps if d in imports and d != m} for m, deps in imports.items()}
    # `from package import submodule` inside that package names the package, but needs only
    # the submodule: no edge from a module up to its own package.
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in graph[m]:
            if m.startswith(d + "."):
                continue
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path + [d]))
            if d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_the_runtime_does_not_import_the_front_end():
    front = ("hpcarray._api", "hpcarray._array", "hpcarray._fallback", "hpcarray._namespace")
    offenders = {m: sorted(d for d in deps if d.startswith(front))
                 for m, deps in _imports().items()}
    assert not {m: d for m, d in offenders.items() if d}
