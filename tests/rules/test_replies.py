"""Replies (docs/rules.md, "Reply" and "Templates"): what each reply field renders to, the
template variables and sandbox, and the errors a reply can answer with.

Most tests render a rule's reply into a :class:`~mockllm.rules.replies.Plan` for a
neutral request; what only a server shows (a template failing at run time, error headers,
stream chunks, finish reasons and usage on the wire) goes through a real server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
import yaml
from openai.types.chat import ChatCompletion

from mockllm.core.conversation import Conversation
from mockllm.core.limits import Limits
from mockllm.core.types import ChatRequest, Message, TextPart, ToolCall, ToolSpec
from mockllm.rules.loader import ConfigError, parse_config
from mockllm.rules.replies import Plan
from mockllm.rules.ruleset import RuleSet
from mockllm.rules.sandbox import TemplateBudgetError
from mockllm.rules.templates import TemplateContext
from mockllm.state import CounterStore, MemoryCounters
from mockllm.testing import MockServer

HEADER = "x-mockllm-conversation"
OPENAI_MODEL = "gpt-4o"
CLAUDE = "claude-opus-4-6"

# --- rendering a reply for a neutral request --------------------------------------------------

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def user(text: str) -> Message:
    return Message("user", (TextPart(text),))


def request(
    *messages: Message,
    headers: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    model: str = OPENAI_MODEL,
    provider: str = "openai",
    endpoint: str = "chat.completions",
) -> ChatRequest:
    return ChatRequest(
        provider=provider,
        endpoint=endpoint,
        model=model,
        messages=messages or (user("hello"),),
        tools=(
            ToolSpec("get_weather", "Current weather", WEATHER_SCHEMA),
            ToolSpec("search", "Web search"),
        ),
        headers=headers or {},
        metadata=metadata or {},
    )


AGENT_LOOP = request(
    Message("system", (TextPart("Be brief."),)),
    user("Weather in Paris and Rome?"),
    Message(
        "assistant",
        (TextPart("Let me check."),),
        (
            ToolCall("call_1", "get_weather", '{"city": "Paris"}'),
            ToolCall("call_2", "get_weather", '{"city": "Rome"}'),
        ),
    ),
    Message("tool", (TextPart("sunny"),), tool_call_id="call_1"),
    Message("tool", (TextPart("rain"),), tool_call_id="call_2", is_error=True),
    Message("assistant", (), (ToolCall("call_3", "search", "not json"),)),
    Message("tool", (TextPart("3 hits"),), tool_call_id="call_3"),
    headers={"x-test-id": "t-42", "user-agent": "pytest"},
    metadata={"user_id": "alice"},
)


def config(reply: Any, *, key: str = "reply", **rule: Any) -> str:
    return yaml.safe_dump({"rules": [{"name": "r", key: reply, **rule}]}, sort_keys=False)


def ruleset(reply: Any) -> RuleSet:
    return parse_config(config(reply), "f.yml").rules


def plan(
    reply: Any,
    req: ChatRequest = AGENT_LOOP,
    *,
    rules: RuleSet | None = None,
    counters: CounterStore | None = None,
) -> Plan:
    """The plan rule ``r`` (whose reply is ``reply``) gives ``req``."""
    rules = rules if rules is not None else ruleset(reply)
    conversation = Conversation(req)
    decision = rules.decide(
        conversation, counters if counters is not None else MemoryCounters(), HEADER
    )
    assert decision.rule == "r" and decision.reply is not None
    return decision.reply.render(TemplateContext(conversation, decision.counter))


def render(template: str, req: ChatRequest = AGENT_LOOP) -> str:
    return plan({"text": template}, req).text


# --- templates: every variable ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ prompt }}", "Weather in Paris and Rome?"),
        ("{{ model }}/{{ provider }}/{{ endpoint }}", "gpt-4o/openai/chat.completions"),
        ("{{ system }}", "Be brief."),
        ("{{ turn }}", "1"),
        ("{{ counter }}", "1"),
        # messages: role, content (text), tool_calls, tool_call_id
        (
            "{{ messages | map(attribute='role') | join(',') }}",
            "system,user,assistant,tool,tool,assistant,tool",
        ),
        ("{{ messages[2].content }}", "Let me check."),
        ("{{ messages[2].tool_calls[1].arguments.city }}", "Rome"),
        ("{{ messages[2].tool_calls[0].id }}", "call_1"),
        ("{{ messages[4].tool_call_id }}", "call_2"),
        ("{{ messages[1].tool_calls | length }}", "0"),
        ("{{ messages[1].tool_call_id is none }}", "True"),
        # tools: name, description, parameters
        ("{{ tools | map(attribute='name') | join(',') }}", "get_weather,search"),
        ("{{ tools[0].description }}", "Current weather"),
        ("{{ tools[0].parameters.properties.city.type }}", "string"),
        ("{{ tools[1].parameters }}", "{}"),
        # tool_calls: id, name, arguments (parsed; text that is not JSON stays text)
        ("{{ tool_calls | map(attribute='id') | join(',') }}", "call_1,call_2,call_3"),
        ("{{ tool_calls[1].name }}:{{ tool_calls[1].arguments.city }}", "get_weather:Rome"),
        ("{{ tool_calls[2].arguments }}", "not json"),
        # tool_results: id, tool, content, is_error
        (
            "{% for r in tool_results %}{{ r.id }}={{ r.tool }}:{{ r.content }}:{{ r.is_error }}"
            "{% if not loop.last %};{% endif %}{% endfor %}",
            "call_1=get_weather:sunny:False;call_2=get_weather:rain:True;"
            "call_3=search:3 hits:False",
        ),
        (
            "{{ last_tool_result.tool }}|{{ last_tool_result.content }}|"
            "{{ last_tool_result.id }}|{{ last_tool_result.is_error }}",
            "search|3 hits|call_3|False",
        ),
        ("{{ headers['x-test-id'] }} {{ headers['user-agent'] }}", "t-42 pytest"),
        ("{{ metadata.user_id }}", "alice"),
        # the functions: latest result / arguments of a tool
        ("{{ tool_result('get_weather') }}", "rain"),
        ("{{ tool_result('search') }}", "3 hits"),
        ("{{ tool_result('missing') is defined }}", "False"),
        ("{{ tool_args('get_weather').city }}", "Rome"),
        ("{{ tool_args('get_weather') | tojson }}", '{"city": "Rome"}'),
        ("{{ tool_args('missing') is defined }}", "False"),
        # filters
        ("{{ tool_args('get_weather').city | upper }}", "ROME"),
        ("{{ prompt | tojson }}", '"Weather in Paris and Rome?"'),
        ("{{ prompt | lower | replace('?', '!') }}", "weather in paris and rome!"),
        ("{{ tool_results | selectattr('is_error') | map(attribute='content') | first }}", "rain"),
        ("{{ '%s-%d' | format(model, turn) }}", "gpt-4o-1"),
        ("{% if tool_calls | length > 2 %}many{% else %}few{% endif %}", "many"),
    ],
)
def test_template_variables(template: str, expected: str) -> None:
    assert render(template) == expected


def test_last_tool_result_is_none_when_the_conversation_does_not_end_with_one() -> None:
    req = request(*AGENT_LOOP.messages, Message("assistant", (TextPart("ok"),)), user("thanks"))
    assert render("{{ last_tool_result is none }}|{{ turn }}|{{ prompt }}", req) == "True|2|thanks"
    # the history's results are still there
    assert render("{{ tool_results | length }} {{ tool_result('get_weather') }}", req) == "3 rain"


def test_variables_seen_from_an_anthropic_request() -> None:
    req = request(user("hi"), model=CLAUDE, provider="anthropic", endpoint="messages")
    assert (
        render("{{ model }} {{ provider }} {{ endpoint }}", req) == f"{CLAUDE} anthropic messages"
    )
    assert render("[{{ system }}] {{ tool_calls }} {{ last_tool_result }}", req) == "[] [] None"


def test_a_text_without_template_markers_is_served_as_written() -> None:
    assert render("curly { and } and {#not a comment#}") == "curly { and } and {#not a comment#}"


def test_multi_line_templates_keep_their_newlines() -> None:
    rules = parse_config(
        "rules:\n  - name: r\n    reply: |\n      Hello {{ metadata.user_id }},\n"
        "      {% for c in tool_calls %}- {{ c.name }}\n      {% endfor %}bye\n",
        "f.yml",
    ).rules
    text = plan(None, rules=rules).text
    assert text == "Hello alice,\n- get_weather\n- get_weather\n- search\nbye\n"


# --- counter ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param({"text": "answer {{ counter }}"}, id="text"),
        pytest.param({"refusal": "refusal {{ counter }}"}, id="refusal"),
        pytest.param({"text": "x", "reasoning": "thought {{ counter }}"}, id="reasoning"),
        pytest.param(
            {"tool_calls": [{"name": "f", "arguments": {"n": "{{ counter }}"}}]}, id="arguments"
        ),
        pytest.param({"json": {"n": "{{ counter }}"}}, id="json"),
    ],
)
def test_counter_counts_the_rules_answers_per_conversation(reply: dict[str, Any]) -> None:
    rules = ruleset(reply)
    counters = MemoryCounters()

    def rendered(req: ChatRequest) -> str:
        p = plan(reply, req, rules=rules, counters=counters)
        if p.tool_calls:
            return p.tool_calls[0].arguments or ""
        return p.refusal or p.reasoning or p.text

    first = request(user("same start"), headers={HEADER: "conv-a"})
    other = request(user("same start"), headers={HEADER: "conv-b"})
    seen = [rendered(first), rendered(first), rendered(other), rendered(first)]
    digits = ["".join(ch for ch in text if ch.isdigit()) for text in seen]
    assert digits == ["1", "2", "1", "3"]


# --- template budgets (MOCKLLM_LIMIT_TEMPLATE_*) --------------------------------------------


def budget_error(template: str, limits: Limits | None = None, **reply: Any) -> str:
    """The message of the :class:`TemplateBudgetError` rendering ``template`` raises."""
    rules = parse_config(config({"text": template, **reply}), "f.yml", limits).rules
    started = time.monotonic()
    with pytest.raises(TemplateBudgetError) as caught:
        plan(None, rules=rules)
    assert time.monotonic() - started < 1.0
    return str(caught.value)


OUTPUT = "over the template output budget of 1000000 (MOCKLLM_LIMIT_TEMPLATE_MAX_OUTPUT)"
NUMBERS = "template numbers are limited to 4300 digits"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 'a' * 10**8 }}", f"'*' would make at least 100000000 characters or items, {OUTPUT}"),
        ("{{ 10**8 * 'ab' }}", f"'*' would make at least 200000000 characters or items, {OUTPUT}"),
        ("{{ [0] * 10**7 }}", f"'*' would make at least 50000000 characters or items, {OUTPUT}"),
        (
            "{{ 'ab' * 600000 + 'c' }}",
            f"'*' would make at least 1200000 characters or items, {OUTPUT}",
        ),
        ("{{ 9 ** 1000000 }}", f"'**' would make a number of about 903089 digits; {NUMBERS}"),
        ("{{ (10**4000) * (10**4000) }}", "'*' would make a number of about"),
        (
            "{{ '%0999999999d' % 1 }}",
            f"'%' would make at least 999999999 characters or items, {OUTPUT}",
        ),
        (
            "{{ '%*d' % (10**8, 1) }}",
            f"'%' would make at least 100000000 characters or items, {OUTPUT}",
        ),
        ("{{ '{:>99999999}'.format(1) }}", "format() would make at least 99999999 characters"),
        ("{{ '{:>{}}'.format(1, 10**8) }}", "format() would make at least 100000000 characters"),
        ("{{ 'x'.ljust(10**9) }}", "ljust() would make at least 1000000000 characters"),
        ("{{ 'a\tb'.expandtabs(10**8) }}", "expandtabs() would make at least 100000003 characters"),
        (
            "{{ ('a' * 10**6).replace('a', 'aa') }}",
            "replace() would make at least 2000000 characters",
        ),
        (
            "{{ ('a' * 1000)|replace('a', 'b' * 10**4) }}",
            "replace would make at least 10000000 characters",
        ),
        ("{{ 'x'|center(10**9) }}", "center would make at least 1000000000 characters"),
        ("{{ ('a\n' * 10**5)|indent(100) }}", "indent would make at least 10200100 characters"),
        ("{{ '%09999999d'|format(1) }}", "format would make at least 9999999 characters"),
        ("{{ range(100000)|join('x' * 100) }}", "join would make at least 10781178 characters"),
        ("{{ ('y' * 1000).join(['x'] * 1000) }}", "join() would make at least 1002002 characters"),
        ("{{ ([prompt] * 100000) | join }}", "'*' would make at least 3000000 characters or items"),
        ("{{ [[prompt] * 1000] * 1000 }}", "'*' would make at least 28006000 characters or items"),
        (
            "{% set a = [prompt, prompt] %}{% set b = [a, a] %}{% set c = [b, b] %}"
            "{% set d = [c] * 40000 %}{{ d }}",
            "'*' would make",
        ),
        (
            "{% set a = [prompt] * 30000 %}{% set b = [a, a] %}{{ b }}",
            "printing this value would make at least 1000006 characters or items",
        ),
        (
            "{{ range(100000) | map('string') | map('center', 999999) | list | length }}",
            "the template built more than 10000000 characters along the way (filter ",
        ),
        ("{{ ('a' * 10**5)|wordwrap(1, wrapstring='x' * 100) }}", "wordwrap would make at least"),
        ("{{ [1]|batch(10**9, 'x')|list }}", "1000000000 pieces is too many (at most 100000)"),
        ("{{ [1]|slice(10**9)|list }}", "1000000000 pieces is too many (at most 100000)"),
        (
            "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            f"namespace attribute 's' would make at least 1048576 characters or items, {OUTPUT}",
        ),
        ("{{ 'a' * 999999 }}{{ 'b' * 999999 }}", "template output exceeded its budget of"),
    ],
)
def test_a_template_cannot_build_a_value_past_its_budgets(template: str, message: str) -> None:
    found = budget_error(template)
    assert message in found, found


@pytest.mark.parametrize(
    "template",
    [
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
        "{% set r = range(100000) %}{% for a in r %}{% for b in r %}{% endfor %}{% endfor %}",
        "{% set r = range(100000) %}{% for a in r %}{% for b in r if b < 0 %}{% endfor %}"
        "{% endfor %}",
        "{% for a in 'x' * 100000 %}{% for b in 'y' * 100000 %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
        "{{ f(60) }}",
    ],
    ids=["nested", "silent", "filtered", "strings", "macro"],
)
def test_a_template_that_never_ends_stops_at_its_time_budget(template: str) -> None:
    limits = Limits(template_timeout_ms=50)
    message = budget_error(template, limits)
    assert message == "template exceeded its 50 ms budget (MOCKLLM_LIMIT_TEMPLATE_TIMEOUT_MS)"


def test_the_renders_of_one_reply_share_its_time_budget() -> None:
    spin = "{% for a in range(100000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}"
    limits = Limits(template_timeout_ms=100)
    reply = {"refusal": spin, "reasoning": spin}
    rules = parse_config(config(reply), "f.yml", limits).rules
    started = time.monotonic()
    with pytest.raises(TemplateBudgetError):
        plan(None, rules=rules)
    assert time.monotonic() - started < 0.2  # not 100 ms for each text


def test_budgets_follow_the_limits_given() -> None:
    limits = Limits(template_max_output=10)
    rules = parse_config(config("{{ 'a' * 10 }}"), "f.yml", limits).rules
    assert plan(None, rules=rules).text == "a" * 10
    rules = parse_config(config("{{ 'a' * 11 }}"), "f.yml", limits).rules
    with pytest.raises(
        TemplateBudgetError, match="'\\*' would make at least 11 characters or items"
    ):
        plan(None, rules=rules)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "{{ 'ab' * 3 }}|{{ 3 * 'ab' }}|{{ [1, 2] + [3] }}|{{ 2 ** 10 }}",
            "ababab|ababab|[1, 2, 3]|1024",
        ),
        ("{{ '%05d|%-4s|%.2f' % (42, 'x', 3.14159) }}", "00042|x   |3.14"),
        ("{{ 'order 12345678901 %s' % 'x' }}", "order 12345678901 x"),
        ("{{ '{0:>5}|{0:{1}}'.format(7, 3) }}", "    7|  7"),
        (
            "{{ 'a b'|replace(' ', '_') }}|{{ range(3)|join(',') }}|{{ 'x'|center(5) }}",
            "a_b|0,1,2|  x  ",
        ),
        ("{{ 'a\nb'|indent(2, first=true) }}", "  a\n  b"),
        (
            "{{ [1, 2, 3, 4, 5]|batch(2)|list }}|{{ [1, 2, 3]|slice(2)|list }}",
            "[[1, 2], [3, 4], [5]]|[[1, 2], [3]]",
        ),
        (
            "{% set ns = namespace(n=0) %}{% for i in range(5) if i > 1 %}"
            "{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
            "9",
        ),
        ("{% for i in range(3) %}{{ loop.index }}{% endfor %}", "123"),
        ("{{ 2 ** 100 }}", str(2**100)),
        ("{{ 10 ** 4299 > 0 }}", "True"),
    ],
)
def test_templates_within_their_budgets_render_as_jinja_does(template: str, expected: str) -> None:
    assert render(template) == expected


# --- sandbox and run-time template errors, through a real server ------------------------------

SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ tool_result.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ '{0.__class__}'.format(prompt) }}",
    "{{ messages.append(1) }}",  # immutable sandbox: the request cannot be changed
    "{{ headers.update({'a': 'b'}) }}",
    "{{ metadata.clear() }}",
]
SERVER_CONFIG = yaml.safe_dump(
    {
        "defaults": {"unknown_response": "fallback"},
        "rules": [
            {"name": f"escape-{i}", "match": {"prompt": f"escape {i}"}, "reply": template}
            for i, template in enumerate(SANDBOX_ESCAPES)
        ]
        + [
            {"name": "undefined-name", "match": {"prompt": "undefined"}, "reply": "{{ nope }}"},
            {
                "name": "undefined-in-sequence",
                "match": {"prompt": "undefined seq"},
                "sequence": ["fine", "{{ tool_args('x').city }}"],
            },
            {"name": "division", "match": {"prompt": "divide"}, "reply": "{{ 1 // 0 }}"},
            {"name": "huge", "match": {"prompt": "huge"}, "reply": "{{ range(10**9) | list }}"},
            {
                "name": "headers",
                "match": {"prompt": "headers"},
                "reply": "{{ headers['x-test-id'] }}",
            },
            {"name": "echo", "match": {"prompt": {"icontains": "echo"}}, "reply": {"echo": True}},
            {
                "name": "chunks",
                "match": {"prompt": "chunks"},
                "reply": {"chunks": ["Hel", "lo, w", "", "orld", "!\n"]},
            },
            {
                "name": "json",
                "match": {"prompt": {"contains": "json"}},
                "reply": {
                    "json": {
                        "prompt": "{{ prompt }}",
                        "model": "{{ model | upper }}",
                        "list": [1, 2.5, None, True, "{{ turn }}"],
                        "nested": {"unchanged": "plain", "count": 0},
                    }
                },
            },
            {
                "name": "json-array",
                "match": {"prompt": "array"},
                "reply": {"json": [{"a": "{{ provider }}"}, 1, "two"]},
            },
            {
                "name": "usage",
                "match": {"prompt": "usage"},
                "reply": {
                    "text": "Hi there.",
                    "usage": {
                        "prompt_tokens": 1000,
                        "completion_tokens": 70,
                        "reasoning_tokens": 50,
                        "cached_tokens": 600,
                    },
                },
            },
            {
                "name": "partial-usage",
                "match": {"prompt": "partial usage", "headers": {"x-usage": "override"}},
                "reply": {"text": "Hi there.", "usage": {"completion_tokens": 9}},
            },
        ]
        + [
            {
                "name": f"finish-{reason}",
                "match": {"prompt": f"finish {reason}"},
                "reply": {"text": "cut", "finish_reason": reason},
            }
            for reason in ("stop", "length", "tool_calls", "content_filter", "stop_sequence")
        ]
        + [
            {
                "name": f"error-{i}",
                "match": {"prompt": f"error {i}"},
                "reply": {"error": spec},
            }
            for i, spec in enumerate(
                [
                    {"status": 429, "retry_after": 1.5, "code": "rate_limit_exceeded"},
                    {"status": 529, "message": "Overloaded: {{ model }}"},
                    {"status": 503, "retry_after": 0.01},
                    {"status": 500, "retry_after": 2},
                    {"status": 401, "message": "Bad key.", "code": "invalid_api_key"},
                    {"status": 404},
                    {"status": 400, "type": "rate_limit"},
                    {"status": 418},
                    {"status": 504},
                    {"status": 502, "type": "overloaded"},
                    {"status": 403},
                    {"status": 413},
                    {"status": 422},
                ]
            )
        ],
    },
    sort_keys=False,
)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(config_text=SERVER_CONFIG) as running:
        yield running


@pytest.fixture(scope="module")
def oai(server: MockServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as sdk:
        yield sdk


@pytest.fixture(scope="module")
def claude(server: MockServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=server.url, api_key="sk-ant", max_retries=0) as sdk:
        yield sdk


def ask(client: openai.OpenAI, prompt: str, **extra: Any) -> ChatCompletion:
    completion: ChatCompletion = client.chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": prompt}], **extra
    )
    return completion


def ask_claude(client: anthropic.Anthropic, prompt: str) -> anthropic.types.Message:
    return client.messages.create(
        model=CLAUDE, max_tokens=200, messages=[{"role": "user", "content": prompt}]
    )


def post_openai(server: MockServer, prompt: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{server.openai_url}/chat/completions",
        json={"model": OPENAI_MODEL, "messages": [{"role": "user", "content": prompt}], **body},
        headers={"authorization": "Bearer sk-test"},
        timeout=10,
    )


def post_anthropic(server: MockServer, prompt: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/messages",
        json={
            "model": CLAUDE,
            "max_tokens": 200,
            "messages": [{"role": "user", "content": prompt}],
            **body,
        },
        headers={"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"},
        timeout=10,
    )


@pytest.mark.parametrize("index", range(len(SANDBOX_ESCAPES)))
def test_sandbox_escapes_fail_safely_with_a_500(index: int, oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        ask(oai, f"escape {index}")
    assert caught.value.status_code == 500
    assert f"escape-{index}" in caught.value.message
    assert "unsafe" in caught.value.message
    # the server is fine: the next request is answered
    assert ask(oai, "hello").choices[0].message.content == "fallback"


def test_undefined_name_is_a_500_naming_the_rule(
    oai: openai.OpenAI, claude: anthropic.Anthropic
) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        ask(oai, "undefined")
    assert "rule 'undefined-name'" in caught.value.message
    assert "'nope' is undefined" in caught.value.message
    with pytest.raises(anthropic.InternalServerError) as caught_claude:
        ask_claude(claude, "undefined")
    assert caught_claude.value.status_code == 500
    assert "rule 'undefined-name'" in caught_claude.value.message
    assert ask_claude(claude, "hello").content[0].type == "text"


def test_undefined_attribute_of_a_missing_tool_is_a_500_in_a_sequence(oai: openai.OpenAI) -> None:
    headers = {HEADER: "undefined-seq"}
    assert ask(oai, "undefined seq", extra_headers=headers).choices[0].message.content == "fine"
    with pytest.raises(openai.InternalServerError) as caught:
        ask(oai, "undefined seq", extra_headers=headers)
    assert "rule 'undefined-in-sequence'" in caught.value.message
    assert ask(oai, "hello").choices[0].message.content == "fallback"


@pytest.mark.parametrize("prompt", ["divide", "huge"])
def test_other_run_time_template_failures_are_500s_too(prompt: str, oai: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError):
        ask(oai, prompt)
    assert ask(oai, "hello").choices[0].message.content == "fallback"


def test_undefined_name_in_the_default_answer_is_a_500_that_does_not_blame_rule_none() -> None:
    config_text = (
        'defaults:\n  unknown_response: "{{ nope }}"\nrules:\n  - {match: {prompt: x}, reply: y}\n'
    )
    with MockServer(config_text=config_text) as running:
        response = post_openai(running, "hello")
    assert response.status_code == 500
    message = response.json()["error"]["message"]
    assert "'nope' is undefined" in message
    # there is no rule here: the message must not name a rule called 'None'
    assert "'None'" not in message, message
    assert "default" in message.lower(), message


def test_request_headers_reach_templates_with_lower_case_names(oai: openai.OpenAI) -> None:
    completion = ask(oai, "headers", extra_headers={"X-Test-Id": "from-the-client"})
    assert completion.choices[0].message.content == "from-the-client"


# --- echo, chunks, json -----------------------------------------------------------------------


def test_echo_answers_with_the_prompt() -> None:
    assert plan({"echo": True}).text == "Weather in Paris and Rome?"
    multi = request(Message("user", (TextPart("one"), TextPart("two"))))
    assert plan({"echo": True}, multi).text == "one\ntwo"


def test_echo_through_both_sdks(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    prompt = "  Echo this: {{ not a template }} 👋 "
    assert ask(oai, prompt).choices[0].message.content == prompt
    block = ask_claude(claude, prompt).content[0]
    assert block.type == "text" and block.text == prompt


def test_chunks_render_as_their_concatenation_and_are_not_templates() -> None:
    p = plan({"chunks": ["{{ prompt }}", " and ", "more"]})
    assert p.chunks == ("{{ prompt }}", " and ", "more")
    assert p.text == "{{ prompt }} and more"


def test_chunks_are_streamed_as_written(server: MockServer) -> None:
    with httpx.stream(
        "POST",
        f"{server.openai_url}/chat/completions",
        json={
            "model": OPENAI_MODEL,
            "messages": [{"role": "user", "content": "chunks"}],
            "stream": True,
        },
        headers={"authorization": "Bearer x"},
        timeout=10,
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    deltas = [orjson.loads(line[6:])["choices"][0]["delta"] for line in lines]
    contents = [d["content"] for d in deltas if d.get("content") is not None and "role" not in d]
    assert contents == ["Hel", "lo, w", "", "orld", "!\n"]

    with httpx.stream(
        "POST",
        f"{server.url}/v1/messages",
        json={
            "model": CLAUDE,
            "max_tokens": 100,
            "stream": True,
            "messages": [{"role": "user", "content": "chunks"}],
        },
        headers={"x-api-key": "x", "anthropic-version": "2023-06-01"},
        timeout=10,
    ) as response:
        events = [
            orjson.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")
        ]
    texts = [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"]
    assert texts == ["Hel", "lo, w", "", "orld", "!\n"]


def test_chunks_through_the_openai_stream_helper(oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": "chunks"}]
    ) as stream:
        pieces = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert [piece for piece in pieces if piece] == ["Hel", "lo, w", "orld", "!\n"]
    assert final.choices[0].message.content == "Hello, world!\n"


def test_fixed_json_is_compact_json_text_with_rendered_string_values() -> None:
    p = plan(
        {"json": {"q": "{{ prompt }}", "n": [1, {"b": None}], "t": True, "s": "plain"}},
        request(user('say "hi"\n\\ now')),
    )
    assert p.text == '{"q":"say \\"hi\\"\\n\\\\ now","n":[1,{"b":null}],"t":true,"s":"plain"}'
    assert orjson.loads(p.text)["q"] == 'say "hi"\n\\ now'
    assert p.json is None  # fixed JSON is not generated


def test_fixed_json_through_both_sdks(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    expected = {
        "prompt": "give json",
        "model": "GPT-4O",
        "list": [1, 2.5, None, True, "1"],
        "nested": {"unchanged": "plain", "count": 0},
    }
    content = ask(oai, "give json").choices[0].message.content
    assert content is not None
    assert orjson.loads(content) == expected
    assert content == orjson.dumps(expected).decode()  # compact: no spaces
    block = ask_claude(claude, "give json").content[0]
    assert block.type == "text"
    assert orjson.loads(block.text) == {**expected, "model": CLAUDE.upper()}
    array = ask(oai, "array").choices[0].message.content
    assert array == '[{"a":"openai"},1,"two"]'


# --- refusal, reasoning, tool calls in plans --------------------------------------------------


def test_refusal_plan() -> None:
    p = plan({"refusal": "I can't help with {{ tool_args('get_weather').city }}."})
    assert p.refusal == "I can't help with Rome."
    assert p.text == ""


def test_reasoning_plan_with_text_and_tool_calls() -> None:
    p = plan(
        {
            "reasoning": "The user asked: {{ prompt }}",
            "text": "Checking.",
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "{{ metadata.user_id | title }}"}},
                {"name": "search", "arguments": '{"q": {{ prompt | tojson }}}', "id": "call_fixed"},
                {"name": "search", "arguments": "{not json"},
            ],
        }
    )
    assert p.reasoning == "The user asked: Weather in Paris and Rome?"
    assert p.text == "Checking."
    assert [(c.name, c.arguments, c.id) for c in p.tool_calls] == [
        ("get_weather", '{"city":"Alice"}', None),
        ("search", '{"q": "Weather in Paris and Rome?"}', "call_fixed"),
        ("search", "{not json", None),  # a template string may render invalid JSON on purpose
    ]


def test_refusal_and_reasoning_on_the_wire() -> None:
    config_text = (
        "rules:\n"
        "  - match: {prompt: refuse}\n    reply: {refusal: 'No, {{ prompt }}.'}\n"
        "  - match: {prompt: think}\n    reply: {reasoning: 'Hmm, {{ prompt }}', text: Done.}\n"
    )
    with MockServer(config_text=config_text) as running:
        refused = post_openai(running, "refuse").json()["choices"][0]
        assert refused["message"]["refusal"] == "No, refuse."
        assert refused["message"]["content"] is None
        anthropic_refusal = post_anthropic(running, "refuse").json()
        assert anthropic_refusal["stop_reason"] == "refusal"
        assert anthropic_refusal["content"] == [{"type": "text", "text": "No, refuse."}]
        thought = post_anthropic(running, "think").json()
        assert thought["content"][0]["type"] == "thinking"
        assert thought["content"][0]["thinking"] == "Hmm, think"
        assert thought["content"][0]["signature"]
        assert thought["content"][1] == {"type": "text", "text": "Done."}
        openai_thought = post_openai(running, "think").json()
        assert openai_thought["choices"][0]["message"]["content"] == "Done."
        details = openai_thought["usage"]["completion_tokens_details"]
        assert details["reasoning_tokens"] > 0


# --- finish_reason and usage overrides --------------------------------------------------------

FINISH_MAP = {
    "stop": ("stop", "end_turn"),
    "length": ("length", "max_tokens"),
    "tool_calls": ("tool_calls", "tool_use"),
    "content_filter": ("content_filter", "refusal"),
    "stop_sequence": ("stop", "stop_sequence"),
}


@pytest.mark.parametrize("reason", sorted(FINISH_MAP))
def test_finish_reason_override(reason: str, server: MockServer) -> None:
    openai_reason, anthropic_reason = FINISH_MAP[reason]
    choice = post_openai(server, f"finish {reason}").json()["choices"][0]
    assert choice["finish_reason"] == openai_reason
    assert choice["message"]["content"] == "cut"
    message = post_anthropic(server, f"finish {reason}").json()
    assert message["stop_reason"] == anthropic_reason
    assert anthropic.types.Message.model_validate(message).stop_reason == anthropic_reason


def test_usage_override(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    usage = ask(oai, "usage").usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1000, 70, 1070)
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 50
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 600
    claude_usage = ask_claude(claude, "usage").usage
    assert claude_usage.input_tokens == 1000
    assert claude_usage.output_tokens == 70
    assert claude_usage.cache_read_input_tokens == 600


def test_partial_usage_override_keeps_the_counted_fields(oai: openai.OpenAI) -> None:
    partial = ask(oai, "partial usage", extra_headers={"x-usage": "override"}).usage
    counted = ask(oai, "partial usage").usage  # no header: the default answer, counted
    assert partial is not None and counted is not None
    assert partial.completion_tokens == 9
    assert partial.prompt_tokens == counted.prompt_tokens
    assert partial.total_tokens == partial.prompt_tokens + 9


# --- error replies ----------------------------------------------------------------------------

# (prompt, status OpenAI, OpenAI type, status Anthropic, Anthropic type)
ERRORS = [
    ("error 0", 429, "requests", 429, "rate_limit_error"),
    ("error 1", 503, "server_error", 529, "overloaded_error"),
    ("error 2", 503, "server_error", 503, "overloaded_error"),
    ("error 3", 500, "server_error", 500, "api_error"),
    ("error 4", 401, "invalid_request_error", 401, "authentication_error"),
    ("error 5", 404, "invalid_request_error", 404, "not_found_error"),
    ("error 6", 400, "requests", 400, "rate_limit_error"),  # an explicit type wins
    ("error 7", 418, "invalid_request_error", 418, "invalid_request_error"),
    ("error 8", 504, "server_error", 504, "timeout_error"),
    ("error 9", 502, "server_error", 502, "overloaded_error"),
    ("error 10", 403, "invalid_request_error", 403, "permission_error"),
    ("error 11", 413, "invalid_request_error", 413, "request_too_large"),
    ("error 12", 422, "invalid_request_error", 422, "invalid_request_error"),
]


@pytest.mark.parametrize(
    ("prompt", "openai_status", "openai_type", "anthropic_status", "anthropic_type"), ERRORS
)
def test_error_reply_envelopes(
    server: MockServer,
    prompt: str,
    openai_status: int,
    openai_type: str,
    anthropic_status: int,
    anthropic_type: str,
) -> None:
    response = post_openai(server, prompt)
    assert response.status_code == openai_status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == openai_type
    response = post_anthropic(server, prompt)
    assert response.status_code == anthropic_status
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == anthropic_type
    assert body["request_id"].startswith("req_")


def test_error_reply_message_code_and_retry_after(server: MockServer) -> None:
    response = post_openai(server, "error 0")
    assert response.headers["retry-after"] == "1.5"
    assert response.headers["retry-after-ms"] == "1500"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert response.json()["error"]["message"] == "Mock error."  # the default message
    response = post_anthropic(server, "error 0")
    assert response.headers["retry-after"] == "1.5"
    assert response.headers["retry-after-ms"] == "1500"

    assert post_openai(server, "error 2").headers["retry-after-ms"] == "10"
    assert post_openai(server, "error 2").headers["retry-after"] == "0.01"
    assert post_anthropic(server, "error 3").headers["retry-after"] == "2"
    assert post_anthropic(server, "error 3").headers["retry-after-ms"] == "2000"
    no_retry = post_openai(server, "error 1")
    assert "retry-after" not in no_retry.headers and "retry-after-ms" not in no_retry.headers

    # the message is a template
    assert post_openai(server, "error 1").json()["error"]["message"] == "Overloaded: gpt-4o"
    assert post_anthropic(server, "error 1").json()["error"]["message"] == f"Overloaded: {CLAUDE}"
    auth = post_openai(server, "error 4").json()["error"]
    assert (auth["message"], auth["code"]) == ("Bad key.", "invalid_api_key")


def test_error_replies_are_sent_before_any_stream_byte(server: MockServer) -> None:
    response = post_openai(server, "error 0", stream=True)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/json")
    response = post_anthropic(server, "error 1", stream=True)
    assert response.status_code == 529
    assert response.json()["error"]["type"] == "overloaded_error"


def test_unknown_error_type_is_a_config_error() -> None:
    # docs/rules.md lists the neutral kinds; a typo must not silently fall back to the
    # status's default kind
    with pytest.raises(ConfigError, match=r"f\.yml:\d+:\d+: rule 'r' \(#1\): reply\.error\.type"):
        parse_config(config({"error": {"status": 429, "type": "rate_limt"}}), "f.yml")


@pytest.mark.parametrize("status", [399, 600, 200])
def test_error_status_range(status: int) -> None:
    with pytest.raises(ConfigError, match=r"rule 'r' \(#1\): reply\.error\.status"):
        parse_config(config({"error": {"status": status}}), "f.yml")


def test_negative_retry_after_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"rule 'r' \(#1\): reply\.error\.retry_after"):
        parse_config(config({"error": {"status": 429, "retry_after": -1}}), "f.yml")


# --- validation: only one content field, and template syntax errors ---------------------------


@pytest.mark.parametrize(
    ("reply", "got"),
    [
        ({"text": "a", "chunks": ["b"]}, "text, chunks"),
        ({"text": "a", "json": {"b": 1}}, "text, json"),
        ({"echo": True, "refusal": "no"}, "echo, refusal"),
        ({"chunks": ["a"], "json_schema": {"type": "object"}}, "chunks, json_schema"),
        ({"text": "a", "echo": True, "refusal": "r"}, "text, echo, refusal"),
    ],
)
def test_only_one_content_field(reply: dict[str, Any], got: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config(reply), "f.yml")
    [problem] = caught.value.problems
    assert str(problem).startswith("f.yml:4:5: ")  # the reply's mapping
    assert (
        "rule 'r' (#1): reply: give only one of text, chunks, echo, json, json_schema, refusal"
        in str(problem)
    )
    assert f"(got {got})" in str(problem)


@pytest.mark.parametrize(
    "reply",
    [
        {"error": {"status": 500}, "text": "a"},
        {"error": {"status": 500}, "tool_calls": [{"name": "f", "arguments": {}}]},
        {"error": {"status": 500}, "refusal": "r"},
    ],
)
def test_an_error_reply_has_no_other_content(reply: dict[str, Any]) -> None:
    with pytest.raises(
        ConfigError, match=r"rule 'r' \(#1\): reply: an error reply has no other content"
    ):
        parse_config(config(reply), "f.yml")


@pytest.mark.parametrize(
    "reply",
    [
        {"text": "a", "echo": False},  # echo: false is no content
        {"text": "Calling.", "tool_calls": [{"name": "f", "arguments": {}}]},
        {"reasoning": "r", "refusal": "no"},
        {"error": {"status": 500}, "finish_reason": "stop", "usage": {"prompt_tokens": 1}},
    ],
)
def test_combinations_that_are_allowed(reply: dict[str, Any]) -> None:
    parse_config(config(reply), "f.yml")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "r"}, "give either reply or sequence"),
        ({"name": "r", "reply": "a", "sequence": ["b"]}, "give either reply or sequence"),
        ({"name": "r", "sequence": []}, "rule 'r' (#1): sequence"),
        ({"name": "r", "reply": {"finish_reason": "done"}}, "finish_reason is one of"),
        ({"name": "r", "reply": {"json": "yes"}}, "json is an object, an array, or auto"),
        ({"name": "r", "reply": 3}, "give a reply as a string or a mapping"),
        ({"name": "r", "reply": {"txt": "a"}}, "rule 'r' (#1): reply.txt: unknown field"),
        ({"name": "r", "reply": "a", "after_sequence": "loop"}, "after_sequence is one of"),
        (
            {"name": "r", "reply": {"tool_calls": [{"arguments": {}}]}},
            "rule 'r' (#1): reply.tool_calls.0.name",
        ),
        ({"name": "r", "reply": {"usage": {"prompt_tokens": -1}}}, "usage.prompt_tokens"),
    ],
)
def test_reply_validation_errors(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"f\.yml:\d+:\d+: ") as caught:
        parse_config(yaml.safe_dump({"rules": [rule]}, sort_keys=False), "f.yml")
    assert message in str(caught.value)


def syntax_problem(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "f.yml")
    [problem] = caught.value.problems
    return str(problem)


@pytest.mark.parametrize(
    ("text", "where", "field"),
    [
        ('rules:\n  - name: a\n    reply: "{{ oops"\n', "f.yml:3:12", "rule 'a' (#1): reply.text"),
        (
            'rules:\n  - name: a\n    reply:\n      reasoning: ok\n      text: "{% if %}"\n',
            "f.yml:5:13",
            "rule 'a' (#1): reply.text",
        ),
        (
            'rules:\n  - name: a\n    sequence:\n      - fine\n      - "{{ a b }}"\n',
            "f.yml:5:9",
            "rule 'a' (#1): sequence.1.text",
        ),
        (
            "rules:\n  - name: a\n    reply:\n      tool_calls:\n        - name: f\n"
            '          arguments: {city: "{{ x"}\n',
            "f.yml:6:22",
            "rule 'a' (#1): reply.tool_calls.0.arguments",
        ),
        (
            "rules:\n  - name: a\n    reply:\n      tool_calls:\n        - name: f\n"
            '          arguments: "{{ x"\n',
            "f.yml:6:22",
            "rule 'a' (#1): reply.tool_calls.0.arguments",
        ),
        (
            'rules:\n  - name: a\n    reply:\n      error: {status: 500, message: "{{ x"}\n',
            "f.yml:4:37",
            "rule 'a' (#1): reply.error.message",
        ),
        (
            'rules:\n  - name: a\n    reply:\n      refusal: "{% endfor %}"\n',
            "f.yml:4:16",
            "rule 'a' (#1): reply.refusal",
        ),
        (
            'rules:\n  - name: a\n    reply:\n      text: x\n      reasoning: "{{ }}"\n',
            "f.yml:5:18",
            "rule 'a' (#1): reply.reasoning",
        ),
        ('defaults:\n  unknown_response: "{{ x"\n', "f.yml:2:21", "defaults.unknown_response"),
        (
            'defaults:\n  after_tool_result: "{% endif %}"\n',
            "f.yml:2:22",
            "defaults.after_tool_result",
        ),
    ],
)
def test_template_syntax_errors_are_located(text: str, where: str, field: str) -> None:
    problem = syntax_problem(text)
    assert problem.startswith(f"{where}: {field}: template error: "), problem


def test_template_syntax_error_in_a_block_text_points_into_the_reply() -> None:
    text = "rules:\n  - name: a\n    reply: |\n      line one\n      {{ x }\n"
    problem = syntax_problem(text)
    line = int(problem.split(":")[1])
    assert 3 <= line <= 5, problem
    assert "rule 'a' (#1): reply.text: template error: unexpected '}'" in problem


def test_template_syntax_error_in_a_json_value_points_into_the_reply() -> None:
    text = 'rules:\n  - name: a\n    reply:\n      json:\n        a: "{{ x"\n'
    problem = syntax_problem(text)
    line = int(problem.split(":")[1])
    assert 4 <= line <= 5, problem
    assert "rule 'a' (#1): reply" in problem and "template error" in problem


def test_every_template_syntax_error_is_reported_together() -> None:
    text = (
        'rules:\n  - {name: a, reply: "{{ a"}\n  - {name: b, reply: "fine"}\n'
        '  - {name: c, reply: {refusal: "{% x %}"}}\n'
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "f.yml")
    assert [p.location.line for p in caught.value.problems] == [2, 4]
