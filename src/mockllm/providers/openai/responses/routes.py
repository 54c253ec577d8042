"""Responses API HTTP handlers: thin glue between the wire, the engine and the store.

The handlers of one app share one :class:`~.store.ResponseStore`, bound into them by
:func:`handlers`; nothing lives at module level.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from pydantic import ValidationError

from ....core.errors import MockError
from ....core.events import paced
from ....wire import HttpCall, JsonResult, Result, StreamResult, header_value
from ...validation import parse_json
from ..errors import invalid_request
from . import translate
from .protocol import CountInputTokens, CreateResponse, PromptFields
from .store import ResponseStore, StoredResponse

Handler = Callable[[HttpCall], Awaitable[Result]]

DEFAULT_MODEL = "gpt-4o"
"""The model whose tokenizer counts ``input_tokens`` when the request names none."""


def _not_found(response_id: str) -> MockError:
    return MockError("not_found", f"Response with id '{response_id}' not found.")


def _item_not_found(item_id: str) -> MockError:
    return MockError(
        "not_found",
        f"Item with id '{item_id}' not found. Items are not persisted when `store` is set to "
        "false. Try again with `store` set to true, or remove this item from your input.",
        param="input",
    )


def _query(call: HttpCall) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(call.query, keep_blank_values=True).items()}


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
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


async def _replay(frames: list[bytes]) -> AsyncIterator[bytes]:
    for frame in frames:
        yield frame


async def _visible(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Drop the empty frames that stand for hidden reasoning (they only carry pacing)."""
    async for chunk in chunks:
        if chunk:
            yield chunk


@dataclass(frozen=True, slots=True)
class _Context:
    """What a create or count request starts from: the stored conversation it continues
    and its own input items."""

    history: tuple[translate.Item, ...]
    items: tuple[translate.Item, ...]


def handlers(store: ResponseStore) -> dict[str, Handler]:
    """The Responses API handlers of one app, bound to its ``store``."""

    def context(body: PromptFields) -> _Context:
        history: tuple[translate.Item, ...] = ()
        previous_id = body.previous_response_id
        if previous_id is not None:
            previous = store.get(previous_id)
            if previous is None:
                raise MockError(
                    "not_found",
                    f"Previous response with id '{previous_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            history = store.conversation(previous)

        def resolve(item_id: str) -> translate.Item:
            found = store.item(item_id)
            if found is None:
                raise _item_not_found(item_id)
            return found

        return _Context(history, tuple(translate.input_items(body, resolve)))

    def stored(call: HttpCall) -> StoredResponse:
        response_id = str(call.path_params["response_id"])
        found = store.get(response_id)
        if found is None:
            raise _not_found(response_id)
        return found

    async def create(call: HttpCall) -> Result:
        """``POST /v1/responses``: a ``Response`` object, or its event stream."""
        try:
            body = parse_json(CreateResponse, call.body)
        except ValidationError as exc:
            raise invalid_request(exc, call.body) from None
        ctx = context(body)
        request = translate.decode(
            body,
            body.model,
            ctx.history + ctx.items,
            call.headers,
            max_tokens=body.max_output_tokens,
            stream=bool(body.stream),
            metadata=body.metadata,
        )
        completion = call.services.engine.complete(request)
        rendering = translate.Rendering.create(body, completion, time.time())
        final = rendering.response()
        if body.store is not False:
            store.put(
                StoredResponse(
                    rendering.id,
                    final,
                    body.previous_response_id,
                    ctx.items,
                    rendering,
                    background=bool(body.background),
                ),
                call.services.limits,
            )
        headers = {"x-mockllm-rule": header_value(completion.rule or "(default)")}
        if body.stream:
            frames = translate.stream(rendering, final)
            chunks = _visible(paced(completion, frames))
            return StreamResult(chunks, headers=headers, paced=bool(completion.delay_per_char))
        if completion.delay_total:
            await asyncio.sleep(completion.delay_total)
        return JsonResult(final, headers=headers)

    async def retrieve(call: HttpCall) -> Result:
        """``GET /v1/responses/{id}``; with ``?stream=true`` the stored events again, from
        ``starting_after`` on."""
        found = stored(call)
        query = _query(call)
        if not _flag(query.get("stream")):
            return JsonResult(found.body)
        after = _int_param(query, "starting_after", -1, -1, 2**31)
        frames = [
            data
            for seq, _, data in translate.stream_events(found.rendering, found.body)
            if seq > after and data
        ]
        return StreamResult(_replay(frames))

    async def delete(call: HttpCall) -> Result:
        """``DELETE /v1/responses/{id}``."""
        response_id = str(call.path_params["response_id"])
        if not store.delete(response_id):
            raise _not_found(response_id)
        return JsonResult({"id": response_id, "object": "response", "deleted": True})

    async def cancel(call: HttpCall) -> Result:
        """``POST /v1/responses/{id}/cancel``: only background responses can be cancelled,
        and mockllm's are finished at once, so the response comes back unchanged."""
        found = stored(call)
        if not found.background:
            raise MockError(
                "invalid_request", "Only responses created with background=true can be cancelled."
            )
        return JsonResult(found.body)

    async def input_items(call: HttpCall) -> Result:
        """``GET /v1/responses/{id}/input_items``: the items the response was generated
        from (the ``previous_response_id`` chain included), paginated like every list."""
        found = stored(call)
        query = _query(call)
        limit = _int_param(query, "limit", 20, 1, 100)
        order = query.get("order") or "desc"
        if order not in ("asc", "desc"):
            raise MockError(
                "invalid_request",
                f"Invalid value: '{order}'. Supported values are: 'asc' and 'desc'.",
                param="order",
                code="invalid_value",
            )
        every = store.conversation(found)  # the chain's items, then this one's input, output
        items = list(every[: len(every) - len(found.body["output"])])
        if order == "desc":
            items.reverse()
        after = query.get("after")
        if after:
            ids = [item.get("id") for item in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        return JsonResult(
            {
                "object": "list",
                "data": page,
                "first_id": page[0].get("id") if page else None,
                "last_id": page[-1].get("id") if page else None,
                "has_more": len(items) > limit,
            }
        )

    async def input_tokens(call: HttpCall) -> Result:
        """``POST /v1/responses/input_tokens``: the prompt tokens a create request would
        be charged, counted the way the engine counts them."""
        try:
            body = parse_json(CountInputTokens, call.body)
        except ValidationError as exc:
            raise invalid_request(exc, call.body) from None
        ctx = context(body)
        engine = call.services.engine
        model = body.model or DEFAULT_MODEL
        request = translate.decode(body, model, ctx.history + ctx.items, call.headers)
        count = engine.prompt_tokens(request, engine.resolve_model("openai", model))
        return JsonResult({"object": "response.input_tokens", "input_tokens": count})

    return {
        "create": create,
        "retrieve": retrieve,
        "delete": delete,
        "cancel": cancel,
        "input_items": input_items,
        "input_tokens": input_tokens,
    }
