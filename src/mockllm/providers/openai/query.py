"""The query parameters of OpenAI's list endpoints (a stored Response's input items, the
stored Chat Completions and their messages), with the 400s OpenAI answers for bad ones."""

from __future__ import annotations

from urllib.parse import parse_qs

from ...core.errors import MockError
from ...wire import HttpCall


def query_params(call: HttpCall) -> dict[str, str]:
    """The query string's parameters, the last value of each."""
    return {k: v[-1] for k, v in parse_qs(call.query, keep_blank_values=True).items()}


def int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within ``low..high``; OpenAI's 400 otherwise."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise MockError(
            "invalid_request",
            f"Invalid type for '{name}': expected an integer, but got a string instead.",
            param=name,
            code="invalid_type",
        ) from None
    if not low <= value <= high:
        where, relation, bound = (
            ("below minimum", ">=", low) if value < low else ("above maximum", "<=", high)
        )
        raise MockError(
            "invalid_request",
            f"Invalid '{name}': integer {where} value. Expected a value {relation} {bound}, "
            f"but got {value} instead.",
            param=name,
            code="integer_below_min_value" if value < low else "integer_above_max_value",
        )
    return value


def order_param(query: dict[str, str], default: str) -> str:
    """A list's ``order``: ``asc`` or ``desc`` (``default`` when not given)."""
    order = query.get("order") or default
    if order not in ("asc", "desc"):
        raise MockError(
            "invalid_request",
            f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    return order
