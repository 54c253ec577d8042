"""Gemini errors (wire-formats.md section 6): every failure answers
``{"error": {"code", "message", "status"}}`` with the HTTP status in ``code`` and the
``google.rpc`` name in ``status``, so google-genai raises ``ClientError`` (4xx) or
``ServerError`` (5xx) with ``.code``, ``.status`` and ``.message``; and the next request
works. Also: which provider answers the paths Gemini shares with OpenAI and Anthropic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from google import genai
from google.genai import errors, types

from mockllm.testing import MockServer

MODEL = "gemini-2.5-flash"
KEY = "test-key"
SKY = "what colour is the sky?"
CONFIG = """
responses:
  "what colour is the sky?": "Blue."
rules:
  - name: rate-limited
    match: {prompt: {exact: rate limit me}}
    reply: {error: {status: 429, message: "Quota exceeded.", retry_after: 0.5}}
  - name: overloaded
    match: {prompt: {exact: overload}}
    reply: {error: {status: 503, message: "The model is overloaded. Please try again later."}}
  - name: server
    match: {prompt: {exact: crash}}
    reply: {error: {status: 500, message: "Internal error encountered."}}
  - name: precondition
    match: {prompt: {exact: precondition}}
    reply:
      error: {status: 400, message: "User location is not supported.", code: FAILED_PRECONDITION}
  - name: broken-template
    match: {prompt: {exact: broken}}
    reply: "{{ undefined_name.attr }}"
"""
ENVELOPE_KEYS = {"code", "message", "status"}


@pytest.fixture(scope="module")
def strict_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG, strict_models=True) as running:
        yield running


@pytest.fixture(scope="module", params=["v1beta", "v1"])
def client(request: pytest.FixtureRequest, strict_server: MockServer) -> Iterator[genai.Client]:
    options = types.HttpOptions(base_url=strict_server.url, api_version=request.param)
    with genai.Client(api_key=KEY, http_options=options) as sdk:
        yield sdk


def check_envelope(raw: bytes, code: int, status: str) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(raw)
    assert list(body) == ["error"], body
    error: dict[str, Any] = body["error"]
    assert ENVELOPE_KEYS <= set(error) <= ENVELOPE_KEYS | {"details"}, error
    assert error["code"] == code and error["status"] == status, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def still_works(client: genai.Client) -> None:
    assert client.models.generate_content(model=MODEL, contents=SKY).text == "Blue."


def post(
    server: MockServer,
    path: str,
    body: Any,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    return httpx.post(
        server.url + path,
        headers={"x-goog-api-key": KEY} if headers is None else headers,
        json=None if content is not None else body,
        content=content,
        timeout=10,
    )


# --- through the SDK -------------------------------------------------------------------------


def test_unknown_model_is_not_found(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-0-nonexistent", contents=SKY)
    error = caught.value
    assert error.code == 404 and error.status == "NOT_FOUND"
    assert error.message and "models/gemini-0-nonexistent is not found" in error.message
    assert error.message and "generateContent" in error.message
    still_works(client)


def test_unknown_model_stream_is_not_found_before_streaming(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        list(client.models.generate_content_stream(model="gemini-0-nonexistent", contents=SKY))
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"
    still_works(client)


def test_rate_limit_rule(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="rate limit me")
    error = caught.value
    assert error.code == 429 and error.status == "RESOURCE_EXHAUSTED"
    assert error.message == "Quota exceeded."
    assert error.details["error"]["details"] == [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.5s"}
    ]
    still_works(client)


def test_rate_limit_rule_on_stream(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        list(client.models.generate_content_stream(model=MODEL, contents="rate limit me"))
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    still_works(client)


@pytest.mark.parametrize(
    ("prompt", "code", "status"),
    [("overload", 503, "UNAVAILABLE"), ("crash", 500, "INTERNAL"), ("broken", 500, "INTERNAL")],
)
def test_server_errors(client: genai.Client, prompt: str, code: int, status: str) -> None:
    with pytest.raises(errors.ServerError) as caught:
        client.models.generate_content(model=MODEL, contents=prompt)
    assert caught.value.code == code and caught.value.status == status
    still_works(client)


def test_rule_code_names_the_rpc_status(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents="precondition")
    assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"


def test_embedding_model_cannot_generate(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="text-embedding-004", contents=SKY)
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_chat_model_cannot_embed(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model=MODEL, contents="hello")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_unknown_model_get_is_not_found(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        client.models.get(model="gemini-0-nonexistent")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


def test_bad_candidate_count(client: genai.Client) -> None:
    config = types.GenerateContentConfig(candidate_count=9)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=MODEL, contents=SKY, config=config)
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"


# --- raw requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content", "message"),
    [
        (None, b"{not json", "Invalid JSON payload received. Unexpected token."),
        ({}, None, "* GenerateContentRequest.contents: contents is not specified"),
        ({"contents": []}, None, "* GenerateContentRequest.contents: contents is not specified"),
        (
            {"contents": [{"role": "user", "parts": [{"text": 5}]}]},
            None,
            "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 5",
        ),
        (
            {"contents": [{"role": "user", "parts": []}]},
            None,
            "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.",
        ),
        (
            {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]},
            None,
            "Please use a valid role: user, model.",
        ),
        (
            {
                "contents": [{"parts": [{"text": "hi"}]}],
                "generationConfig": {"maxOutputTokens": "x"},
            },
            None,
            "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), \"x\"",
        ),
        (
            {
                "contents": [{"parts": [{"text": "hi"}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}},
            },
            None,
            None,
        ),
    ],
)
def test_invalid_requests(
    strict_server: MockServer, body: Any, content: bytes | None, message: str | None
) -> None:
    response = post(strict_server, f"/v1beta/models/{MODEL}:generateContent", body, None, content)
    assert response.status_code == 400
    error = check_envelope(response.content, 400, "INVALID_ARGUMENT")
    if message is not None:
        assert error["message"] == message


def test_missing_key_is_permission_denied(strict_server: MockServer) -> None:
    for path in (f"/v1beta/models/{MODEL}:generateContent", f"/v1/models/{MODEL}:generateContent"):
        response = post(strict_server, path, {"contents": [{"parts": [{"text": SKY}]}]}, {})
        assert response.status_code == 403
        error = check_envelope(response.content, 403, "PERMISSION_DENIED")
        assert error["message"].startswith("Method doesn't allow unregistered callers")
    assert httpx.get(strict_server.url + "/v1beta/models").status_code == 403


def test_bearer_token_is_a_key(strict_server: MockServer) -> None:
    response = post(
        strict_server,
        f"/v1beta/models/{MODEL}:generateContent",
        {"contents": [{"parts": [{"text": SKY}]}]},
        {"authorization": "Bearer ya29.token"},
    )
    assert response.status_code == 200


def test_unknown_action_and_path_are_gemini_404s(strict_server: MockServer) -> None:
    for path in (
        f"/v1beta/models/{MODEL}:doSomething",
        f"/v1/models/{MODEL}:doSomething",
        f"/v1beta/models/{MODEL}",
        "/v1beta/files",
        "/v1beta/cachedContents/abc",
    ):
        response = post(strict_server, path, {})
        assert response.status_code == 404, path
        check_envelope(response.content, 404, "NOT_FOUND")


def test_wrong_method(strict_server: MockServer) -> None:
    response = httpx.get(
        f"{strict_server.url}/v1beta/models/{MODEL}:generateContent",
        headers={"x-goog-api-key": KEY},
    )
    assert response.status_code == 405
    check_envelope(response.content, 405, "INVALID_ARGUMENT")
    response = httpx.put(
        f"{strict_server.url}/v1beta/models/{MODEL}:generateContent",
        headers={"x-goog-api-key": KEY},
    )
    assert response.status_code == 405
    check_envelope(response.content, 405, "INVALID_ARGUMENT")


def test_context_window(strict_server: MockServer) -> None:
    body = {"contents": [{"parts": [{"text": "word " * 2100}]}]}
    response = post(strict_server, "/v1beta/models/text-embedding-004:countTokens", body)
    assert response.status_code == 404  # an embedding model does not count for generation
    config = (
        'models: [{id: tiny-gemini, provider: gemini, context_window: 50}]\nresponses: {"hi": "x"}'
    )
    with MockServer(config_text=config) as small:
        response = post(small, "/v1beta/models/tiny-gemini:generateContent", body)
    assert response.status_code == 400
    error = check_envelope(response.content, 400, "INVALID_ARGUMENT")
    assert error["message"].startswith("The input token count (")
    assert error["message"].endswith("exceeds the maximum number of tokens allowed (50).")


# --- the paths Gemini shares -----------------------------------------------------------------


def test_v1_models_routing(strict_server: MockServer) -> None:
    base = strict_server.url
    gemini = httpx.get(base + "/v1/models", headers={"x-goog-api-key": KEY}).json()
    assert "models" in gemini and gemini["models"][0]["name"].startswith("models/")
    openai = httpx.get(base + "/v1/models", headers={"authorization": "Bearer sk"}).json()
    assert openai["object"] == "list"
    anthropic = httpx.get(base + "/v1/models", headers={"anthropic-version": "2023-06-01"}).json()
    assert "has_more" in anthropic
    one = httpx.get(base + f"/v1/models/{MODEL}", headers={"x-goog-api-key": KEY}).json()
    assert one["name"] == f"models/{MODEL}"
    # A ?key= caller of /v1/models is indistinguishable from an OpenAI client: OpenAI answers.
    assert httpx.get(base + f"/v1/models?key={KEY}").json()["object"] == "list"
    # ... while /v1beta is Gemini's alone.
    assert "models" in httpx.get(base + f"/v1beta/models?key={KEY}").json()


def test_v1_post_with_query_key_reaches_gemini(strict_server: MockServer) -> None:
    response = post(
        strict_server,
        f"/v1/models/{MODEL}:generateContent?key={KEY}",
        {"contents": [{"parts": [{"text": SKY}]}]},
        {},
    )
    assert response.status_code == 200
    assert response.json()["candidates"][0]["content"]["parts"] == [{"text": "Blue."}]


def test_other_providers_keep_their_v1_errors(strict_server: MockServer) -> None:
    base = strict_server.url
    # POST on an OpenAI model resource is still OpenAI's 405...
    response = httpx.post(base + "/v1/models/gpt-4o", headers={"authorization": "Bearer sk"})
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"
    # ... and Anthropic's with its header.
    response = httpx.post(
        base + "/v1/models/claude-opus-4-6", headers={"anthropic-version": "2023-06-01"}
    )
    assert response.status_code == 405 and response.json()["type"] == "error"
    # An unknown /v1 path is OpenAI's 404, unless the caller is Gemini's.
    response = httpx.get(base + "/v1/nothing-here")
    assert response.status_code == 404 and "type" in response.json()["error"]
    response = httpx.get(base + "/v1/nothing-here", headers={"x-goog-api-key": KEY})
    check_envelope(response.content, 404, "NOT_FOUND")
