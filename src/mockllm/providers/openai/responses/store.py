"""Stored responses of one app: what ``GET /v1/responses/{id}``, ``input_items`` and
``previous_response_id`` read.

A response is kept unless it was created with ``store: false``. The store is bounded by
count (``capacity``), by bytes (the JSON of each response's own items and body:
``limits.store_max_bytes``) and by age (``limits.store_ttl_seconds``); past a bound the
least recently used response is forgotten (and so are its items, for ``item_reference``),
as the real service forgets expired responses. A response keeps only its own items and the
id of the response it continues: a ``previous_response_id`` chain is stored by reference,
so a chain of N turns costs N turns of memory, not N^2. Continuing from a response whose
ancestor was forgotten is a 404 naming the missing one.

It is per-app state (``Provider.state`` name :data:`STATE`, built by the app factory and
cleared by ``POST /-/reset``), never module-level. All operations are synchronous and run
on the event loop, so they need no lock.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from ....core.errors import MockError
from ....core.limits import Limits
from .rendering import Rendering

STATE = "openai.responses"
"""The store's name among the app's provider states (``call.services.state(STATE)``)."""
DEFAULT_CAPACITY = 10_000
_OVERHEAD = 1024
"""Bytes counted per stored response on top of its JSON (the objects around it)."""


@dataclass(slots=True)
class StoredResponse:
    """One stored response.

    ``previous_id`` is the response this one continues (``previous_response_id``), whose
    conversation comes before ``input_items`` (this request's input items, with their ids);
    ``body`` is the final ``Response`` object and ``rendering`` what re-encodes its stream.
    """

    id: str
    body: dict[str, Any]
    previous_id: str | None
    input_items: tuple[dict[str, Any], ...]
    rendering: Rendering
    background: bool = False
    created: float = 0.0
    """When it was stored (the store's clock); set by :meth:`ResponseStore.put`."""
    size: int = 0
    """Bytes it is counted for; set by :meth:`ResponseStore.put`."""

    def own_items(self) -> tuple[dict[str, Any], ...]:
        """This response's input then output items (not those of the responses before)."""
        return self.input_items + tuple(self.body["output"])


def factory(capacity: int = DEFAULT_CAPACITY) -> Callable[[Limits], ResponseStore]:
    """The ``Provider.state`` factory of one app's store: at most ``capacity`` responses,
    within the app's ``limits``."""

    def build(limits: Limits) -> ResponseStore:
        return ResponseStore(capacity, limits)

    return build


class ResponseStore:
    """An LRU map of response id to :class:`StoredResponse`, with an index of item ids,
    bounded by count, bytes and age."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.limits = limits or Limits()
        self._clock = clock
        self._responses: OrderedDict[str, StoredResponse] = OrderedDict()
        self.bytes = 0
        # item id -> (item, how many stored responses hold it)
        self._items: dict[str, tuple[dict[str, Any], int]] = {}

    def __len__(self) -> int:
        return len(self._responses)

    def __contains__(self, response_id: object) -> bool:
        return response_id in self._responses

    def _expired(self, stored: StoredResponse, now: float) -> bool:
        return now - stored.created >= self.limits.store_ttl_seconds

    def get(self, response_id: str) -> StoredResponse | None:
        """The stored response, marked as recently used; None when unknown, forgotten or
        expired."""
        found = self._responses.get(response_id)
        if found is None:
            return None
        if self._expired(found, self._clock()):
            self.delete(response_id)
            return None
        self._responses.move_to_end(response_id)
        return found

    def conversation(self, stored: StoredResponse) -> tuple[dict[str, Any], ...]:
        """Every item a request continuing from ``stored`` starts with: the items of the
        responses it continues, oldest first, then its own input and output. Raises the
        404 ``previous_response_not_found`` when a response of the chain is forgotten."""
        chain = [stored]
        seen = {stored.id}
        while chain[-1].previous_id is not None:
            previous_id = chain[-1].previous_id
            previous = self.get(previous_id)
            if previous is None or previous.id in seen:
                raise MockError(
                    "not_found",
                    f"Previous response with id '{previous_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            seen.add(previous.id)
            chain.append(previous)
        items: list[dict[str, Any]] = []
        for link in reversed(chain):
            items.extend(link.own_items())
        return tuple(items)

    def put(self, stored: StoredResponse, limits: Limits | None = None) -> None:
        """Keep ``stored`` (``limits``, when given, replaces the bounds in force),
        forgetting expired responses, then the least recently used ones while the store is
        over its count or byte bound. A response bigger than the whole byte bound is not
        kept."""
        if limits is not None:
            self.limits = limits
        if not stored.size:
            stored.size = (
                _OVERHEAD
                + len(orjson.dumps(stored.body))
                + sum(len(orjson.dumps(item)) for item in stored.input_items)
            )
        if stored.id in self._responses:
            self.delete(stored.id)
        now = self._clock()
        while self._responses:
            oldest = next(iter(self._responses.values()))
            if not self._expired(oldest, now):
                break
            self.delete(oldest.id)
        if stored.size > self.limits.store_max_bytes:
            return
        stored.created = now
        self._responses[stored.id] = stored
        self.bytes += stored.size
        for item in self._indexed(stored):
            held = self._items.get(item["id"])
            self._items[item["id"]] = (item, held[1] + 1 if held else 1)
        while len(self._responses) > self.capacity or self.bytes > self.limits.store_max_bytes:
            _, evicted = self._responses.popitem(last=False)
            self._forgotten(evicted)

    def clear(self) -> None:
        """Forget every response (``POST /-/reset``)."""
        self._responses.clear()
        self._items.clear()
        self.bytes = 0

    def delete(self, response_id: str) -> bool:
        """Forget a response; False when it was not stored."""
        found = self._responses.pop(response_id, None)
        if found is None:
            return False
        self._forgotten(found)
        return True

    def item(self, item_id: str) -> dict[str, Any] | None:
        """An input or output item of a stored response, by id (``item_reference``)."""
        held = self._items.get(item_id)
        return held[0] if held else None

    @staticmethod
    def _indexed(stored: StoredResponse) -> list[dict[str, Any]]:
        return [i for i in stored.own_items() if i.get("id")]

    def _forgotten(self, stored: StoredResponse) -> None:
        self.bytes -= stored.size
        for item in self._indexed(stored):
            held = self._items.get(item["id"])
            if held is None:
                continue
            if held[1] <= 1:
                del self._items[item["id"]]
            else:
                self._items[item["id"]] = (held[0], held[1] - 1)
