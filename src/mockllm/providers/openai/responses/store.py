"""Stored responses of one app: what ``GET /v1/responses/{id}``, ``input_items`` and
``previous_response_id`` read.

A response is kept unless it was created with ``store: false``. The store is bounded: past
``capacity`` responses the least recently used one is forgotten (and so are its items, for
``item_reference``). It lives in the closures of one app's routes, never at module level.
All operations are synchronous and run on the event loop, so they need no lock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .rendering import Rendering

DEFAULT_CAPACITY = 10_000


@dataclass(slots=True)
class StoredResponse:
    """One stored response.

    ``context`` is the conversation before this request's own input (the items of the
    ``previous_response_id`` chain), ``input_items`` this request's input items with their
    ids, ``body`` the final ``Response`` object and ``rendering`` what re-encodes its stream.
    """

    id: str
    body: dict[str, Any]
    context: tuple[dict[str, Any], ...]
    input_items: tuple[dict[str, Any], ...]
    rendering: Rendering
    background: bool = False

    def conversation(self) -> tuple[dict[str, Any], ...]:
        """Every item a request continuing from this response starts with: the earlier
        context, this response's input, then its output."""
        return self.context + self.input_items + tuple(self.body["output"])


class ResponseStore:
    """An LRU map of response id to :class:`StoredResponse`, with an index of item ids."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._responses: OrderedDict[str, StoredResponse] = OrderedDict()
        # item id -> (item, how many stored responses hold it)
        self._items: dict[str, tuple[dict[str, Any], int]] = {}

    def __len__(self) -> int:
        return len(self._responses)

    def __contains__(self, response_id: object) -> bool:
        return response_id in self._responses

    def get(self, response_id: str) -> StoredResponse | None:
        """The stored response, marked as recently used; None when unknown or forgotten."""
        found = self._responses.get(response_id)
        if found is not None:
            self._responses.move_to_end(response_id)
        return found

    def put(self, stored: StoredResponse) -> None:
        """Keep ``stored``, forgetting the least recently used response when full."""
        self._responses[stored.id] = stored
        self._responses.move_to_end(stored.id)
        for item in self._own_items(stored):
            held = self._items.get(item["id"])
            self._items[item["id"]] = (item, held[1] + 1 if held else 1)
        while len(self._responses) > self.capacity:
            _, evicted = self._responses.popitem(last=False)
            self._forget_items(evicted)

    def delete(self, response_id: str) -> bool:
        """Forget a response; False when it was not stored."""
        found = self._responses.pop(response_id, None)
        if found is None:
            return False
        self._forget_items(found)
        return True

    def item(self, item_id: str) -> dict[str, Any] | None:
        """An input or output item of a stored response, by id (``item_reference``)."""
        held = self._items.get(item_id)
        return held[0] if held else None

    @staticmethod
    def _own_items(stored: StoredResponse) -> list[dict[str, Any]]:
        return [i for i in (*stored.input_items, *stored.body["output"]) if i.get("id")]

    def _forget_items(self, stored: StoredResponse) -> None:
        for item in self._own_items(stored):
            held = self._items.get(item["id"])
            if held is None:
                continue
            if held[1] <= 1:
                del self._items[item["id"]]
            else:
                self._items[item["id"]] = (held[0], held[1] - 1)
