"""The fast lane: answers that the config fixes, served from bytes made once.

A load test sends the same request again and again. When the rule that answers it gives
the same answer to the same request every time (a ``responses:`` text, a rule with a
fixed reply), nothing of the serving path (:mod:`mockllm.serving`) needs to run again but
what changes from one request to the next. The lane keeps, per route and request body, the
answer's body split around what is new each time (the completion's id and creation time),
and answers a request it has learned from it: fresh values spliced in, the rate-limit
buckets charged and their headers made, the journal entry added and the metrics counted,
as the serving path does them. The HTTP protocol
(:class:`mockllm.server.GuardedHttpToolsProtocol`) asks the lane once a request of a lane
route is complete, before it builds an ASGI request for it, and writes what the lane gives.

**The same answer.** The status, the headers (same names, same order, same values but the
request id, the processing time and the rate-limit figures, which are the buckets' own)
and the body (but the id and the creation time) are those the serving path sends. Both use
the same dialect code: the dialect's decoding and encoding (its :data:`Recipe`), the
engine, the provider's ``response_headers``, ``api_key`` and ``limit_headers``, the
quotas, :func:`mockllm.wire.add_entry` for the journal and the metrics.

**When it steps aside.** The lane answers None, and the request takes the serving path,
whenever anything variable may apply:

* in the app: request validators or stages, an intercept (replayed cassettes, recording), a
  shared state back-end, or the lane turned off (:attr:`FastLane.enabled`);
* in the config in force: latency or faults at any level, a load model, a rule with a
  condition on headers;
* in the request: an ``x-mockllm-*`` knob header, an ``Origin`` header (CORS), an API key
  the config does not accept, a rate-limit bucket that is short (the 429 is the serving
  path's);
* in the answer: one the lane has not learned, or one that is not fixed: a template, a
  sequence or a counter, tool calls, an error reply, no rule matching, a stream, lag, a
  body the dialect's plain decoder does not take, any error.

**Learning.** A body is learned the second time it is seen on a route (the first time, its
hash is kept): the dialect's recipe decodes it, :meth:`~mockllm.rules.ruleset.RuleSet.
fixed_rule` says whether its answer is fixed, and the engine makes the answer, without
counting a turn or taking from any bucket. The learned answer, or the fact that there is
none, is kept until the config changes (a reload, rules added or removed over HTTP): each
config has its own. Bounded: :data:`MAX_ANSWERS` answers and :data:`MAX_SEEN` hashes per
route, bodies up to :data:`MAX_BODY_BYTES`, answers up to :data:`MAX_ANSWER_BYTES`.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import orjson

from .core.conversation import Conversation
from .core.ids import new_id
from .core.outcome import Outcome
from .realism.knobs import HEADERS as KNOB_HEADERS
from .serving import Turn, rule_header
from .wire import HttpCall, JsonResult, RawHeaders, add_entry, log_request, request_log

if TYPE_CHECKING:
    from .providers.base import Provider
    from .realism.knobs import Plan
    from .rules.schema import RateLimits
    from .rules.store import Snapshot
    from .services import Services

log = logging.getLogger("mockllm.fastlane")

MAX_BODY_BYTES = 16 * 1024
"""Largest request body the lane answers; a larger one takes the serving path."""
MAX_ANSWER_BYTES = 64 * 1024
"""Largest answer body the lane keeps."""
MAX_ANSWERS = 256
"""Answers (and bodies known not to have one) kept per route; all are forgotten past it."""
MAX_SEEN = 4096
"""Hashes of bodies seen once kept per route; all are forgotten past it."""

_STOP = frozenset({b"origin", *(name.encode("ascii") for name in KNOB_HEADERS)})
"""Request headers that send a request the serving path's way: the CORS policy applies to
it, or it sets a knob."""
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
_PERF_COUNTER = time.perf_counter
_WRITTEN = JsonResult(b"", 200)
"""What the request log line reads of a lane answer (its status; not a stream)."""


@dataclass(frozen=True, slots=True)
class Varying:
    """A value of an answer's body that is new for every request (an id, a time).
    ``text`` is the value in the answer the recipe made, as it appears in the JSON body
    (nothing in it escaped); ``fresh()`` makes the next value, of the same kind (hex or
    decimal digits: nothing to escape either)."""

    text: str
    fresh: Callable[[], str]


@dataclass(frozen=True, slots=True)
class Learned:
    """What a dialect's :data:`Recipe` makes of one request: the :class:`Turn` its handler
    would answer through :func:`mockllm.serving.answer`, and the values of the answer's
    body that are new for each request."""

    turn: Turn
    varying: tuple[Varying, ...]


Recipe = Callable[[HttpCall], Learned | None]
"""A dialect's part of the lane (``RouteSpec.fixed``): the request decoded exactly as the
route's handler decodes it, with the values of its answer that change per request; None
when the request is not one the lane may answer (the handler would do more than decode:
a body that needs the schema's models, a completion to store...). Raises
:class:`~mockllm.core.errors.MockError` as the handler would; has no other effect."""


@dataclass(frozen=True, slots=True)
class FixedAnswer:
    """A learned answer: ``whole``, a ``%`` template of the whole HTTP answer (the
    protocol's prefix, the header lines, the blank line, the body with its varying values;
    ``size``: the body's length without them), their ``fresh`` makers in order, the
    headers the answer adds after the rate-limit ones (the rule header, the dialect's
    own), and the facts the buckets, the journal and the metrics need."""

    whole: bytes
    size: int
    fresh: tuple[Callable[[], str], ...]
    headers: dict[str, str]
    media_type: str
    model: str
    rule: str
    prompt_tokens: int
    completion_tokens: int
    start: tuple[str, str]
    """The conversation's start (system prompt, first user message): the journal's key
    when the request sends no conversation header."""
    model_limits: RateLimits | None

    @classmethod
    def made(cls, template: bytes, size: int, *fields: Any) -> FixedAnswer:
        """The answer whose body is ``template`` (see :func:`_template`), ``size`` bytes
        without its varying values."""
        return cls(b"%s%s\r\n\r\n" + template, size, *fields)

    def values(self) -> tuple[bytes, ...]:
        """Fresh varying values for one answer."""
        return tuple([fresh().encode("ascii") for fresh in self.fresh])


def _template(
    body: bytes, varying: tuple[Varying, ...]
) -> tuple[bytes, tuple[Callable[[], str], ...], int] | None:
    """``body`` as a ``%`` template with a ``%s`` for each varying value, their makers in
    the order they appear, and the body's length without them; None when a value does not
    appear exactly once, or is not plain ASCII that JSON writes as it is."""
    found = []
    for value in varying:
        mark = value.text.encode("utf-8")
        if (
            not mark
            or not value.text.isascii()
            or orjson.dumps(value.text) != b'"' + mark + b'"'
            or body.count(mark) != 1
        ):
            return None
        found.append((body.index(mark), mark, value.fresh))
    found.sort(key=lambda item: item[0])
    parts = []
    at = 0
    for position, mark, _fresh in found:
        if position < at:  # two values overlap
            return None
        parts.append(body[at:position].replace(b"%", b"%%"))
        at = position + len(mark)
    parts.append(body[at:].replace(b"%", b"%%"))
    size = len(body) - sum(len(mark) for _, mark, _ in found)
    return b"%s".join(parts), tuple(fresh for _, _, fresh in found), size


def _plain_values(headers: Mapping[str, str]) -> bool:
    """Whether every header value is printable ASCII (what the serving path writes as it
    is)."""
    values = "".join(headers.values())
    return values.isascii() and values.isprintable()


class LaneRoute:
    """The lane of one route: a path served by one provider's route for ``POST``, whose
    spec has a recipe. :meth:`answer` is what the HTTP protocol calls."""

    def __init__(
        self, lane: FastLane, path: str, provider: Provider, recipe: Recipe, max_body: int
    ) -> None:
        self.lane = lane
        self.path = path
        self.provider = provider
        self.recipe = recipe
        self.max_body = min(max_body, MAX_BODY_BYTES)
        """Largest body the lane takes: past it, the request takes the serving path (which
        answers 413 past ``settings.max_body_bytes``)."""
        self.limited = provider.limit_headers is not None
        self.answered = 0
        """Requests this route's lane answered."""
        self._answers: dict[bytes, FixedAnswer | None] = {}
        self._seen: set[int] = set()

    @property
    def learned(self) -> int:
        """Answers kept (bodies known to have none aside)."""
        return sum(1 for fixed in self._answers.values() if fixed is not None)

    def forget(self) -> None:
        """Forget every learned answer and seen body (the config changed)."""
        self._answers.clear()
        self._seen.clear()

    def _call(self, headers: list[tuple[bytes, bytes]], body: bytes, request_id: str) -> HttpCall:
        """The :class:`~mockllm.wire.HttpCall` of a ``POST`` of this route, as the serving
        path would make it (what the provider's hooks read)."""
        return HttpCall(
            "POST",
            self.path,
            "",
            RawHeaders(headers),
            _NO_PARAMS,
            body,
            request_id,
            self.lane.services,
            provider=self.provider,
        )

    def admits(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether a request with ``headers`` (complete, lower-case names) may wait for its
        whole body to be offered to the lane: False when the lane could not answer it
        whatever its body (the lane closed, a knob or ``Origin`` header, a key the config
        refuses, a declared body past :attr:`max_body`). The serving path then starts at
        once, as without the lane: a refusal that needs no body (401, CORS) goes out
        before the body has arrived."""
        lane = self.lane
        if lane.store.current is not lane.snapshot:
            lane.renew()
        if not lane.open:
            return False
        for name, value in headers:
            if name in _STOP:
                return False
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_body):
                return False
        keys = lane.plan.api_keys
        if keys is not None:
            call = self._call(headers, b"", "")
            key = self.provider.api_key(call)
            if key is None or key not in keys:
                return False
        return True

    def answer(
        self, headers: list[tuple[bytes, bytes]], body: bytes, prefix: bytes
    ) -> bytes | None:
        """The whole HTTP answer to ``POST`` of this route with ``headers`` (lower-case
        names, as the server gives them) and ``body``: ``prefix`` (the status line and the
        server's own headers), the answer's headers, the blank line, the body. None when
        the request must take the serving path; then nothing was changed (the lane may
        have learned from the request)."""
        lane = self.lane
        if lane.store.current is not lane.snapshot:
            lane.renew()
        if not lane.open:
            return None
        fixed = self._answers.get(body, _UNSEEN)
        if fixed is _UNSEEN:
            self._sighted(headers, body)
            return None
        if fixed is None:
            return None
        for name, _ in headers:
            if name in _STOP:
                return None
        provider = self.provider
        call = self._call(headers, body, new_id("req_"))
        plan = lane.plan
        keys = plan.api_keys
        if keys is not None:
            key = provider.api_key(call)
            if key is None or key not in keys:
                return None  # the serving path's 401
        response = provider.response_headers(call)
        if not _plain_values(response):
            return None
        assert isinstance(fixed, FixedAnswer)
        if self.limited or plan.rate_limits is not None:
            quotas = lane.services.realism.quotas
            account = quotas.account(
                provider.api_key(call) or "-", fixed.model, plan.rate_limits, fixed.model_limits
            )
            if not quotas.affords(account, fixed.prompt_tokens):
                return None  # the serving path's 429
            # From here on the request is answered: nothing returns None.
            quotas.take_request(account)
            quotas.take(account, fixed.prompt_tokens)
            view = quotas.charge(account, fixed.completion_tokens)
            if provider.limit_headers is not None:
                response.update(provider.limit_headers(view))
        response.update(fixed.headers)
        values = fixed.values()
        response["content-type"] = fixed.media_type
        response["content-length"] = str(fixed.size + sum(map(len, values)))
        head = "\r\n".join(map(": ".join, response.items())).encode("latin-1")
        call.first_byte = _PERF_COUNTER()
        lane.finish(call, provider, fixed)
        self.answered += 1
        return fixed.whole % (prefix, head, *values)

    def _sighted(self, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Note that ``body`` was seen; the second time, learn its answer."""
        key = hash(body)
        seen = self._seen
        if key not in seen:
            if len(seen) >= MAX_SEEN:
                seen.clear()
            seen.add(key)
            return
        seen.discard(key)
        answers = self._answers
        if len(answers) >= MAX_ANSWERS:
            answers.clear()
        # In a context of its own: nothing the engine notes reaches the protocol's.
        answers[body] = contextvars.Context().run(self._learn, headers, body)

    def _learn(self, headers: list[tuple[bytes, bytes]], body: bytes) -> FixedAnswer | None:
        """The answer to ``body`` when the config fixes it (see the module docstring)."""
        lane = self.lane
        services = lane.services
        snapshot = lane.snapshot
        assert snapshot is not None  # renewed before anything is learned
        call = self._call(list(headers), body, "")
        try:
            learned = self.recipe(call)
            if learned is None or learned.turn.request.stream:
                return None
            turn = learned.turn
            request = turn.request
            rules = snapshot.config.rules
            rule = rules.fixed_rule(Conversation(request))
            if rule is None:
                return None
            completion = services.engine.complete(request)
            if completion.rule != rule or completion.delay_per_char:
                return None
            encoded = turn.encode(completion)
            raw = encoded if isinstance(encoded, bytes) else orjson.dumps(encoded)
        except Exception:  # the serving path answers (and words) it
            return None
        if len(raw) > MAX_ANSWER_BYTES:
            return None
        made = _template(raw, learned.varying)
        if made is None:
            return None
        headers_out = rule_header((completion,))
        headers_out.update(turn.headers)
        if not _plain_values(headers_out):
            return None
        plan = lane.plan
        level = plan.models.get(request.model) if plan.models else None
        usage = completion.usage
        return FixedAnswer.made(
            made[0],
            made[2],
            made[1],
            headers_out,
            _WRITTEN.media_type,
            request.model,
            rule,
            usage.prompt_tokens,
            usage.completion_tokens,
            Conversation(request).start(),
            level.rate_limits if level is not None else None,
        )


_UNSEEN: Any = object()


class FastLane:
    """The lane of one app: its routes by path (as bytes, the request target that
    selects them exactly) and what decides, per config in force, whether it is open."""

    def __init__(self, services: Services, routes: Mapping[str, tuple[Provider, Recipe]]) -> None:
        """``routes``: for each path, the provider that serves ``POST`` on it and the
        recipe of that route."""
        self.services = services
        self.store = services.store
        settings = services.settings
        self.enabled = settings.fast_lane
        """False turns the lane off: every request takes the serving path."""
        self.routes: dict[bytes, LaneRoute] = {
            path.encode("latin-1"): LaneRoute(self, path, provider, recipe, settings.max_body_bytes)
            for path, (provider, recipe) in routes.items()
        }
        self.snapshot: Snapshot | None = None
        self.open = False
        self.plan: Plan = services.store.current.config.behaviour
        self._header = "x-mockllm-conversation"

    def applies(self) -> bool:
        """Whether the app lets the lane answer at all: no validators, stages or
        intercept, state in this process, the lane on."""
        services = self.services
        hooks = services.hooks
        return (
            self.enabled
            and not hooks.validators
            and not hooks.stages
            and services.intercept is None
            and not services.backend.shared
        )

    def renew(self) -> None:
        """Take the config in force: whether the lane is open under it, and no answer
        learned under another."""
        snapshot = self.store.current
        self.snapshot = snapshot
        config = snapshot.config
        plan = config.behaviour
        self.plan = plan
        self._header = config.settings.conversation_header
        self.open = (
            self.applies()
            and not plan.active
            and plan.load is None
            and not config.rules.reads_headers
        )
        for route in self.routes.values():
            route.forget()

    def stats(self) -> dict[str, int]:
        """Requests the lane answered, and answers it keeps (learned under the config in
        force)."""
        routes = self.routes.values()
        return {
            "answered": sum(route.answered for route in routes),
            "answers": sum(route.learned for route in routes),
        }

    def finish(self, call: HttpCall, provider: Provider, fixed: FixedAnswer) -> None:
        """What the serving path does as a whole answer is written: the request's log
        line (when the request log is on) and its journal entry, counted in the metrics."""
        services = self.services
        logged = services.settings.request_log and request_log.isEnabledFor(logging.INFO)
        if logged:
            log_request(call, provider, _WRITTEN, Outcome(model=fixed.model, rule=fixed.rule))
        journal = services.journal
        if logged or journal.enabled or journal.counting:
            conversation = call.headers.get(self._header) or fixed.start
            usage = {"input_tokens": fixed.prompt_tokens, "output_tokens": fixed.completion_tokens}
            add_entry(
                call, provider, 200, False, fixed.model, fixed.rule, None, conversation, usage, []
            )


__all__ = ["MAX_BODY_BYTES", "FastLane", "FixedAnswer", "LaneRoute", "Learned", "Recipe", "Varying"]
