"""What a request is matched on, how its file is named, how a miss words the difference,
and the file format's round trip."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mockllm.cassettes.format import Cassette, dumps, parse, split_events
from mockllm.cassettes.normalize import (
    differences,
    file_name,
    folder_of_test,
    normalise,
    request_key,
)
from mockllm.cassettes.recorder import Upstreams, scrub
from mockllm.cassettes.replayer import parse_timing


def norm(
    dialect: str,
    body: dict[str, Any] | None,
    path: str = "/v1/chat/completions",
    query: str = "",
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    raw = orjson.dumps(body) if body is not None else b""
    return normalise(dialect, "POST", path, query, params or {}, raw)


CHAT: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def test_volatile_fields_do_not_count() -> None:
    plain = norm("openai", CHAT)
    tagged = norm(
        "openai",
        {**CHAT, "user": "u-1", "metadata": {"run": "7"}, "store": True, "prompt_cache_key": "x"},
    )
    assert (
        tagged
        == plain
        == {
            "dialect": "openai",
            "method": "POST",
            "path": "/v1/chat/completions",
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "hi"}],
        }
    )
    assert request_key(plain) == request_key(tagged)
    anthropic = {**CHAT, "max_tokens": 5}
    assert norm("anthropic", {**anthropic, "metadata": {"user_id": "a"}}) == norm(
        "anthropic", anthropic
    )
    assert norm("ollama", {**CHAT, "keep_alive": "5m"}) == norm("ollama", CHAT)


def test_what_changes_the_answer_counts() -> None:
    plain = request_key(norm("openai", CHAT))
    for changed in (
        {**CHAT, "model": "gpt-4o-mini"},
        {**CHAT, "temperature": 0.5},
        {**CHAT, "stream": True},
        {**CHAT, "stream_options": {"include_usage": True}},
        {**CHAT, "tools": [{"type": "function", "function": {"name": "f"}}]},
        {**CHAT, "messages": [{"role": "user", "content": "hi!"}]},
    ):
        assert request_key(norm("openai", changed)) != plain, changed
    assert request_key(norm("azure", CHAT)) != plain  # the dialect counts


def test_ids_count_by_their_links_not_their_values() -> None:
    def conversation(call_id: str) -> dict[str, Any]:
        return {
            "model": "gpt-4o",
            "messages": [
                {"role": "user", "content": "weather?"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "w"}}],
                },
                {"role": "tool", "tool_call_id": call_id, "content": "sunny"},
            ],
        }

    a, b = norm("openai", conversation("call_abc")), norm("openai", conversation("call_xyz"))
    assert a == b
    assert a["messages"][2]["tool_call_id"] == "id-1"
    crossed = conversation("call_abc")
    crossed["messages"][2]["tool_call_id"] = "call_other"
    assert norm("openai", crossed) != a


def test_secrets_and_api_version_leave_the_query_and_fields_are_redacted() -> None:
    gemini = norm(
        "gemini",
        {"contents": [{"parts": [{"text": "hi"}]}], "api_key": "k", "session": "s"},
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        "alt=sse&key=secret",
        {"model": "gemini-2.5-flash:streamGenerateContent"},
    )
    assert gemini["query"] == {"alt": "sse"}
    assert gemini["model"] == "gemini-2.5-flash"
    assert gemini["messages"] == [{"parts": [{"text": "hi"}]}]
    assert gemini["params"] == {"api_key": "[redacted]", "session": "s"}
    azure = norm(
        "azure",
        {"messages": [{"role": "user", "content": "hi"}]},
        "/openai/deployments/dep/chat/completions",
        "api-version=2024-10-21",
        {"deployment": "dep"},
    )
    assert "query" not in azure and azure["model"] == "dep"
    redacted = normalise(
        "openai",
        "POST",
        "/v1/x",
        "",
        {},
        orjson.dumps({"a": {"session": "s"}}),
        frozenset({"session"}),
    )
    assert redacted["params"] == {"a": {"session": "[redacted]"}}


def test_bodies_that_are_not_objects_and_no_body() -> None:
    assert norm("ollama", None, "/api/tags") == {
        "dialect": "ollama",
        "method": "POST",
        "path": "/api/tags",
    }
    odd = normalise("openai", "POST", "/v1/x", "", {}, b"not json")
    assert odd["params"] == {"body_text": "not json"}


def test_file_names_read_well() -> None:
    request = norm(
        "openai",
        {
            **CHAT,
            "messages": [
                {"role": "user", "content": "What's the weather in Paris, today and tomorrow?"}
            ],
        },
    )
    key = request_key(request)
    assert file_name(request, key, 0) == (
        f"openai-gpt-4o-what-s-the-weather-in-paris-{key[:8]}.yml"
    )
    assert file_name(request, key, 2).endswith(f"-{key[:8]}-2.yml")
    listing = normalise("openai", "GET", "/v1/models", "", {}, b"")
    assert file_name(listing, "abcdef0123", 0) == "openai-models-abcdef01.yml"
    assert folder_of_test("tests/test_a.py::test_b[x-1]") == "tests_test_a.py_test_b_x-1"
    assert folder_of_test("  ") is None and folder_of_test(None) is None


def test_differences_in_words() -> None:
    here = norm(
        "openai",
        {
            **CHAT,
            "temperature": 0.2,
            "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        },
    )
    there = norm(
        "openai", {**CHAT, "model": "gpt-4.1", "messages": [{"role": "user", "content": "a"}]}
    )
    assert differences(here, there) == [
        "model: 'gpt-4o' here, 'gpt-4.1' recorded",
        "2 messages here, 1 recorded",
        "parameter temperature: '0.2' here, not recorded",
    ]
    assert differences(here, here) == []
    gemini_a = norm("gemini", {}, "/v1beta/models/a:generateContent", params={"model": "a"})
    gemini_b = norm("gemini", {}, "/v1beta/models/b:generateContent", params={"model": "b"})
    assert differences(gemini_a, gemini_b) == ["model: 'a' here, 'b' recorded"]


def test_events_are_split_where_they_end() -> None:
    pieces = [(1.0, b"data: a\n\nda"), (2.0, b"ta: b\n\n"), (3.0, b"data: [DONE]\n\n")]
    assert split_events(pieces, "text/event-stream") == [
        (1.0, b"data: a\n\n"),
        (2.0, b"data: b\n\n"),
        (3.0, b"data: [DONE]\n\n"),
    ]
    lines = [(1.0, b'{"a":1}\n{"b"'), (2.0, b":2}\n")]
    assert split_events(lines, "application/x-ndjson") == [
        (1.0, b'{"a":1}\n'),
        (2.0, b'{"b":2}\n'),
    ]
    assert split_events([(1.0, b"tail")], "text/event-stream") == [(1.0, b"tail")]


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"b":[1.5,null,true],"c":"\\u00e9t\\u00e9 \xf0\x9f\x91\x8b"}',
        b'{\n  "pretty": true\n}',
        b"\xff\xfe not utf-8",
        b'{"n": 1e400}',
        b"",
    ],
)
def test_whole_bodies_read_back_byte_for_byte(body: bytes) -> None:
    cassette = Cassette(
        request=norm("openai", CHAT),
        status=200,
        headers={"content-type": "application/json"},
        body=body,
        name="x.yml",
    )
    assert parse(dumps(cassette), "x.yml").body == body


def test_events_read_back_byte_for_byte() -> None:
    events = [
        (1.0, b'event: a\ndata: {"x": "  lead"}\n\n'),
        (2.25, b"data: trailing spaces   \n\n"),
        (3.0, b"\r\ndata: crlf\r\n\r\n"),
        (4.0, b"\x80 binary"),
    ]
    cassette = Cassette(
        request=norm("openai", CHAT),
        status=200,
        headers={"content-type": "text/event-stream"},
        events=events,
        name="x.yml",
    )
    text = dumps(cassette)
    assert "data: |+\n      event: a\n" in text  # a readable literal block
    assert parse(text, "x.yml").events == [(1.0, events[0][1]), (2.2, events[1][1]), *events[2:]]


def test_scrub_redacts_secrets_and_fields_only_when_present() -> None:
    body = b'{"echo":"key sk-123456789","api_token":"t"}'
    assert scrub(body, [b"sk-123456789"], frozenset({"api_token"}), "application/json") == (
        b'{"echo":"key [redacted]","api_token":"[redacted]"}'
    )
    sse = b'event: x\ndata: {"api_token":"t"}\n\n'
    assert scrub(sse, [], frozenset({"api_token"}), "text/event-stream") == (
        b'event: x\ndata: {"api_token":"[redacted]"}\n\n'
    )
    plain = b'{"a": 1}'
    assert scrub(plain, [b"zzzzzz"], frozenset({"api_token"}), "application/json") is plain


def test_upstreams_and_timing() -> None:
    ups = Upstreams.parse(
        "http://a:1/, anthropic=https://b, gemini=http://c?x=y", ["openai", "anthropic", "gemini"]
    )
    assert ups.url("openai") == "http://a:1" and ups.url("anthropic") == "https://b"
    assert ups.url("gemini") == "http://c?x=y"
    only = Upstreams.parse("ollama=http://o", ["ollama", "openai"])
    assert only.url("openai") is None and only.url("ollama") == "http://o"
    assert parse_timing("recorded") == 1.0 and parse_timing("fast") == 0.0
    assert parse_timing("0.5") == 0.5
    with pytest.raises(ValueError):
        parse_timing("-1")
