"""How a request is matched to a cassette: the request *normalised*.

A cassette is found by its request reduced to what decides the answer, so that a replay
matches whatever changes from run to run (ids, user tags, API keys, SDK versions). The
normalised request is a plain dict, stored as the cassette's ``request`` and hashed
(:func:`request_key`) to find it again:

* ``dialect``: the provider whose route served the path (``openai``, ``anthropic``,
  ``gemini``, ``ollama``, ``azure``...);
* ``method``, ``path`` (Gemini's path names the model, Azure's the deployment);
* ``query``: the query parameters less the secret ones (``key``, ``api_key``, ``token``...)
  and ``api-version`` (Azure SDKs send their own);
* ``model``: the body's ``model``, else the model or deployment named in the path;
* ``messages``: the body's ``messages``, ``contents`` (Gemini), ``input`` (Responses,
  embeddings), ``prompt`` (completions, Ollama's generate), ``content`` or ``requests``
  (Gemini embeddings), the first found; ids in it (``id``, ``tool_call_id``,
  ``tool_use_id``, ``call_id``) are replaced by their order of appearance (``id-1``,
  ``id-2``...), so that the links between a tool call and its result still count but the
  ids' values do not;
* ``tools``: the body's ``tools``;
* ``params``: every other body field, less the volatile ones of the dialect
  (:data:`VOLATILE_FIELDS`).

Headers never count (not even ``anthropic-version`` or ``x-mockllm-*``) and are never
stored. Body fields named in :data:`ALWAYS_REDACTED` or in the ``redact_fields`` setting
are replaced by ``[redacted]`` wherever they are, so their values never count and never
reach a file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from ..journal import REDACTED, redact_query

if TYPE_CHECKING:
    from ..wire import HttpCall

FIELDS = ("dialect", "method", "path", "query", "model", "messages", "tools", "params")
"""The fields of a normalised request, in the order a cassette shows them."""

MESSAGE_FIELDS = ("messages", "contents", "input", "prompt", "content", "requests")
"""Body fields holding the conversation, first found wins."""

_OPENAI_VOLATILE = frozenset({"user", "metadata", "store", "safety_identifier", "prompt_cache_key"})
VOLATILE_FIELDS: dict[str, frozenset[str]] = {
    "openai": _OPENAI_VOLATILE,
    "azure": _OPENAI_VOLATILE,
    "anthropic": frozenset({"metadata"}),
    "gemini": frozenset({"labels"}),
    "ollama": frozenset({"keep_alive"}),
}
"""Body fields left out of matching (and out of the file), per dialect: tags of the end
user or of the request, storage and caching hints; none of them changes the answer.
``stream``, ``stream_options``, sampling parameters, ``tool_choice``, system prompts and
response formats do, and count."""

VOLATILE_QUERY = frozenset({"api-version"})
"""Query parameters left out of matching (besides the secret ones)."""

ALWAYS_REDACTED = frozenset(
    {"api_key", "apiKey", "api-key", "access_token", "client_secret", "password"}
)
"""Body fields redacted whatever the ``redact_fields`` setting says."""

ID_FIELDS = frozenset({"id", "tool_call_id", "tool_use_id", "call_id"})
"""Fields of the conversation whose values are ids, numbered by order of appearance."""


def folder_of_test(name: str | None) -> str | None:
    """The folder of the test named by an ``x-mockllm-test`` header value: the name with
    every run of characters other than letters, digits, ``.``, ``_`` and ``-`` made one
    ``_`` (``tests/test_a.py::test_b[x]`` becomes ``tests_test_a.py_test_b_x``), at most
    120 characters; None for no header or an empty name."""
    if name is None:
        return None
    folder = re.sub(r"[^A-Za-z0-9._-]+", "_", name.strip()).strip("._-")[:120]
    return folder or None


def _parse_body(body: bytes) -> tuple[dict[str, Any], Any]:
    """The body's JSON object (copied, to be taken apart), or ``({}, extra)`` with what
    else it was (``extra`` None for an empty body)."""
    if not body:
        return {}, None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}, {"body_text": body.decode("utf-8", "replace")}
    if isinstance(parsed, dict):
        return dict(parsed), None
    return {}, {"body": parsed}


def _model_of_path(path_params: Mapping[str, Any]) -> str | None:
    for name in ("model", "deployment", "model_id"):
        value = path_params.get(name)
        if isinstance(value, str) and value:
            return value.split(":", 1)[0]  # Gemini: models/{model}:generateContent
    return None


def _query(query: str) -> dict[str, str]:
    """The query parameters that count: not the secret ones, not ``api-version``."""
    if not query:
        return {}
    pairs = parse_qsl(query, keep_blank_values=True)
    shown = parse_qsl(redact_query(query), keep_blank_values=True)
    kept: dict[str, str] = {}
    for (name, value), (_, seen) in zip(pairs, shown, strict=False):
        if (seen == REDACTED and value != REDACTED) or name.lower() in VOLATILE_QUERY:
            continue
        kept[name] = value
    return kept


def redact(value: Any, fields: frozenset[str]) -> Any:
    """``value`` (parsed JSON) with the values of object fields named in ``fields``
    replaced by ``[redacted]``, at any depth."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in fields else redact(v, fields)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, fields) for v in value]
    return value


def _number_ids(value: Any, seen: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in ID_FIELDS and isinstance(v, str) and v:
                out[k] = seen.setdefault(v, f"id-{len(seen) + 1}")
            else:
                out[k] = _number_ids(v, seen)
        return out
    if isinstance(value, list):
        return [_number_ids(v, seen) for v in value]
    return value


def normalise(
    dialect: str,
    method: str,
    path: str,
    query: str,
    path_params: Mapping[str, Any],
    body: bytes,
    redacted: frozenset[str] = ALWAYS_REDACTED,
) -> dict[str, Any]:
    """The normalised request (see the module's docstring), canonical: the fields of
    :data:`FIELDS` in that order, those without a value left out."""
    fields, extra = _parse_body(body)
    model = fields.pop("model", None)
    if not isinstance(model, str):
        if model is not None:
            fields["model"] = model
        model = _model_of_path(path_params)
    messages = None
    for name in MESSAGE_FIELDS:
        if name in fields:
            messages = fields.pop(name)
            break
    tools = fields.pop("tools", None)
    volatile = VOLATILE_FIELDS.get(dialect, frozenset())
    params = {k: v for k, v in fields.items() if k not in volatile}
    if extra is not None:
        params.update(extra)
    normal: dict[str, Any] = {
        "dialect": dialect,
        "method": method.upper(),
        "path": path,
        "query": _query(query),
        "model": model,
        "messages": _number_ids(redact(messages, redacted), {}),
        "tools": redact(tools, redacted),
        "params": redact(params, redacted),
    }
    return canonical(normal)


def normalise_call(call: HttpCall, redacted: frozenset[str] = ALWAYS_REDACTED) -> dict[str, Any]:
    """:func:`normalise` of a request as the wire gives it."""
    dialect = call.provider.name if call.provider is not None else "unknown"
    return normalise(
        dialect, call.method, call.path, call.query, call.path_params, call.body, redacted
    )


def canonical(request: Mapping[str, Any]) -> dict[str, Any]:
    """``request`` with the fields of :data:`FIELDS` in order, None and an empty
    ``query`` or ``params`` left out (how it is stored and hashed)."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        value = request.get(name)
        if value is None or (name in ("query", "params") and not value):
            continue
        out[name] = value
    return out


def request_key(request: Mapping[str, Any]) -> str:
    """The hash that finds a cassette: sha256 of the canonical request as JSON with
    sorted keys, in hex."""
    data = orjson.dumps(canonical(request), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()


# --- file names --------------------------------------------------------------------------


def _texts(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _texts(item, out)
    elif isinstance(value, dict):
        for name in ("content", "text", "parts", "prompt", "input"):
            if name in value:
                _texts(value[name], out)


def last_user_text(messages: Any) -> str:
    """The text of the conversation's last user message (a prompt's text), as well as it
    can be told without knowing the dialect; empty when there is none."""
    if isinstance(messages, str):
        return messages
    if not isinstance(messages, list):
        out: list[str] = []
        _texts(messages, out)
        return " ".join(out)
    for item in reversed(messages):
        if isinstance(item, str):
            return item
        if isinstance(item, dict) and item.get("role") == "user":
            out = []
            _texts(item, out)
            if out:
                return " ".join(out)
    out = []
    _texts(messages[-1:] if messages else [], out)
    return " ".join(out)


def _slug(text: str, words: int, limit: int) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:words])[:limit].strip("-")


def file_name(request: Mapping[str, Any], key: str, index: int) -> str:
    """``<dialect>-<model>-<first words of the last user message>-<hash>[-<index>].yml``:
    the first 6 words (or the path's last segment when there is no message), 8 hex digits
    of :func:`request_key`, and ``-<index>`` for the second answer to the same request
    on (``-1``, ``-2``...)."""
    dialect = _slug(str(request.get("dialect", "")), 3, 20)
    model = re.sub(r"[^A-Za-z0-9._]+", "-", str(request.get("model") or "")).strip("-.")[:40]
    words = _slug(last_user_text(request.get("messages")), 6, 48)
    if not words:
        words = _slug(str(request.get("path", "")).rsplit("/", 1)[-1], 4, 32)
    parts = [p for p in (dialect, model, words, key[:8]) if p]
    if index:
        parts.append(str(index))
    return "-".join(parts) + ".yml"


# --- why two requests differ -------------------------------------------------------------


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def differences(here: Mapping[str, Any], recorded: Mapping[str, Any]) -> list[str]:
    """What differs between the normalised request ``here`` and a ``recorded`` one, in
    words (``model: 'gpt-4o' here, 'gpt-4o-mini' recorded``, ``message 2 differs``,
    ``parameter temperature: 0.2 here, 0.7 recorded``); empty when they are the same."""
    out: list[str] = []
    for name in ("dialect", "method", "model"):
        a, b = here.get(name), recorded.get(name)
        if a != b:
            out.append(f"{name}: {_short(a)} here, {_short(b)} recorded")
    path_a, path_b = str(here.get("path", "")), str(recorded.get("path", ""))
    if _masked(path_a, here.get("model")) != _masked(path_b, recorded.get("model")):
        out.append(f"path: {path_a} here, {path_b} recorded")
    if here.get("query", {}) != recorded.get("query", {}):
        out.append(
            f"query: {_short(here.get('query', {}))} here, "
            f"{_short(recorded.get('query', {}))} recorded"
        )
    out.extend(_message_differences(here.get("messages"), recorded.get("messages")))
    if here.get("tools") != recorded.get("tools"):
        out.append(_tools_difference(here.get("tools"), recorded.get("tools")))
    params_a, params_b = here.get("params", {}), recorded.get("params", {})
    for name in sorted(set(params_a) | set(params_b)):
        if name not in params_b:
            out.append(f"parameter {name}: {_short(params_a[name])} here, not recorded")
        elif name not in params_a:
            out.append(f"parameter {name}: not here, {_short(params_b[name])} recorded")
        elif params_a[name] != params_b[name]:
            out.append(
                f"parameter {name}: {_short(params_a[name])} here, "
                f"{_short(params_b[name])} recorded"
            )
    return out


def _masked(path: str, model: Any) -> str:
    """``path`` with the model it names (a whole segment, or before ``:``) masked: a
    path that differs only by its model is not reported twice."""
    if not isinstance(model, str) or not model:
        return path
    return re.sub(rf"(?<=/){re.escape(model)}(?=$|[:/])", "{model}", path)


def _message_differences(a: Any, b: Any) -> list[str]:
    if a == b:
        return []
    if not isinstance(a, list) or not isinstance(b, list):
        return [f"messages: {_short(a)} here, {_short(b)} recorded"]
    out = [
        f"message {i + 1} differs: {_short(x)} here, {_short(y)} recorded"
        for i, (x, y) in enumerate(zip(a, b, strict=False))
        if x != y
    ]
    if len(a) != len(b):
        out.append(f"{len(a)} messages here, {len(b)} recorded")
    return out


def _tool_names(tools: Any) -> list[str]:
    names: list[str] = []
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict):
            inner = tool.get("function")
            name = inner.get("name") if isinstance(inner, dict) else tool.get("name")
            if isinstance(name, str):
                names.append(name)
            for declaration in tool.get("functionDeclarations") or tool.get(
                "function_declarations", []
            ):
                if isinstance(declaration, dict) and isinstance(declaration.get("name"), str):
                    names.append(declaration["name"])
    return names


def _tools_difference(a: Any, b: Any) -> str:
    names_a, names_b = _tool_names(a), _tool_names(b)
    if names_a != names_b:
        return f"tools: {names_a or 'none'} here, {names_b or 'none'} recorded"
    return f"tools: the definitions of {names_a} differ"
