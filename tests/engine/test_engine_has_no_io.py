"""The engine is pure: its modules import no asyncio, threads, sockets or clocks, and loading
them loads no event loop or socket. Every rule lives there; the shell (``session``, ``shell``,
``binding``, ``callbacks``, ``speech``) does the I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "voicelive_proactive"
ENGINE = (
    "actions",
    "agenda",
    "closing",
    "core",
    "deadlines",
    "engine",
    "floor",
    "hello",
    "interruptions",
    "ledger",
    "lifecycle",
    "local_play",
    "nudge",
    "options",
    "override",
    "pausing",
    "preparing",
    "readiness",
    "receipts",
    "receiving",
    "speaking",
    "tools",
    "words",
)
FORBIDDEN = {"asyncio", "threading", "socket", "selectors", "time", "concurrent", "aiohttp"}
# What the engine may not even load through the modules it shares with the rest of the
# library (``guard`` defines OnceGuard, the app's object, with a lock: the engine only reads
# its GuardResult).
NO_EVENT_LOOP = {"asyncio", "socket", "selectors", "concurrent", "aiohttp"}


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(top-level names imported from outside the package, package modules imported) when
    the module is loaded: not in ``if TYPE_CHECKING:`` blocks, nor inside functions (an
    import there runs only when the function does; the engine's are listed below)."""
    path = PACKAGE.joinpath(*module.split(".")).with_suffix(".py")
    if not path.exists():
        path = PACKAGE.joinpath(*module.split("."), "__init__.py")
    tree = ast.parse(path.read_text())
    skip = {
        id(child)
        for node in ast.walk(tree)
        if (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test))
        or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.walk(node)
    }
    outside: set[str] = set()
    inside: set[str] = set()
    package = module.rsplit(".", 1)[0] if "." in module else ""
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            outside |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                outside.add((node.module or "").split(".")[0])
            else:
                base = package if node.level == 1 else ""
                target = ".".join(filter(None, [base, node.module or ""]))
                if target:
                    inside.add(target)
    return outside, inside


def _closure(start: str) -> dict[str, set[str]]:
    """Every package module ``start`` loads, with what each imports from outside."""
    seen: dict[str, set[str]] = {}
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        outside, inside = _imports(module)
        seen[module] = outside
        todo += [m for m in inside if m not in seen]
    return seen


@pytest.mark.parametrize("name", ENGINE)
def test_an_engine_module_imports_no_io(name: str) -> None:
    outside, _ = _imports(name)
    assert not outside & FORBIDDEN, f"{name}.py imports {sorted(outside & FORBIDDEN)}"


@pytest.mark.parametrize("name", ENGINE)
def test_an_engine_module_loads_no_event_loop(name: str) -> None:
    for module, outside in _closure(name).items():
        bad = sorted(outside & NO_EVENT_LOOP)
        assert not bad, f"{name} loads {module}, which imports {bad}"


def test_imports_inside_engine_functions_load_no_io() -> None:
    """The engine's own function-level imports (kept lazy for import time) are pure too."""
    for name in ENGINE:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and inner.level == 1 and inner.module:
                        for module, outside in _closure(inner.module).items():
                            bad = sorted(outside & NO_EVENT_LOOP)
                            assert not bad, f"{name}.{node.name} loads {module}: {bad}"
