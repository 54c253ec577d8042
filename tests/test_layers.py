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
NEUTRAL = sorted(
    [
        *SRC.joinpath("core").rglob("*.py"),
        *JSON_INSTANCES,
        SRC / "engine.py",
        SRC / "constraints.py",
    ]
)


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


VENDORS = ("openai", "anthropic", "claude", "gemini", "google", "ollama", "azure", "gpt")
VENDOR_FREE = sorted(
    [
        *SRC.joinpath("core").glob("*.py"),
        SRC / "engine.py",
        SRC / "constraints.py",
        SRC / "serving.py",
        SRC / "plugins.py",
        SRC / "services.py",
        SRC / "app.py",
        SRC / "wire.py",
        SRC / "fastlane.py",
    ]
)


def vendor_names(path: Path) -> list[str]:
    """Vendor names in the code of ``path``: identifiers, attribute names and string
    constants that are not docstrings (prose may name a vendor as an example; code may not
    decide by one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    # An attribute docstring: a string expression right after an assignment.
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            for stmt in statements if isinstance(statements, list) else ():
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    docstrings.add(id(stmt.value))
    found = []
    for node in ast.walk(tree):
        words: list[str] = []
        if isinstance(node, ast.Name):
            words = [node.id]
        elif isinstance(node, ast.Attribute):
            words = [node.attr]
        elif isinstance(node, ast.arg):
            words = [node.arg]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                words = [node.value]
        for word in words:
            if any(vendor in word.lower() for vendor in VENDORS):
                found.append(f"{getattr(node, 'lineno', '?')}: {word[:60]!r}")
    return found


ALLOWED = {
    # tiktoken names its cached vocabulary files after the URL it would download them from.
    "core/tokens.py": "https://openaipublic.blob.core.windows.net/",
}


@pytest.mark.parametrize("path", VENDOR_FREE, ids=lambda p: str(p.relative_to(SRC)))
def test_the_vendor_neutral_layers_decide_by_no_vendor_name(path: Path) -> None:
    """Token costs, tokenizers, model-id prefixes and routing order are data the providers
    declare (``Traits``, ``Provider.rank``); the neutral layers never test a vendor's name."""
    allowed = ALLOWED.get(str(path.relative_to(SRC)))
    found = [f for f in vendor_names(path) if allowed is None or allowed not in f]
    assert not found, f"{path.relative_to(SRC)} names a vendor: {found}"


def test_the_vendor_check_sees_code_and_skips_prose(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('"""Like OpenAI does."""\nX = "openai"\n', encoding="utf-8")
    assert vendor_names(probe) == ["2: 'openai'"]
