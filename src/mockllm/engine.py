"""The vendor-neutral engine: request in, complete decision out.

``Engine.complete`` resolves the model, asks the rules what to answer (or answers
automatically when no rule matches), renders templates, generates schema-valid JSON, applies
the request's limits (``max_tokens``, stop sequences), counts tokens and splits the answer
into stream chunks. Dialects only translate; they never decide what to say.

When no rule matches (and ``settings.strict`` is off), the answer is automatic, in this
order: a forced tool choice (``required`` or a named tool) gets a call of that tool with
arguments valid against its parameter schema; a ``json_schema`` response format gets JSON
valid against the schema (a ``json_object`` format gets ``{"response": <default answer>}``);
after a tool result the answer is ``defaults.after_tool_result`` (else the default answer),
so agent loops end; otherwise ``defaults.unknown_response``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Mapping
from typing import Any, get_args

import orjson

from .constraints import check_capabilities, constrain
from .core import outcome
from .core.conversation import Conversation
from .core.errors import ErrorKind, MockError, kind_of_status, retry_headers
from .core.ids import new_id
from .core.limits import Limits
from .core.models import ModelInfo
from .core.tokens import Tokenizer
from .core.traits import Traits
from .core.types import ChatRequest, Choice, Completion, FinishReason, ToolCall, Usage
from .rules.replies import Plan, PlannedCall
from .rules.ruleset import Decision, describe_rule
from .rules.store import ConfigStore
from .rules.templates import BudgetExceeded, TemplateContext
from .state import CounterStore, MemoryCounters

log = logging.getLogger("mockllm.engine")

_CACHE_SIZE = 2048
_CACHED_CHARS = 64 * 1024
"""Answer texts longer than this are split every time (generated JSON of a large schema
is rarely asked for twice), so one big answer cannot fill the cache."""
_BYTES_PER_TOKEN = 90
"""Estimated memory of one cached token: the int in the list and its piece of text."""
_PLAIN_TRAITS = Traits()
"""The traits of a dialect that declares none (built once: this is on every request)."""


def stable_seed(*parts: str) -> int:
    """A seed that is the same for the same strings, in every process."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def error_from_reply(plan: Plan) -> MockError:
    """The :class:`MockError` an ``error:`` reply stands for."""
    spec = plan.error
    assert spec is not None
    kind: ErrorKind
    if spec.type in get_args(ErrorKind):
        kind = spec.type  # type: ignore[assignment]
    else:
        kind = kind_of_status(spec.status)
    headers = retry_headers(spec.retry_after) if spec.retry_after is not None else {}
    return MockError(kind, plan.error_message, status=spec.status, code=spec.code, headers=headers)


def _where(decision: Decision) -> str:
    if decision.rule is None:
        return "defaults"
    label = describe_rule(decision.rule)
    if decision.replies > 1:
        position = min(decision.counter, decision.replies)
        return f"{label} (reply {position} of its sequence)"
    return label


class Engine:
    """Decides and measures answers. One per app; reads the config store on every call."""

    def __init__(
        self,
        store: ConfigStore,
        tokenizer: Tokenizer,
        traits: Mapping[str, Traits] | None = None,
        counters: CounterStore | None = None,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.tokenizer = tokenizer
        self.traits = dict(traits or {})
        self.limits = limits or Limits()
        self.counters: CounterStore = (
            counters
            if counters is not None
            else MemoryCounters(self.limits.counters_max, self.limits.counters_ttl_seconds)
        )
        self._pieces: dict[tuple[str, str], tuple[list[int], list[str]]] = {}
        self._pieces_bytes = 0
        self._snapshot: object = None

    @property
    def token_cache(self) -> tuple[int, int]:
        """Entries and estimated bytes of the cache of tokenized answers."""
        return len(self._pieces), self._pieces_bytes

    def resolve_model(self, provider: str, name: str) -> ModelInfo:
        """The catalogue entry for ``name``; unknown names get a default entry unless
        ``strict_models`` is on, in which case a ``model_not_found`` 404 is raised."""
        snapshot = self.store.current
        info = snapshot.models.get(provider, name)
        if info is not None:
            return info
        if snapshot.strict_models:
            raise MockError(
                "not_found",
                f"The model `{name}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        traits = self.traits.get(provider, _PLAIN_TRAITS)
        tokenizer = traits.tokenizer_for(name) or "o200k_base"
        return ModelInfo(id=name, provider=provider, tokenizer=tokenizer, owned_by=provider)

    def _split(self, text: str, encoding: str) -> tuple[list[int], list[str]]:
        """Tokens of an answer ``text`` and the text of each. Answers repeat (a rule's reply
        is the same text every time), so splits of texts up to :data:`_CACHED_CHARS` are
        remembered, within ``limits.token_cache_bytes`` (estimated) in all."""
        key = (text, encoding)
        found = self._pieces.get(key)
        if found is None:
            tokens = self.tokenizer.encode(text, encoding)
            found = (tokens, self.tokenizer.pieces(tokens, encoding))
            if len(text) <= _CACHED_CHARS:
                cost = 2 * len(text) + _BYTES_PER_TOKEN * len(tokens) + 200
                if (
                    len(self._pieces) >= _CACHE_SIZE
                    or self._pieces_bytes + cost > self.limits.token_cache_bytes
                ):
                    self._pieces.clear()
                    self._pieces_bytes = 0
                self._pieces[key] = found
                self._pieces_bytes += cost
        return found

    def prompt_tokens(self, request: ChatRequest, model: ModelInfo) -> int:
        """Prompt tokens of ``request`` as its provider counts them: exact up to the model's
        context window; past it, an estimate (the work stays bounded by the window)."""
        traits = self.traits.get(request.provider, _PLAIN_TRAITS)
        return self.tokenizer.count_messages(
            request.messages,
            request.tools,
            model.tokenizer,
            costs=traits.tokens,
            stop_above=model.context_window,
        )

    def complete(self, request: ChatRequest) -> Completion:
        """Everything the dialect needs to answer ``request``; raises :class:`MockError`
        for an error reply, and for requests the real service would reject."""
        facts = outcome.current()  # noted directly (outcome.note): this runs on every request
        if facts is not None and request.model is not None:
            facts.model = request.model
        snapshot = self.store.current
        known = snapshot.models.get(request.provider, request.model)
        if known is not None:  # what resolve_model gives, without a second look-up
            model = known
            check_capabilities(request, model)
        else:
            model = self.resolve_model(request.provider, request.model)
        prompt_tokens = self.prompt_tokens(request, model)
        if prompt_tokens > model.context_window:
            raise MockError(
                "invalid_request",
                f"This model's maximum context length is {model.context_window} tokens. "
                f"However, your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages.",
                param="messages",
                code="context_length_exceeded",
                detail={"count": prompt_tokens, "limit": model.context_window, "model": model.id},
            )
        if snapshot is not self._snapshot:  # new rules: sequences start over
            if self._snapshot is not None:
                self.counters.clear()
            self._snapshot = snapshot
        settings = snapshot.config.settings
        rules = snapshot.config.rules
        conversation = Conversation(request)
        if facts is not None:
            facts.conversation = conversation
        try:
            decision = rules.decide(conversation, self.counters, settings.conversation_header)
        except MockError as exc:  # a sequence with after_sequence: error is exhausted
            log.warning("%s", exc.message)
            outcome.note(reason=exc.message)
            raise
        source = decision.rule
        if facts is not None and source is not None:
            facts.rule = source
        try:
            if decision.reply is not None:
                plan = decision.reply.render(TemplateContext(conversation, decision.counter))
            elif decision.text is not None:
                plan = Plan(text=decision.text)
            elif settings.strict:
                closest = rules.closest(conversation)
                message = "mockllm: no rule matched this request (strict mode). Closest rules: " + (
                    " | ".join(closest) if closest else "none (the config has no rules)"
                )
                log.warning("%s", message)
                outcome.note(reason=message)
                raise MockError("invalid_request", message, code="mockllm_no_rule_matched")
            else:
                plan, source = self._automatic(request, conversation)
                outcome.note(source=source)
        except MockError:
            raise
        except Exception as exc:  # a template failing at run time (Jinja, sandbox, maths)
            message = f"mockllm: template error in {_where(decision)}: {type(exc).__name__}: {exc}"
            if decision.exhausted:
                message += (
                    f" (this conversation asked for reply {decision.counter} of a sequence of "
                    f"{decision.replies}; if it is a rerun of an earlier conversation, reset the "
                    "counters (POST /-/reset, MockServer.reset()) or send a new "
                    f"{settings.conversation_header} header)"
                )
            outcome.note(reason=message)
            if isinstance(exc, BudgetExceeded):
                # A request-sized render (a huge prompt through a template): the client's 400.
                log.warning("%s", message)
                raise MockError(
                    "invalid_request", message, code="mockllm_template_budget"
                ) from None
            log.error("%s", message)
            raise MockError("server", message) from None
        if plan.error is not None:
            raise error_from_reply(plan)
        plan, enforced = constrain(request, plan)
        if enforced is not None:
            outcome.note(reason=f"enforced {enforced}")
        return self._build(request, model, plan, source, prompt_tokens)

    def _automatic(self, request: ChatRequest, conversation: Conversation) -> tuple[Plan, str]:
        """The answer when no rule matches (see the module docstring)."""
        choice = request.tool_choice
        if request.tools and choice.mode in ("required", "named"):
            name = choice.name if choice.mode == "named" and choice.name else request.tools[0].name
            return Plan(tool_calls=(PlannedCall(name, None, None),)), "(auto: tool_choice)"
        rules = self.store.current.config.rules
        context = TemplateContext(conversation, 1)
        fmt = request.response_format or {}
        if fmt.get("type") == "json_schema":
            return Plan(json="response_format"), "(auto: json_schema)"
        if fmt.get("type") == "json_object":
            text = orjson.dumps({"response": rules.default_text.render(context)}).decode()
            return Plan(text=text), "(auto: json_object)"
        if conversation.last_tool_result is not None:
            after = rules.after_tool_result or rules.default_text
            return Plan(text=after.render(context)), "(auto: after tool result)"
        return Plan(text=rules.default_text.render(context)), "(default)"

    def _generate(self, schema: Any, seed: int, what: str) -> str:
        """JSON valid against ``schema``, within ``self.limits``; the dialect's 400 when the
        schema cannot be satisfied (``mockllm_unsatisfiable_schema``) or a value would pass a
        budget (``mockllm_schema_too_large``, naming the ``MOCKLLM_LIMIT_*`` that raises it)."""
        from .json_instances import SchemaTooLarge, UnsatisfiableSchema, generate

        if not isinstance(schema, Mapping | bool):
            raise MockError(
                "invalid_request",
                f"mockllm cannot produce JSON valid against {what}: a JSON Schema is an object "
                f"or a boolean, not {type(schema).__name__}",
                code="mockllm_unsatisfiable_schema",
            )
        limit = self.limits.json_max_bytes
        try:
            text = orjson.dumps(generate(schema, seed=seed, limits=self.limits)).decode()
        except SchemaTooLarge as exc:
            raise MockError(
                "invalid_request",
                f"mockllm will not produce JSON for {what}: {exc}",
                code="mockllm_schema_too_large",
            ) from None
        except UnsatisfiableSchema as exc:
            raise MockError(
                "invalid_request",
                f"mockllm cannot produce JSON valid against {what}: {exc}",
                code="mockllm_unsatisfiable_schema",
            ) from None
        except orjson.JSONEncodeError as exc:  # not expected: generate() writes plain JSON
            raise MockError(
                "invalid_request",
                f"mockllm cannot write the JSON made for {what}: {exc}",
                code="mockllm_unsatisfiable_schema",
            ) from None
        if len(text) > limit:  # the running estimate does not count escapes
            raise MockError(
                "invalid_request",
                f"mockllm will not produce JSON for {what}: the value would be {len(text)} "
                f"bytes, more than json_max_bytes = {limit} (MOCKLLM_LIMIT_JSON_MAX_BYTES "
                "raises it)",
                code="mockllm_schema_too_large",
            )
        return text

    def _json_text(self, request: ChatRequest, plan: Plan, seed: int) -> str:
        if plan.json == "schema":
            return self._generate(plan.json_schema or {}, seed, "the rule's json_schema")
        fmt = request.response_format or {}
        spec = fmt.get("json_schema") if fmt.get("type") == "json_schema" else None
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if schema is None:
            return (
                "{}"
                if fmt.get("type") != "json_schema"
                else self._generate({"type": "object"}, seed, "the response format")
            )
        return self._generate(schema, seed, "the request's response_format schema")

    def _tool_calls(self, request: ChatRequest, plan: Plan, seed: int) -> tuple[ToolCall, ...]:
        prefix = self.traits.get(request.provider, _PLAIN_TRAITS).tool_call_id_prefix
        calls = []
        for position, planned in enumerate(plan.tool_calls):
            arguments = planned.arguments
            if arguments is None:
                tool = next((t for t in request.tools if t.name == planned.name), None)
                schema = (
                    dict(tool.parameters)
                    if tool is not None and tool.parameters
                    else {"type": "object", "properties": {}}
                )
                arguments = self._generate(
                    schema, seed + position, f"the parameters of tool {planned.name!r}"
                )
            calls.append(ToolCall(planned.id or new_id(prefix), planned.name, arguments))
        return tuple(calls)

    def _build(
        self,
        request: ChatRequest,
        model: ModelInfo,
        plan: Plan,
        source: str | None,
        prompt_tokens: int,
    ) -> Completion:
        encoding = model.tokenizer
        text = plan.text
        calls: tuple[ToolCall, ...] = ()
        if plan.json is not None or plan.tool_calls:
            seed = plan.seed
            if seed is None:
                seed = stable_seed(request.model, request.prompt, request.system)
            if plan.json is not None:
                text = self._json_text(request, plan, seed)
            calls = self._tool_calls(request, plan, seed)
        limit = request.max_tokens if request.max_tokens is not None else model.max_output_tokens
        finish: FinishReason = "stop"
        stop_sequence = None
        reasoning = plan.reasoning
        reasoning_chunks: list[str] = []
        reasoning_tokens = 0
        if reasoning:
            tokens, reasoning_chunks = self._split(reasoning, encoding)
            if len(tokens) > limit:
                reasoning_chunks = self.tokenizer.pieces(tokens[:limit], encoding, partial=False)
                reasoning = "".join(reasoning_chunks)
                text, calls, finish = "", (), "length"
            reasoning_tokens = min(len(tokens), limit)
        budget = limit - reasoning_tokens
        body = plan.refusal if plan.refusal is not None else text
        if request.stop and finish != "length":
            cut = len(body)
            for candidate in request.stop:
                at = body.find(candidate) if candidate else -1
                if 0 <= at < cut:
                    cut, stop_sequence = at, candidate
            if stop_sequence is not None:
                body, finish, calls = body[:cut], "stop_sequence", ()
        tokens, pieces = self._split(body, encoding)
        if plan.chunks is not None and body == plan.text:
            pieces = list(plan.chunks)
        if len(tokens) > budget:
            pieces = self.tokenizer.pieces(tokens[:budget], encoding, partial=False)
            body, finish, stop_sequence, calls = "".join(pieces), "length", None, ()
            body_tokens = budget
        else:
            body_tokens = len(tokens)
        call_tokens = 0
        for call in calls:
            call_tokens += self.tokenizer.count(call.name, encoding)
            call_tokens += self.tokenizer.count(call.arguments, encoding)
        if finish == "stop":
            if calls:
                finish = "tool_calls"
            elif plan.refusal is not None:
                finish = "refusal"
        if plan.finish_reason is not None:
            finish = plan.finish_reason  # type: ignore[assignment]
        completion_tokens = body_tokens + reasoning_tokens + call_tokens
        refusal = plan.refusal is not None
        signature = ""
        if reasoning:
            digest = hashlib.sha256(reasoning.encode()).digest()
            signature = base64.b64encode(b"mockllm-signature:" + digest).decode()
        chunks = tuple(pieces)
        choices = tuple(
            Choice(
                index=i,
                text="" if refusal else body,
                chunks=() if refusal else chunks,
                tool_calls=calls,
                finish_reason=finish,
                stop_sequence=stop_sequence,
                completion_tokens=completion_tokens,
                refusal=body if refusal else None,
                refusal_chunks=chunks if refusal else (),
                reasoning=reasoning,
                reasoning_chunks=tuple(reasoning_chunks),
                signature=signature,
            )
            for i in range(request.n)
        )
        usage = Usage(prompt_tokens, completion_tokens * request.n, reasoning_tokens * request.n)
        if plan.usage:
            usage = Usage(
                plan.usage.get("prompt_tokens", usage.prompt_tokens),
                plan.usage.get("completion_tokens", usage.completion_tokens),
                plan.usage.get("reasoning_tokens", usage.reasoning_tokens),
                plan.usage.get("cached_tokens", usage.cached_tokens),
            )
        settings = self.store.current.config.settings
        per_char = 1.0 / (10.0 * settings.lag_factor) if settings.lag_enabled else 0.0
        return Completion(request.model, choices, usage, per_char, source)
