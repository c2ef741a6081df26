"""The tree keeps its architecture: imports go one way, no module imports itself back, modules stay small.

Every ``import`` of every module is read with ``ast`` (those under ``if TYPE_CHECKING`` and inside functions
included), so a circle or an import against the direction fails here before it fails at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("conflict", "sync", "client_sdk", "server", "migrations")
#: What each top-level package may import (besides itself and third-party code).
ALLOWED = {
    "conflict": (),
    "sync": ("conflict",),
    "client_sdk": ("conflict", "sync.protocol"),
    "server": ("sync", "conflict"),
    "migrations": ("sync.store",),
}
#: What ``server`` may import of ``sync``: its public face, and the wire protocol.
SERVER_FACE = ("sync", "sync.protocol")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the module, resolved to a module of this tree if possible."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if candidate in MODULES else base), node.lineno


def _local(target: str) -> str | None:
    """The module of this tree that ``target`` names (or the nearest package above it), else None."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


GRAPH: dict[str, set[str]] = {
    name: {local for target, _ in _imports(name, path) if (local := _local(target)) is not None and local != name}
    for name, path in MODULES.items()
}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_imports_follow_the_direction_server_sync_conflict() -> None:
    wrong = []
    for name, path in MODULES.items():
        top = name.partition(".")[0]
        for target, line in _imports(name, path):
            local = _local(target)
            if local is None or _within(local, top):
                continue
            if not any(_within(local, allowed) for allowed in ALLOWED[top]):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
            elif top == "server" and _within(local, "sync") and not (
                local == "sync" or _within(local, "sync.protocol")
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}: use what `sync` exports")
    assert not wrong, "imports against the direction:\n" + "\n".join(wrong)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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
            visit(node)
    return found


def test_no_module_imports_itself_back() -> None:
    circles = _cycles(GRAPH)
    assert not circles, "import circles (type-only imports count):\n" + "\n".join(" <-> ".join(c) for c in circles)


def _unit(name: str) -> str:
    """The architectural unit of a module: a sub-package of ``sync`` (or a top-level module), else its package."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "sync" and len(parts) > 1 else parts[0]


def test_no_two_parts_of_the_engine_import_each_other() -> None:
    units: dict[str, set[str]] = {}
    for name, targets in GRAPH.items():
        units.setdefault(_unit(name), set()).update(_unit(t) for t in targets if _unit(t) != _unit(name))
    circles = _cycles(units)
    assert not circles, "sub-packages in a circle:\n" + "\n".join(" <-> ".join(c) for c in circles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name].relative_to(ROOT)} has {lines} lines: split it by concern"


def test_the_checker_sees_a_circle_and_a_wrong_direction() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _local("sync.protocol.frames") == "sync.protocol.frames"
    assert "conflict" not in ALLOWED["conflict"] and "server" not in ALLOWED["sync"]
