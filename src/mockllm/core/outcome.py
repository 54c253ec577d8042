"""What became of one request, noted while it is served, read once it is answered.

The HTTP layer opens an :class:`Outcome` for each request (:func:`begin`); the engine notes
the model and the rule that answered (:func:`note`), wherever in a dialect's handler it is
called; the HTTP layer reads the outcome after the answer is sent, for the per-request log
line (and whatever else records requests). A context variable carries it, so neither the
engine nor the dialects pass it around, and concurrent requests never see each other's.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Outcome:
    """The facts of one request: ``model`` as requested, ``rule`` that answered (None: no
    rule; ``source`` then says what answered instead, e.g. ``(default)``), and ``reason``,
    a short explanation when an answer came from no rule or was an error of mockllm's."""

    model: str | None = None
    rule: str | None = None
    source: str | None = None
    reason: str | None = None
    conversation: Any = None
    """The request's conversation (an object with ``key(header)``), when the engine saw
    one: read, not kept, by whatever records requests."""
    usage: tuple[int, int] | None = None
    """Input and output tokens of the answer, when the engine answered."""
    faults: list[str] | None = None
    """What was simulated for the request (latency, errors, stream faults), in words."""
    state: Any = None
    """The request's run of shared-state operations (:class:`mockllm.state.shared.Run`)
    while its handler runs with a shared state back-end."""

    def restart(self) -> None:
        """Forget what was noted, as the handler runs again (:mod:`mockllm.state.shared`);
        the run is kept."""
        self.model = self.rule = self.source = self.reason = None
        self.conversation = self.usage = self.faults = None

    def fault(self, text: str) -> None:
        """Add ``text`` to :attr:`faults`."""
        if self.faults is None:
            self.faults = []
        self.faults.append(text)


_current: ContextVar[Outcome | None] = ContextVar("mockllm_outcome", default=None)


def begin() -> tuple[Outcome, Token[Outcome | None]]:
    """Open the outcome of the request being served in this context; give the token back
    to :func:`end`."""
    outcome = Outcome()
    return outcome, _current.set(outcome)


def end(token: Token[Outcome | None]) -> None:
    _current.reset(token)


def current() -> Outcome | None:
    """The outcome of the request being served, or None outside of a request."""
    return _current.get()


def note(
    *,
    model: str | None = None,
    rule: str | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> None:
    """Record facts on the current request's outcome (no-op outside of a request). Only the
    arguments given are recorded."""
    outcome = _current.get()
    if outcome is None:
        return
    if model is not None:
        outcome.model = model
    if rule is not None:
        outcome.rule = rule
    if source is not None:
        outcome.source = source
    if reason is not None:
        outcome.reason = reason
