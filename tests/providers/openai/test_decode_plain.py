"""``decode.decode_plain``: the fast decoding of plain Chat Completions bodies.

For any body, it is either None (the schema then decides, and words the 400s) or exactly
what the schema's path makes of the body (``parse_json`` then ``decode``), with the name of
the field the token limit came from. It must never accept a body the schema refuses.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mockllm.core.errors import MockError
from mockllm.providers.openai import decode
from mockllm.providers.openai.protocol import ChatCompletionRequest
from mockllm.providers.validation import parse_json

HEADERS = {"x-test": "1"}


def check(body: bytes) -> str:
    fast = decode.decode_plain(body, HEADERS)
    try:
        parsed = parse_json(ChatCompletionRequest, body)
        slow = decode.decode(parsed, HEADERS)
    except (ValidationError, MockError):
        assert fast is None, body
        return "refused"
    if fast is None:
        return "schema"
    param = "max_completion_tokens" if parsed.max_completion_tokens else "max_tokens"
    assert fast == (slow, param), body
    return "plain"


def test_the_benchmark_body_is_plain() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert check(json.dumps(body).encode()) == "plain"


def test_bodies_at_the_edges() -> None:
    message = '"messages":[{"role":"user","content":"x"}]'
    cases = {
        # orjson refuses what the schema's parser accepts and then refuses, or never sees
        '{"model":"m",%s,"temperature":NaN}': "refused",
        '{"model":"m",%s,"temperature":1e400}': "refused",
        '{"model":"m",%s,"seed":99999999999999999999}': "refused",
        '{"model":"m",%s,"seed":9223372036854775808}': "refused",
        '{"model":"m",%s,"n":1E2}': "refused",
        '{"model":"m",%s,"stop":["a","b","c","d","e"]}': "refused",
        '{"model":"m",%s,"temperature":true}': "refused",
        '{"model":"m",%s}x': "refused",
        # the last duplicate wins in both
        '{"model":1,"model":"m",%s}': "plain",
        '{"model":"m","model":1,%s}': "refused",
        '{"model":"m",%s,"stop":""}': "plain",
        '{"model":"m",%s,"stop":[]}': "plain",
        '{"model":"m",%s,"max_tokens":1,"max_completion_tokens":2}': "plain",
        '{"model":"m",%s,"metadata":{}}': "plain",
        '{"model":"m",%s,"temperature":-0}': "plain",
        '  {"model":"m",%s}\n': "plain",
        # valid, but not plain: the schema decodes them
        '{"model":"m",%s,"store":true}': "schema",
        '{"model":"m",%s,"stream":true,"stream_options":{"include_usage":true}}': "schema",
        '{"model":"m",%s,"tools":[]}': "schema",
        '{"model":"m",%s,"unknown":1}': "schema",
        '{"model":"m","messages":[{"role":["user"],"content":"x"}]}%s': "refused",
        '{"model":"m","messages":[{"role":{"a":1},"content":"x"}]}%s': "refused",
    }
    for template, expected in cases.items():
        body = template % (message if "messages" not in template else "")
        assert check(body.encode()) == expected, template


GOOD: dict[str, Any] = {
    "stream": st.one_of(st.none(), st.booleans()),
    "n": st.one_of(st.none(), st.integers(1, 128)),
    "max_tokens": st.one_of(st.none(), st.integers(1, 2**31 - 1)),
    "max_completion_tokens": st.one_of(st.none(), st.integers(1, 2**31 - 1)),
    "temperature": st.one_of(st.none(), st.floats(0, 2), st.integers(0, 2)),
    "top_p": st.one_of(st.none(), st.floats(0, 1)),
    "seed": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
    "user": st.one_of(st.none(), st.text(max_size=4)),
    "store": st.one_of(st.none(), st.just(False)),
    "reasoning_effort": st.one_of(st.none(), st.sampled_from(["low", "high"])),
    "metadata": st.one_of(
        st.none(), st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=3)
    ),
    "stop": st.one_of(st.none(), st.text(max_size=3), st.lists(st.text(max_size=2), max_size=4)),
}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, -1, 4, 5, 21, 128, 129, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=4),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=5,
)
ROLES = ["system", "developer", "user", "assistant"]
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(ROLES), "content": st.text(max_size=8)},
    optional={"name": st.one_of(st.none(), st.text(max_size=3))},
)
BODY = st.fixed_dictionaries(
    {"model": st.text(max_size=6), "messages": st.lists(MESSAGE, min_size=1, max_size=3)},
    optional=GOOD,
)
CHANGES = st.sampled_from([None, *GOOD, "model", "messages", "tools", "unknown"])
MESSAGE_CHANGES = st.sampled_from([None, "role", "content", "name", "tool_calls"])


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(BODY, CHANGES, MESSAGE_CHANGES, VALUES, st.sampled_from([*ROLES, "tool", "bot"]))
def test_plain_bodies_and_bodies_one_change_away(
    body: dict[str, Any], field: str | None, message_field: str | None, value: Any, role: str
) -> None:
    """A valid plain body, with one field of the body or of its first message replaced by
    any JSON value (its role by another role)."""
    if field is not None:
        body[field] = value
    elif message_field is not None:
        body["messages"][0][message_field] = role if message_field == "role" else value
    check(json.dumps(body).encode())
