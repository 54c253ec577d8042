"""Sequences per conversation, with and without the conversation header, under concurrency
and across a config reload."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import anthropic
import openai
import pytest
from anthropic.types import MessageParam, TextBlock
from openai.types.chat import ChatCompletionMessageParam

from mockllm.testing import MockServer
from rules.scenario_support import (
    CLAUDE,
    CONVERSATION,
    GPT,
    Ask,
    anthropic_asker,
    new_id,
    openai_asker,
)

# --- sequences --------------------------------------------------------------------------------


@pytest.fixture(params=["openai", "anthropic"])
def ask(request: pytest.FixtureRequest, oai: openai.OpenAI, claude: anthropic.Anthropic) -> Ask:
    return openai_asker(oai) if request.param == "openai" else anthropic_asker(claude)


def test_sequence_repeats_its_last_reply(ask: Ask) -> None:
    headers = {CONVERSATION: new_id()}
    assert [ask("count", headers) for _ in range(5)] == ["one", "two", "three", "three", "three"]


def test_sequence_cycles(ask: Ask) -> None:
    headers = {CONVERSATION: new_id()}
    assert [ask("cycle", headers) for _ in range(5)] == ["a", "b", "a", "b", "a"]


def test_exhausted_sequence_is_a_400(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    headers = {CONVERSATION: new_id()}
    ask_openai = openai_asker(oai)
    assert [ask_openai("limited", headers), ask_openai("limited", headers)] == ["first", "second"]
    with pytest.raises(openai.BadRequestError) as caught:
        ask_openai("limited", headers)
    assert caught.value.code == "mockllm_sequence_exhausted"
    assert "'limited'" in caught.value.message and "exhausted" in caught.value.message
    with pytest.raises(openai.BadRequestError):
        ask_openai("limited", headers)  # and stays exhausted
    # the same conversation name through the other SDK is the same conversation
    with pytest.raises(anthropic.BadRequestError) as caught_claude:
        anthropic_asker(claude)("limited", headers)
    assert "exhausted" in caught_claude.value.message
    # another conversation starts from the beginning
    assert ask_openai("limited", {CONVERSATION: new_id()}) == "first"


def test_conversation_header_through_client_default_headers(
    scenario_server: MockServer,
) -> None:
    name = new_id()
    with (
        openai.OpenAI(
            base_url=scenario_server.openai_url,
            api_key="sk",
            max_retries=0,
            default_headers={CONVERSATION: name},
        ) as first,
        anthropic.Anthropic(
            base_url=scenario_server.url,
            api_key="sk",
            max_retries=0,
            default_headers={CONVERSATION: name},
        ) as second,
    ):
        assert openai_asker(first)("count", {}) == "one"
        assert anthropic_asker(second)("count", {}) == "two"  # same conversation name
        assert openai_asker(first)("count", {}) == "three"
        # a different conversation, even with the same client: the header wins
        assert openai_asker(first)("count", {CONVERSATION: new_id()}) == "one"


def history(
    first: str, replies: list[str], system: str | None = None
) -> list[ChatCompletionMessageParam]:
    """A conversation that started with ``first`` and got ``replies``, asking "count" again."""
    messages: list[ChatCompletionMessageParam] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": first})
    for reply in replies:
        messages.append({"role": "assistant", "content": reply})
        messages.append({"role": "user", "content": "count again"})
    return messages


def test_without_header_a_conversation_is_its_system_prompt_and_first_message(
    oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    tag = new_id()
    seen: dict[str, list[str]] = {"alice": [], "bob": [], "alice-terse": []}
    systems = {"alice": None, "bob": None, "alice-terse": "Be terse."}
    firsts = {"alice": f"count for alice {tag}", "bob": f"count for bob {tag}"}
    firsts["alice-terse"] = firsts["alice"]  # same first message, another system prompt
    for _ in range(3):  # interleaved turns of three conversations
        for who in seen:
            completion = oai.chat.completions.create(
                model=GPT, messages=history(firsts[who], seen[who], systems[who])
            )
            seen[who].append(completion.choices[0].message.content or "")
    assert seen == {who: ["one", "two", "three"] for who in seen}

    # Anthropic: the same rule, keyed the same way (system parameter + first user message)
    replies: list[str] = []
    for _ in range(3):
        messages: list[MessageParam] = [{"role": "user", "content": f"count for carol {tag}"}]
        for reply in replies:
            messages += [
                {"role": "assistant", "content": reply},
                {"role": "user", "content": "count again"},
            ]
        message = claude.messages.create(
            model=CLAUDE, max_tokens=20, system="Be kind.", messages=messages
        )
        block = message.content[0]
        assert isinstance(block, TextBlock)
        replies.append(block.text)
    assert replies == ["one", "two", "three"]

    # an identical first request is the same conversation: it gets the next reply
    dave: list[ChatCompletionMessageParam] = [{"role": "user", "content": f"count for dave {tag}"}]
    answers = [
        oai.chat.completions.create(model=GPT, messages=dave).choices[0].message.content
        for _ in range(2)
    ]
    assert answers == ["one", "two"]


def test_sequences_in_parallel_conversations_do_not_interfere(
    oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    workers = 8
    barrier = threading.Barrier(workers, timeout=10)
    askers = [openai_asker(oai), anthropic_asker(claude)]

    def walk(worker: int) -> list[str]:
        headers = {CONVERSATION: f"parallel-{worker}-{new_id()}"}
        ask_one = askers[worker % 2]
        seen = []
        for _ in range(3):
            barrier.wait()  # every thread asks its next step at the same moment
            seen.append(ask_one(f"count {worker}", headers))
        return seen

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(walk, range(workers)))
    assert results == [["one", "two", "three"]] * workers


def test_parallel_conversations_without_the_header_do_not_interfere(oai: openai.OpenAI) -> None:
    workers = 8
    barrier = threading.Barrier(workers, timeout=10)
    tag = new_id()

    def walk(worker: int) -> list[str]:
        seen: list[str] = []
        for _ in range(3):
            barrier.wait()
            completion = oai.chat.completions.create(
                model=GPT, messages=history(f"count {worker} {tag}", seen)
            )
            seen.append(completion.choices[0].message.content or "")
        return seen

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(walk, range(workers)))
    assert results == [["one", "two", "three"]] * workers


def wait_until(check: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_counters_restart_after_a_config_reload() -> None:
    config = "rules:\n  - {name: probe, match: {prompt: probe}, reply: VERSION}\n" + (
        "  - {name: count, match: {prompt: count}, sequence: [one, two, three]}\n"
    )
    with (
        MockServer(config_text=config.replace("VERSION", "v1")) as running,
        openai.OpenAI(base_url=running.openai_url, api_key="sk", max_retries=0) as client,
    ):
        ask_openai = openai_asker(client)
        headers = {CONVERSATION: "reloaded"}
        assert [ask_openai("count", headers) for _ in range(2)] == ["one", "two"]
        running.write_config(config.replace("VERSION", "v2"))
        assert wait_until(lambda: ask_openai("probe", {CONVERSATION: "probe"}) == "v2")
        assert [ask_openai("count", headers) for _ in range(4)] == ["one", "two", "three", "three"]
