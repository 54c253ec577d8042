"""The load model: at most ``max_concurrent`` generations at once, a queue of ``queue``
more, the provider's overload error past it, and latency growing as concurrency nears the
maximum (:class:`~mockllm.rules.schema.Load`)."""

from __future__ import annotations

import asyncio
from collections import deque

from ..core.errors import MockError
from ..rules.schema import Load


class Gate:
    """The generation slots of one app. A generation :meth:`enter` s before it is answered
    and :meth:`leave` s once its last byte is written (or its client is gone); a freed
    slot goes to the longest waiting request. On the event loop only."""

    def __init__(self) -> None:
        self.busy = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def enter(self, load: Load) -> None:
        """Take a slot, waiting in the queue for one; raises the overload
        :class:`MockError` when the queue is full too."""
        if self.busy < load.max_concurrent:
            self.busy += 1
            return
        if len(self._waiting) >= load.queue:
            raise MockError(
                "overloaded",
                "Overloaded",
                detail={"busy": self.busy, "limit": load.max_concurrent, "queue": load.queue},
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter  # the slot is handed over by leave(): busy is unchanged
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # handed a slot just as the client left: pass it on
            else:
                self._waiting.remove(waiter)
            raise

    def leave(self) -> None:
        """Give the slot back, to the next waiting request if there is one."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.busy = max(0, self.busy - 1)

    def scale(self, load: Load) -> float:
        """How much slower answers are at the current concurrency."""
        return 1.0 + load.slowdown * self.busy / load.max_concurrent

    @property
    def queued(self) -> int:
        return len(self._waiting)

    def stats(self) -> dict[str, int]:
        return {"busy": self.busy, "queued": len(self._waiting)}


__all__ = ["Gate"]
