"""Gemini ``generateContent`` (wire-formats.md section 6) through the official ``google-genai``
SDK, on both API versions (pitfall P24: google-genai 3.x defaults to ``v1``, the REST docs and
1.x use ``v1beta``), and at the byte level.

Every raw response is validated against the SDK's own ``GenerateContentResponse`` model
(``extra="forbid"``, strict JSON mode) and checked to use camelCase keys only (P26).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from google import genai
from google.genai import types
from pydantic import BaseModel

from mockllm.core.tokens import Tokenizer
from mockllm.testing import MockServer

MODEL = "gemini-2.5-flash"
KEY = "test-key"
SKY = "what colour is the sky?"
SKY_ANSWER = "The sky is blue during a clear day."
LONG_ANSWER = "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
UNICODE_ANSWER = "Grüße 👋 — 日本語のテキスト."

CONFIG = """
responses:
  "what colour is the sky?": "The sky is blue during a clear day."
  "long answer": "One two three four five six seven eight nine ten. STOP here. Eleven twelve."
  "unicode": "Grüße 👋 — 日本語のテキスト."
defaults:
  unknown_response: "I don't know."
  after_tool_result: "Done with tools."
rules:
  - name: system-echo
    match: {prompt: {exact: "system?"}}
    reply: "System says: {{ system }}"
  - name: history
    match: {prompt: {exact: "and now?"}, turn: 2}
    reply: "Turn {{ turn }} after {{ messages[1].content }}"
  - name: weather-call
    match: {prompt: {icontains: weather}, tools: [get_weather], tool_result: false}
    reply:
      text: "Let me check."
      tool_calls:
        - name: get_weather
          arguments: {city: "{{ prompt.split()[-1] | trim('?') }}"}
  - name: weather-answer
    match: {tool_result: {tool: get_weather}}
    reply: "It is {{ tool_result('get_weather') }} in {{ tool_args('get_weather').city }}."
  - name: parallel
    match: {prompt: {exact: two cities}}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
        - {name: get_weather, arguments: {city: Rome}}
  - name: think
    match: {prompt: {exact: think first}}
    reply: {text: "Forty-two.", reasoning: "The user wants the answer."}
  - name: refuse
    match: {prompt: {exact: do something bad}}
    reply: {refusal: "I can't help with that."}
  - name: endpoint
    match: {prompt: {exact: which endpoint}, provider: gemini}
    reply: "{{ provider }}/{{ endpoint }}"
"""


class Person(BaseModel):
    name: str
    age: int
    tags: list[str]


@pytest.fixture(scope="module")
def gemini_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(scope="module", params=["v1beta", "v1"])
def client(request: pytest.FixtureRequest, gemini_server: MockServer) -> Iterator[genai.Client]:
    options = types.HttpOptions(base_url=gemini_server.url, api_version=request.param)
    with genai.Client(api_key=KEY, http_options=options) as sdk:
        yield sdk


ENCODING = Tokenizer().encoding("o200k_base")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def camel_only(value: Any, where: str = "") -> None:
    """No response key contains ``_`` (function-call ``args`` are the caller's data)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert "_" not in key, f"snake_case key {where}.{key}"
            if key != "args":
                camel_only(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            camel_only(item, f"{where}[{i}]")


def check_response(raw: bytes) -> types.GenerateContentResponse:
    """The SDK's model of a raw GenerateContentResponse, after the wire checks."""
    camel_only(orjson.loads(raw))
    return types.GenerateContentResponse.model_validate_json(raw, strict=True)


def post(server: MockServer, body: dict[str, Any], version: str = "v1beta") -> httpx.Response:
    return httpx.post(
        f"{server.url}/{version}/models/{MODEL}:generateContent",
        headers={"x-goog-api-key": KEY},
        json=body,
        timeout=10,
    )


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


WEATHER_TOOL = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Current weather of a city.",
            parameters=types.Schema(
                type=types.Type.OBJECT,
                properties={"city": types.Schema(type=types.Type.STRING)},
                required=["city"],
            ),
        )
    ]
)


# --- text ------------------------------------------------------------------------------------


def test_text_answer_and_usage(client: genai.Client) -> None:
    response = client.models.generate_content(model=MODEL, contents=SKY)
    assert response.text == SKY_ANSWER
    candidate = (response.candidates or [])[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.index == 0
    assert candidate.content is not None and candidate.content.role == "model"
    usage = response.usage_metadata
    assert usage is not None
    assert usage.candidates_token_count == tokens(SKY_ANSWER)
    assert usage.prompt_token_count == 3 + 3 + tokens("user") + tokens(SKY)
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert usage.thoughts_token_count is None
    details = usage.prompt_tokens_details or []
    assert details[0].modality == types.MediaModality.TEXT
    assert details[0].token_count == usage.prompt_token_count
    assert response.model_version == MODEL
    assert response.response_id and len(response.response_id) == 22


def test_system_instruction(client: genai.Client) -> None:
    config = types.GenerateContentConfig(system_instruction="Be brief.")
    response = client.models.generate_content(model=MODEL, contents="system?", config=config)
    assert response.text == "System says: Be brief."


def test_history(client: genai.Client) -> None:
    contents = [
        types.Content(role="user", parts=[types.Part(text="hello")]),
        types.Content(role="model", parts=[types.Part(text="Hi there.")]),
        types.Content(role="user", parts=[types.Part(text="and now?")]),
    ]
    response = client.models.generate_content(model=MODEL, contents=contents)
    assert response.text == "Turn 2 after Hi there."


def test_provider_and_endpoint_names(client: genai.Client) -> None:
    response = client.models.generate_content(model=MODEL, contents="which endpoint")
    assert response.text == "gemini/generateContent"


def test_unicode(client: genai.Client) -> None:
    response = client.models.generate_content(model=MODEL, contents="unicode")
    assert response.text == UNICODE_ANSWER


def test_chat_session(client: genai.Client) -> None:
    chat = client.chats.create(model=MODEL)
    assert chat.send_message("hello").text == "I don't know."
    assert chat.send_message("and now?").text == "Turn 2 after I don't know."


def test_max_output_tokens(client: genai.Client) -> None:
    config = types.GenerateContentConfig(max_output_tokens=3)
    response = client.models.generate_content(model=MODEL, contents="long answer", config=config)
    assert response.text == ENCODING.decode(ENCODING.encode_ordinary(LONG_ANSWER)[:3])
    candidate = (response.candidates or [])[0]
    assert candidate.finish_reason == types.FinishReason.MAX_TOKENS
    assert response.usage_metadata and response.usage_metadata.candidates_token_count == 3


def test_stop_sequences(client: genai.Client) -> None:
    config = types.GenerateContentConfig(stop_sequences=["STOP"])
    response = client.models.generate_content(model=MODEL, contents="long answer", config=config)
    assert response.text == LONG_ANSWER[: LONG_ANSWER.index("STOP")]
    assert (response.candidates or [])[0].finish_reason == types.FinishReason.STOP


def test_candidate_count(client: genai.Client) -> None:
    config = types.GenerateContentConfig(candidate_count=3)
    response = client.models.generate_content(model=MODEL, contents=SKY, config=config)
    candidates = response.candidates or []
    assert [c.index for c in candidates] == [0, 1, 2]
    for candidate in candidates:
        assert candidate.content and (candidate.content.parts or [])[0].text == SKY_ANSWER
    assert response.usage_metadata
    assert response.usage_metadata.candidates_token_count == 3 * tokens(SKY_ANSWER)


def test_refusal_is_safety(client: genai.Client) -> None:
    response = client.models.generate_content(model=MODEL, contents="do something bad")
    candidate = (response.candidates or [])[0]
    assert candidate.finish_reason == types.FinishReason.SAFETY
    assert candidate.safety_ratings and candidate.safety_ratings[0].blocked is True
    assert response.text == "I can't help with that."


def test_thoughts_only_when_asked(client: genai.Client) -> None:
    hidden = client.models.generate_content(model=MODEL, contents="think first")
    assert hidden.text == "Forty-two."
    parts = (hidden.candidates or [])[0].content
    assert parts is not None and not any(p.thought for p in parts.parts or [])
    thoughts = tokens("The user wants the answer.")
    usage = hidden.usage_metadata
    assert usage and usage.thoughts_token_count == thoughts
    assert usage.candidates_token_count == tokens("Forty-two.")
    assert usage.total_token_count == (
        (usage.prompt_token_count or 0) + usage.candidates_token_count + thoughts
    )
    config = types.GenerateContentConfig(
        thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=1024)
    )
    shown = client.models.generate_content(model=MODEL, contents="think first", config=config)
    content = (shown.candidates or [])[0].content
    assert content is not None
    first, second = content.parts or []
    assert first.thought is True and first.text == "The user wants the answer."
    assert second.text == "Forty-two." and second.thought_signature
    assert shown.text == "Forty-two."


# --- function calling --------------------------------------------------------------------------


def test_function_call(client: genai.Client) -> None:
    config = types.GenerateContentConfig(tools=[WEATHER_TOOL])
    response = client.models.generate_content(
        model=MODEL, contents="What is the weather in Paris?", config=config
    )
    calls = response.function_calls or []
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert calls[0].args == {"city": "Paris"}
    assert calls[0].id
    candidate = (response.candidates or [])[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.content and (candidate.content.parts or [])[0].text == "Let me check."


def test_two_step_agent_loop(client: genai.Client) -> None:
    config = types.GenerateContentConfig(tools=[WEATHER_TOOL])
    history = [types.Content(role="user", parts=[types.Part(text="weather in Rome?")])]
    first = client.models.generate_content(model=MODEL, contents=history, config=config)
    call = (first.function_calls or [])[0]
    assert call.args == {"city": "Rome"}
    content = (first.candidates or [])[0].content
    assert content is not None
    history.append(content)
    history.append(
        types.Content(
            role="user",
            parts=[
                types.Part.from_function_response(name="get_weather", response={"result": "sunny"})
            ],
        )
    )
    final = client.models.generate_content(model=MODEL, contents=history, config=config)
    assert final.text == "It is sunny in Rome."
    assert not final.function_calls


def test_automatic_function_calling(client: genai.Client) -> None:
    seen: list[str] = []

    def get_weather(city: str) -> str:
        """Current weather of a city."""
        seen.append(city)
        return "rainy"

    config = types.GenerateContentConfig(tools=[get_weather])
    response = client.models.generate_content(
        model=MODEL, contents="Weather in Oslo?", config=config
    )
    assert seen == ["Oslo"]
    assert response.text == "It is rainy in Oslo."
    history = response.automatic_function_calling_history or []
    assert [c.role for c in history] == ["user", "model", "user"]


def test_parallel_calls_and_responses_without_ids(gemini_server: MockServer) -> None:
    tools = [{"functionDeclarations": [{"name": "get_weather", "parameters": {"type": "OBJECT"}}]}]
    first = post(gemini_server, {"contents": [user("two cities")], "tools": tools})
    assert first.status_code == 200
    parts = orjson.loads(first.content)["candidates"][0]["content"]["parts"]
    assert [p["functionCall"]["args"] for p in parts] == [{"city": "Paris"}, {"city": "Rome"}]
    assert len({p["functionCall"]["id"] for p in parts}) == 2
    # A history that names no ids (as REST users write it) still pairs calls and results.
    history = [
        user("two cities"),
        {
            "role": "model",
            "parts": [{"functionCall": p["functionCall"] | {"id": None}} for p in parts],
        },
        {
            "role": "function",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"result": "warm"}}},
                {"functionResponse": {"name": "get_weather", "response": {"result": "hot"}}},
            ],
        },
    ]
    final = post(gemini_server, {"contents": history, "tools": tools})
    assert orjson.loads(final.content)["candidates"][0]["content"]["parts"] == [
        {"text": "It is hot in Rome."}
    ]


def test_forced_tool_choice_generates_valid_arguments(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        tools=[WEATHER_TOOL],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["get_weather"]
            )
        ),
    )
    response = client.models.generate_content(model=MODEL, contents="hello", config=config)
    calls = response.function_calls or []
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert isinstance((calls[0].args or {}).get("city"), str)


def test_tool_choice_none_gets_text(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        tools=[WEATHER_TOOL],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.NONE
            )
        ),
    )
    response = client.models.generate_content(model=MODEL, contents="hello", config=config)
    assert response.text == "I don't know." and not response.function_calls


# --- structured output -------------------------------------------------------------------------


def test_response_schema_pydantic_parsed(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=Person
    )
    response = client.models.generate_content(model=MODEL, contents="a person", config=config)
    assert isinstance(response.parsed, Person)
    assert Person.model_validate_json(response.text or "") == response.parsed


def test_response_json_schema(client: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema=Person.model_json_schema()
    )
    response = client.models.generate_content(model=MODEL, contents="a person", config=config)
    Person.model_validate_json(response.text or "")


def test_json_mode_without_schema(client: genai.Client) -> None:
    config = types.GenerateContentConfig(response_mime_type="application/json")
    response = client.models.generate_content(model=MODEL, contents="anything", config=config)
    assert orjson.loads(response.text or "") == {"response": "I don't know."}


def test_uppercase_openapi_schema_raw(gemini_server: MockServer) -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "colour": {"type": "STRING", "enum": ["red", "blue"]},
            "count": {"type": "INTEGER", "minimum": 1, "maximum": 3},
            "note": {"type": "STRING", "nullable": True},
        },
        "required": ["colour", "count"],
        "propertyOrdering": ["colour", "count", "note"],
    }
    body = {
        "contents": [user("json please")],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
    }
    response = post(gemini_server, body)
    value = orjson.loads(check_response(response.content).text or "")
    assert value["colour"] in ("red", "blue") and 1 <= value["count"] <= 3


# --- the wire --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1beta", "v1"])
def test_raw_response_shape(gemini_server: MockServer, version: str) -> None:
    response = post(gemini_server, {"contents": [user(SKY)]}, version)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-mockllm-rule"]
    body = orjson.loads(response.content)
    assert list(body) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    assert body["candidates"] == [
        {
            "content": {"parts": [{"text": SKY_ANSWER}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
    ]
    check_response(response.content)


def test_raw_snake_case_request(gemini_server: MockServer) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "system?"}]}],
        "system_instruction": {"parts": [{"text": "Snake."}]},
        "generation_config": {"max_output_tokens": 50, "stop_sequences": ["zzz"]},
    }
    response = post(gemini_server, body)
    assert response.status_code == 200
    assert check_response(response.content).text == "System says: Snake."


def test_raw_function_call_wire(gemini_server: MockServer) -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parametersJsonSchema": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                    },
                }
            ]
        }
    ]
    response = post(gemini_server, {"contents": [user("weather in Lima")], "tools": tools})
    parsed = check_response(response.content)
    candidate = orjson.loads(response.content)["candidates"][0]
    call = candidate["content"]["parts"][1]["functionCall"]
    assert call["name"] == "get_weather" and call["args"] == {"city": "Lima"}
    assert call["id"].startswith("call_")
    assert candidate["finishReason"] == "STOP"
    assert parsed.function_calls and parsed.function_calls[0].args == {"city": "Lima"}


def test_query_key_auth(gemini_server: MockServer) -> None:
    response = httpx.post(
        f"{gemini_server.url}/v1beta/models/{MODEL}:generateContent?key={KEY}",
        json={"contents": [user(SKY)]},
        timeout=10,
    )
    assert response.status_code == 200
    assert check_response(response.content).text == SKY_ANSWER


def test_inline_data_and_file_data_parts(gemini_server: MockServer) -> None:
    parts = [
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.com/a.pdf"}},
        {"text": SKY},
    ]
    response = post(gemini_server, {"contents": [{"role": "user", "parts": parts}]})
    assert check_response(response.content).text == SKY_ANSWER


# google-genai's aiohttp transport (used when aiohttp is installed) trips aiohttp's warning.
@pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")
def test_async_client(gemini_server: MockServer) -> None:
    async def main() -> tuple[str | None, str]:
        options = types.HttpOptions(base_url=gemini_server.url, api_version="v1beta")
        with genai.Client(api_key=KEY, http_options=options) as sync_sdk:
            async with sync_sdk.aio as sdk:
                response = await sdk.models.generate_content(model=MODEL, contents=SKY)
                text = ""
                stream = await sdk.models.generate_content_stream(model=MODEL, contents=SKY)
                async for chunk in stream:
                    text += chunk.text or ""
                return response.text, text

    assert asyncio.run(main()) == (SKY_ANSWER, SKY_ANSWER)
