"""What the server tells its user while it serves: one line per request, the reasons of
template errors and strict-mode misses, and the state-changing admin URL behind a token."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from mockllm.testing import MockServer

CONFIG = """
settings:
  strict: false
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: "It is sunny."
  - name: broken-template
    match: {prompt: broken}
    reply: "{{ tool_args('search') }}"
"""


@pytest.fixture(scope="module")
def logged_server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


def request_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mockllm.requests"]


def chat(server: MockServer, prompt: str, **extra: object) -> httpx.Response:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}], **extra}
    return httpx.post(server.openai_url + "/chat/completions", json=body, timeout=10)


def test_one_line_per_request_names_dialect_model_rule_status_and_kind(
    logged_server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mockllm")
    assert chat(logged_server, "weather in Paris?").status_code == 200
    assert chat(logged_server, "something else", stream=True).status_code == 200
    anthropic = httpx.post(
        logged_server.url + "/v1/messages",
        headers={"anthropic-version": "2023-06-01", "x-api-key": "x"},
        json={"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": []},
        timeout=10,
    )
    assert anthropic.status_code == 400
    assert httpx.get(logged_server.openai_url + "/nowhere", timeout=10).status_code == 404
    lines = request_lines(caplog)
    assert len(lines) == 4, lines
    assert lines[0].startswith(
        "POST /v1/chat/completions openai model=gpt-4o rule=weather 200 json "
    )
    assert lines[1].startswith(
        "POST /v1/chat/completions openai model=gpt-4o no rule: default 200 stream "
    )
    assert lines[2].startswith("POST /v1/messages anthropic model=- no rule 400 json ")
    assert lines[3].startswith("GET /v1/nowhere openai model=- no rule 404 json ")
    assert all(line.endswith(" ms") for line in lines)


def test_a_template_error_is_logged_with_its_reason(
    logged_server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mockllm")
    answer = chat(logged_server, "broken")
    assert answer.status_code == 500
    errors = [r for r in caplog.records if r.name == "mockllm.engine"]
    assert len(errors) == 1 and errors[0].levelno == logging.ERROR
    assert "template error in rule 'broken-template'" in errors[0].getMessage()
    assert "tool_args('search')" in errors[0].getMessage()
    assert errors[0].getMessage() in answer.json()["error"]["message"]
    assert request_lines(caplog)[-1].startswith(
        "POST /v1/chat/completions openai model=gpt-4o rule=broken-template 500 json"
    )


def test_a_strict_mode_miss_is_logged_with_the_closest_rules(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mockllm")
    with MockServer(config_text=CONFIG.replace("strict: false", "strict: true")) as server:
        answer = chat(server, "nothing matches this")
    assert answer.status_code == 400
    warnings = [r for r in caplog.records if r.name == "mockllm.engine"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "no rule matched this request (strict mode)" in warnings[0].getMessage()
    assert "'weather'" in warnings[0].getMessage()


def test_the_request_log_can_be_turned_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockllm")
    with MockServer(config_text=CONFIG, request_log=False) as server:
        assert chat(server, "weather?").status_code == 200
    assert request_lines(caplog) == []


def test_admin_reset_needs_the_token_when_one_is_set() -> None:
    with MockServer(config_text=CONFIG, admin_token="s3cret") as server:
        url = server.url + "/-/reset"
        refused = httpx.post(url, timeout=10)
        assert refused.status_code == 401
        assert "MOCKLLM_ADMIN_TOKEN" in refused.json()["error"]["message"]
        wrong = httpx.post(url, headers={"authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 401
        done = httpx.post(url, headers={"authorization": "Bearer s3cret"}, timeout=10)
        assert done.status_code == 200 and done.json()["reset"][0] == "sequence_counters"
        # health stays open: probes carry no token
        assert httpx.get(server.url + "/-/health", timeout=10).status_code == 200


def test_stats_show_what_the_server_keeps_and_need_the_token() -> None:
    config = "rules:\n  - {name: seq, match: {prompt: step}, sequence: [one, two]}\n"
    with MockServer(config_text=config, admin_token="s3cret") as server:
        auth = {"authorization": "Bearer s3cret"}
        assert httpx.get(server.url + "/-/stats", timeout=10).status_code == 401
        for conversation in ("a", "b"):
            answer = httpx.post(
                server.openai_url + "/chat/completions",
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": "step"}]},
                headers={"x-mockllm-conversation": conversation},
                timeout=10,
            )
            assert answer.status_code == 200
        stats = httpx.get(server.url + "/-/stats", headers=auth, timeout=10).json()
        assert stats["sequence_counters"] == 2
        assert stats["token_cache_entries"] >= 1 and stats["token_cache_bytes"] > 0
        assert stats["asyncio_tasks"] >= 1
        httpx.post(server.url + "/-/reset", headers=auth, timeout=10)
        stats = httpx.get(server.url + "/-/stats", headers=auth, timeout=10).json()
        assert stats["sequence_counters"] == 0
