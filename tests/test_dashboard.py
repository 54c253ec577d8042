"""The dashboard at ``/-/``, in a real headless browser: the system's Chromium, driven by
Playwright (Playwright's own browser download is not used). Requests are made with the
official ``openai`` and ``anthropic`` SDKs against a live :class:`MockServer`; the page must
list them live, show a request's conversation and timeline, the rules with their hit counts,
config errors, request content as text only, and work behind the admin token.

Chromium is required: when it cannot be found the tests fail (``scripts/test`` installs it).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from mockllm.dashboard import CSP
from mockllm.rules.loader import ConfigError
from mockllm.testing import MockServer

CONFIG = """
defaults:
  unknown_response: "I don't know."
rules:
  - name: weather-call
    match: {prompt: {icontains: weather}, tool_result: false}
    reply:
      tool_calls:
        - name: get_weather
          arguments: {city: Paris}
  - name: weather-answer
    match: {tool_result: {tool: get_weather}}
    reply: "It is {{ tool_result('get_weather') }} in Paris."
  - name: greet
    match: {prompt: {icontains: hello}}
    reply: "Hello there!"
"""

TOKEN = "s3cret-dashboard-token"
WAIT_MS = 6000  # the page polls every second, the rules every other poll
TOOLS: list[dict[str, object]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def chromium_path() -> str:
    """The system Chromium (``MOCKLLM_CHROMIUM`` overrides); fails the test when absent."""
    for candidate in (
        os.environ.get("MOCKLLM_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail(
        "Chromium is needed for the dashboard tests and was not found at /usr/bin/chromium: "
        "install it (`apt-get install -y chromium`, as scripts/test does) or set "
        "MOCKLLM_CHROMIUM to its executable",
        pytrace=False,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; the test fails if the page's script throws or the browser reports a
    Content-Security-Policy violation."""
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console error: {message.text}")

    opened.on("console", on_console)
    try:
        yield opened
    finally:
        context.close()
    assert not problems, problems


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(config_text=CONFIG) as running:
        yield running


def row(entry_id: int) -> str:
    return f'#requests tbody tr[data-id="{entry_id}"]'


def oai(server: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0)


def test_page_and_static_files_are_served_with_their_types() -> None:
    with MockServer(config_text=CONFIG, admin_token=TOKEN) as running:
        with httpx.Client(base_url=running.url) as web:
            page = web.get("/-/")  # no token: the page holds no data
            assert page.status_code == 200
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert page.headers["content-security-policy"] == CSP
            assert "static/app.js" in page.text
            types = {
                "app.js": "text/javascript; charset=utf-8",
                "style.css": "text/css; charset=utf-8",
                "index.html": "text/html; charset=utf-8",
            }
            for name, media_type in types.items():
                answer = web.get(f"/-/static/{name}")
                assert answer.status_code == 200, name
                assert answer.headers["content-type"] == media_type
                assert answer.headers["x-content-type-options"] == "nosniff"
        # Only the files of static/: no dotfile, no other name, no way out of the folder
        # (sent as written: http.client does not normalise paths as httpx does).
        names = (".keep", "missing.js", "..", "%2e%2e", "..%2F__init__.py", "../__init__.py")
        for name in names:
            connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
            try:
                connection.request("GET", f"/-/static/{name}")
                refused = connection.getresponse()
                assert refused.status == 404, name
                assert b"import" not in refused.read(), name
            finally:
                connection.close()
        with httpx.Client(base_url=running.url) as web:
            # The data stays behind the token.
            assert web.get("/-/requests").status_code == 401


def test_live_list_detail_timeline_and_rules(server: MockServer, page: Page) -> None:
    client = oai(server)
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )  # 1
    stream = client.chat.completions.create(  # 2
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": [{"type": "text", "text": "hello stream"}]},
        ],
        stream=True,
        extra_headers={"x-mockllm-ttft-ms": "30"},
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    called = client.chat.completions.create(  # 3
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    tool_call = (called.choices[0].message.tool_calls or [])[0]
    client.chat.completions.create(  # 4
        model="gpt-4o",
        messages=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [tool_call.model_dump()],  # type: ignore[list-item]
            },
            {"role": "tool", "tool_call_id": tool_call.id, "content": "sunny, 22 °C"},
        ],
        tools=TOOLS,  # type: ignore[arg-type]
    )
    with pytest.raises(openai.RateLimitError):  # 5
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hello?"}],
            extra_headers={"x-mockllm-error": "429"},
        )
    claude = anthropic.Anthropic(base_url=server.url, api_key="sk-ant-test", max_retries=0)
    claude.messages.create(  # 6
        model="claude-sonnet-4-5",
        max_tokens=64,
        system="Answer in French.",
        messages=[{"role": "user", "content": "hello claude"}],
    )

    page.goto(server.url + "/-/")
    expect(page.locator("#requests tbody tr")).to_have_count(6)
    expected = [  # id, model, status, rule
        (1, "gpt-4o", "200", "greet"),
        (2, "gpt-4o-mini", "200", "greet"),
        (3, "gpt-4o", "200", "weather-call"),
        (4, "gpt-4o", "200", "weather-answer"),
        (5, "gpt-4o", "429", "none"),
        (6, "claude-sonnet-4-5", "200", "greet"),
    ]
    for entry_id, model, status, rule in expected:
        expect(page.locator(row(entry_id) + " .c-model")).to_have_text(model)
        expect(page.locator(row(entry_id) + " .c-status")).to_have_text(status)
        expect(page.locator(row(entry_id) + " .c-rule")).to_have_text(rule)
    expect(page.locator(row(2) + " .c-path")).to_contain_text("stream")
    expect(page.locator(row(6) + " .c-dialect")).to_have_text("anthropic")
    expect(page.locator("#live")).to_have_attribute("data-state", "live")

    # A request made while the page is open appears without a reload (newest on top).
    page.evaluate("window.__stillTheSamePage = true")
    client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "something no rule knows"}]
    )
    expect(page.locator(row(7))).to_be_visible()
    expect(page.locator("#requests tbody tr").first).to_have_attribute("data-id", "7")
    expect(page.locator(row(7) + " .c-rule")).to_have_text("none")
    expect(page.locator(row(7) + " .c-rule")).to_have_attribute(
        "title", re.compile("^no rule matched")
    )
    assert page.evaluate("window.__stillTheSamePage") is True

    # The rules with their hit counts.
    hits = {"greet": "3", "weather-call": "1", "weather-answer": "1"}
    for name, count in hits.items():
        expect(page.locator(f'#rules tr[data-rule="{name}"] .r-hits')).to_have_text(count)
    expect(page.locator("#config-error")).to_be_hidden()

    # The stream: its conversation by role, its timeline.
    page.click(row(2))
    detail = page.locator("#detail-body")
    expect(detail).to_have_attribute("data-id", "2")
    conversation = page.locator("#conversation")
    expect(conversation.locator(".message.role-system")).to_contain_text("Be terse.")
    expect(conversation.locator(".message.role-user")).to_contain_text("hello stream")
    timeline = page.locator("#timeline")
    expect(timeline.locator(".track .seg.wait")).to_be_visible()
    expect(timeline.locator(".t-ttfb")).to_contain_text("first byte")
    expect(timeline.locator(".t-body")).to_contain_text("streamed")
    expect(timeline.locator(".t-total")).to_contain_text("total")
    expect(page.locator("#faults")).to_contain_text("latency: ttft 30 ms")
    width = page.locator(".track .seg.wait").evaluate("e => e.getBoundingClientRect().width")
    assert width > 0
    expect(page.locator("#detail .f-rule")).to_have_text("greet")
    expect(page.locator("#raw")).to_contain_text('"stream": true')

    # The tool call and its result, readably.
    page.click(row(4))
    expect(detail).to_have_attribute("data-id", "4")
    call = conversation.locator(".message.role-assistant .part.call")
    expect(call).to_contain_text("tool call get_weather")
    expect(call).to_contain_text("Paris")
    result = conversation.locator(".message.role-tool .part.result")
    expect(result).to_contain_text("tool result")
    expect(result).to_contain_text("sunny, 22 °C")
    expect(conversation).to_contain_text("tools offered: get_weather")

    # The error: its status and the fault that made it.
    page.click(row(5))
    expect(detail).to_have_attribute("data-id", "5")
    expect(page.locator("#detail .f-status")).to_have_text("429")
    expect(page.locator("#faults")).to_contain_text("error 429")

    # Anthropic: the system prompt and the messages; the raw body below.
    page.click(row(6))
    expect(detail).to_have_attribute("data-id", "6")
    expect(conversation.locator(".message.role-system")).to_have_text("systemAnswer in French.")
    expect(conversation.locator(".message.role-user")).to_contain_text("hello claude")
    expect(page.locator("#raw")).to_contain_text('"max_tokens": 64')

    # No rule: why none matched.
    page.click(row(7))
    expect(page.locator("#detail .f-rule")).to_contain_text("none: no rule matched")

    # A reset clears the journal: the list starts over, and goes on (ids keep growing).
    httpx.post(server.url + "/-/reset").raise_for_status()
    expect(page.locator("#requests tbody tr")).to_have_count(0)
    expect(page.locator("#count")).to_have_text("(the journal was cleared)")
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hello"}])
    expect(page.locator("#requests tbody tr")).to_have_count(1)
    expect(page.locator(row(8) + " .c-rule")).to_have_text("greet")


def test_request_content_is_shown_as_text_never_run(server: MockServer, page: Page) -> None:
    attack = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    oai(server).chat.completions.create(
        model='<b id="bold">model</b>', messages=[{"role": "user", "content": attack}]
    )
    page.goto(server.url + "/-/")
    expect(page.locator(row(1) + " .c-model")).to_have_text('<b id="bold">model</b>')
    page.click(row(1))
    expect(page.locator("#conversation .message.role-user .content")).to_have_text(attack)
    expect(page.locator("#raw")).to_contain_text("<script>window.__pwned = 1</script>")
    assert page.locator("#bold, main img, main script").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_config_errors_are_shown(server: MockServer, page: Page) -> None:
    page.goto(server.url + "/-/")
    expect(page.locator('#rules tr[data-rule="greet"]')).to_be_visible()
    expect(page.locator("#config-error")).to_be_hidden()
    with pytest.raises(ConfigError):
        server.write_config("rules:\n  - name: broken\n    match: {no_such_condition: 1}\n")
    expect(page.locator("#config-error")).to_be_visible()
    expect(page.locator("#config-error-text")).to_contain_text("no_such_condition")
    expect(page.locator("#config-error-text")).to_contain_text("config.yml")
    # The last valid rules stay in force, and on the page.
    expect(page.locator('#rules tr[data-rule="greet"]')).to_be_visible()
    server.write_config(CONFIG)
    expect(page.locator("#config-error")).to_be_hidden()


def test_admin_token_from_the_fragment_or_typed(browser: Browser) -> None:
    with MockServer(config_text=CONFIG, admin_token=TOKEN) as running:
        oai(running).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
        )
        context = browser.new_context()
        try:
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(running.url + f"/-/#token={TOKEN}")
            expect(page.locator(row(1) + " .c-rule")).to_have_text("greet")
            expect(page.locator('#rules tr[data-rule="greet"] .r-hits')).to_have_text("1")
            expect(page.locator("#auth")).to_be_hidden()
            assert TOKEN not in page.url  # kept for the tab, out of the address bar

            # Without the token: the page asks for it, a wrong one is refused.
            other = context.new_page()
            other.set_default_timeout(WAIT_MS)
            other.goto(running.url + "/-/")
            expect(other.locator("#auth")).to_be_visible()
            expect(other.locator("#live")).to_have_attribute("data-state", "locked")
            expect(other.locator("#requests tbody tr")).to_have_count(0)
            other.fill("#token", "wrong")
            other.click("#auth button")
            expect(other.locator("#auth-message")).to_have_text("that token was refused")
            other.fill("#token", TOKEN)
            other.click("#auth button")
            expect(other.locator(row(1) + " .c-model")).to_have_text("gpt-4o")
            expect(other.locator("#auth")).to_be_hidden()
        finally:
            context.close()
