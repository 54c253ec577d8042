"""The pytest plugin (:mod:`mockllm.pytest_plugin`): the ``mockllm`` fixture, run by small
test projects that ``pytester`` writes and runs, with the official SDKs; and the
:class:`~mockllm.testing.MockServer` methods the fixture is made of.

The inner runs are in this process (``pytester.runpytest``): the plugin, loaded from its
entry point by both sessions, keeps no state at module level. The SDKs are imported here
so that the inner runs find them imported (pytester forgets the modules a run imports).
The runs that check what is imported run in a subprocess.
"""

from __future__ import annotations

import http.client
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic  # noqa: F401  (kept imported across the inner runs; see the docstring)
import openai
import pytest

from mockllm.rules.loader import ConfigError
from mockllm.testing import AdminError, MockServer, describe

pytest_plugins = ["pytester"]

ARGS = ("-p", "no:cacheprovider", "--import-mode=importlib")
"""Of every inner run: no cache files; test modules imported under names of their own, not
those of this suite's modules (``test_config``...), which are imported in this process."""

ROOT = Path(__file__).parent.parent
GUIDE = ROOT / "docs" / "testing.md"

OPENAI_TESTS = '''
import pytest
from openai import OpenAI


def ask(mockllm, prompt, model="gpt-4o"):
    with OpenAI(base_url=mockllm.openai_url, api_key="x", max_retries=0) as client:
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}]
        )
    return reply.choices[0].message.content


def test_1_scripted(mockllm):
    assert mockllm.requests() == []
    summary = mockllm.add_rules({"responses": {"hi": "scripted hello"}})
    assert summary == {"rules": 0, "responses": 1, "warnings": []}
    assert ask(mockllm, "hi") == "scripted hello"
    [entry] = mockllm.requests()
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/chat/completions"
    assert entry["model"] == "gpt-4o"
    assert entry["rule"] == "responses"
    assert entry["status"] == 200
    assert entry["request"]["messages"] == [{"role": "user", "content": "hi"}]
    assert mockllm.requests(model="gpt-4o") == [entry]
    assert mockllm.requests(model="gpt-4o-mini") == []
    assert mockllm.assert_called(model="gpt-4o", times=1) == [entry]
    assert mockllm.assert_called(model="gpt-4o") == [entry]
    mockllm.assert_called(model="gpt-4o-mini", times=0)


def test_2_isolated(mockllm):
    assert mockllm.requests() == []  # test 1's request is gone
    assert ask(mockllm, "hi") != "scripted hello"  # and so is its rule
    mockllm.assert_called(times=1)


def test_3_yaml_rules(mockllm):
    mockllm.add_rules("""
rules:
  - name: weather
    match: {prompt: {icontains: weather}}
    reply: "Sunny."
""")
    assert ask(mockllm, "What is the weather?", model="gpt-4o-mini") == "Sunny."
    assert ask(mockllm, "ping") == "pong"  # the session config's rules still answer
    mockllm.assert_called(rule="weather", model="gpt-4o-mini", times=1)
    mockllm.assert_called(rule="ping", times=1)
    mockllm.assert_called(dialect="openai", path="/v1/chat/completions", status=200, times=2)
    first = mockllm.requests()[0]["id"]
    assert [e["rule"] for e in mockllm.requests(since=first)] == ["ping"]
    assert [e["rule"] for e in mockllm.requests(limit=1)] == ["ping"]
'''


def test_the_fixture_serves_the_openai_sdk_and_isolates_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner_openai=OPENAI_TESTS)
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(passed=3)


def test_a_failing_assert_called_lists_what_was_recorded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner_fails="""
        from anthropic import Anthropic
        from openai import OpenAI


        def test_count(mockllm):
            mockllm.add_rules({"responses": {"hi": "hello"}})
            with OpenAI(base_url=mockllm.openai_url, api_key="x") as client:
                client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
                )
            with Anthropic(base_url=mockllm.anthropic_url, api_key="x") as other:
                other.messages.create(
                    model="claude-sonnet-4-6", max_tokens=50,
                    messages=[{"role": "user", "content": "a question no rule knows"}],
                )
            mockllm.assert_called(model="gpt-4o", times=2)


        def test_nothing(mockllm):
            mockllm.assert_called(model="gpt-4o")
        """
    )
    result = pytester.runpytest(*ARGS)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E * AssertionError: mockllm: expected 2 requests with model='gpt-4o', got 1.",
            "E * recorded (2 requests, oldest first; * passes the filters):",
            "E * #1 POST /v1/chat/completions model=gpt-4o rule=responses status=200",
            "E * #2 POST /v1/messages model=claude-sonnet-4-6 rule=None (no rule matched*) "
            "status=200",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E * AssertionError: mockllm: expected at least 1 request with model='gpt-4o', got 0.",
            "E * no request recorded.",
        ]
    )
    # The failure points at the test's line, not into MockServer.
    assert "def assert_called" not in result.stdout.str()


def test_the_anthropic_sdk_with_anthropic_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner_anthropic="""
        from anthropic import Anthropic


        def test_messages(mockllm):
            mockllm.add_rules({"rules": [
                {"name": "capital", "match": {"prompt": {"icontains": "capital"}},
                 "reply": "Paris."},
            ]})
            client = Anthropic(base_url=mockllm.anthropic_url, api_key="x", max_retries=0)
            message = client.messages.create(
                model="claude-sonnet-4-6", max_tokens=100,
                messages=[{"role": "user", "content": "The capital of France?"}],
            )
            assert message.content[0].text == "Paris."
            with client.messages.stream(
                model="claude-sonnet-4-6", max_tokens=100,
                messages=[{"role": "user", "content": "capital?"}],
            ) as stream:
                assert stream.get_final_message().content[0].text == "Paris."
            [entry] = mockllm.requests(stream=False)
            assert entry["dialect"] == "anthropic" and entry["path"] == "/v1/messages"
            assert len(mockllm.requests(stream=True)) == 1
            mockllm.assert_called(dialect="anthropic", rule="capital", times=2)
            assert mockllm.anthropic_url == mockllm.url
            assert mockllm.openai_url == mockllm.url + "/v1"
            client.close()
        """
    )
    pytester.runpytest(*ARGS).assert_outcomes(passed=1)


CONFIG_TEST = """
from openai import OpenAI


def test_config(mockllm):
    with OpenAI(base_url=mockllm.openai_url, api_key="x") as client:
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "which file?"}]
        )
    assert reply.choices[0].message.content == ANSWER
    assert mockllm.settings.journal_size == JOURNAL_SIZE
    assert mockllm.settings.limit_keep_alive_seconds == 7
"""


def answers(answer: str) -> str:
    """A config that answers ``answer`` to ``which file?``."""
    return f'responses:\n  "which file?": "{answer}"\n'


def config_test(answer: str, journal_size: int) -> str:
    """A test that the server answers ``answer`` and keeps ``journal_size`` requests."""
    return CONFIG_TEST.replace("ANSWER", repr(answer)).replace("JOURNAL_SIZE", str(journal_size))


def test_the_ini_keys_give_the_config_file_and_settings(pytester: pytest.Pytester) -> None:
    (pytester.path / "conf").mkdir()
    (pytester.path / "conf" / "mock.yml").write_text(answers("the ini one"))
    pytester.makeini(
        """
        [pytest]
        mockllm_config = conf/mock.yml
        mockllm_settings =
            journal_size = 5
            MOCKLLM_LIMIT_KEEP_ALIVE_SECONDS=7
        """
    )
    pytester.makepyfile(test_inner_config=config_test("the ini one", 5))
    pytester.runpytest(*ARGS).assert_outcomes(passed=1)
    # Run from a subfolder: the ini's path stays relative to the ini file.
    sub = pytester.mkdir("sub")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(sub)
        result = pytester.runpytest(*ARGS, str(pytester.path))
    result.assert_outcomes(passed=1)


def test_the_options_win_over_the_ini_keys(pytester: pytest.Pytester) -> None:
    pytester.path.joinpath("ini.yml").write_text(answers("the ini one"))
    pytester.path.joinpath("option.yml").write_text(answers("the option's"))
    pytester.makeini(
        """
        [pytest]
        mockllm_config = ini.yml
        mockllm_settings = journal_size=5
            limit-keep-alive-seconds=7
        """
    )
    pytester.makepyfile(test_inner_config=config_test("the option's", 9))
    result = pytester.runpytest(
        *ARGS,
        "--mockllm-config",
        "option.yml",
        "--mockllm-setting",
        "journal_size=9",
    )
    result.assert_outcomes(passed=1)


def test_mockllm_config_in_the_environment_is_read(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = pytester.path / "env.yml"
    config.write_text(answers("the environment's"))
    monkeypatch.setenv("MOCKLLM_CONFIG", str(config))
    monkeypatch.setenv("MOCKLLM_JOURNAL_SIZE", "3")
    monkeypatch.setenv("MOCKLLM_LIMIT_KEEP_ALIVE_SECONDS", "7")
    pytester.makepyfile(test_inner_config=config_test("the environment's", 3))
    pytester.runpytest(*ARGS).assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--mockllm-config", "missing.yml"], "*mockllm: the config *missing.yml is invalid:*"),
        (["--mockllm-config", "bad.yml"], "*bad.yml:1:*rule #1: nme: unknown field*"),
        (["--mockllm-setting", "jornal_size=1"], "*'jornal_size': no such setting; settings:*"),
        (["--mockllm-setting", "port=9000"], "*'port': the fixture's server takes a free port*"),
        (["--mockllm-setting", "journal_size=many"], "*journal_size*valid integer*"),
        (["--mockllm-setting", "validators=nope"], "*no mockllm.validators plugin called 'nope'*"),
    ],
)
def test_a_wrong_config_or_setting_fails_the_tests_that_use_the_fixture(
    pytester: pytest.Pytester, arguments: list[str], expected: str
) -> None:
    pytester.path.joinpath("bad.yml").write_text("rules: [{nme: x, reply: y}]\n")
    pytester.makepyfile(
        test_inner_it="""
        def test_uses(mockllm):
            pass

        def test_uses_too(mockllm):
            pass

        def test_does_not():
            pass
        """
    )
    result = pytester.runpytest(*ARGS, *arguments)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines([expected])
    assert "Traceback" not in result.stdout.str()


def test_a_setting_without_a_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner_it="def test_it():\n    pass\n")
    result = pytester.runpytest(*ARGS, "--mockllm-setting", "journal_size")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mockllm setting 'journal_size': write NAME=VALUE*"])


def test_the_plugin_starts_and_imports_nothing_until_the_fixture_is_used(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_inner_quiet="""
        import sys
        import threading


        def test_no_server():
            assert "mockllm.pytest_plugin" in sys.modules  # loaded from its entry point
            for module in ("mockllm.testing", "mockllm.app", "mockllm.settings", "uvicorn"):
                assert module not in sys.modules, module
            assert not [t for t in threading.enumerate() if t.name.startswith("mockllm")]


        def test_server(mockllm):
            assert "mockllm.testing" in sys.modules
            assert "mockllm-server" in [t.name for t in threading.enumerate()]
        """
    )
    result = pytester.runpytest_subprocess(*ARGS, "-p", "no:anyio")
    result.assert_outcomes(passed=2)
    result = pytester.runpytest_subprocess(*ARGS, "-p", "no:anyio", "--help")
    result.stdout.fnmatch_lines(
        ["*--mockllm-config=PATH*", "*--mockllm-setting=NAME=VALUE*", "*mockllm_config *"]
    )


def test_the_session_server_is_shared_and_reset_before_each_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def base_url(mockllm_session):
            return mockllm_session.openai_url
        """
    )
    pytester.makepyfile(
        test_inner_shared="""
        seen = []

        def test_a(mockllm, mockllm_session, base_url):
            assert mockllm is mockllm_session
            assert base_url == mockllm.openai_url
            seen.append(mockllm.port)
            mockllm.add_rules({"responses": {"x": "y"}})

        def test_b(mockllm):
            assert seen == [mockllm.port]  # the same server
            assert mockllm.app.services.store.added == 0
        """
    )
    pytester.runpytest(*ARGS).assert_outcomes(passed=2)


# -- the documentation's examples -------------------------------------------------------

FENCE = re.compile(r"^```(?P<info>\S*)[^\n]*\n(?P<code>.*?)^```$", re.M | re.S)
NAMED = re.compile(r"^# (?P<name>[\w./-]+\.(?:py|ini|toml|yml|yaml))$")


def doc_blocks(path: Path) -> list[tuple[str, str]]:
    """The (info string, code) of each fenced block of ``path``."""
    return [(m["info"], m["code"]) for m in FENCE.finditer(path.read_text(encoding="utf-8"))]


def test_the_guide_runs(pytester: pytest.Pytester) -> None:
    """docs/testing.md: every block whose first line names a file (``# pytest.ini``,
    ``# tests/test_x.py``...) is written there, and pytest runs the lot: every test passes
    (the failures it shows are inside ``pytest.raises``)."""
    files = []
    for info, code in doc_blocks(GUIDE):
        first = code.splitlines()[0] if code.strip() else ""
        named = NAMED.match(first)
        if named is None or info == "text":
            continue
        target = pytester.path / named["name"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code, encoding="utf-8")
        files.append(named["name"])
    assert {"pytest.ini", "pyproject.toml", "tests/mockllm.yml", "tests/test_assistant.py"} <= set(
        files
    )
    result = pytester.runpytest(*ARGS, "-v")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 7 and set(outcomes) == {"passed"}, result.stdout.str()
    # The same suite configured by pyproject.toml instead.
    (pytester.path / "pytest.ini").unlink()
    result = pytester.runpytest(*ARGS, "-v")
    assert result.parseoutcomes() == outcomes, result.stdout.str()


def test_the_guides_mockserver_example_runs(pytester: pytest.Pytester) -> None:
    """docs/testing.md: the blocks that name no file are scripts (``MockServer`` without
    pytest), each run as written by a fresh interpreter."""
    scripts = [
        code
        for info, code in doc_blocks(GUIDE)
        if info == "python" and not NAMED.match(code.splitlines()[0])
    ]
    assert scripts
    for code in scripts:
        pytester.path.joinpath("example.py").write_text(code, encoding="utf-8")
        result = pytester.run(sys.executable, "example.py", timeout=60)
        assert result.ret == 0, result.stdout.str() + result.stderr.str()
        assert not result.errlines, result.stderr.str()


def test_the_readme_pytest_example_runs(pytester: pytest.Pytester) -> None:
    """README.md's pytest example is not run by tests/test_readme.py (it is a test file,
    not a script): it is run here."""
    examples = [
        code
        for info, code in doc_blocks(ROOT / "README.md")
        if info == "python" and "def test_" in code and "(mockllm)" in code
    ]
    assert len(examples) == 1
    pytester.makepyfile(test_inner_readme_example=examples[0])
    result = pytester.runpytest(*ARGS)
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 1 and set(outcomes) == {"passed"}, result.stdout.str()


# -- MockServer -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(config_text="responses: {hi: file hello}") as running:
        yield running


def chat(server: MockServer, prompt: str, *, stream: bool = False, model: str = "gpt-4o") -> str:
    messages: list[openai.types.chat.ChatCompletionMessageParam] = [
        {"role": "user", "content": prompt}
    ]
    with openai.OpenAI(base_url=server.openai_url, api_key="x", max_retries=0) as client:
        if stream:
            with client.chat.completions.stream(model=model, messages=messages) as events:
                return events.get_final_completion().choices[0].message.content or ""
        reply = client.chat.completions.create(model=model, messages=messages)
        return reply.choices[0].message.content or ""


def test_start_to_first_200_is_under_half_a_second() -> None:
    started = time.perf_counter()
    with MockServer() as running:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
        connection.request("GET", "/-/health")
        assert connection.getresponse().status == 200
        elapsed = time.perf_counter() - started
        connection.close()
    assert elapsed < 0.5, f"MockServer started in {elapsed:.3f} s"


def test_urls(server: MockServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.openai_url == server.url + "/v1"
    assert server.anthropic_url == server.gemini_url == server.ollama_url == server.url
    assert server.running


def test_the_gemini_and_ollama_sdks_with_their_urls(server: MockServer) -> None:
    import ollama
    from google import genai
    from google.genai import types

    server.reset()
    server.add_rules({"responses": {"hi there": "scripted"}})
    options = types.HttpOptions(base_url=server.gemini_url, api_version="v1beta")
    with genai.Client(api_key="x", http_options=options) as gemini:
        reply = gemini.models.generate_content(model="gemini-2.5-flash", contents="hi there")
        assert reply.text == "scripted"
    with ollama.Client(host=server.ollama_url) as local:
        answer = local.chat(model="llama3.2", messages=[{"role": "user", "content": "hi there"}])
        assert answer.message.content == "scripted"
    assert [e["dialect"] for e in server.assert_called(rule="responses", times=2)] == [
        "gemini",
        "ollama",
    ]


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner_off="def test_it(mockllm):\n    pass\n")
    result = pytester.runpytest(*ARGS, "-p", "no:mockllm")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'mockllm' not found*"])


def test_add_rules_text_and_mapping_until_reset(server: MockServer) -> None:
    server.reset()
    assert chat(server, "hi") == "file hello"
    assert server.add_rules("responses: {hi: text hello}")["responses"] == 1
    assert chat(server, "hi") == "text hello"
    summary = server.add_rules({"rules": [{"name": "mapped", "reply": "mapped é"}]})
    assert summary == {"rules": 1, "responses": 0, "warnings": []}
    assert chat(server, "anything") == "mapped é"
    assert server.reset()[:5] == [
        "sequence_counters",
        "fault_counters",
        "rate_limits",
        "journal",
        "runtime_rules",
    ]
    assert chat(server, "hi") == "file hello"
    assert chat(server, "anything") != "mapped é"


def test_add_rules_refuses_an_invalid_config_with_its_problems(server: MockServer) -> None:
    server.reset()
    with pytest.raises(ConfigError) as raised:
        server.add_rules("rules:\n  - nme: typo\n    reply: x\n  - reply: {text: 1, echo: true}\n")
    problems = raised.value.problems
    assert [(p.location.file, p.location.line) for p in problems][0] == ("POST /-/rules", 2)
    assert "nme: unknown field; did you mean 'name'?" in problems[0].message
    assert len(problems) >= 2
    assert str(raised.value).startswith("POST /-/rules:2:")
    with pytest.raises(ConfigError, match="unknown field"):
        server.add_rules({"rules": [{"nme": "typo"}]})
    assert server.app.services.store.added == 0  # nothing changed
    with pytest.raises(TypeError, match="YAML text or a mapping"):
        server.add_rules([{"reply": "x"}])  # type: ignore[arg-type]


def test_requests_filters(server: MockServer) -> None:
    server.reset()
    chat(server, "hi")
    chat(server, "hi", stream=True, model="gpt-4o-mini")
    chat(server, "nobody scripted this")
    everything = server.requests()
    assert [e["model"] for e in everything] == ["gpt-4o", "gpt-4o-mini", "gpt-4o"]
    assert [e["stream"] for e in server.requests(stream=True)] == [True]
    assert len(server.requests(stream=False)) == 2
    assert len(server.requests(status=200)) == 3
    assert server.requests(status="404") == []
    assert [e["id"] for e in server.requests(since=everything[0]["id"])] == [
        e["id"] for e in everything[1:]
    ]
    assert server.requests(limit=1) == everything[-1:]
    assert server.requests(rule="null") == everything[-1:]
    assert len(server.requests(rule="responses", model="gpt-4o")) == 1
    assert len(server.requests(dialect="openai", path="/v1/chat/completions")) == 3
    with pytest.raises(ValueError, match="unknown filter 'colour'"):
        server.requests(colour="blue")
    with pytest.raises(ValueError, match="since"):
        server.requests(since="yesterday")


def test_assert_called(server: MockServer) -> None:
    server.reset()
    with pytest.raises(AssertionError, match=r"expected at least 1 request, got 0\.\nno request"):
        server.assert_called()
    assert server.assert_called(times=0) == []
    chat(server, "hi")
    chat(server, "nobody scripted this", model="gpt-4o-mini")
    [entry] = server.assert_called(model="gpt-4o", times=1)
    assert entry["rule"] == "responses"
    assert len(server.assert_called()) == 2
    with pytest.raises(AssertionError) as raised:
        server.assert_called(model="gpt-4o-mini", stream=False, times=3)
    message = str(raised.value)
    assert message.splitlines() == [
        "mockllm: expected 3 requests with model='gpt-4o-mini', stream=False, got 1.",
        "recorded (2 requests, oldest first; * passes the filters):",
        f"  #{entry['id']} POST /v1/chat/completions model=gpt-4o rule=responses status=200",
        f"* #{entry['id'] + 1} POST /v1/chat/completions model=gpt-4o-mini rule=None "
        "(no rule matched: default answer) status=200",
    ]
    with pytest.raises(AssertionError, match=r"got 2\.\nrecorded \(2 requests, oldest first\):"):
        server.assert_called(times=1)  # no filter: no entry marked


def test_assert_called_shows_the_newest_entries(server: MockServer) -> None:
    server.reset()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    for _ in range(53):
        connection.request("GET", "/v1/models")
        connection.getresponse().read()
    connection.close()
    with pytest.raises(AssertionError) as raised:
        server.assert_called(path="/v1/models", times=1)
    lines = str(raised.value).splitlines()
    assert lines[1] == "recorded (53 requests, oldest first; * passes the filters):"
    assert lines[2] == "  ... 3 earlier ones not shown"
    assert len(lines) == 3 + 50 and all(line.startswith("* #") for line in lines[3:])
    assert lines[3].endswith("GET /v1/models model=None rule=None status=200")


def test_describe() -> None:
    entry = {"id": 7, "method": "POST", "path": "/api/chat", "model": "llama3.2"}
    assert describe({**entry, "rule": "r", "status": 500, "stream": True}) == (
        "#7 POST /api/chat model=llama3.2 rule=r status=500 stream"
    )


def test_the_admin_token_is_sent() -> None:
    with MockServer(admin_token="s3cret") as running:
        running.add_rules({"responses": {"hi": "guarded"}})
        assert chat(running, "hi") == "guarded"
        running.assert_called(times=1)
        assert "journal" in running.reset()
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
        connection.request("GET", "/-/requests")
        assert connection.getresponse().status == 401  # without the token
        connection.close()


def test_an_admin_failure_says_what_failed(server: MockServer) -> None:
    with pytest.raises(AdminError) as raised:
        server.add_rules("#" * (4 * 1024 * 1024 + 1))
    assert raised.value.status == 413
    assert str(raised.value).startswith("POST /-/rules: 413 the config is over")


def test_a_journal_that_keeps_nothing_is_explained() -> None:
    with MockServer(journal_size=0) as running:
        chat(running, "hi")
        assert running.requests() == []
        with pytest.raises(AssertionError, match=r"journal keeps none: journal_size=0"):
            running.assert_called()


def test_the_admin_methods_need_a_running_server() -> None:
    idle = MockServer()
    try:
        assert not idle.running
        assert "journal" in idle.reset()  # reset works unserved, in this thread
        with pytest.raises(RuntimeError, match="not running"):
            idle.requests()
        with pytest.raises(RuntimeError, match="not running"):
            idle.add_rules({"responses": {}})
    finally:
        idle.stop()
    with MockServer() as running:
        pass
    assert not running.running
