"""schemathesis over the OpenAI operations mockllm serves, from OpenAI's own spec: no
generated request, valid or not, gets a 5xx, and every 4xx is OpenAI's error envelope.

The spec is ``tests/spec/openai-openapi.yaml`` with its leftover ``nullable: true``
rewritten (``openapi_schemas.load_spec``); only the operations the app's ``openai``
provider routes are kept. The requests go over HTTP to the session's server.

Settings: generation mode ``all`` (positive and negative cases) plus the spec's examples,
no coverage or stateful phase, derandomized, ``MOCKLLM_SCHEMATHESIS_EXAMPLES`` examples per
operation (default 25: about 20 s in all). A path's ``response_id`` is, for half the cases,
a response created just before.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from mockllm.providers.openai import provider as openai_provider
from mockllm.testing import MockServer
from openapi_schemas import load_spec

EXAMPLES = int(os.environ.get("MOCKLLM_SCHEMATHESIS_EXAMPLES", "25"))


def served_operations() -> set[tuple[str, str]]:
    """``(METHOD, spec path)`` of every route of the ``openai`` provider."""
    out: set[tuple[str, str]] = set()
    for route in openai_provider().routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path.removeprefix("/v1"))
        out.update((method, path) for method in route.methods)
    return out


SERVED = served_operations()


def served_spec() -> dict[str, Any]:
    """The spec with only the served operations (a copy: schemathesis may change it)."""
    spec = load_spec()
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        kept = {
            key: value
            for key, value in item.items()
            if (key.upper(), path) in SERVED or key in ("parameters", "summary", "description")
        }
        if any((method, path) in SERVED for method in ("GET", "POST", "DELETE")):
            paths[path] = kept
    return copy.deepcopy({**spec, "paths": paths})


config = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_dict(served_spec(), config=config)


def test_every_served_operation_is_in_the_spec() -> None:
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {(op.method.upper(), op.path) for op in operations} == SERVED


def openai_envelope(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(error, dict)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("type"), str)
        and isinstance(error.get("param"), str | None)
        and isinstance(error.get("code"), str | None)
    )


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as running:
        yield running


def stored(server: MockServer, session: requests.Session) -> str:
    """The id of a fresh stored response (an earlier case may have deleted the last one)."""
    answer = session.post(
        server.openai_url + "/responses", json={"model": "gpt-4o", "input": "hi"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    response_id: str = answer.json()["id"]
    return response_id


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(
    case: schemathesis.Case[Any],
    server: MockServer,
    session: requests.Session,
) -> None:
    generated = (case.path_parameters or {}).get("response_id")
    if isinstance(generated, str) and len(generated) % 2 == 0:  # half the cases: a live id
        live = stored(server, session)
        case.path_parameters = {**(case.path_parameters or {}), "response_id": live}
    response = case.call(base_url=server.openai_url, session=session, timeout=30)
    what = f"{case.as_curl_command()}\n-> {response.status_code} {response.text[:2000]}"
    assert response.status_code < 500, what
    if response.status_code >= 400:
        assert openai_envelope(response.json()), what
