"""A config cannot stall, exhaust or leak the server: one regression test per reproduction
of the hardening issue, through a real server (:class:`~mockllm.testing.MockServer`).

* a regex that backtracks catastrophically costs a request its budget, not the server;
* a YAML alias bomb is refused at load, in milliseconds;
* a template that computes a huge value or loops for ever is compiled in milliseconds and
  gets an error answer naming its rule, quickly;
* a config file seen empty in the middle of a rewrite keeps the rules in force;
* nothing sent to clients holds the config's absolute path.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockllm.cli import main
from mockllm.rules.loader import ConfigError
from mockllm.testing import MockServer

DEFAULT = "I don't know the answer to that. This is a mock response."


def ask(http: httpx.Client, prompt: str) -> httpx.Response:
    return http.post(
        "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]},
    )


def answer(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    content: str = response.json()["choices"][0]["message"]["content"]
    return content


def error_message(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]["message"]
    return message


def edit(server: MockServer, text: str) -> None:
    """Replace the config file as editors do and leave the reload to the file watcher."""
    path = server.config_path
    assert path is not None
    tmp = path.with_suffix(".edit")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def until(condition: object, limit: float = 2.0) -> float:
    """Seconds until ``condition()`` holds (polled every 20 ms), or inf."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.02)
    return float("inf")


@pytest.fixture
def http_of() -> Iterator[list[httpx.Client]]:
    clients: list[httpx.Client] = []
    yield clients
    for client in clients:
        client.close()


# --- catastrophic backtracking -----------------------------------------------------------

EVIL_REGEX_CONFIG = """\
rules:
  - name: evil
    match: {prompt: {regex: '^(a|aa)+$'}}
    reply: evil matched
  - name: nested
    match: {prompt: {regex: '^(a+)+$'}}
    reply: nested matched
  - name: fallback
    match: {prompt: {contains: '!'}}
    reply: fallback
"""


def test_a_backtracking_regex_costs_one_request_its_budget_not_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    evil = "a" * 40 + "!"  # stalls Python's re (and the regex engine) for minutes
    caplog.set_level(logging.WARNING, logger="mockllm.rules")
    with (
        MockServer(config_text=EVIL_REGEX_CONFIG) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
        httpx.Client(base_url=server.url, timeout=30) as health,
    ):
        assert answer(ask(http, "aaaa")) == "evil matched"  # the rule still works
        timings: dict[str, float] = {}

        def check_health() -> None:
            time.sleep(0.01)  # while the evil request is being matched
            started = time.monotonic()
            assert health.get("/-/health").status_code == 200
            timings["health"] = time.monotonic() - started

        probe = threading.Thread(target=check_health)
        started = time.monotonic()
        probe.start()
        response = ask(http, evil)
        timings["request"] = time.monotonic() - started
        probe.join()
        assert answer(response) == "fallback"  # the timed-out conditions do not hold
        assert timings["request"] < 2.0
        assert timings["health"] < 0.5

        for _ in range(10):  # a flood logs one warning per rule, not one per request
            assert answer(ask(http, evil)) == "fallback"
    warnings = [r.getMessage() for r in caplog.records if r.name == "mockllm.rules"]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("rule 'evil': prompt regex '^(a|aa)+$' was stopped after 50 ms")


def test_validate_warns_about_nested_quantifiers_naming_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(EVIL_REGEX_CONFIG, encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert main(["validate", "--strict", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:3:29: warning: rule 'evil' (#1): match.prompt.regex: '^(a|aa)+$'" in out
    assert f"{path}:6:29: warning: rule 'nested' (#2): match.prompt.regex: '^(a+)+$'" in out
    assert "fallback" not in out


# --- YAML alias bomb -----------------------------------------------------------------------


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_load_in_milliseconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bomb = billion_laughs()
    assert len(bomb) < 400
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        MockServer(config_text=bomb)
    assert time.monotonic() - started < 1.0
    [problem] = caught.value.problems
    assert (problem.location.line, problem.location.column) == (4, 8)
    assert problem.message.startswith("too many YAML aliases (190 > 100")
    assert "MOCKLLM_LIMIT_YAML_MAX_ALIASES raises the limit" in problem.message

    path = tmp_path / "bomb.yml"
    path.write_text(bomb, encoding="utf-8")
    started = time.monotonic()
    assert main(["validate", str(path)]) == 1
    assert time.monotonic() - started < 1.0
    assert f"{path}:4:8: too many YAML aliases" in capsys.readouterr().out


def test_an_alias_bomb_written_over_a_served_config_keeps_the_rules() -> None:
    with (
        MockServer(config_text="responses: {hello: first}\n") as server,
        httpx.Client(base_url=server.url) as http,
    ):
        store = server.app.services.store
        edit(server, billion_laughs())
        assert until(lambda: store.last_error is not None) < 2.0
        assert "too many YAML aliases" in str(store.last_error)
        assert answer(ask(http, "hello")) == "first"


# --- templates -----------------------------------------------------------------------------


def test_a_huge_constant_in_a_template_loads_fast_and_answers_an_error_naming_the_rule() -> None:
    config = "rules:\n  - name: big\n    reply: \"{{ 'a' * 10**8 }}\"\n"
    started = time.monotonic()
    server = MockServer(config_text=config)
    assert time.monotonic() - started < 1.0
    with server, httpx.Client(base_url=server.url, timeout=30) as http:
        started = time.monotonic()
        message = error_message(ask(http, "hi"))
        assert time.monotonic() - started < 2.0
    assert message.startswith("mockllm: template error in rule 'big': TemplateBudgetError: ")
    assert "over the template output budget of 1000000 (MOCKLLM_LIMIT_TEMPLATE_MAX_OUTPUT)" in (
        message
    )


@pytest.mark.parametrize(
    "template",
    [
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        "{% set r = range(100000) %}{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(60) }}",
    ],
    ids=["nested-loops", "silent-nested-loops", "exponential-macro"],
)
def test_a_template_that_never_ends_answers_an_error_within_its_budget(template: str) -> None:
    config = f'rules:\n  - name: loops\n    reply: "{template}"\n'
    started = time.monotonic()
    server = MockServer(config_text=config)
    assert time.monotonic() - started < 1.0
    with server, httpx.Client(base_url=server.url, timeout=30) as http:
        started = time.monotonic()
        message = error_message(ask(http, "hi"))
        assert time.monotonic() - started < 2.0
    # Whichever budget runs out first (a fast machine prints 1,000,000 x in under 250 ms).
    assert message in (
        "mockllm: template error in rule 'loops': TemplateBudgetError: template exceeded "
        "its 250 ms budget (MOCKLLM_LIMIT_TEMPLATE_TIMEOUT_MS)",
        "mockllm: template error in rule 'loops': TemplateBudgetError: template output "
        "exceeded its budget of 1000000 characters (MOCKLLM_LIMIT_TEMPLATE_MAX_OUTPUT)",
    )


# --- hot reload of a file rewritten in place ---------------------------------------------


def rules_answering(text: str) -> str:
    return (
        f"rules:\n  - name: main\n    match: {{prompt: {{contains: hello}}}}\n    reply: {text}\n"
    )


def test_a_file_seen_empty_mid_write_keeps_the_rules_and_rules_empty_clears_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mockllm.config")
    with (
        MockServer(config_text=rules_answering("A")) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        path = server.config_path
        assert path is not None
        done = threading.Event()

        def rewrite_in_place() -> None:
            try:
                for i in range(40):
                    with path.open("w", encoding="utf-8") as file:  # truncated: empty
                        file.flush()
                        time.sleep((0.0, 0.01, 0.06, 0.15)[i % 4])  # the watcher may look
                        file.write(rules_answering("AB"[i % 2]))
                    time.sleep(0.01)
            finally:
                done.set()

        writer = threading.Thread(target=rewrite_in_place)
        writer.start()
        seen: list[str] = []
        while not done.is_set():
            seen.append(answer(ask(http, "hello")))
        writer.join()
        assert seen and set(seen) <= {"A", "B"}, sorted(set(seen))  # never the default
        empty_seen = [r for r in caplog.records if "config file is empty" in r.getMessage()]
        assert empty_seen  # the watcher did look at the file while it was empty
        assert "write `rules: []` to clear them" in empty_seen[0].getMessage()

        path.write_text("rules: []\n", encoding="utf-8")
        assert until(lambda: answer(ask(http, "hello")) == DEFAULT) < 1.0


def test_an_empty_config_at_start_is_the_defaults() -> None:
    with MockServer(config_text="") as server, httpx.Client(base_url=server.url) as http:
        assert answer(ask(http, "hello")) == DEFAULT


# --- no absolute path reaches clients ------------------------------------------------------


def test_rule_names_and_strict_errors_carry_no_absolute_path() -> None:
    config = (
        "settings: {strict: true}\n"
        "rules:\n"
        "  - match: {prompt: hello}\n"
        "    reply: hi\n"
        "  - name: named\n"
        "    match: {prompt: bye}\n"
        "    reply: bye\n"
    )
    with MockServer(config_text=config) as server, httpx.Client(base_url=server.url) as http:
        assert server.config_path is not None
        directory = str(server.config_path.parent)
        assert directory.startswith("/")

        response = ask(http, "hello")
        assert answer(response) == "hi"
        assert response.headers["x-mockllm-rule"] == "rule #1 at config.yml:3:5"

        response = ask(http, "something else")
        assert response.status_code == 400
        message = error_message(response)
        assert "rule #1 at config.yml:3:5: failed prompt exact 'hello'" in message
        assert "'named' (config.yml:5:5): failed prompt exact 'bye'" in message
        for text in (response.text, *response.headers.values()):
            assert directory not in text
            assert "/tmp/" not in text
