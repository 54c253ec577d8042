"""The API of :mod:`mockllm.json_instances`: the package's ``__all__`` is pinned, and its modules
share only public, documented names.

Each module of the package declares an ``__all__``; a module imports from a sibling only names
in that sibling's ``__all__`` (never an underscore name, never the sibling module itself to
reach into it), and every name a module exports has a docstring stating its contract. The
checks parse the sources with :mod:`ast`.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import mockllm.json_instances

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "mockllm" / "json_instances"
NAME = "mockllm.json_instances"
MODULES = sorted(PACKAGE.glob("*.py"))

PUBLIC_API = [
    "FORMATS",
    "RECURSION_LIMIT",
    "SchemaTooLarge",
    "UnsatisfiableSchema",
    "generate",
    "is_valid",
]


def module_name(path: Path) -> str:
    return NAME if path.stem == "__init__" else f"{NAME}.{path.stem}"


def declared_all(tree: ast.Module) -> list[str] | None:
    """The literal ``__all__`` of a module, or None when it has none."""
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert isinstance(node, ast.Assign)
            value = ast.literal_eval(node.value)
            assert isinstance(value, list | tuple)
            return [str(name) for name in value]
    return None


def sibling_imports(source: str, package: str = NAME) -> list[tuple[str, str]]:
    """(sibling module, name) for every name imported from a module of the package, anywhere
    in ``source`` (in functions and ``TYPE_CHECKING`` blocks too); a sibling imported as a
    whole module is reported with the name ``"*module*"``."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                module = node.module or ""
            elif node.level == 0 and (node.module or "").startswith(package + "."):
                module = (node.module or "")[len(package) + 1 :]
            elif node.level == 0 and node.module == package:
                module = ""
            else:
                continue
            for alias in node.names:
                if module:
                    found.append((module, alias.name))
                else:  # from . import sibling
                    found.append((alias.name, "*module*"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(package + "."):
                    found.append((alias.name[len(package) + 1 :], "*module*"))
    return found


def documented(tree: ast.Module, name: str) -> bool | None:
    """Whether the top-level definition of ``name`` has a docstring (a function or class
    docstring, or a string literal right after an assignment); None when ``name`` is not
    defined in this module (imported, re-exported)."""
    body = tree.body
    for i, node in enumerate(body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return ast.get_docstring(node) is not None
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                after = body[i + 1] if i + 1 < len(body) else None
                return (
                    isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)
                )
    return None


def test_the_public_api_is_pinned() -> None:
    assert mockllm.json_instances.__all__ == PUBLIC_API
    for name in PUBLIC_API:
        assert hasattr(mockllm.json_instances, name), name
    # The errors name their public home, in reprs and pickles.
    assert mockllm.json_instances.UnsatisfiableSchema.__module__ == NAME
    assert mockllm.json_instances.SchemaTooLarge.__module__ == NAME


def test_the_package_moved_out_of_the_core() -> None:
    assert len(MODULES) > 2 and MODULES[0].name == "__init__.py"  # the checks below see them
    assert not (PACKAGE.parent / "core" / "json_instances").exists()  # no shim left behind


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_every_module_declares_its_public_names(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = declared_all(tree)
    assert names is not None, f"{path.name} has no __all__"
    assert len(set(names)) == len(names), f"{path.name}: __all__ lists a name twice"
    assert not [n for n in names if n.startswith("_")], f"{path.name} exports private names"
    module = importlib.import_module(module_name(path))
    assert list(module.__all__) == names
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{path.name}: __all__ names {missing}, which it does not define"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_exported_names_are_documented(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    undocumented = [n for n in declared_all(tree) or [] if documented(tree, n) is False]
    assert not undocumented, f"{path.name}: no docstring for {undocumented}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_no_module_imports_a_private_name_from_a_sibling(path: Path) -> None:
    imports = sibling_imports(path.read_text(encoding="utf-8"))
    private = [f"{m}.{n}" for m, n in imports if n.startswith("_") or m.startswith("_")]
    assert not private, f"{path.name} imports private names of its siblings: {private}"
    whole = [m for m, n in imports if n == "*module*"]
    assert not whole, f"{path.name} imports sibling modules whole (use their names): {whole}"
    for sibling, name in imports:
        exported = importlib.import_module(f"{NAME}.{sibling}").__all__
        assert name in exported, f"{path.name} imports {sibling}.{name}, not in its __all__"


def test_the_check_catches_private_imports() -> None:
    source = (
        "from .context import Context, _Ctx\n"
        "from . import merge\n"
        "import mockllm.json_instances.regex\n"
        "from mockllm.json_instances.values import _key\n"
        "from ..core.limits import _Hidden\n"  # not a sibling
        "def f():\n"
        "    from .validation import _valid\n"
    )
    assert sibling_imports(source) == [
        ("context", "Context"),
        ("context", "_Ctx"),
        ("merge", "*module*"),
        ("regex", "*module*"),
        ("values", "_key"),
        ("validation", "_valid"),
    ]
