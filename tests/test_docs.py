"""Every field of the config schema is documented in docs/rules.md, under the heading of
the schema model that holds it."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from mockllm.rules.schema import ConfigFile

DOC = Path(__file__).parent.parent / "docs" / "rules.md"


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """``root`` and every model reachable from its fields."""
    seen: list[type[BaseModel]] = []
    todo = [root]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            for candidate in _classes(field.annotation):
                if issubclass(candidate, BaseModel):
                    todo.append(candidate)
    return seen


def _classes(annotation: object) -> list[type]:
    out: list[type] = []
    if isinstance(annotation, type):
        out.append(annotation)
    for arg in getattr(annotation, "__args__", ()):
        out.extend(_classes(arg))
    return out


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^#{2,3} (\w+)\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def undocumented(models: list[type[BaseModel]], sections: dict[str, str]) -> list[str]:
    """The fields of ``models`` that no ``| `name` |`` row of their model's section names,
    and the models with no section: the check both tests below run."""
    missing = []
    for model in models:
        section = sections.get(model.__name__)
        if section is None:
            missing.append(f"no '### {model.__name__}' section")
            continue
        for name, field in model.model_fields.items():
            key = field.alias or name
            if f"| `{key}` |" not in section:
                missing.append(f"{model.__name__}.{key}")
    return missing


def test_every_schema_field_is_documented_under_its_model() -> None:
    sections = _sections(DOC.read_text(encoding="utf-8"))
    models = _models(ConfigFile)
    assert len(models) >= 12  # the walk found the nested models
    missing = undocumented(models, sections)
    assert not missing, "undocumented: " + ", ".join(missing)


def test_the_check_fails_for_an_undocumented_field() -> None:
    class Probe(BaseModel):
        documented: int = 0
        secret_field: int = 0

    text = "## Probe\n\n| `documented` | yes |\n"
    assert undocumented([Probe], _sections(text)) == ["Probe.secret_field"]
    assert undocumented([Probe], {}) == ["no '### Probe' section"]


def _yaml_blocks(path: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def test_every_yaml_example_in_the_docs_is_a_valid_config() -> None:
    from mockllm.rules.loader import parse_config

    readme = DOC.parent.parent / "README.md"
    blocks = [(readme, b) for b in _yaml_blocks(readme)] + [(DOC, b) for b in _yaml_blocks(DOC)]
    assert len(blocks) >= 2
    for path, block in blocks:
        config = parse_config(block, path.name)
        assert not config.warnings, (path.name, config.warnings)
