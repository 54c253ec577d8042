"""Anthropic errors (wire-formats.md section 5.5): every failure answers
``{"type":"error","error":{"type","message"},"request_id"}`` with the right status, so the
SDK raises its own exception classes; never a framework-style ``{"detail": ...}``.

Error bodies are validated against the SDK's ``ErrorResponse`` in strict JSON mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

import anthropic
import httpx
import orjson
import pytest
from anthropic.types import ErrorResponse, TextBlock

from mockllm.testing import MockServer

MODEL = "claude-opus-4-6"
API_KEY = "sk-ant-test"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day due to a phenomenon called Rayleigh scattering."
HEADERS = {
    "x-api-key": API_KEY,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
STRICT_CONFIG = """
responses:
  "what colour is the sky?": "Blue."
"""


@pytest.fixture(scope="module")
def strict_server() -> Iterator[MockServer]:
    with MockServer(config_text=STRICT_CONFIG, strict_models=True) as running:
        yield running


def has_detail_key(value: Any) -> bool:
    if isinstance(value, dict):
        return "detail" in value or any(has_detail_key(v) for v in value.values())
    if isinstance(value, list):
        return any(has_detail_key(v) for v in value)
    return False


def check_error_body(
    raw: bytes, error_type: str, request_id: str | None, message: str | None = None
) -> dict[str, Any]:
    """The decoded body, after checking it is exactly Anthropic's error envelope."""
    body: dict[str, Any] = orjson.loads(raw)
    assert not has_detail_key(body), body
    assert set(body) == {"type", "error", "request_id"}, body
    assert body["type"] == "error"
    assert set(body["error"]) <= {"type", "message", "details"}, body
    assert body["error"]["type"] == error_type, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if message is not None:
        assert body["error"]["message"] == message
    assert isinstance(body["request_id"], str) and body["request_id"].startswith("req_")
    if request_id is not None:
        assert body["request_id"] == request_id
    parsed = ErrorResponse.model_validate_json(raw, strict=True)
    assert parsed.error.type == error_type
    return body


def check_sdk_error(
    error: anthropic.APIStatusError, status: int, error_type: str, message: str | None = None
) -> None:
    assert error.status_code == status
    assert error.type == error_type
    assert error.request_id is not None
    assert error.response.headers["content-type"].startswith("application/json")
    check_error_body(error.response.content, error_type, error.request_id, message)
    assert error.body == orjson.loads(error.response.content)
    if message is not None:
        assert error.api_message == message


def check_raw_error(
    response: httpx.Response, status: int, error_type: str, message: str | None = None
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    check_error_body(response.content, error_type, response.headers["request-id"], message)


def assert_still_serving(anthropic_client: anthropic.Anthropic) -> None:
    message = anthropic_client.messages.create(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": SKY}]
    )
    block = message.content[0]
    assert isinstance(block, TextBlock) and block.text == SKY_ANSWER


def post_raw(
    server: MockServer, body: bytes | dict[str, Any], path: str = "/v1/messages"
) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx.post(f"{server.url}{path}", headers=HEADERS, content=content)


# --- raw HTTP (requests the SDK refuses to build) ---------------------------------------------


def test_missing_max_tokens(server: MockServer, anthropic_client: anthropic.Anthropic) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": SKY}]}
    check_raw_error(
        post_raw(server, body), 400, "invalid_request_error", "max_tokens: Field required"
    )
    assert_still_serving(anthropic_client)


@pytest.mark.parametrize("missing", ["model", "messages"])
def test_missing_required_field(
    server: MockServer, anthropic_client: anthropic.Anthropic, missing: str
) -> None:
    body: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 10,
        "messages": [{"role": "user", "content": SKY}],
    }
    del body[missing]
    check_raw_error(
        post_raw(server, body), 400, "invalid_request_error", f"{missing}: Field required"
    )
    assert_still_serving(anthropic_client)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"{not json", id="broken"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"text"', id="string"),
    ],
)
def test_invalid_json_raw(
    server: MockServer, anthropic_client: anthropic.Anthropic, payload: bytes
) -> None:
    check_raw_error(post_raw(server, payload), 400, "invalid_request_error")
    assert_still_serving(anthropic_client)


def test_invalid_json_through_sdk(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.post(
            "/v1/messages",
            cast_to=object,
            content=b'{"model": "claude-opus-4-6", "max_tokens": ',
            options={"headers": {"content-type": "application/json"}},
        )
    check_sdk_error(info.value, 400, "invalid_request_error")
    assert_still_serving(anthropic_client)


def test_wrong_content_type_raw(server: MockServer, anthropic_client: anthropic.Anthropic) -> None:
    body = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": 5}]}
    response = post_raw(server, body)
    check_raw_error(response, 400, "invalid_request_error")
    assert response.json()["error"]["message"].startswith("messages.0.content")
    assert_still_serving(anthropic_client)


def test_unknown_path(server: MockServer, anthropic_client: anthropic.Anthropic) -> None:
    check_raw_error(post_raw(server, {"model": MODEL}, "/v1/messages/nope"), 404, "not_found_error")
    with pytest.raises(anthropic.NotFoundError) as info:
        anthropic_client.post("/v1/messages/nope", cast_to=object, body={})
    check_sdk_error(info.value, 404, "not_found_error")
    assert_still_serving(anthropic_client)


def test_wrong_method_has_anthropic_envelope(
    server: MockServer, anthropic_client: anthropic.Anthropic
) -> None:
    response = httpx.get(f"{server.url}/v1/messages", headers=HEADERS)
    assert 400 <= response.status_code < 500
    check_raw_error(response, response.status_code, "invalid_request_error")
    assert_still_serving(anthropic_client)


# --- through the SDK: its own exception classes ---------------------------------------------


def _empty_messages(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=[])


def _content_number(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.create(
        model=MODEL, max_tokens=10, messages=[{"role": "user", "content": cast(Any, 5)}]
    )


def _bad_role(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.create(
        model=MODEL, max_tokens=10, messages=[{"role": cast(Any, "robot"), "content": "hi"}]
    )


def _bad_block_type(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.create(
        model=MODEL,
        max_tokens=10,
        messages=[{"role": "user", "content": [cast(Any, {"type": "bogus", "text": "hi"})]}],
    )


def _max_tokens_zero(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.create(
        model=MODEL, max_tokens=0, messages=[{"role": "user", "content": SKY}]
    )


def _max_tokens_too_large(anthropic_client: anthropic.Anthropic) -> object:
    # An explicit timeout: without one the SDK refuses large non-streaming max_tokens itself.
    return anthropic_client.messages.create(
        model=MODEL, max_tokens=128_001, messages=[{"role": "user", "content": SKY}], timeout=10
    )


def _bad_tool_choice(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.create(
        model=MODEL,
        max_tokens=10,
        messages=[{"role": "user", "content": SKY}],
        tool_choice=cast(Any, {"type": "sometimes"}),
    )


def _bad_temperature(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.create(
        model=MODEL,
        max_tokens=10,
        messages=[{"role": "user", "content": SKY}],
        extra_body={"temperature": 3},
    )


def _count_tokens_empty(anthropic_client: anthropic.Anthropic) -> object:
    return anthropic_client.messages.count_tokens(model=MODEL, messages=[])


def _stream_invalid(anthropic_client: anthropic.Anthropic) -> object:
    # A request invalid before streaming starts: a typed HTTP error, not an in-stream
    # ``event: error`` that would surface as a generic status-200 APIStatusError (P22).
    stream = anthropic_client.messages.create(model=MODEL, max_tokens=10, messages=[], stream=True)
    with stream:
        return list(stream)


def _stream_helper_too_large(anthropic_client: anthropic.Anthropic) -> object:
    with anthropic_client.messages.stream(
        model=MODEL, max_tokens=10_000_000, messages=[{"role": "user", "content": SKY}]
    ) as stream:
        return stream.get_final_message()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(_empty_messages, None, id="empty-messages"),
        pytest.param(_content_number, None, id="content-number"),
        pytest.param(_bad_role, None, id="bad-role"),
        pytest.param(_bad_block_type, None, id="bad-block-type"),
        pytest.param(_max_tokens_zero, None, id="max-tokens-zero"),
        pytest.param(
            _max_tokens_too_large,
            "max_tokens: 128001 > 128000, which is the maximum allowed number of output tokens "
            "for claude-opus-4-6",
            id="max-tokens-over-limit",
        ),
        pytest.param(_bad_tool_choice, None, id="bad-tool-choice"),
        pytest.param(_bad_temperature, None, id="bad-temperature"),
        pytest.param(_count_tokens_empty, None, id="count-tokens-empty"),
        pytest.param(_stream_invalid, None, id="stream-empty-messages"),
        pytest.param(_stream_helper_too_large, None, id="stream-helper-max-tokens"),
    ],
)
def test_bad_request_through_sdk(
    anthropic_client: anthropic.Anthropic,
    call: Callable[[anthropic.Anthropic], object],
    message: str | None,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        call(anthropic_client)
    check_sdk_error(info.value, 400, "invalid_request_error", message)
    assert_still_serving(anthropic_client)


def test_empty_messages_wording(anthropic_client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        _empty_messages(anthropic_client)
    assert info.value.api_message is not None
    assert info.value.api_message.startswith("messages:")


# --- strict model catalogue -----------------------------------------------------------------


def test_strict_models_unknown_model(strict_server: MockServer) -> None:
    with anthropic.Anthropic(
        base_url=strict_server.url, api_key=API_KEY, max_retries=0
    ) as anthropic_client:
        with pytest.raises(anthropic.NotFoundError) as info:
            anthropic_client.messages.create(
                model="claude-imaginary-9",
                max_tokens=10,
                messages=[{"role": "user", "content": SKY}],
            )
        check_sdk_error(info.value, 404, "not_found_error")
        assert "claude-imaginary-9" in (info.value.api_message or "")

        with pytest.raises(anthropic.NotFoundError) as stream_info:
            with anthropic_client.messages.stream(
                model="claude-imaginary-9",
                max_tokens=10,
                messages=[{"role": "user", "content": SKY}],
            ) as stream:
                stream.get_final_message()
        check_sdk_error(stream_info.value, 404, "not_found_error")

        with pytest.raises(anthropic.NotFoundError) as count_info:
            anthropic_client.messages.count_tokens(
                model="claude-imaginary-9", messages=[{"role": "user", "content": SKY}]
            )
        check_sdk_error(count_info.value, 404, "not_found_error")

        # Known models (ids and aliases) still work on the strict server.
        for model in (MODEL, "claude-haiku-4-5"):
            answer = anthropic_client.messages.create(
                model=model, max_tokens=10, messages=[{"role": "user", "content": SKY}]
            )
            block = answer.content[0]
            assert isinstance(block, TextBlock) and block.text == "Blue."


def test_non_strict_server_accepts_unknown_model(anthropic_client: anthropic.Anthropic) -> None:
    answer = anthropic_client.messages.create(
        model="claude-imaginary-9", max_tokens=200, messages=[{"role": "user", "content": SKY}]
    )
    assert answer.model == "claude-imaginary-9"
    block = answer.content[0]
    assert isinstance(block, TextBlock) and block.text == SKY_ANSWER
