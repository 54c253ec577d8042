"""Validate payloads against OpenAI's official OpenAPI spec (``tests/spec/openai-openapi.yaml``).

The spec is OpenAPI 3.1 (JSON Schema draft 2020-12) but still carries the OpenAPI 3.0 keyword
``nullable: true`` in about a hundred places, which plain JSON Schema ignores; real payloads
(``finish_reason: null`` in a stream chunk, for one) fail until it is rewritten into
``anyOf: [<schema>, {type: null}]`` (wire-formats.md section 10). ``#/components/schemas/X``
references resolve through a :mod:`referencing` registry holding the whole document.

The spec (3 MB) is parsed once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).parent / "spec" / "openai-openapi.yaml"
SPEC_URI = "urn:openai-openapi"

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rewrite_nullable(node: Any) -> Any:
    """A copy of ``node`` where every ``nullable: true`` schema also accepts ``null``.

    ``{type: string, nullable: true, ...}`` becomes ``{anyOf: [{type: string, ...},
    {type: null}]}``; ``nullable: false`` is dropped.
    """
    if isinstance(node, list):
        return [rewrite_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: rewrite_nullable(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _parsed_spec() -> dict[str, Any]:
    with SPEC_PATH.open("rb") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_Loader)
    return document


@functools.cache
def load_spec(*, fix_nullable: bool = True) -> dict[str, Any]:
    """The parsed spec, with ``nullable`` rewritten unless ``fix_nullable`` is false.

    Cached: treat the result as read-only.
    """
    document = _parsed_spec()
    if not fix_nullable:
        return document
    rewritten: dict[str, Any] = rewrite_nullable(document)
    return rewritten


@functools.cache
def _registry(fix_nullable: bool) -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(
        load_spec(fix_nullable=fix_nullable), default_specification=DRAFT202012
    )
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
    return registry


@functools.cache
def validator(name: str, *, fix_nullable: bool = True) -> Draft202012Validator:
    """A validator for ``#/components/schemas/<name>``; ``KeyError`` if there is no such schema."""
    if name not in load_spec(fix_nullable=fix_nullable)["components"]["schemas"]:
        raise KeyError(f"no schema {name!r} in {SPEC_PATH.name}")
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=_registry(fix_nullable))


def errors(name: str, payload: Any, *, fix_nullable: bool = True) -> list[str]:
    """Every reason ``payload`` is not a valid ``name``, as ``path: message`` lines."""
    found: list[ValidationError] = list(
        validator(name, fix_nullable=fix_nullable).iter_errors(payload)
    )
    return [f"{e.json_path}: {e.message}" for e in found]


def assert_valid(name: str, payload: Any) -> None:
    """Fail with every validation error when ``payload`` is not a valid ``name``."""
    problems = errors(name, payload)
    assert not problems, f"not a valid {name}:\n" + "\n".join(problems)
