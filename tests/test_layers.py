"""The layers: the vendor-neutral core and the engine know no HTTP and no dialect.

``mockllm/core/``, ``mockllm/json_instances/`` and ``mockllm/engine.py`` may not import the
wire layer, the providers, the app, or an HTTP framework or server; providers build on the
core, never the reverse. The JSON-Schema instance generator (``mockllm/json_instances/``) is
standalone: of mockllm it imports only ``mockllm.core.limits``, and the core does not import it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "mockllm"
FORBIDDEN = (
    "mockllm.wire",
    "mockllm.providers",
    "mockllm.app",
    "mockllm.server",
    "starlette",
    "uvicorn",
    "httptools",
    "h11",
)
JSON_INSTANCES = sorted(SRC.joinpath("json_instances").rglob("*.py"))
NEUTRAL = sorted([*SRC.joinpath("core").rglob("*.py"), *JSON_INSTANCES, SRC / "engine.py"])


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", NEUTRAL, ids=lambda p: str(p.relative_to(SRC)))
def test_the_core_and_the_engine_know_no_http_and_no_dialect(path: Path) -> None:
    bad = sorted(
        name
        for name in imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_the_check_resolves_relative_imports() -> None:
    assert "mockllm.core.ids" in imported_modules(SRC / "engine.py")
    assert "mockllm.core.errors" in imported_modules(SRC / "core" / "tokens.py") or (
        "mockllm.core.types" in imported_modules(SRC / "core" / "tokens.py")
    )


@pytest.mark.parametrize("path", JSON_INSTANCES, ids=lambda p: str(p.relative_to(SRC)))
def test_the_json_instance_generator_depends_only_on_the_limits(path: Path) -> None:
    own = "mockllm.json_instances"
    bad = sorted(
        name
        for name in imported_modules(path)
        if (name == "mockllm" or name.startswith("mockllm."))
        and not (name == own or name.startswith(own + "."))
        and not (name == "mockllm.core.limits" or name.startswith("mockllm.core.limits."))
    )
    assert not bad, f"{path.relative_to(SRC)} imports {bad} (only mockllm.core.limits is allowed)"


def test_the_core_does_not_import_the_json_instance_generator() -> None:
    for path in sorted(SRC.joinpath("core").rglob("*.py")):
        bad = sorted(n for n in imported_modules(path) if n.startswith("mockllm.json_instances"))
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_the_check_sees_the_json_instance_generator_imports() -> None:
    assert JSON_INSTANCES, "src/mockllm/json_instances/ not found"
    context = imported_modules(SRC / "json_instances" / "context.py")
    assert "mockllm.core.limits" in context
    assert "mockllm.json_instances.values" in context
