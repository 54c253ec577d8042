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

It is per-app state (``Provider.state`` name :data:`STATE`, built by the app factory,
cleared by ``POST /-/reset`` and counted by ``GET /-/stats``), never module-level. All
operations are synchronous and run on the event loop, so they need no lock.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ....core.errors import MockError
from ....core.limits import Limits
from ....state.bounded import DEFAULT_CAPACITY as DEFAULT_CAPACITY
from ....state.bounded import BoundedStore
from ....state.shared import Backend, Op, fetch, stage, ttl_ms

if TYPE_CHECKING:  # the encoder (and the request models) load with the handlers
    from .encode import Rendering

STATE = "openai.responses"
"""The store's name among the app's provider states (``call.services.state(STATE)``)."""
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


class ResponseStore(BoundedStore[StoredResponse]):
    """An LRU map of response id to :class:`StoredResponse`, with an index of item ids,
    bounded by count, bytes and age (:class:`~mockllm.state.bounded.BoundedStore`)."""

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        limits: Limits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(capacity, limits, clock=clock)
        # item id -> (item, how many stored responses hold it)
        self._items: dict[str, tuple[dict[str, Any], int]] = {}

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
        created = self._entries.put(stored.id, stored, stored.size)
        if created is None:
            return
        stored.created = created
        for item in self._indexed(stored):
            held = self._items.get(item["id"])
            self._items[item["id"]] = (item, held[1] + 1 if held else 1)

    def item(self, item_id: str) -> dict[str, Any] | None:
        """An input or output item of a stored response, by id (``item_reference``)."""
        held = self._items.get(item_id)
        return held[0] if held else None

    @staticmethod
    def _indexed(stored: StoredResponse) -> list[dict[str, Any]]:
        return [i for i in stored.own_items() if i.get("id")]

    def _left(self, key: str, stored: StoredResponse) -> None:
        """A response left the store: its items are held by one response fewer."""
        for item in self._indexed(stored):
            held = self._items.get(item["id"])
            if held is None:
                continue
            if held[1] <= 1:
                del self._items[item["id"]]
            else:
                self._items[item["id"]] = (held[0], held[1] - 1)

    def shared(self, backend: Backend) -> SharedResponseStore:
        """This store's counterpart in ``backend``, shared by every worker and replica
        (the app factory swaps it in with a shared state back-end)."""
        return SharedResponseStore(backend, self.capacity, self.limits)


class SharedResponseStore(ResponseStore):
    """Stored responses in a shared state back-end (Redis): a response stored by one
    replica is read, continued (``previous_response_id``) and deleted through any other.

    Each response is kept under its id, each of its items (for ``item_reference``) under
    the item's id, for ``limits.store_ttl_seconds``; a response bigger than
    ``limits.store_max_bytes`` is not kept. How many are kept is Redis's memory to bound
    (``maxmemory``), not ``capacity``. A response is kept pickled: the Redis of a server
    group must be written by that group's servers only (as it holds their rules anyway).
    Reads and deletes suspend the request until the back-end answers
    (:func:`mockllm.state.shared.fetch`); writes are flushed before the answer ends.
    """

    def __init__(
        self, backend: Backend, capacity: int = DEFAULT_CAPACITY, limits: Limits | None = None
    ) -> None:
        super().__init__(capacity, limits)
        self.backend = backend

    def _key(self, kind: str, key: str) -> str:
        return self.backend.key("kv", STATE, kind, key)

    def get(self, key: str) -> StoredResponse | None:
        raw = fetch(Op("get", (self._key("response", key),)))
        if raw is None:
            return None
        try:
            found = pickle.loads(raw)  # noqa: S301 - written by this server group only
        except Exception:  # another version's, or damaged: as good as forgotten
            return None
        return found if isinstance(found, StoredResponse) else None

    def put(self, stored: StoredResponse, limits: Limits | None = None) -> None:
        if limits is not None:
            self.limits = limits
        raw = pickle.dumps(stored, protocol=pickle.HIGHEST_PROTOCOL)
        if len(raw) > self.limits.store_max_bytes:
            return
        ttl = ttl_ms(self.limits.store_ttl_seconds)
        stage(self.backend, Op("put", (self._key("response", stored.id),), (raw, ttl)))
        for item in self._indexed(stored):
            key = self._key("item", str(item["id"]))
            stage(self.backend, Op("put", (key,), (orjson.dumps(item), ttl)))

    def delete(self, key: str) -> bool:
        return bool(fetch(Op("delete", (self._key("response", key),))))

    def item(self, item_id: str) -> dict[str, Any] | None:
        raw = fetch(Op("get", (self._key("item", item_id),)))
        if raw is None:
            return None
        found = orjson.loads(raw)
        return found if isinstance(found, dict) else None

    def clear(self) -> None:
        """Nothing here: ``POST /-/reset`` deletes the shared keys."""

    def stats(self) -> dict[str, int]:
        return {"entries": 0, "bytes": 0}

    def __len__(self) -> int:
        return 0

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None
