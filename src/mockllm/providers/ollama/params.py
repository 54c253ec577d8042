"""The loosely typed request fields of Ollama's API, checked as Ollama's Go server checks
them: ``options`` (a free map, typed per key), ``format``, ``think`` and ``keep_alive``.

Each parser returns the neutral value or raises the 400 Ollama answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ...core.errors import MockError
from ..validation import INT64_MAX, INT64_MIN
from .errors import bad_request

_INT_OPTIONS = frozenset(
    {
        "num_keep",
        "seed",
        "num_predict",
        "top_k",
        "repeat_last_n",
        "mirostat",
        "num_ctx",
        "num_batch",
        "num_gpu",
        "main_gpu",
        "num_thread",
    }
)
_FLOAT_OPTIONS = frozenset(
    {
        "top_p",
        "min_p",
        "tfs_z",
        "typical_p",
        "temperature",
        "repeat_penalty",
        "presence_penalty",
        "frequency_penalty",
        "mirostat_tau",
        "mirostat_eta",
    }
)
_BOOL_OPTIONS = frozenset(
    {
        "numa",
        "low_vram",
        "f16_kv",
        "logits_all",
        "vocab_only",
        "use_mmap",
        "use_mlock",
        "penalize_newline",
        "embedding_only",
    }
)

FOREVER_NS = 2**63 - 1
"""``keep_alive`` below zero: the model stays loaded (Go's largest duration)."""


@dataclass(frozen=True, slots=True)
class Options:
    """The options that change mockllm's answer; the others are checked, then ignored
    (the answer is scripted, so temperature or seed change nothing)."""

    num_predict: int | None = None
    stop: tuple[str, ...] = ()
    num_ctx: int | None = None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_options(options: Mapping[str, Any] | None) -> Options:
    """``options`` checked per key as Ollama does (numbers for integer options are
    truncated; unknown keys are ignored)."""
    values: dict[str, Any] = {}
    for key, value in (options or {}).items():
        if value is None:
            continue
        if key in _INT_OPTIONS:
            if not _number(value):
                raise bad_request(f'option "{key}" must be of type integer')
            # Go's int64(float64): JSON numbers are doubles there, any size is accepted.
            values[key] = min(max(int(value), INT64_MIN), INT64_MAX)
        elif key in _FLOAT_OPTIONS:
            if not _number(value):
                raise bad_request(f'option "{key}" must be of type float32')
        elif key in _BOOL_OPTIONS:
            if not isinstance(value, bool):
                raise bad_request(f'option "{key}" must be of type boolean')
        elif key == "stop":
            if not isinstance(value, list):
                raise bad_request('option "stop" must be of type array')
            if not all(isinstance(item, str) for item in value):
                raise bad_request('option "stop" must be of an array of strings')
            values["stop"] = tuple(value)
    predict = values.get("num_predict")
    return Options(
        # -1 (and -2, "fill the context") mean no limit; 0 as well.
        num_predict=predict if predict is not None and predict > 0 else None,
        stop=values.get("stop", ()),
        num_ctx=values.get("num_ctx") or None,
    )


def parse_format(value: Any) -> dict[str, Any] | None:
    """``format``: ``"json"`` is the neutral ``json_object``, a JSON Schema object is
    ``json_schema`` (so the engine generates JSON valid against it)."""
    if value is None or value == "":
        return None
    if value == "json":
        return {"type": "json_object"}
    if isinstance(value, dict):
        title = value.get("title")
        name = title if isinstance(title, str) and title else "response"
        return {"type": "json_schema", "json_schema": {"name": name, "schema": value}}
    shown = value if isinstance(value, str) else orjson.dumps(value).decode()
    raise bad_request(f'invalid format: "{shown}"; expected "json" or a valid JSON Schema')


def parse_think(value: Any) -> bool | str | None:
    """``think``: a boolean, or a level (``high``, ``medium``, ``low``) for gpt-oss."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in ("high", "medium", "low"):
            return value
        raise bad_request(
            f'invalid think value: "{value}" (must be "high", "medium", "low", true, or false)'
        )
    raise bad_request('think must be a boolean or string ("high", "medium", "low", true, or false)')


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNITS["h"] = 3600 * 10**9
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """A Go duration string (``5m``, ``1h30m``, ``-1s``, ``0``) in nanoseconds; raises the
    error Go's ``time.ParseDuration`` gives."""
    body = text
    sign = 1
    if body and body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return 0
    if not body:
        raise bad_request(f'time: invalid duration "{text}"')
    total = 0.0
    position = 0
    for match in _DURATION.finditer(body):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(body):
        if re.fullmatch(r"\d+(\.\d*)?", body):
            raise bad_request(f'time: missing unit in duration "{text}"')
        raise bad_request(f'time: invalid duration "{text}"')
    if total > FOREVER_NS:  # Go's durations are int64 nanoseconds: an overflow is invalid
        raise bad_request(f'time: invalid duration "{text}"')
    return sign * int(total)


_GO_KINDS: dict[type, str] = {
    bool: "bool",
    list: "[]interface {}",
    dict: "map[string]interface {}",
}


def parse_keep_alive(value: Any) -> int | None:
    """``keep_alive`` in nanoseconds: a number of seconds or a Go duration string; a
    negative duration keeps the model loaded for ever (:data:`FOREVER_NS`)."""
    if value is None:
        return None
    if _number(value):
        # Longer than Go's largest duration either way (any finite double is accepted):
        # for ever, as a negative duration is.
        scaled = value * 10**9
        nanos = FOREVER_NS if abs(scaled) >= FOREVER_NS else int(scaled)
    elif isinstance(value, str):
        nanos = parse_duration(value)
    else:
        kind = _GO_KINDS.get(type(value), "interface {}")
        raise MockError("invalid_request", f"Unsupported type: '{kind}'")
    return FOREVER_NS if nanos < 0 else nanos
