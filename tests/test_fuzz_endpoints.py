"""Fuzzing every route of every dialect over real HTTP: no input gives a 5xx.

Each route of the app gets POST bodies (or, for GET routes, query strings) drawn from a
strategy that mixes valid request shapes for that endpoint, the same shapes mutated (fields
deleted, replaced by values of the wrong JSON type, huge integers, non-finite numbers,
deeply nested values, very long or odd strings, lists for objects and back, unknown fields)
and plain garbage (bytes, non-object JSON, truncated JSON). A few headers are fuzzed too.

For every request: the status is below 500, an error body is the dialect's own envelope,
the whole answer (a stream to its end) arrives, the connection is kept open, the server
logs no error, and the next request on the same connection is served.

A body is a seed as is, a seed with one node changed (an edge case of its own type most
often), a seed with random changes throughout, a cut seed, or garbage. Hypothesis runs
derandomized, without a database or deadline: ``MOCKLLM_FUZZ_EXAMPLES`` examples per
target (default 50, about 15 s for the file); run it with thousands locally to hunt for
bugs (a dangerous value in one field takes about 2,000). What it found is kept below as
plain cases (:func:`test_known_inputs`).
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Match, Route

from mockllm.providers.base import RouteSpec
from mockllm.testing import MockServer
from mockllm.wire import (
    SERVER_ERROR_MESSAGE,
    Endpoint,
    HttpCall,
    JsonResult,
    NotFound,
    RawHeaders,
    Result,
    StreamResult,
)

PROVIDERS = ("openai", "anthropic", "azure", "gemini", "ollama")
EXAMPLES = int(os.environ.get("MOCKLLM_FUZZ_EXAMPLES", "50"))

FUZZ_CONFIG = """
rules:
  - name: weather
    match: {tools: [get_weather], tool_result: false, prompt: {icontains: weather}}
    reply:
      text: "Let me check."
      tool_calls: [{name: get_weather, arguments: {city: Paris}}]
  - name: weather-answer
    match: {tool_result: true}
    reply: "It is sunny."
  - name: echo
    match: {prompt: {icontains: echo}}
    reply: {echo: true}
  - name: think
    match: {prompt: {icontains: think}}
    reply: {text: "Thought it through.", reasoning: "Let me think about it."}
  - name: chunks
    match: {prompt: {icontains: chunks}}
    reply: {chunks: ["one ", "two ", "three"]}
  - name: refuse
    match: {prompt: {icontains: refuse}}
    reply: {refusal: "I cannot help with that."}
  - name: limited
    match: {prompt: {icontains: limited}}
    reply: {error: {status: 429, message: "Slow down", retry_after: 0.01}}
"""


# -- JSON with what json.dumps cannot write ---------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text written as is: numbers no Python value gives (``1e400``), ``NaN``,
    nesting deeper than the encoder's recursion, duplicate keys."""

    text: str


def encode(value: Any, ascii_only: bool = False) -> str:
    """``value`` as JSON text; integers of any size, :class:`Raw` pieces as written."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        items = (f"{encode(str(k), ascii_only)}:{encode(v, ascii_only)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v, ascii_only) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return json.dumps(value, ensure_ascii=ascii_only)


def to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


# -- seeds: valid requests per endpoint ---------------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "multipleOf": 0.5},
        "tags": {
            "type": "array",
            "items": {"type": "string", "enum": ["a", "b"]},
            "minItems": 1,
            "uniqueItems": True,
        },
        "when": {"type": "string", "format": "date-time"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$", "maxLength": 6},
        "nested": {
            "anyOf": [{"type": "null"}, {"$ref": "#/$defs/point"}],
        },
        "kind": {"const": "fixed"},
    },
    "required": ["n", "tags", "code"],
    "additionalProperties": False,
    "$defs": {
        "point": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x"],
        }
    },
}
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
    "rkJggg=="
)
IMAGE = "data:image/png;base64," + PNG

CHAT_SEEDS: list[Any] = [
    {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "developer", "content": [{"type": "text", "text": "really brief"}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "weather in Paris"},
                    {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}},
                ],
                "name": "alice",
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
            {"role": "user", "content": "weather in Rome"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {"name": "get_weather", "description": "w", "parameters": WEATHER},
            }
        ],
        "tool_choice": "auto",
        "stream": True,
        "stream_options": {"include_usage": True},
        "n": 2,
        "max_tokens": 50,
        "stop": ["STOP"],
        "temperature": 0.5,
        "top_p": 0.9,
        "seed": 1,
        "logprobs": True,
        "top_logprobs": 2,
        "metadata": {"k": "v"},
        "user": "u",
        "parallel_tool_calls": True,
    },
    {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "fill it"}],
        "tools": [
            {
                "type": "function",
                "function": {"name": "lookup", "parameters": SCHEMA, "strict": True},
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    },
    {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "json please"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
        },
        "stream": True,
    },
    {
        "model": "o3",
        "messages": [{"role": "user", "content": "think hard"}],
        "response_format": {"type": "json_object"},
        "max_completion_tokens": 100,
    },
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "echo chunks"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
            {"role": "user", "content": "refuse this"},
        ],
        "stream": True,
    },
]

RESPONSE_SEEDS: list[Any] = [
    {"model": "gpt-4o", "input": "hi"},
    {
        "model": "gpt-4o",
        "instructions": "be brief",
        "input": [
            {"role": "user", "content": "weather in Paris"},
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "and this"},
                    {"type": "input_image", "image_url": IMAGE, "detail": "low"},
                    {"type": "input_file", "filename": "a.txt", "file_data": "aGk="},
                ],
            },
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"role": "user", "content": "weather in Rome"},
        ],
        "tools": [
            {"type": "function", "name": "get_weather", "parameters": WEATHER, "strict": True},
            {"type": "web_search_preview"},
        ],
        "tool_choice": "auto",
        "stream": True,
        "store": True,
        "metadata": {"k": "v"},
        "max_output_tokens": 100,
        "reasoning": {"effort": "low", "summary": "auto"},
        "temperature": 0.5,
        "include": ["reasoning.encrypted_content"],
        "truncation": "auto",
    },
    {
        "model": "gpt-4o",
        "input": [{"role": "user", "content": "fill it"}],
        "tools": [{"type": "function", "name": "lookup", "parameters": SCHEMA}],
        "tool_choice": {"type": "function", "name": "lookup"},
        "store": False,
    },
    {
        "model": "gpt-4o",
        "input": "json please",
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": SCHEMA}},
        "stream": True,
    },
    {"model": "o3", "input": "think", "background": True, "previous_response_id": "@response"},
    {"model": "gpt-4o", "input": [{"type": "item_reference", "id": "@item"}]},
    {
        "model": "gpt-4o",
        "prompt": {
            "id": "pmpt_1",
            "version": "2",
            "variables": {"city": "Paris", "photo": {"type": "input_image", "image_url": IMAGE}},
        },
    },
]

COMPLETION_SEEDS: list[Any] = [
    {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"},
    {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": ["echo a", "b"],
        "n": 2,
        "best_of": 2,
        "echo": True,
        "logprobs": 2,
        "stream": True,
        "stream_options": {"include_usage": True},
        "suffix": "end",
        "max_tokens": 5,
        "stop": "x",
        "logit_bias": {"50256": -100},
        "seed": 3,
    },
    {"model": "davinci-002", "prompt": [1, 2, 3]},
    {"model": "davinci-002", "prompt": [[1, 2], [3]], "max_tokens": 0},
]

EMBEDDING_SEEDS: list[Any] = [
    {"model": "text-embedding-3-small", "input": "hi"},
    {
        "model": "text-embedding-3-large",
        "input": ["a", "b"],
        "encoding_format": "base64",
        "dimensions": 8,
    },
    {"model": "text-embedding-ada-002", "input": [1, 2, 3], "encoding_format": "float"},
    {"model": "text-embedding-3-small", "input": [[1, 2], [3]], "user": "u"},
]

MODERATION_SEEDS: list[Any] = [
    {"input": "hi"},
    {"input": ["a", "b"], "model": "omni-moderation-latest"},
    {
        "input": [
            {"type": "text", "text": "x"},
            {"type": "image_url", "image_url": {"url": IMAGE}},
        ]
    },
]

MESSAGES_SEEDS: list[Any] = [
    {
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    },
    {
        "model": "claude-sonnet-4-6",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "be brief"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "weather in Paris"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {"type": "document", "source": {"type": "text", "data": "doc"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "content": [{"type": "text", "text": "sunny"}],
                        "is_error": False,
                    },
                    {"type": "text", "text": "weather in Rome"},
                ],
            },
        ],
        "tools": [{"name": "get_weather", "description": "w", "input_schema": WEATHER}],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "stream": True,
        "metadata": {"user_id": "u"},
        "stop_sequences": ["STOP"],
        "temperature": 0.5,
        "top_k": 5,
    },
    {
        "model": "claude-haiku-4-5-20251001",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "fill it"}],
        "tools": [{"name": "lookup", "input_schema": SCHEMA}],
        "tool_choice": {"type": "tool", "name": "lookup"},
    },
    {
        "model": "claude-opus-4-6",
        "max_tokens": 50,
        "system": "sys",
        "messages": [
            {"role": "user", "content": "think"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "echo chunks refuse"},
        ],
        "stream": True,
    },
]
COUNT_SEEDS = [{k: v for k, v in seed.items() if k != "max_tokens"} for seed in MESSAGES_SEEDS]

GEMINI_GENERATE_SEEDS: list[Any] = [
    {"contents": [{"parts": [{"text": "hi"}]}]},
    {
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "weather in Paris"},
                    {"inlineData": {"mimeType": "image/png", "data": PNG}},
                    {"fileData": {"mimeType": "text/plain", "fileUri": "https://x/y.txt"}},
                ],
            },
            {
                "role": "model",
                "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}],
            },
            {
                "role": "user",
                "parts": [
                    {
                        "functionResponse": {
                            "name": "get_weather",
                            "response": {"result": "sunny"},
                        }
                    }
                ],
            },
            {"role": "user", "parts": [{"text": "weather in Rome"}]},
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {"name": "get_weather", "description": "w", "parameters": WEATHER}
                ]
            },
            {"googleSearch": {}},
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
        "generationConfig": {
            "maxOutputTokens": 100,
            "stopSequences": ["STOP"],
            "candidateCount": 1,
            "temperature": 0.5,
            "topP": 0.9,
            "topK": 40,
            "seed": 7,
            "thinkingConfig": {"includeThoughts": True, "thinkingBudget": 1024},
        },
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
    },
    {
        "contents": [{"role": "user", "parts": [{"text": "fill it"}]}],
        "tools": [{"functionDeclarations": [{"name": "lookup", "parametersJsonSchema": SCHEMA}]}],
        "toolConfig": {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["lookup"]}
        },
    },
    {
        "contents": [{"parts": [{"text": "json please"}]}],
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseJsonSchema": SCHEMA,
        },
    },
    {
        "contents": [{"parts": [{"text": "json please"}]}],
        "generation_config": {
            "response_mime_type": "application/json",
            "response_schema": {
                "type": "OBJECT",
                "properties": {"a": {"type": "INTEGER"}, "b": {"type": "STRING"}},
                "required": ["a"],
            },
        },
    },
]
GEMINI_COUNT_SEEDS: list[Any] = [
    {"contents": [{"parts": [{"text": "hi"}]}]},
    {"generateContentRequest": GEMINI_GENERATE_SEEDS[1]},
    {},
]
GEMINI_EMBED_SEEDS: list[Any] = [
    {"content": {"parts": [{"text": "hi"}]}},
    {
        "content": {"parts": [{"text": "a"}, {"text": "b"}]},
        "taskType": "RETRIEVAL_DOCUMENT",
        "title": "t",
        "outputDimensionality": 8,
    },
]
GEMINI_BATCH_SEEDS: list[Any] = [
    {
        "requests": [
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "a"}]}},
            {"content": {"parts": [{"text": "b"}]}, "outputDimensionality": 4},
        ]
    }
]

OLLAMA_CHAT_SEEDS: list[Any] = [
    {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "stream": False},
    {
        "model": "qwen3",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "weather in Paris"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "P"}}}
                ],
            },
            {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
            {"role": "user", "content": "weather in Rome think"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {"name": "get_weather", "description": "w", "parameters": WEATHER},
            }
        ],
        "options": {
            "num_ctx": 4096,
            "num_predict": 50,
            "stop": ["STOP"],
            "temperature": 0.5,
            "seed": 1,
            "use_mmap": True,
        },
        "think": True,
        "keep_alive": "5m",
        "stream": True,
    },
    {
        "model": "llava",
        "messages": [{"role": "user", "content": "what is this", "images": [PNG]}],
        "format": SCHEMA,
        "stream": False,
        "keep_alive": 0,
    },
    {"model": "gpt-oss:20b", "messages": [{"role": "user", "content": "x"}], "think": "low"},
    {"model": "llama3.2", "messages": [], "keep_alive": 0},
]
OLLAMA_GENERATE_SEEDS: list[Any] = [
    {"model": "llama3.2", "prompt": "hi", "stream": False},
    {
        "model": "qwen2.5",
        "prompt": "echo hi",
        "suffix": "end",
        "system": "be brief",
        "context": [1, 2, 3],
        "format": "json",
        "options": {"num_predict": 5},
        "keep_alive": 30,
        "stream": True,
    },
    {"model": "llava", "prompt": "look", "images": [PNG], "raw": True, "stream": False},
    {"model": "deepseek-r1", "prompt": "think", "think": True, "template": "{{ .Prompt }}"},
    {"model": "llama3.2", "prompt": "", "keep_alive": "0s"},
]

BODIES: dict[str, list[Any]] = {
    "chat": CHAT_SEEDS,
    "responses": RESPONSE_SEEDS,
    "input_tokens": [*RESPONSE_SEEDS, {"input": "no model"}],
    "compact": [
        *RESPONSE_SEEDS,
        {"model": "gpt-4o", "previous_response_id": "@response"},
        {"model": "gpt-4o", "input": [{"type": "compaction", "encrypted_content": "gAAAAABeA=="}]},
        {"input": "no model"},
    ],
    "chat.update": [{"metadata": {"k": "v"}}, {"metadata": None}, {}],
    "completions": COMPLETION_SEEDS,
    "embeddings": EMBEDDING_SEEDS,
    "moderations": MODERATION_SEEDS,
    "messages": MESSAGES_SEEDS,
    "count_tokens": COUNT_SEEDS,
    "gemini.generate": GEMINI_GENERATE_SEEDS,
    "gemini.count": GEMINI_COUNT_SEEDS,
    "gemini.embed": GEMINI_EMBED_SEEDS,
    "gemini.batch": GEMINI_BATCH_SEEDS,
    "ollama.chat": OLLAMA_CHAT_SEEDS,
    "ollama.generate": OLLAMA_GENERATE_SEEDS,
    "ollama.embed": [
        {"model": "all-minilm", "input": ["a", "b"], "dimensions": 8, "truncate": False},
        {"model": "nomic-embed-text", "input": "hi", "options": {"num_ctx": 2}},
    ],
    "ollama.embeddings": [{"model": "all-minilm", "prompt": "hi"}, {"model": "llama3.2"}],
    "ollama.show": [{"model": "llama3.2"}, {"name": "qwen3", "verbose": True}],
    "ollama.pull": [{"model": "llama3.2", "stream": False}, {"name": "nope", "stream": True}],
}


# -- targets: what to send to each route -------------------------------------------------


def segment(values: list[str]) -> st.SearchStrategy[str]:
    """A path segment: a known value, or any text (percent-encoded as one segment)."""
    text = st.text(min_size=1, max_size=40).filter(lambda s: s.strip(".") != "")
    return st.sampled_from(values) | text.map(lambda s: quote(s, safe=""))


OPENAI_MODELS = ["gpt-4o", "text-embedding-3-small", "nope", "ft:gpt-4o:org::x", "a/b"]
CLAUDE_MODELS = ["claude-sonnet-4-6", "claude-3-haiku-20240307", "nope"]
GEMINI_MODELS = ["gemini-2.5-flash", "text-embedding-004", "models/gemini-2.0-flash", "nope"]
GEMINI_ACTIONS = {
    "generateContent": "gemini.generate",
    "streamGenerateContent": "gemini.generate",
    "countTokens": "gemini.count",
    "embedContent": "gemini.embed",
    "batchEmbedContents": "gemini.batch",
}
QueryValues = Mapping[str, list[str]]
NUMBERS = ["0", "1", "-1", "20", "1000", "1001", "18446744073709551616", "1e3", "x", ""]


@dataclass(frozen=True)
class Target:
    """One way to call a route: its method, a strategy for the path (placeholders such as
    ``@response`` are replaced by live ids), the body seeds (None: no body), the query
    parameters worth trying, and the provider's usual headers."""

    route: str
    method: str
    path: st.SearchStrategy[str]
    bodies: str | None = None
    query: QueryValues = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


OPENAI_HEADERS = {"authorization": "Bearer sk-test"}
ANTHROPIC_HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant"}
GEMINI_HEADERS = {"x-goog-api-key": "key"}
AZURE_HEADERS = {"api-key": "key"}
AZURE_QUERY = {"api-version": ["2024-10-21", ""]}
RESPONSE_IDS = ["@response", "@background", "resp_missing"]
CHAT_IDS = ["@chat", "chatcmpl-missing"]


def _fixed(path: str) -> st.SearchStrategy[str]:
    return st.just(path)


def _gemini_action(version: str) -> st.SearchStrategy[str]:
    return st.builds(
        lambda model, action: f"/{version}/models/{model}:{action}",
        segment(GEMINI_MODELS),
        st.sampled_from([*GEMINI_ACTIONS, "nope"]),
    )


def targets() -> list[Target]:
    out = [
        Target("openai:chat.completions", "POST", _fixed("/v1/chat/completions"), "chat"),
        Target("openai:models.list", "GET", _fixed("/v1/models"), query={"limit": NUMBERS}),
        Target(
            "openai:models.retrieve",
            "GET",
            segment(OPENAI_MODELS).map(lambda m: f"/v1/models/{m}"),
        ),
        Target(
            "openai:models.delete",
            "DELETE",
            segment(OPENAI_MODELS).map(lambda m: f"/v1/models/{m}"),
        ),
        Target(
            "openai:chat.list",
            "GET",
            _fixed("/v1/chat/completions"),
            query={
                "limit": NUMBERS,
                "order": ["asc", "desc", "up"],
                "after": ["@chat", "x"],
                "model": ["gpt-4o", "nope"],
                "metadata[k]": ["v", ""],
            },
        ),
        Target(
            "openai:chat.retrieve",
            "GET",
            segment(CHAT_IDS).map(lambda c: f"/v1/chat/completions/{c}"),
        ),
        Target(
            "openai:chat.update",
            "POST",
            segment(CHAT_IDS).map(lambda c: f"/v1/chat/completions/{c}"),
            "chat.update",
        ),
        Target(
            "openai:chat.delete",
            "DELETE",
            segment(CHAT_IDS).map(lambda c: f"/v1/chat/completions/{c}"),
        ),
        Target(
            "openai:chat.messages.list",
            "GET",
            segment(CHAT_IDS).map(lambda c: f"/v1/chat/completions/{c}/messages"),
            query={"limit": NUMBERS, "order": ["asc", "desc", "up"], "after": ["@message", "x"]},
        ),
        Target("openai:responses.compact", "POST", _fixed("/v1/responses/compact"), "compact"),
        Target("openai:responses.create", "POST", _fixed("/v1/responses"), "responses"),
        Target(
            "openai:responses.input_tokens",
            "POST",
            _fixed("/v1/responses/input_tokens"),
            "input_tokens",
        ),
        Target(
            "openai:responses.retrieve",
            "GET",
            segment(RESPONSE_IDS).map(lambda r: f"/v1/responses/{r}"),
            query={"stream": ["true", "false", "1", ""], "starting_after": NUMBERS},
        ),
        Target(
            "openai:responses.delete",
            "DELETE",
            segment(["@fresh", *RESPONSE_IDS]).map(lambda r: f"/v1/responses/{r}"),
        ),
        Target(
            "openai:responses.cancel",
            "POST",
            segment(RESPONSE_IDS).map(lambda r: f"/v1/responses/{r}/cancel"),
        ),
        Target(
            "openai:responses.input_items",
            "GET",
            segment(RESPONSE_IDS).map(lambda r: f"/v1/responses/{r}/input_items"),
            query={"limit": NUMBERS, "order": ["asc", "desc", "up"], "after": ["@item", "x"]},
        ),
        Target("openai:embeddings", "POST", _fixed("/v1/embeddings"), "embeddings"),
        Target("openai:completions", "POST", _fixed("/v1/completions"), "completions"),
        Target("openai:moderations", "POST", _fixed("/v1/moderations"), "moderations"),
        Target("anthropic:messages", "POST", _fixed("/v1/messages"), "messages"),
        Target(
            "anthropic:count_tokens", "POST", _fixed("/v1/messages/count_tokens"), "count_tokens"
        ),
        Target(
            "anthropic:models.list",
            "GET",
            _fixed("/v1/models"),
            query={
                "limit": NUMBERS,
                "after_id": ["claude-sonnet-4-6", "x"],
                "before_id": ["claude-3-haiku-20240307", "x"],
            },
            headers=ANTHROPIC_HEADERS,
        ),
        Target(
            "anthropic:models.retrieve",
            "GET",
            segment(CLAUDE_MODELS).map(lambda m: f"/v1/models/{m}"),
            headers=ANTHROPIC_HEADERS,
        ),
    ]
    deployment = segment(["gpt-4o", "text-embedding-3-small", "nope"])
    for name, kind in (
        ("chat.completions", "chat"),
        ("completions", "completions"),
        ("embeddings", "embeddings"),
    ):
        out.append(
            Target(
                f"azure:azure.{name}",
                "POST",
                deployment.map(f"/openai/deployments/{{}}/{name.replace('.', '/')}".format),
                kind,
                AZURE_QUERY,
                AZURE_HEADERS,
            )
        )
        out.append(
            Target(
                f"azure:azure.v1.{name}",
                "POST",
                _fixed(f"/openai/v1/{name.replace('.', '/')}"),
                kind,
                headers=AZURE_HEADERS,
            )
        )
    for prefix, route in (("/openai/v1", "azure.v1"), ("/openai", "azure")):
        out.append(
            Target(
                f"azure:{route}.models.list",
                "GET",
                _fixed(f"{prefix}/models"),
                None,
                AZURE_QUERY,
                AZURE_HEADERS,
            )
        )
        out.append(
            Target(
                f"azure:{route}.models.retrieve",
                "GET",
                segment(OPENAI_MODELS).map(f"{prefix}/models/{{}}".format),
                None,
                AZURE_QUERY,
                AZURE_HEADERS,
            )
        )
    gemini_query = {"key": ["k", ""], "alt": ["sse", "json", ""]}
    list_query = {"key": ["k", ""], "pageSize": NUMBERS, "pageToken": ["b2Zmc2V0OjI", "x", "=="]}
    model_path = segment(GEMINI_MODELS)
    out += [
        Target("gemini:models.list", "GET", _fixed("/v1beta/models"), None, list_query),
        Target(
            "gemini:models",
            "GET",
            model_path.map(lambda m: f"/v1beta/models/{m}"),
            None,
            gemini_query,
            GEMINI_HEADERS,
        ),
        Target(
            "gemini:models",
            "POST",
            _gemini_action("v1beta"),
            "gemini",
            gemini_query,
            GEMINI_HEADERS,
        ),
        Target("gemini:models.list", "GET", _fixed("/v1/models"), None, list_query, GEMINI_HEADERS),
        Target(
            "gemini:models.get",
            "GET",
            model_path.map(lambda m: f"/v1/models/{m}"),
            None,
            gemini_query,
            GEMINI_HEADERS,
        ),
        Target(
            "gemini:models.action",
            "POST",
            _gemini_action("v1"),
            "gemini",
            gemini_query,
            GEMINI_HEADERS,
        ),
    ]
    for method in ("GET", "HEAD"):
        out.append(Target("ollama:ollama.root", method, _fixed("/")))
        out.append(Target("ollama:ollama.version", method, _fixed("/api/version")))
        out.append(Target("ollama:ollama.tags", method, _fixed("/api/tags")))
    for name in ("chat", "generate", "embed", "embeddings", "show", "pull"):
        out.append(
            Target(f"ollama:ollama.{name}", "POST", _fixed(f"/api/{name}"), f"ollama.{name}")
        )
    out.append(Target("ollama:ollama.ps", "GET", _fixed("/api/ps")))
    return out


TARGETS = targets()


# -- mutations ---------------------------------------------------------------------------

HUGE = [2**63, 2**64, -(2**63) - 1, -(2**70), 10**30, 2**1000]
RAW_NUMBERS = [
    "1e400",
    "-1e400",
    "1E+999",
    "NaN",
    "Infinity",
    "-Infinity",
    "1" + "0" * 400 + ".5",
    "9" * 5000,
    "-0",
    "1e-400",
    "0.1e1",
]
ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "\ud800",
    "\u202e\u0000\ufeff",
    "🙂" * 3,
    "null",
    "{{ 7*7 }}",
    "{% for x in range(10) %}x{% endfor %}",
    "../../etc/passwd",
    "%s%n",
    "a" * 300,
]
FIELD_NAMES = [
    "model",
    "messages",
    "input",
    "prompt",
    "contents",
    "parts",
    "text",
    "type",
    "role",
    "content",
    "tools",
    "tool_choice",
    "stream",
    "max_tokens",
    "n",
    "schema",
    "parameters",
    "properties",
    "items",
    "$ref",
    "anyOf",
    "enum",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "required",
    "options",
    "context",
    "metadata",
]


def _nested(depth: int, kind: str) -> Raw:
    if kind == "list":
        return Raw("[" * depth + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


def json_values() -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )


def nasty_values() -> st.SearchStrategy[Any]:
    """A value of any JSON type, with the edge cases first in line."""
    long_text = st.builds(
        lambda piece, count: piece * count,
        st.sampled_from(["a", "é", "🙂", " ", "{{", "\n", "\\"]),
        st.integers(1_000, 200_000),
    )
    return st.one_of(
        st.sampled_from(HUGE),
        st.sampled_from(RAW_NUMBERS).map(Raw),
        st.sampled_from(
            [None, True, False, 0, -1, 1, 2**31, 2**31 - 1, 2**32, 2**53 + 1, 1e308, -1e308, 0.5]
        ),
        st.sampled_from(ODD_STRINGS),
        st.sampled_from([[], {}, [[]], [{}], {"": None}, [None], {"type": ["x"]}, {"type": {}}]),
        st.builds(_nested, st.integers(2, 3000), st.sampled_from(["list", "dict"])),
        long_text,
        st.text(max_size=50),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        json_values(),
    )


NUMBER_EDGES = [
    *HUGE,
    1e308,
    -1e308,
    1e300,
    -1e300,
    5e-324,
    -1,
    0,
    -0.0,
    0.5,
    2**31,
    -(2**31) - 1,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
]
STRING_EDGES = [
    *ODD_STRINGS,
    "-1s",
    "9" * 30 + "h",
    "9" * 400 + "s",
    "-" + "9" * 30 + "m",
    "1e309",
    "9" * 30,
    "1e3m",
    ".5h",
    "0",
    "-0",
    "json",
    "auto",
    "required",
    "none",
    "object",
    "integer",
    "#/$defs/point",
    "#",
    "(a|",
    "^(a+)+$",
    "models/",
    ":",
]


def edge_values(value: Any) -> st.SearchStrategy[Any]:
    """Edge cases of the same JSON type as ``value``: the values a handler trips on."""
    if isinstance(value, bool) or value is None:
        return st.sampled_from([None, 0, 1, "true", False, True])
    if isinstance(value, int | float):
        return st.sampled_from(NUMBER_EDGES) | st.sampled_from(RAW_NUMBERS).map(Raw)
    if isinstance(value, str):
        long_text = st.builds(lambda n: value * n, st.integers(100, 5_000))
        return st.sampled_from(STRING_EDGES) | st.text(max_size=30) | long_text
    if isinstance(value, list):
        return st.sampled_from([[], [None], [[]], value * 50, [value]])
    return st.sampled_from([{}, {"": value}, {"type": ["x"]}, {"$ref": "#"}])


def mutate(data: st.DataObject, value: Any, rate: int, depth: int = 0) -> Any:
    """``value`` with random changes; ``rate`` is the chance in 100 of a change per node."""
    roll = data.draw(st.integers(0, 99), label="roll")
    if roll < rate:
        how = data.draw(
            st.sampled_from(["edge", "edge", "replace", "wrap", "unwrap", "retype"]), label="how"
        )
        if how == "edge":
            return data.draw(edge_values(value), label="edge")
        if how == "replace":
            return data.draw(nasty_values(), label="nasty")
        if how == "wrap":
            return [value]
        if how == "unwrap" and isinstance(value, list):
            return value[0] if value else {}
        if how == "unwrap" and isinstance(value, dict):
            return list(value.values())
        if isinstance(value, str):
            return data.draw(st.sampled_from([[value], {"text": value}, 1, True]), label="as")
        return str(value) if not isinstance(value, Raw) else value.text
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if data.draw(st.integers(0, 99), label="drop") < rate:
                continue
            out[key] = mutate(data, item, rate, depth + 1)
        if data.draw(st.integers(0, 99), label="extra") < rate:
            key = data.draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=10), label="key")
            out[key] = data.draw(nasty_values(), label="extra value")
        return out
    if isinstance(value, list):
        items = [mutate(data, item, rate, depth + 1) for item in value]
        if items and data.draw(st.integers(0, 99), label="dup") < rate:
            items.append(data.draw(st.sampled_from(items), label="copy"))
        return items
    return value


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every node of ``value``, the root first."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += paths(item, (*prefix, index))
    return out


def mutate_at(data: st.DataObject, value: Any, where: tuple[str | int, ...]) -> Any:
    """``value`` with one change at ``where``: an edge case of the node's type most often,
    else a value of any type, its removal, or a structural change."""
    if where:
        head, rest = where[0], where[1:]
        if isinstance(value, dict) and isinstance(head, str):
            if not rest and data.draw(st.integers(0, 9), label="remove") == 0:
                return {k: v for k, v in value.items() if k != head}
            return {**value, head: mutate_at(data, value[head], rest)}
        assert isinstance(value, list) and isinstance(head, int)
        return [mutate_at(data, v, rest) if i == head else v for i, v in enumerate(value)]
    how = data.draw(st.sampled_from(["edge"] * 6 + ["nasty", "structure"]), label="how")
    if how == "edge":
        return data.draw(edge_values(value), label="edge")
    if how == "nasty":
        return data.draw(nasty_values(), label="nasty")
    return mutate(data, value, 100)


def garbage() -> st.SearchStrategy[bytes]:
    """Bodies that are not a JSON object."""
    return st.one_of(
        st.binary(max_size=300),
        json_values().map(lambda v: to_bytes(encode(v))),
        st.sampled_from(
            [
                b"",
                b" ",
                b"null",
                b"[]",
                b'"text"',
                b"1",
                b"\xef\xbb\xbf{}",
                b'{"model": "x", "model": 5}',
                b'{"a": "\xff\xfe"}',
                b"{" * 5000,
                b'{"a": 1}' * 3,
                b"\x00" * 10,
            ]
        ),
    )


def resolve_placeholders(value: Any, live: Mapping[str, str]) -> Any:
    if isinstance(value, str) and value in live:
        return live[value]
    if isinstance(value, dict):
        return {k: resolve_placeholders(v, live) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_placeholders(v, live) for v in value]
    return value


def draw_body(
    data: st.DataObject, target: Target, path: str, live: Mapping[str, str]
) -> bytes | None:
    if target.bodies is None:
        if data.draw(st.integers(0, 9), label="body on GET") == 0:
            return data.draw(garbage(), label="stray body")
        return None
    kind = target.bodies
    if kind == "gemini":  # the body of the action in the path (any for an unknown one)
        kind = GEMINI_ACTIONS.get(path.rsplit(":", 1)[-1], "gemini.generate")
    seed = resolve_placeholders(data.draw(st.sampled_from(BODIES[kind]), label="seed"), live)
    mode = data.draw(
        st.sampled_from(
            ["valid", "point", "point", "point", "light", "light", "heavy", "garbage", "cut"]
        ),
        label="mode",
    )
    if mode == "valid":
        return to_bytes(encode(seed))
    if mode == "point":
        where = data.draw(st.sampled_from(paths(seed)), label="where")
        return to_bytes(encode(mutate_at(data, seed, where)))
    if mode == "garbage":
        return data.draw(garbage(), label="garbage")
    if mode == "cut":
        text = to_bytes(encode(seed))
        at = data.draw(st.integers(0, len(text)), label="cut at")
        insert = data.draw(st.sampled_from([b"", b"\xff", b",", b"}", b'"', b"\\"]), label="ins")
        return text[:at] + insert
    rate = 4 if mode == "light" else 20
    mutated = mutate(data, seed, rate)
    ascii_only = data.draw(st.booleans(), label="ascii")
    return to_bytes(encode(mutated, ascii_only))


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=30,
)


def draw_headers(data: st.DataObject, target: Target) -> dict[bytes, bytes]:
    headers = {k.encode(): v.encode() for k, v in {**OPENAI_HEADERS, **target.headers}.items()}
    headers[b"content-type"] = b"application/json"
    if data.draw(st.integers(0, 9), label="fuzz headers") < 3:
        names = ["anthropic-version", "api-key", "x-goog-api-key", "authorization", "content-type"]
        for name in data.draw(st.lists(st.sampled_from(names), max_size=3), label="headers"):
            value = data.draw(st.none() | HEADER_TEXT, label=name)
            if value is None:
                headers.pop(name.encode(), None)
            else:
                headers[name.encode()] = value.encode("latin-1")
    return headers


def draw_query(data: st.DataObject, target: Target, live: Mapping[str, str]) -> str:
    pairs: list[tuple[str, str]] = []
    for name, values in target.query.items():
        choice = data.draw(
            st.none() | st.sampled_from(values) | st.text(max_size=20), label=f"?{name}"
        )
        if choice is not None:
            pairs.append((name, live.get(choice, choice)))
    if data.draw(st.integers(0, 9), label="extra query") == 0:
        pairs.append(
            (
                data.draw(st.text(max_size=10), label="qname"),
                data.draw(st.text(max_size=10), label="qvalue"),
            )
        )
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    if data.draw(st.integers(0, 19), label="raw query") == 0:
        query += "&" + data.draw(
            st.sampled_from(["%ff%fe", "%00", "==&&", "a=%zz", ";;", "+"]), label="raw"
        )
    return query


# -- what every answer must be -------------------------------------------------------------


def _is_str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def openai_envelope(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(error, dict)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("type"), str)
        and "param" in error
        and _is_str_or_none(error["param"])
        and "code" in error
        and _is_str_or_none(error["code"])
    )


def azure_envelope(body: Any) -> bool:
    """OpenAI's envelope, or the short one of Azure's front door (``{"code", "message"}``)."""
    error = body.get("error") if isinstance(body, dict) else None
    short = (
        isinstance(error, dict)
        and set(error) == {"code", "message"}
        and isinstance(error["code"], str)
        and isinstance(error["message"], str)
    )
    return short or openai_envelope(body)


def anthropic_envelope(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(body, dict)
        and body.get("type") == "error"
        and isinstance(error, dict)
        and isinstance(error.get("type"), str)
        and isinstance(error.get("message"), str)
    )


def gemini_envelope(body: Any) -> bool:
    error = body.get("error") if isinstance(body, dict) else None
    return (
        isinstance(error, dict)
        and type(error.get("code")) is int
        and isinstance(error.get("message"), str)
        and isinstance(error.get("status"), str)
    )


def ollama_envelope(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("error"), str)


ENVELOPES: dict[str, Callable[[Any], bool]] = {
    "openai": openai_envelope,
    "azure": azure_envelope,
    "anthropic": anthropic_envelope,
    "gemini": gemini_envelope,
    "ollama": ollama_envelope,
}


class Errors(logging.Handler):
    """Collects the error records mockllm logs (an exception in a handler, a stream...)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        out = [self.format(r) for r in self.records]
        self.records.clear()
        return out


@dataclass
class Fuzz:
    """The server under test, a keep-alive client on it, and what is live in it."""

    server: MockServer
    client: httpx.Client
    errors: Errors
    live: dict[str, str]

    def dialect(self, method: str, path: str, headers: Mapping[bytes, bytes]) -> str:
        """The provider that answers ``method path``: the app's own routing decision."""
        raw = RawHeaders([(k.lower(), v) for k, v in headers.items()])
        path = unquote(path)  # what the server sees
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        for route in self.server.app.router.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE and isinstance(route, Route):
                if isinstance(route.app, Endpoint):
                    _, provider, _ = route.app._select(path, raw, method)
                    return provider.name
                return "mockllm"
        default = self.server.app.router.default
        assert isinstance(default, NotFound)
        return default.owner(path, raw).name

    def create_response(self, **extra: Any) -> dict[str, Any]:
        body = {"model": "gpt-4o", "input": "weather in Paris", **extra}
        answer = self.client.post("/v1/responses", json=body, headers=OPENAI_HEADERS)
        assert answer.status_code == 200, answer.text
        created: dict[str, Any] = answer.json()
        return created


@pytest.fixture(scope="module")
def fuzz() -> Iterator[Fuzz]:
    errors = Errors()
    logger = logging.getLogger("mockllm")
    logger.addHandler(errors)
    try:
        with (
            MockServer(config_text=FUZZ_CONFIG, providers=",".join(PROVIDERS)) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            state = Fuzz(server, client, errors, {})
            first = state.create_response(metadata={"k": "v"})
            background = state.create_response(background=True)
            items = client.get(f"/v1/responses/{first['id']}/input_items").json()["data"]
            chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
            kept = client.post("/v1/chat/completions", json=chat | {"store": True}).json()
            state.live.update(
                {
                    "@response": first["id"],
                    "@background": background["id"],
                    "@item": items[0]["id"],
                    "@chat": kept["id"],
                    "@message": f"{kept['id']}-0",
                }
            )
            yield state
    finally:
        logger.removeHandler(errors)


def describe(request: httpx.Request, answer: httpx.Response | None) -> str:
    body = request.content[:1500]
    lines = [
        f"{request.method} {request.url}",
        f"headers: {dict(request.headers)}",
        f"body: {body!r}",
    ]
    if answer is not None:
        lines.append(f"-> {answer.status_code} {dict(answer.headers)}")
        lines.append(answer.text[:1500])
    return "\n".join(lines)


def check(fuzz: Fuzz, request: httpx.Request, answer: httpx.Response, dialect: str) -> None:
    what = describe(request, answer)
    logged = fuzz.errors.take()
    assert not logged, f"the server logged an error:\n{logged[0]}\n{what}"
    assert answer.status_code < 500, what
    assert answer.headers.get("connection", "").lower() != "close", what
    assert SERVER_ERROR_MESSAGE not in answer.text, what
    if answer.status_code >= 400 and request.method != "HEAD":
        try:
            payload = answer.json()
        except ValueError:
            raise AssertionError(f"an error that is not JSON\n{what}") from None
        assert ENVELOPES[dialect](payload), f"not a {dialect} error envelope\n{what}"
    health = fuzz.client.get("/-/health")
    assert health.status_code == 200, what


@pytest.mark.parametrize("target", TARGETS, ids=[f"{t.route}:{t.method}" for t in TARGETS])
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_no_input_gives_a_server_error(fuzz: Fuzz, target: Target, data: st.DataObject) -> None:
    live = dict(fuzz.live)
    path = data.draw(target.path, label="path")
    if "@fresh" in path:
        live["@fresh"] = fuzz.create_response()["id"]
    for name, value in live.items():
        path = path.replace(name, value)
    body = draw_body(data, target, path, live)
    headers = draw_headers(data, target)
    query = draw_query(data, target, live)
    url = httpx.URL(path, query=query.encode())
    request = fuzz.client.build_request(target.method, url, content=body, headers=headers)
    try:
        answer = fuzz.client.send(request)  # reads the whole body, a stream to its end
    except httpx.HTTPError as exc:
        raise AssertionError(f"{exc!r}\n{describe(request, None)}") from exc
    check(fuzz, request, answer, fuzz.dialect(target.method, path, headers))


def test_every_route_is_fuzzed(fuzz: Fuzz) -> None:
    """Every method of every route of the app has a target (a new route needs one)."""
    served = {
        (f"{p.name}:{r.name}", method)
        for p in fuzz.server.app.services.providers
        for r in p.routes
        for method in r.methods
    }
    fuzzed = {(t.route, t.method) for t in TARGETS}
    assert served == fuzzed


# -- what the fuzzer found, kept as plain cases ---------------------------------------------

HUGE_INT = "18446744073709551616"  # 2**64, @HUGE in a body: orjson writes no integer this large
KNOWN: list[tuple[str, str, str, dict[str, str], int, str]] = [
    (
        "POST",
        "/v1/responses",
        '{"model":"gpt-4o","input":"hi","max_output_tokens":@HUGE}',
        {},
        400,
        "Invalid 'max_output_tokens': integer above maximum value. Expected a value <= "
        f"2147483647, but got {HUGE_INT} instead.",
    ),
    (
        "POST",
        "/v1/responses",
        '{"model":"gpt-4o","input":[{"type":["x"]}]}',
        {},
        400,
        "Invalid type for 'input[0].type': expected a string, but got an array instead.",
    ),
    (
        "POST",
        "/v1/responses",
        '{"model":"gpt-4o","input":"hi","tool_choice":{"type":["x"]}}',
        {},
        400,
        "Invalid type for 'tool_choice.type': expected a string, but got an array instead.",
    ),
    (
        "POST",
        "/v1/responses",
        '{"model":"gpt-4o","input":"hi","tools":[{"type":"function","name":"f","parameters":'
        '{"type":"object","properties":{"a":{"type":"integer","maximum":@HUGE}}}}]}',
        {},
        400,
        "Invalid 'tools[0].parameters.properties.a.maximum': integer above maximum value.",
    ),
    (
        "POST",
        "/v1/chat/completions",
        '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"seed":-@HUGE}',
        {},
        400,
        "Invalid 'seed': integer below minimum value. Expected a value >= -9223372036854775808",
    ),
    (
        "POST",
        "/v1/chat/completions",
        '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"temperature":NaN}',
        {},
        400,
        "We could not parse the JSON body of your request.",
    ),
    (
        "POST",
        "/openai/deployments/%1F/chat/completions?api-version=1",
        '{"messages":[{"role":"user","content":"hi"}],"metadata":' + "[" * 300 + "]" * 300 + "}",
        {"api-key": "k"},
        400,
        "We could not parse the JSON body of your request.",
    ),
    (
        "POST",
        "/v1/messages",
        '{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}],'
        '"metadata":{"x":[1,{"y":-@HUGE}]}}',
        ANTHROPIC_HEADERS,
        400,
        "metadata.x.1.y: Input should be greater than or equal to -9223372036854775808",
    ),
    (
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        '{"contents":[{"parts":[{"text":"hi"}]}],"generationConfig":{"maxOutputTokens":@HUGE}}',
        GEMINI_HEADERS,
        400,
        f"Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), {HUGE_INT}",
    ),
    (
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        '{"contents":[{"parts":[{"functionCall":{"name":"f","args":{"a":@HUGE}}}]},'
        '{"parts":[{"text":"hi"}]}]}',
        GEMINI_HEADERS,
        200,  # Struct numbers are doubles
        "candidates",
    ),
    (
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        '{"contents":[{"parts":' + "[" * 254 + "]" * 254 + "}]}",
        GEMINI_HEADERS,
        400,
        "Invalid JSON payload received.",
    ),
    (
        "POST",
        "/api/generate",
        '{"model":"llama3.2","prompt":"hi","context":[@HUGE]}',
        {},
        400,
        f"json: cannot unmarshal number {HUGE_INT} into Go struct field GenerateRequest.context "
        "of type int",
    ),
    (
        "POST",
        "/api/chat",
        '{"model":"llama3.2","messages":[],"keep_alive":-1e300}',
        {},
        200,
        '"done_reason":"load"',
    ),
    (
        "POST",
        "/api/chat",
        '{"model":"llama3.2","messages":[],"keep_alive":"99999999999999999999h"}',
        {},
        400,
        'time: invalid duration \\"99999999999999999999h\\"',
    ),
    (
        "POST",
        "/api/chat",
        '{"model":"llama3.2","messages":[],"options":{"num_ctx":-1e30}}',
        {},
        200,
        "",
    ),
    ("GET", "/api/ps", "", {}, 200, '"context_length":-9223372036854775808'),
]


@pytest.mark.parametrize(
    "case", KNOWN, ids=[f"{c[0]} {c[1][:40]} {i}" for i, c in enumerate(KNOWN)]
)
def test_known_inputs(fuzz: Fuzz, case: tuple[str, str, str, dict[str, str], int, str]) -> None:
    method, target, body, extra, status, expected = case
    body = body.replace("@HUGE", HUGE_INT)
    path, _, query = target.partition("?")
    headers = {k.encode(): v.encode() for k, v in {**OPENAI_HEADERS, **extra}.items()}
    headers[b"content-type"] = b"application/json"
    url = httpx.URL(path, query=query.encode())
    request = fuzz.client.build_request(method, url, content=to_bytes(body), headers=headers)
    answer = fuzz.client.send(request)
    assert answer.status_code == status, describe(request, answer)
    assert expected in answer.text, describe(request, answer)
    check(fuzz, request, answer, fuzz.dialect(method, unquote(path), headers))


async def _unserializable(call: HttpCall) -> Result:
    return JsonResult({"n": 2**64})


async def _bad_header(call: HttpCall) -> Result:
    return JsonResult({"ok": True}, headers={"x-bad": "a\nb"})


async def _broken_stream(call: HttpCall) -> Result:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: {}\n\n"
        raise RuntimeError("boom")

    return StreamResult(chunks(), headers={"x-bad": "a\rb"})


def test_an_answer_that_cannot_be_written_is_the_dialects_500() -> None:
    """Whatever fails once the handler has returned (orjson and a huge integer, a header
    the HTTP server refuses) is the dialect's 500, a complete answer on a connection that
    stays open."""
    server = MockServer(providers=",".join(PROVIDERS))
    services = server.app.services
    routes = server.app.router.routes
    for name in ("openai", "anthropic", "gemini", "ollama"):
        provider = services.providers.get(name)
        assert provider is not None
        for kind, handler in (
            ("json", _unserializable),
            ("header", _bad_header),
            ("stream", _broken_stream),
        ):
            spec = RouteSpec(f"/-/broken/{name}/{kind}", ("GET",), handler)
            routes.append(Route(spec.path, Endpoint([(spec, provider)], services)))
    errors = Errors()
    logging.getLogger("mockllm").addHandler(errors)
    try:
        with server, httpx.Client(base_url=server.url, timeout=10) as client:
            for name in ("openai", "anthropic", "gemini", "ollama"):
                for kind in ("json", "header", "stream"):
                    answer = client.get(f"/-/broken/{name}/{kind}")
                    assert answer.status_code == 500, (name, kind, answer.text)
                    assert ENVELOPES[name](answer.json()), (name, kind, answer.text)
                    assert answer.headers.get("connection") != "close"
                    assert client.get("/-/health").status_code == 200
                    assert errors.take(), "the failure is logged"
    finally:
        logging.getLogger("mockllm").removeHandler(errors)
