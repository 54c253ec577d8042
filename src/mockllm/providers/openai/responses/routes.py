"""Responses API HTTP handlers: thin glue between the wire, the engine and the store.

The handlers of one app share one :class:`~.store.ResponseStore`: per-app state the
provider declares (``Provider.state``, name :data:`~.store.STATE`) and each handler takes
from ``call.services``; nothing lives at module level.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ....core.errors import MockError
from ....core.types import Completion
from ....serving import Turn, generation
from ....wire import HttpCall, JsonResult, Result, StreamResult
from ...validation import parse_body
from ..errors import invalid_request
from ..query import int_param, order_param, query_params
from . import compaction
from .decode import decode
from .encode import Rendering, stream, stream_events
from .items import Item, item_id, prompt_item
from .items import input_items as request_items
from .protocol import CompactRequest, CountInputTokens, CreateResponse, PromptFields
from .store import STATE, ResponseStore, StoredResponse

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


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


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

    history: tuple[Item, ...]
    items: tuple[Item, ...]


def _store(call: HttpCall) -> ResponseStore:
    return call.services.state(STATE, ResponseStore)


def _missing_input() -> MockError:
    return MockError(
        "invalid_request",
        "Missing required parameter: 'input'.",
        param="input",
        code="missing_required_parameter",
    )


def _context(store: ResponseStore, body: PromptFields, *extra: Item) -> _Context:
    """The stored conversation ``body`` continues and its own items: ``extra`` (the
    message a ``prompt`` stands for) then its input items."""
    history: tuple[Item, ...] = ()
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

    def resolve(wanted: str) -> Item:
        found = store.item(wanted)
        if found is None:
            raise _item_not_found(wanted)
        return found

    return _Context(history, extra + tuple(request_items(body, resolve)))


def _stored(call: HttpCall) -> StoredResponse:
    response_id = str(call.path_params["response_id"])
    found = _store(call).get(response_id)
    if found is None:
        raise _not_found(response_id)
    return found


def create_turn(call: HttpCall) -> Turn:
    """``POST /v1/responses``: a ``Response`` object, or its event stream. Without
    ``input``, a ``prompt`` (stored template reference) is the conversation: the user
    message of :func:`~.items.prompt_item`. The response is stored (unless ``store:
    false``) once the engine has answered."""
    body = parse_body(CreateResponse, call.body, lambda exc: invalid_request(exc, call.body))
    if body.input is None and body.prompt is None:
        raise _missing_input()
    store = _store(call)
    ctx = _context(store, body, *((prompt_item(body.prompt),) if body.prompt else ()))
    request = decode(
        body,
        body.model,
        ctx.history + ctx.items,
        call.headers,
        max_tokens=body.max_output_tokens,
        stream=bool(body.stream),
        metadata=body.metadata,
    )

    def render(completion: Completion) -> tuple[Rendering, dict[str, Any]]:
        rendering = Rendering.create(body, completion, time.time())
        final = rendering.response()
        if body.store is not False:
            stored = StoredResponse(
                rendering.id,
                final,
                body.previous_response_id,
                ctx.items,
                rendering,
                background=bool(body.background),
            )
            store.put(stored, call.services.limits)
        return rendering, final

    return Turn(
        request,
        encode=lambda c: render(c)[1],
        frames=lambda c: stream(*render(c)),
        wrap=_visible,
    )


create = generation(create_turn)


async def retrieve(call: HttpCall) -> Result:
    """``GET /v1/responses/{id}``; with ``?stream=true`` the stored events again, from
    ``starting_after`` on."""
    found = _stored(call)
    query = query_params(call)
    if not _flag(query.get("stream")):
        return JsonResult(found.body)
    after = int_param(query, "starting_after", -1, -1, 2**31)
    frames = [
        data for seq, _, data in stream_events(found.rendering, found.body) if seq > after and data
    ]
    return StreamResult(_replay(frames))


async def delete(call: HttpCall) -> Result:
    """``DELETE /v1/responses/{id}``."""
    response_id = str(call.path_params["response_id"])
    if not _store(call).delete(response_id):
        raise _not_found(response_id)
    return JsonResult({"id": response_id, "object": "response", "deleted": True})


async def cancel(call: HttpCall) -> Result:
    """``POST /v1/responses/{id}/cancel``: only background responses can be cancelled,
    and mockllm's are finished at once, so the response comes back unchanged."""
    found = _stored(call)
    if not found.background:
        raise MockError(
            "invalid_request", "Only responses created with background=true can be cancelled."
        )
    return JsonResult(found.body)


async def input_items(call: HttpCall) -> Result:
    """``GET /v1/responses/{id}/input_items``: the items the response was generated
    from (the ``previous_response_id`` chain included), paginated like every list."""
    found = _stored(call)
    query = query_params(call)
    limit = int_param(query, "limit", 20, 1, 100)
    order = order_param(query, "desc")
    every = _store(call).conversation(found)  # the chain's items, this one's input, output
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
    body = parse_body(CountInputTokens, call.body, lambda exc: invalid_request(exc, call.body))
    ctx = _context(_store(call), body)
    engine = call.services.engine
    model = body.model or DEFAULT_MODEL
    request = decode(body, model, ctx.history + ctx.items, call.headers)
    count = engine.prompt_tokens(request, engine.resolve_model("openai", model))
    return JsonResult({"object": "response.input_tokens", "input_tokens": count})


async def compact(call: HttpCall) -> Result:
    """``POST /v1/responses/compact``: the conversation (``previous_response_id``'s, then
    ``input``) compacted into a ``response.compaction`` object: every user message,
    then one ``compaction`` item standing for the rest (:mod:`.compaction`). Input
    tokens are counted as ``input_tokens`` counts them, output tokens are those of the
    compacted text. Nothing is stored."""
    body = parse_body(CompactRequest, call.body, lambda exc: invalid_request(exc, call.body))
    if body.input is None and body.previous_response_id is None:
        raise _missing_input()
    ctx = _context(_store(call), body)
    conversation = ctx.history + ctx.items
    engine = call.services.engine
    model = engine.resolve_model("openai", body.model)
    request = decode(body, body.model, conversation, call.headers)
    prompt_tokens = engine.prompt_tokens(request, model)
    kept, summary = compaction.compact(conversation)
    output_tokens = call.services.tokenizer.count(summary, model.tokenizer)
    return JsonResult(
        {
            "id": item_id("resp_"),
            "object": "response.compaction",
            "created_at": int(time.time()),
            "output": [*kept, compaction.item(summary)],
            "usage": {
                "input_tokens": prompt_tokens,
                "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt_tokens + output_tokens,
            },
        }
    )
