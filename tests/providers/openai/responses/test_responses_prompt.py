"""A Responses request with a ``prompt`` (a stored prompt template reference) and no
``input`` is answered, as the real API does: the conversation is the prompt's variables
as text (docs/responses.md)."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from mockllm.testing import MockServer
from openapi_schemas import assert_valid

PROMPT: Any = {"id": "pmpt_abc123", "version": "2", "variables": {"city": "Paris", "unit": "C"}}


def test_a_prompt_without_input_is_answered(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="gpt-4o", prompt=PROMPT)
    assert response.output_text == "Paris it is."  # rule: prompt icontains "city: Paris"
    assert response.prompt is not None
    assert response.prompt.id == "pmpt_abc123" and response.prompt.version == "2"
    assert response.prompt.variables == {"city": "Paris", "unit": "C"}
    # The message the prompt stands for is the response's input item.
    items = list(sdk.responses.input_items.list(response.id))
    assert len(items) == 1
    message: Any = items[0]
    assert message.role == "user"
    assert [c.text for c in message.content] == ["city: Paris\nunit: C"]
    # It continues like any other conversation.
    follow = sdk.responses.create(
        model="gpt-4o", previous_response_id=response.id, input="and the weather?"
    )
    assert follow.output_text == "It is sunny in Paris, 22 degrees."


def test_a_prompt_with_input_comes_before_it(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="gpt-4o", prompt=PROMPT, input="what colour is the sky?")
    assert response.output_text == "Blue."  # the last user message is the input
    items: list[Any] = list(sdk.responses.input_items.list(response.id, order="asc"))
    texts = [i.content[0].text for i in items]
    assert texts == ["city: Paris\nunit: C", "what colour is the sky?"]


def test_prompt_variables_of_every_kind(openai_server: MockServer) -> None:
    body = {
        "model": "gpt-4o",
        "prompt": {
            "id": "pmpt_1",
            "variables": {
                "city": {"type": "input_text", "text": "Paris"},
                "photo": {"type": "input_image", "image_url": "https://example.com/a.png"},
            },
        },
    }
    raw = httpx.post(openai_server.openai_url + "/responses", json=body, timeout=10)
    assert raw.status_code == 200, raw.text
    payload = raw.json()
    assert payload["output"][0]["content"][0]["text"] == "Paris it is."
    assert payload["prompt"] == {
        "id": "pmpt_1",
        "variables": {
            "city": {"type": "input_text", "text": "Paris"},
            "photo": {  # echoed with its defaults, as input items are
                "type": "input_image",
                "detail": "auto",
                "file_id": None,
                "image_url": "https://example.com/a.png",
            },
        },
        "version": None,
    }
    spec = {k: v for k, v in payload.items() if not (k == "user" and v is None)}
    assert_valid("Response", spec)
    # Streamed too.
    with httpx.stream(
        "POST", openai_server.openai_url + "/responses", json=body | {"stream": True}
    ) as stream:
        assert stream.status_code == 200
        assert "response.completed" in stream.read().decode()


def test_a_prompt_without_variables(sdk: OpenAI) -> None:
    response = sdk.responses.create(model="gpt-4o", prompt={"id": "pmpt_empty"})
    assert response.status == "completed"
    assert response.prompt is not None and response.prompt.variables == {}


def test_input_or_prompt_is_required(sdk: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post("/responses", cast_to=httpx.Response, body={"model": "gpt-4o"})
    assert caught.value.param == "input"
    assert caught.value.code == "missing_required_parameter"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post("/responses", cast_to=httpx.Response, body={"model": "gpt-4o", "prompt": {"v": 1}})
    assert caught.value.param == "prompt.id"
    # A response without a prompt echoes none, as before.
    plain = sdk.responses.with_raw_response.create(model="gpt-4o", input="hi")
    assert "prompt" not in plain.http_response.json()
