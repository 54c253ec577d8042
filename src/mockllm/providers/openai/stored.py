"""Stored Chat Completions (``store: true``) and the endpoints that read them.

A chat completion created with ``store: true`` is kept, streamed or not, with the
request's messages, and served by

* ``GET /v1/chat/completions``: the list, oldest first by default (``model``,
  ``metadata[key]=value``, ``after``, ``limit``, ``order``);
* ``GET /v1/chat/completions/{completion_id}``: the completion;
* ``POST /v1/chat/completions/{completion_id}``: ``{"metadata": {...}}`` replaces its
  metadata, the only field that can change;
* ``DELETE /v1/chat/completions/{completion_id}``: ``chat.completion.deleted``;
* ``GET /v1/chat/completions/{completion_id}/messages``: the request's messages, each with
  an id (``<completion id>-<index>``), oldest first by default.

Lists are OpenAI's cursor pages (``{"object": "list", "data", "first_id", "last_id",
"has_more"}``); an unknown id is OpenAI's 404. The :class:`ChatStore` is per-app state
(``Provider.state`` name :data:`STATE`, cleared by ``POST /-/reset``, counted by
``GET /-/stats``), bounded like the Responses store but apart from it: by count, by bytes
(``limits.store_max_bytes``) and by age (``limits.store_ttl_seconds``), the least recently
used forgotten first. docs/chat-store.md is the user's guide.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from ...core.errors import MockError
from ...core.events import Frame
from ...core.limits import Limits
from ...core.types import Completion
from ...serving import Turn
from ...state.bounded import DEFAULT_CAPACITY as DEFAULT_CAPACITY
from ...state.bounded import BoundedStore
from ...state.shared import Backend, Op, fetch, stage, ttl_ms
from ...wire import HttpCall, JsonResult, Result
from ..validation import parse_body
from .errors import invalid_request
from .protocol import ChatCompletionRequest
from .query import int_param, order_param, query_params

STATE = "openai.chat_store"
"""The store's name among the app's provider states (``call.services.state(STATE)``)."""
_OVERHEAD = 1024
"""Bytes counted per stored completion on top of its JSON (the objects around it)."""

Json = dict[str, Any]


@dataclass(slots=True)
class StoredCompletion:
    """One stored chat completion: ``body`` is the ``chat.completion`` object as listed and
    retrieved (with the request settings the real API keeps: ``metadata``,
    ``request_id``...), ``messages`` the request's messages as ``messages.list`` gives
    them."""

    id: str
    body: Json
    messages: tuple[Json, ...]
    created: float = 0.0
    """When it was stored (the store's clock); set by :meth:`ChatStore.put`."""
    size: int = 0
    """Bytes it is counted for; set by :meth:`ChatStore.put`."""


def _size(body: Json, messages: tuple[Json, ...]) -> int:
    return _OVERHEAD + len(orjson.dumps(body)) + sum(len(orjson.dumps(m)) for m in messages)


class ChatStore(BoundedStore[StoredCompletion]):
    """Stored chat completions by id, in creation order for listing and least recently
    used order for forgetting, bounded by count, bytes and age
    (:class:`~mockllm.state.bounded.BoundedStore`). All operations are synchronous and run
    on the event loop, so they need no lock."""

    def completions(self) -> list[StoredCompletion]:
        """Every stored completion, oldest first (expired ones are forgotten first)."""
        return self._entries.values()

    def put(self, stored: StoredCompletion) -> None:
        """Keep ``stored``, forgetting expired completions, then the least recently used
        ones while the store is over its count or byte bound. A completion bigger than the
        whole byte bound is not kept."""
        if not stored.size:
            stored.size = _size(stored.body, stored.messages)
        created = self._entries.put(stored.id, stored, stored.size)
        if created is not None:
            stored.created = created

    def update_metadata(self, completion_id: str, metadata: dict[str, str]) -> Json | None:
        """Replace the metadata of a stored completion; its new body, None when unknown."""
        found = self.get(completion_id)
        if found is None:
            return None
        found.body = found.body | {"metadata": metadata}
        found.size = _size(found.body, found.messages)
        self._entries.resize(completion_id, found.size)
        return found.body

    def shared(self, backend: Backend) -> SharedChatStore:
        """This store's counterpart in ``backend``, shared by every worker and replica
        (the app factory swaps it in with a shared state back-end)."""
        return SharedChatStore(backend, self.capacity, self.limits)


class SharedChatStore(ChatStore):
    """Stored chat completions in a shared state back-end (Redis): stored through one
    replica, listed, read, updated and deleted through any other.

    Each completion is kept as JSON under its id for ``limits.store_ttl_seconds`` (one
    bigger than ``limits.store_max_bytes`` is not kept), and listed through an index of
    ids by creation time; how many are kept is Redis's memory to bound, not ``capacity``.
    """

    def __init__(
        self, backend: Backend, capacity: int = DEFAULT_CAPACITY, limits: Limits | None = None
    ) -> None:
        super().__init__(capacity, limits)
        self.backend = backend
        self._prefix = backend.key("kv", STATE, "completion", "")
        self._index = backend.key("kv", STATE, "index")

    @staticmethod
    def _load(raw: bytes) -> StoredCompletion | None:
        try:
            data = orjson.loads(raw)
            return StoredCompletion(
                data["id"], data["body"], tuple(data["messages"]), data.get("created", 0.0)
            )
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None

    def get(self, key: str) -> StoredCompletion | None:
        raw = fetch(Op("get", (self._prefix + key,)))
        return None if raw is None else self._load(raw)

    def completions(self) -> list[StoredCompletion]:
        found = (self._load(raw) for raw in fetch(Op("list", (self._index, self._prefix))))
        return [c for c in found if c is not None]

    def put(self, stored: StoredCompletion) -> None:
        stored.created = time.time()
        raw = orjson.dumps(
            {
                "id": stored.id,
                "body": stored.body,
                "messages": stored.messages,
                "created": stored.created,
            }
        )
        if len(raw) + _OVERHEAD > self.limits.store_max_bytes:
            return
        ttl = ttl_ms(self.limits.store_ttl_seconds)
        keys = (self._prefix + stored.id, self._index)
        stage(self.backend, Op("put", keys, (raw, ttl, stored.id, stored.created)))

    def update_metadata(self, completion_id: str, metadata: dict[str, str]) -> Json | None:
        found = self.get(completion_id)
        if found is None:
            return None
        found.body = found.body | {"metadata": metadata}
        self.put(found)
        return found.body

    def delete(self, key: str) -> bool:
        return bool(fetch(Op("delete", (self._prefix + key, self._index), (key,))))

    def clear(self) -> None:
        """Nothing here: ``POST /-/reset`` deletes the shared keys."""

    def stats(self) -> dict[str, int]:
        return {"entries": 0, "bytes": 0}

    def __len__(self) -> int:
        return 0


def factory(capacity: int = DEFAULT_CAPACITY) -> Callable[[Limits], ChatStore]:
    """The ``Provider.state`` factory of one app's store: at most ``capacity``
    completions, within the app's ``limits``."""

    def build(limits: Limits) -> ChatStore:
        return ChatStore(capacity, limits)

    return build


def _store(call: HttpCall) -> ChatStore:
    return call.services.state(STATE, ChatStore)


# --- storing --------------------------------------------------------------------------


def _dumped(value: BaseModel | str | None) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(by_alias=True, exclude_none=True)
    return value


def _message(message_id: str, message: Json) -> Json:
    """A request message as ``messages.list`` gives it: text ``content`` (the text parts
    joined by newlines when parts were sent, which ``content_parts`` then holds: the text
    and image ones), with its id."""
    content = message.get("content")
    parts = None
    if isinstance(content, list):
        parts = [p for p in content if p.get("type") in ("text", "image_url")]
        texts = [str(p["text"]) for p in content if p.get("type") == "text"]
        content = "\n".join(texts) if texts else None
    out: Json = {
        "id": message_id,
        "role": message["role"],
        "content": content,
        "refusal": message.get("refusal"),
        "name": message.get("name"),
        "content_parts": parts,
    }
    if message.get("tool_calls"):
        out["tool_calls"] = message["tool_calls"]
    if message.get("tool_call_id") is not None:
        out["tool_call_id"] = message["tool_call_id"]
    return out


def _keep(call: HttpCall, body: ChatCompletionRequest, payload: Json) -> None:
    kept = payload | {
        "request_id": call.request_id,
        "metadata": dict(body.metadata or {}),
        "seed": body.seed,
        "temperature": 1.0 if body.temperature is None else body.temperature,
        "top_p": 1.0 if body.top_p is None else body.top_p,
        "presence_penalty": body.presence_penalty or 0.0,
        "frequency_penalty": body.frequency_penalty or 0.0,
        "input_user": body.user,
        "tools": [_dumped(t) for t in body.tools] if body.tools else None,
        "tool_choice": _dumped(body.tool_choice),
        "response_format": _dumped(body.response_format),
    }
    completion_id = str(payload["id"])
    messages = tuple(
        _message(f"{completion_id}-{index}", message.model_dump(by_alias=True, exclude_none=True))
        for index, message in enumerate(body.messages)
    )
    _store(call).put(StoredCompletion(completion_id, kept, messages))


def keeping(call: HttpCall, provider: str, body: ChatCompletionRequest, turn: Turn) -> Turn:
    """``turn``, storing its answer when ``body`` asked for ``store: true``: the
    completion as its ``chat.completion`` object (``turn.encode``'s), kept when it is
    encoded or, streamed, when its frames are made. Only OpenAI's own requests are kept
    (``provider`` "openai"; Azure serves no stored-completion paths)."""
    if not body.store or provider != "openai":
        return turn
    encode, frames = turn.encode, turn.frames

    def encode_and_keep(completion: Completion) -> Any:
        payload = encode(completion)
        _keep(call, body, payload)
        return payload

    def frames_and_keep(completion: Completion) -> Iterable[Frame]:
        _keep(call, body, encode(completion))
        return frames(completion)

    turn.encode = encode_and_keep
    turn.frames = frames_and_keep
    return turn


# --- the endpoints ----------------------------------------------------------------------


class UpdateChatCompletion(BaseModel):
    """``POST /v1/chat/completions/{completion_id}`` body."""

    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)

    metadata: dict[str, str] | None


def _not_found(completion_id: str) -> MockError:
    return MockError("not_found", f"Chat completion with id '{completion_id}' not found.")


def _found(call: HttpCall) -> StoredCompletion:
    completion_id = str(call.path_params["completion_id"])
    found = _store(call).get(completion_id)
    if found is None:
        raise _not_found(completion_id)
    return found


def _page(items: list[Json], query: dict[str, str], order: str) -> JsonResult:
    """A cursor page of ``items`` (given oldest first) as ``query`` asks: ``order``,
    then what comes after the ``after`` id, ``limit`` of them."""
    limit = int_param(query, "limit", 20, 1, 100)
    if order == "desc":
        items = items[::-1]
    after = query.get("after")
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    page = items[:limit]
    return JsonResult(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        }
    )


async def list_completions(call: HttpCall) -> Result:
    """``GET /v1/chat/completions``: the stored completions, filtered by ``model`` and
    ``metadata[key]=value`` (all must match), oldest first unless ``order=desc``."""
    query = query_params(call)
    order = order_param(query, "asc")
    model = query.get("model") or None
    wanted = {
        key[len("metadata[") : -1]: value
        for key, value in query.items()
        if key.startswith("metadata[") and key.endswith("]")
    }
    items = [
        c.body
        for c in _store(call).completions()
        if (model is None or c.body["model"] == model)
        and all(c.body["metadata"].get(k) == v for k, v in wanted.items())
    ]
    return _page(items, query, order)


async def retrieve(call: HttpCall) -> Result:
    """``GET /v1/chat/completions/{completion_id}``."""
    return JsonResult(_found(call).body)


async def update(call: HttpCall) -> Result:
    """``POST /v1/chat/completions/{completion_id}``: replace the metadata (``null``
    clears it)."""
    body = parse_body(UpdateChatCompletion, call.body, lambda exc: invalid_request(exc, call.body))
    completion_id = str(call.path_params["completion_id"])
    updated = _store(call).update_metadata(completion_id, dict(body.metadata or {}))
    if updated is None:
        raise _not_found(completion_id)
    return JsonResult(updated)


async def delete(call: HttpCall) -> Result:
    """``DELETE /v1/chat/completions/{completion_id}``."""
    completion_id = str(call.path_params["completion_id"])
    if not _store(call).delete(completion_id):
        raise _not_found(completion_id)
    return JsonResult({"object": "chat.completion.deleted", "id": completion_id, "deleted": True})


async def list_messages(call: HttpCall) -> Result:
    """``GET /v1/chat/completions/{completion_id}/messages``: the request's messages,
    oldest first unless ``order=desc``."""
    found = _found(call)
    query = query_params(call)
    return _page(list(found.messages), query, order_param(query, "asc"))
