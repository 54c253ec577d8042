"""The request journal and the admin API over a real socket: an application calls through
the official SDKs, the test asserts on what the journal recorded; rules replaced and added
at run time; the admin token; secrets never in the journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from mockllm.journal import Entry, Journal, is_secret, redact_query
from mockllm.testing import MockServer

CONFIG = """
responses:
  "what is the capital of france?": "Paris."
rules:
  - name: weather-report
    match: {tool_result: {tool: get_weather}}
    reply: "It is {{ tool_result('get_weather') }} in Paris."
  - name: weather
    match: {prompt: {contains: weather}}
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: Paris}
"""

TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


@pytest.fixture(autouse=True)
def clean(server: MockServer) -> None:
    server.reset()


def journal(server: MockServer, **params: str) -> list[dict[str, Any]]:
    response = httpx.get(server.url + "/-/requests", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def the_app_under_test(base_url: str) -> str:
    """A tiny 'application': asks for the weather, runs the tool, reports."""
    with openai.OpenAI(base_url=base_url, api_key="sk-app-secret-0001") as client:
        return _ask_twice(client)


def _ask_twice(client: openai.OpenAI) -> str:
    first = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=TOOLS,
        extra_headers={"x-mockllm-conversation": "app-1"},
    )
    call = first.choices[0].message.tool_calls
    assert call
    second = client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "user", "content": "What is the weather in Paris?"},
            first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call[0].id, "content": "sunny"},
        ],
        extra_headers={"x-mockllm-conversation": "app-1"},
    )
    return second.choices[0].message.content or ""


def test_an_app_calls_through_the_sdk_and_the_test_asserts_on_the_journal(
    server: MockServer,
) -> None:
    assert the_app_under_test(server.openai_url) == "It is sunny in Paris."
    entries = journal(server, conversation="app-1")
    assert [e["rule"] for e in entries] == ["weather", "weather-report"]
    first, second = entries
    assert first["dialect"] == "openai" and first["path"] == "/v1/chat/completions"
    assert first["method"] == "POST" and first["status"] == 200 and first["stream"] is False
    assert first["model"] == "gpt-4o"
    assert first["request"]["tools"][0]["function"]["name"] == "get_weather"
    assert first["usage"]["input_tokens"] > 0 and first["usage"]["output_tokens"] > 0
    assert second["request"]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": second["request"]["messages"][1]["tool_calls"][0]["id"],
        "content": "sunny",
    }
    assert second["reason"] is None
    assert 0 <= first["ttfb_ms"] <= first["duration_ms"]
    assert first["id"] < second["id"]
    assert first["time"].endswith("Z")


def test_an_entry_is_there_as_soon_as_the_answer_is(server: MockServer) -> None:
    with openai.OpenAI(base_url=server.openai_url, api_key="x") as client:
        _entries_as_answered(server, client)


def _entries_as_answered(server: MockServer, client: openai.OpenAI) -> None:
    for i in range(20):
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"hello {i}"}]
        )
        stream = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"hi {i}"}], stream=True
        )
        for _ in stream:
            pass
        assert len(journal(server)) == 2 * (i + 1)  # read right after the call: no wait


def test_streams_errors_and_other_dialects_are_journalled(server: MockServer) -> None:
    oai = openai.OpenAI(base_url=server.openai_url, api_key="x", max_retries=0)
    for _ in oai.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
    ):
        pass
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"x-mockllm-error": "429"},
        )
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="gpt-4o", messages=[])
    ant = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-secret", max_retries=0)
    ant.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=20,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )
    oai.close()
    ant.close()
    httpx.get(server.url + "/v1/nope")
    entries = journal(server)
    assert [(e["dialect"], e["status"], e["stream"]) for e in entries] == [
        ("openai", 200, True),
        ("openai", 429, False),
        ("openai", 400, False),
        ("anthropic", 200, False),
        ("openai", 404, False),
    ]
    assert entries[0]["rule"] == "responses" and entries[3]["rule"] == "responses"
    assert entries[2]["rule"] is None
    assert entries[1]["faults"] == ["error 429 (error)"] and entries[1]["model"] == "gpt-4o"
    assert journal(server, dialect="anthropic")[0]["model"] == "claude-sonnet-4-5"
    assert [e["status"] for e in journal(server, status="429")] == [429]
    assert len(journal(server, stream="true")) == 1
    assert len(journal(server, rule="responses")) == 2
    assert len(journal(server, path="/v1/messages")) == 1
    assert [e["id"] for e in journal(server, limit="2")] == [e["id"] for e in entries[-2:]]
    assert [e["id"] for e in journal(server, since=str(entries[2]["id"]))] == [
        e["id"] for e in entries[3:]
    ]
    lines = httpx.get(server.url + "/-/requests", params={"format": "jsonl"}).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [e["id"] for e in entries]


def test_bad_journal_queries_are_400s(server: MockServer) -> None:
    for params in ({"colour": "blue"}, {"limit": "many"}, {"since": "yesterday"}):
        response = httpx.get(server.url + "/-/requests", params=params)
        assert response.status_code == 400, params
        assert "error" in response.json()
    assert httpx.delete(server.url + "/-/requests").status_code == 200


SECRETS = ("sk-app-secret-0001", "sk-ant-secret", "goog-secret-key", "azure-secret-key")


def test_no_secret_is_ever_in_the_journal(server: MockServer) -> None:
    with openai.OpenAI(base_url=server.openai_url, api_key=SECRETS[0]) as oai:
        oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with anthropic.Anthropic(base_url=server.url, api_key=SECRETS[1]) as ant:
        ant.messages.create(
            model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    httpx.post(
        server.url + "/v1beta/models/gemini-2.5-flash:generateContent",
        params={"key": SECRETS[2]},
        json=body,
    )
    httpx.post(
        server.url + "/openai/deployments/gpt-4o/chat/completions",
        params={"api-version": "2024-10-21"},
        headers={"api-key": SECRETS[3]},
        json={"messages": [{"role": "user", "content": "hi"}]},
    )
    raw = httpx.get(server.url + "/-/requests").text
    raw += httpx.get(server.url + "/-/requests", params={"format": "jsonl"}).text
    for secret in SECRETS:
        assert secret not in raw
    entries = journal(server)
    assert len(entries) == 4
    assert entries[0]["headers"]["authorization"] == "[redacted]"
    assert entries[2]["query"] == "key=%5Bredacted%5D"
    assert entries[3]["headers"]["api-key"] == "[redacted]"


def test_put_rules_changes_the_answer_and_an_invalid_one_changes_nothing(
    server: MockServer,
) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="x")

    def ask() -> str:
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "What is the capital of France?"}]
        )
        return reply.choices[0].message.content or ""

    assert ask() == "Paris."
    before = httpx.get(server.url + "/-/rules").json()
    bad = httpx.put(
        server.url + "/-/rules", content="rules:\n  - match: {prompt: {equals: x}}\n    reply: {}\n"
    )
    assert bad.status_code == 400
    problems = bad.json()["error"]["problems"]
    assert problems and all(p.startswith("PUT /-/rules:") for p in problems)
    assert ask() == "Paris."  # nothing changed
    assert httpx.get(server.url + "/-/rules").json()["rules"] == before["rules"]
    good = httpx.put(
        server.url + "/-/rules",
        content=json.dumps({"responses": {"What is the capital of France?": "Lutetia."}}),
        headers={"content-type": "application/json"},
    )
    assert good.status_code == 200 and good.json()["responses"] == 1
    assert ask() == "Lutetia."
    server.write_config(CONFIG + "\n# touched\n")  # a file change puts the file back
    for _ in range(100):
        if ask() == "Paris.":
            break
        import time

        time.sleep(0.05)
    assert ask() == "Paris."
    client.close()


def test_post_rules_adds_in_front_until_reset(server: MockServer) -> None:
    client = openai.OpenAI(base_url=server.openai_url, api_key="x")

    def ask(prompt: str) -> tuple[str, str | None]:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": prompt}]
        )
        return raw.parse().choices[0].message.content or "", raw.headers.get("x-mockllm-rule")

    added = httpx.post(
        server.url + "/-/rules",
        content="rules:\n  - name: urgent\n    match: {prompt: {contains: weather}}\n"
        "    reply: Stormy.\n",
    )
    assert added.status_code == 200, added.text
    assert ask("weather in Oslo?") == ("Stormy.", "urgent")  # in front of the file's rule
    assert ask("What is the capital of France?") == ("Paris.", "responses")
    view = httpx.get(server.url + "/-/rules").json()
    assert [r["name"] for r in view["rules"]] == ["urgent", "weather-report", "weather"]
    assert view["rules"][0]["hits"] == 1 and view["responses_hits"] == 1
    assert view["added"] == 1
    httpx.post(server.url + "/-/reset")
    assert ask("weather in Oslo?")[1] == "weather"
    assert httpx.get(server.url + "/-/rules").json()["added"] == 0
    client.close()


def test_the_admin_token_guards_every_call_but_health() -> None:
    with MockServer(config_text=CONFIG, admin_token="s3cret") as server:
        calls = [
            ("GET", "/-/requests"),
            ("DELETE", "/-/requests"),
            ("GET", "/-/rules"),
            ("PUT", "/-/rules"),
            ("POST", "/-/rules"),
            ("POST", "/-/reset"),
            ("GET", "/-/ready"),
            ("GET", "/-/stats"),
        ]
        for method, path in calls:
            refused = httpx.request(method, server.url + path, content="responses: {a: b}")
            assert refused.status_code == 401, (method, path)
            wrong = httpx.request(
                method, server.url + path, headers={"authorization": "Bearer nope"}
            )
            assert wrong.status_code == 401, (method, path)
        assert httpx.get(server.url + "/-/health").status_code == 200
        ok = httpx.get(server.url + "/-/requests", headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        # the refused PUT changed nothing
        rules = httpx.get(server.url + "/-/rules", headers={"authorization": "Bearer s3cret"})
        assert [r["name"] for r in rules.json()["rules"]] == ["weather-report", "weather"]


def test_the_journal_is_bounded() -> None:
    with MockServer(config_text=CONFIG, journal_size=3) as server:
        with openai.OpenAI(base_url=server.openai_url, api_key="x") as client:
            for i in range(5):
                client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": f"n{i}"}]
                )
        entries = journal(server)
        assert [e["request"]["messages"][0]["content"] for e in entries] == ["n2", "n3", "n4"]
    with MockServer(config_text=CONFIG, journal_size=0) as server:
        with openai.OpenAI(base_url=server.openai_url, api_key="x") as client:
            client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "What is the capital of France?"}],
            )
        assert journal(server) == []
        rules = httpx.get(server.url + "/-/rules").json()
        assert rules["responses_hits"] == 1  # hit counts without a kept journal


def test_redaction_rules() -> None:
    for name in ("authorization", "x-api-key", "api-key", "x-goog-api-key", "x-session-token"):
        assert is_secret(name)
    for name in ("content-type", "x-mockllm-conversation", "anthropic-version", "keyboard"):
        assert not is_secret(name)
    assert redact_query("key=abc&alt=sse") == "key=%5Bredacted%5D&alt=sse"
    assert redact_query("api-version=2024-10-21") == "api-version=2024-10-21"


def test_an_entry_with_a_body_that_is_not_json() -> None:
    journal_ = Journal(2)
    entry = Entry(
        1, 0.0, "openai", "POST", "/v1/x", "", [], b"\xff not json", 400, False, 1.0, None
    )
    journal_.add(entry)
    shown = journal_.entries()[0].as_dict()
    assert shown["request"] == "\ufffd not json"
    assert shown["time"] == "1970-01-01T00:00:00.000Z"


def test_hostile_rule_bodies_are_400s_and_the_server_goes_on(server: MockServer) -> None:
    for body in ("rules: []\x00\n", "rules: []\x1b\n", "settings: {latency: {ttft_ms: .inf}}\n"):
        for method in ("PUT", "POST"):
            answer = httpx.request(method, server.url + "/-/rules", content=body.encode())
            assert answer.status_code == 400, (method, body, answer.text)
            assert answer.json()["error"]["problems"]
    nan = httpx.put(server.url + "/-/rules", content="settings: {latency: {itl_ms: .nan}}\n")
    assert nan.status_code == 400
    for params in ({"since": "\u00b2"}, {"limit": "\u0661"}, {"limit": "9" * 5000}):
        answer = httpx.get(server.url + "/-/requests", params=params)
        assert answer.status_code == 400, params
        assert "4300" not in answer.text
    with openai.OpenAI(base_url=server.openai_url, api_key="x") as client:
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "What is the capital of France?"}]
        )
    assert reply.choices[0].message.content == "Paris."


def test_a_method_an_admin_url_does_not_serve_gets_a_json_405_naming_the_allowed_ones() -> None:
    with MockServer(config_text=CONFIG) as server:
        for method, path, allowed in (
            ("PATCH", "/-/rules", "GET, HEAD, POST, PUT"),
            ("GET", "/-/reset", "POST"),
            ("POST", "/-/health", "GET, HEAD"),
            ("POST", "/metrics", "GET, HEAD"),
        ):
            answer = httpx.request(method, server.url + path)
            assert answer.status_code == 405, (method, path)
            assert answer.headers["allow"] == allowed
            assert answer.json()["error"]["type"] == "method_not_allowed"
            assert method in answer.json()["error"]["message"]
        # and the URLs still serve their own methods
        assert httpx.post(server.url + "/-/reset").status_code == 200
