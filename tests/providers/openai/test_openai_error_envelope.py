"""Errors reach the SDK as its own exception classes, with OpenAI's exact envelope
``{"error": {"message", "type", "param", "code"}}`` (wire-formats.md 2.4), and the client
keeps working afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, cast

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from mockllm.testing import MockServer

SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
SKY_MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": SKY}]
ERROR_KEYS = {"message", "type", "param", "code"}

STRICT_CONFIG = f"""
responses:
  "{SKY}": "{SKY_ANSWER}"
models:
  - id: my-finetune
    provider: openai
"""


@pytest.fixture(scope="module")
def strict_server() -> Iterator[MockServer]:
    with MockServer(config_text=STRICT_CONFIG, strict_models=True) as running:
        yield running


def check_envelope(
    exc: openai.APIStatusError,
    status: int,
    *,
    param: str | None,
    code: str | None,
    type_: str = "invalid_request_error",
) -> dict[str, Any]:
    """The exception carries the whole envelope; returns the inner error object."""
    assert exc.status_code == status
    body = exc.response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_KEYS, error
    assert isinstance(error["message"], str) and error["message"]
    assert error["type"] == type_
    assert error["param"] == param
    assert error["code"] == code
    # What the SDK exposes on the exception.
    assert exc.body == error
    assert exc.code == code and exc.param == param and exc.type == type_
    assert error["message"] in str(exc)
    assert exc.request_id is not None and exc.request_id.startswith("req_")
    assert exc.response.headers["content-type"].startswith("application/json")
    return cast(dict[str, Any], error)


def still_works(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
    assert completion.choices[0].message.content == SKY_ANSWER


def test_empty_messages(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[])
    error = check_envelope(caught.value, 400, param="messages", code="empty_array")
    assert error["message"] == (
        "Invalid 'messages': empty array. Expected an array with minimum length 1, "
        "but got an empty array instead."
    )
    still_works(client)


def test_missing_model(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chat/completions", body={"messages": SKY_MESSAGES}, cast_to=ChatCompletion)
    check_envelope(caught.value, 400, param="model", code="missing_required_parameter")
    still_works(client)


def test_missing_messages(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chat/completions", body={"model": "gpt-4o"}, cast_to=ChatCompletion)
    check_envelope(caught.value, 400, param="messages", code="missing_required_parameter")
    still_works(client)


def test_wrong_content_type(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o", messages=cast(Any, [{"role": "user", "content": 5}])
        )
    error = check_envelope(caught.value, 400, param="messages[0].content", code="invalid_type")
    assert "but got an integer instead" in error["message"]
    still_works(client)


def test_bad_role(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o", messages=cast(Any, [{"role": "wizard", "content": "hi"}])
        )
    error = check_envelope(caught.value, 400, param="messages[0].role", code="invalid_value")
    assert "'wizard'" in error["message"]
    still_works(client)


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"n": 129}, "n", "integer_above_max_value"),
        ({"max_tokens": 0}, "max_tokens", "integer_below_min_value"),
        ({"max_tokens": "5"}, "max_tokens", "invalid_type"),
        # gpt-4o answers at most 16,384 tokens.
        ({"max_tokens": 100_000}, "max_tokens", "invalid_value"),
        ({"max_completion_tokens": 16_385}, "max_completion_tokens", "invalid_value"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length"),
        ({"stream_options": {"include_usage": True}}, "stream_options", "invalid_value"),
        ({"tool_choice": "sometimes"}, "tool_choice", "invalid_value"),
        ({"response_format": {"type": "xml"}}, "response_format.type", "invalid_value"),
        ({"model": 5}, "model", "invalid_type"),
        ({"messages": "hi"}, "messages", "invalid_type"),
    ],
    ids=lambda value: str(value) if isinstance(value, str) else None,
)
def test_invalid_parameters(client: OpenAI, extra: dict[str, Any], param: str, code: str) -> None:
    body: dict[str, Any] = {"model": "gpt-4o", "messages": SKY_MESSAGES, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chat/completions", body=body, cast_to=ChatCompletion)
    check_envelope(caught.value, 400, param=param, code=code)
    still_works(client)


@pytest.mark.parametrize(
    ("messages", "param", "code"),
    [
        # The tool result must say which call it answers.
        (
            [{"role": "tool", "content": "22"}],
            "messages[0].tool_call_id",
            "missing_required_parameter",
        ),
        ([{"role": "user"}], "messages[0].content", "missing_required_parameter"),
        # A missing role is a missing parameter (not "Unable to extract tag using discriminator").
        ([{"content": "hi"}], "messages[0].role", "missing_required_parameter"),
        # The part type is the bad value (arrays are fine for user content).
        (
            [{"role": "user", "content": [{"type": "bogus", "text": "x"}]}],
            "messages[0].content[0].type",
            "invalid_value",
        ),
        # The tag "function" is also the key's name: the path names it once.
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c", "type": "function", "function": {"arguments": "{}"}}
                    ],
                }
            ],
            "messages[0].tool_calls[0].function.name",
            "missing_required_parameter",
        ),
    ],
    ids=["tool-without-id", "no-content", "no-role", "bad-part-type", "tool-call-no-name"],
)
def test_invalid_messages(
    client: OpenAI, messages: list[dict[str, Any]], param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=cast(Any, messages))
    check_envelope(caught.value, 400, param=param, code=code)
    still_works(client)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        (
            {"tools": [{"type": "function", "function": {"description": "x"}}]},
            "tools[0].function.name",
        ),
        ({"tool_choice": {"type": "function", "function": {}}}, "tool_choice.function.name"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
            "response_format.json_schema.name",
        ),
    ],
    ids=["tool-definition", "named-tool-choice", "json-schema-format"],
)
def test_missing_field_under_same_named_tag(
    client: OpenAI, extra: dict[str, Any], param: str
) -> None:
    """``{"type": "function", "function": {...}}``: the field is ``function.name``, once
    (the tag value equals the key name; never ``tools[0].function.function.name``)."""
    body: dict[str, Any] = {"model": "gpt-4o", "messages": SKY_MESSAGES, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chat/completions", body=body, cast_to=ChatCompletion)
    check_envelope(caught.value, 400, param=param, code="missing_required_parameter")


def test_context_length_exceeded(client: OpenAI) -> None:
    # gpt-4 has an 8,192-token context window; "hello " is one token each.
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "hello " * 9000}]
        )
    error = check_envelope(caught.value, 400, param="messages", code="context_length_exceeded")
    assert "8192" in error["message"]
    still_works(client)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"null", b"[1, 2]", b'"text"', b'{"model": "\xfc", "messages": []}'],
    ids=["broken", "empty", "null", "array", "string", "not-utf8"],
)
def test_invalid_json_body(http: httpx.Client, body: bytes) -> None:
    response = http.post(
        "/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"].startswith("req_")
    payload = response.json()
    assert set(payload) == {"error"}
    assert set(payload["error"]) == ERROR_KEYS
    assert payload["error"]["type"] == "invalid_request_error"
    assert "could not parse the JSON body" in payload["error"]["message"]
    assert payload["error"]["param"] is None and payload["error"]["code"] is None
    # The connection (keep-alive) is still usable.
    ok = http.post("/chat/completions", json={"model": "gpt-4o", "messages": SKY_MESSAGES})
    assert ok.status_code == 200


@pytest.mark.parametrize("path", ["/nope", "/chat/completion", "/chat/completions/x/extra"])
def test_unknown_route(client: OpenAI, path: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.get(path, cast_to=object)
    error = check_envelope(caught.value, 404, param=None, code=None)
    assert f"/v1{path}" in error["message"]
    with pytest.raises(openai.NotFoundError):
        client.post(path, body={"model": "gpt-4o"}, cast_to=object)
    still_works(client)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/embeddings"), ("PUT", "/chat/completions"), ("POST", "/models")],
)
def test_wrong_method(client: OpenAI, method: str, path: str) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        if method == "GET":
            client.get(path, cast_to=object)
        elif method == "PUT":
            client.put(path, body={}, cast_to=object)
        else:
            client.post(path, body={}, cast_to=object)
    check_envelope(caught.value, 405, param=None, code=None)
    still_works(client)


def test_body_too_large() -> None:
    with (
        MockServer(config_text=STRICT_CONFIG, max_body_bytes=1000) as small,
        OpenAI(base_url=small.openai_url, api_key="sk-test", max_retries=0) as client,
    ):
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x" * 2000}]
            )
        check_envelope(caught.value, 413, param=None, code=None)
        still_works(client)


@pytest.mark.parametrize("stream", [False, True])
def test_strict_models_unknown_model(strict_server: MockServer, stream: bool) -> None:
    with OpenAI(base_url=strict_server.openai_url, api_key="sk-test", max_retries=0) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(model="gpt-nope", messages=SKY_MESSAGES, stream=stream)
        error = check_envelope(caught.value, 404, param="model", code="model_not_found")
        assert error["message"] == (
            "The model `gpt-nope` does not exist or you do not have access to it."
        )
        still_works(client)


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4o-2024-08-06", "my-finetune"])
def test_strict_models_known_model(strict_server: MockServer, model: str) -> None:
    with OpenAI(base_url=strict_server.openai_url, api_key="sk-test", max_retries=0) as client:
        completion = client.chat.completions.create(model=model, messages=SKY_MESSAGES)
    assert completion.model == model
    assert completion.choices[0].message.content == SKY_ANSWER


def test_lenient_models_by_default(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-nope", messages=SKY_MESSAGES)
    assert completion.model == "gpt-nope"
    assert completion.choices[0].message.content == SKY_ANSWER


def test_async_client_errors(server: MockServer) -> None:
    async def main() -> None:
        async with AsyncOpenAI(
            base_url=server.openai_url, api_key="sk-test", max_retries=0
        ) as client:
            with pytest.raises(openai.BadRequestError) as caught:
                await client.chat.completions.create(model="gpt-4o", messages=[])
            check_envelope(caught.value, 400, param="messages", code="empty_array")
            with pytest.raises(openai.BadRequestError) as caught:
                await client.chat.completions.create(model="gpt-4o", messages=[], stream=True)
            check_envelope(caught.value, 400, param="messages", code="empty_array")
            completion = await client.chat.completions.create(model="gpt-4o", messages=SKY_MESSAGES)
            assert completion.choices[0].message.content == SKY_ANSWER

    asyncio.run(main())


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/chat/completions", b"{"),
        ("POST", "/chat/completions", b'{"model": "gpt-4o", "messages": []}'),
        ("POST", "/chat/completions", b'{"model": "gpt-4o", "messages": [{"role": "x"}]}'),
        ("POST", "/chat/completions", b'{"model": "gpt-4o", "messages": [1]}'),
        ("POST", "/chat/completions", b'{"model": "gpt-4o", "messages": [], "stream": true}'),
        ("GET", "/chat/completions/chatcmpl-unknown", b""),
        ("DELETE", "/chat/completions", b""),
        ("GET", "/nope", b""),
        ("GET", "/models/no-such-model", b""),
        ("POST", "/models", b"{}"),
        ("GET", "/", b""),
    ],
)
def test_never_a_framework_error_body(
    http: httpx.Client, method: str, path: str, body: bytes
) -> None:
    """Every error, whatever broke, is OpenAI's envelope, never ``{"detail": ...}``."""
    response = http.request(method, path, content=body)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert "detail" not in payload
    assert set(payload) == {"error"}
    assert set(payload["error"]) == ERROR_KEYS
