"""Packaging: every third-party module that ``src/`` imports comes from a dependency that
``pyproject.toml`` declares directly.

The test extras install many packages (Jinja2 came in through them once, and a plain
``pip install .`` then crashed on first run while the suite stayed green), so being
importable here proves nothing: the imports are parsed and each is mapped to the
distribution that provides it. ``scripts/smoke_wheel.py`` (run by ``scripts/test``) checks
the same from the other side: the built wheel, installed without extras, serves.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies() -> set[str]:
    """Normalized names of ``[project].dependencies`` (no extras, no test dependencies)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normalize(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0])
        for spec in project["dependencies"]
    }


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> files under ``src/`` importing it, for every absolute import
    (also those inside functions and ``TYPE_CHECKING`` blocks) that is neither the
    standard library nor mockllm itself."""
    local = {p.name for p in SRC.iterdir()}
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


HOSTED = {"pytest": {"src/mockllm/pytest_plugin.py"}}
"""Imports of the package a module runs inside: the pytest plugin is imported only by
pytest itself (its ``pytest11`` entry point), so pytest is there whenever it is."""


def test_every_import_under_src_is_a_declared_dependency() -> None:
    declared = declared_dependencies()
    providers = packages_distributions()
    missing = {
        module: sorted(files)
        for module, files in third_party_imports().items()
        if not {_normalize(d) for d in providers.get(module, [module])} & declared
        and not files <= HOSTED.get(module, set())
    }
    assert not missing, (
        "imported under src/ but not provided by a dependency declared in pyproject.toml "
        f"(a plain `pip install .` would crash): {missing}"
    )


def test_the_check_sees_imports_inside_functions() -> None:
    # tiktoken is imported lazily (inside functions) only: the parse must still find it.
    assert "tiktoken" in third_party_imports()
    assert "jinja2" in third_party_imports()


def test_the_check_would_catch_an_undeclared_import() -> None:
    # hypothesis is installed here (a test dependency) but not declared for users.
    providers = packages_distributions()
    assert {_normalize(d) for d in providers["hypothesis"]}.isdisjoint(declared_dependencies())


def test_python_dash_m_mockllm_runs_the_command_line() -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "mockllm", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("mockllm ")


def test_licence_file_matches_the_declared_licence() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "LICENSE" in project["license-files"]
