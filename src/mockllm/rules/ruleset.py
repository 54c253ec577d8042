"""Compiled, immutable rules, and the function that decides which one answers a request.

Order of matching: rules with a positive ``priority`` (highest first), then the original
``responses:`` map (by prompt, case-insensitively), then the other rules (highest priority
first, file order among equals). The first rule whose every condition holds answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..core.conversation import Conversation
from ..core.errors import MockError
from ..core.types import ChatRequest
from ..state import CounterStore, MemoryCounters
from .conditions import Condition
from .replies import CompiledReply
from .schema import Faults, Latency
from .templates import TemplateContext, Text


@dataclass(frozen=True, slots=True)
class Location:
    """Where something was written: 1-based line and column."""

    file: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to test: its conditions, its reply or sequence of replies. ``location``
    names the config file by its base name (it reaches clients, in strict-mode errors)."""

    name: str
    location: Location | None
    priority: int
    conditions: tuple[Condition, ...]
    replies: tuple[CompiledReply, ...]
    after_sequence: str = "repeat_last"
    needs_counter: bool = False
    latency: Latency | None = None
    faults: Faults | None = None

    def matches(self, conversation: Conversation) -> bool:
        return all(c.test(conversation) for c in self.conditions)

    @property
    def is_sequence(self) -> bool:
        return len(self.replies) > 1 or self.after_sequence == "error"


@dataclass(frozen=True, slots=True)
class Decision:
    """Who answers: a rule's reply (with the conversation counter), a ``responses:`` text,
    or nobody (``reply`` and ``text`` both None). ``replies`` is the length of the rule's
    sequence (1 for a single reply); ``exhausted`` says the counter went past its end and
    the last reply was served again (``after_sequence: repeat_last``)."""

    rule: str | None
    reply: CompiledReply | None = None
    text: str | None = None
    counter: int = 1
    replies: int = 1
    exhausted: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    """A dry-run answer: the text and which rule gave it (None: nobody, the default)."""

    text: str
    rule: str | None


UNNAMED_PREFIX = "rule #"
"""Unnamed rules are called ``rule #N at file:line:column`` (N counts from 1; the file by
its base name, as everything that reaches clients names it)."""


def describe_rule(name: str) -> str:
    """How run-time messages name the rule called ``name``: ``rule 'weather'``, or an
    unnamed rule's own name (``rule #2 at f.yml:3:5``, given by the loader)."""
    return name if name.startswith(UNNAMED_PREFIX) else f"rule '{name}'"


def normalize_prompt(text: str) -> str:
    """Key used by the original ``responses:`` map: trimmed and lower-cased."""
    return text.strip().lower()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything that decides an answer, immutable."""

    responses: Mapping[str, str]
    rules: tuple[CompiledRule, ...]
    default_text: Text
    after_tool_result: Text | None = None

    @property
    def first(self) -> tuple[CompiledRule, ...]:
        """Rules tried before ``responses:`` (positive priority)."""
        return tuple(r for r in self.rules if r.priority > 0)

    def decide(
        self, conversation: Conversation, counters: CounterStore, conversation_header: str
    ) -> Decision:
        """The first match, in the documented order. Raises :class:`MockError` when a
        sequence with ``after_sequence: error`` is exhausted."""
        rules = self.rules
        index = 0
        while index < len(rules) and rules[index].priority > 0:
            rule = rules[index]
            if rule.matches(conversation):
                return self._answer(rule, conversation, counters, conversation_header)
            index += 1
        if self.responses:
            found = self.responses.get(normalize_prompt(conversation.request.prompt))
            if found is not None:
                return Decision("responses", text=found)
        for rule in rules[index:]:
            if rule.matches(conversation):
                return self._answer(rule, conversation, counters, conversation_header)
        return Decision(None)

    def _answer(
        self,
        rule: CompiledRule,
        conversation: Conversation,
        counters: CounterStore,
        header: str,
    ) -> Decision:
        if not (rule.is_sequence or rule.needs_counter):
            return Decision(rule.name, rule.replies[0])
        count = counters.advance(
            f"{rule.name}\x00{conversation.key(header)}", len(conversation.request.messages)
        )
        replies = rule.replies
        position = count - 1
        exhausted = False
        if position >= len(replies):
            if rule.after_sequence in ("restart", "cycle"):
                position %= len(replies)
            elif rule.after_sequence == "error":
                raise MockError(
                    "invalid_request",
                    f"mockllm: the sequence of rule '{rule.name}' is exhausted: it has "
                    f"{len(replies)} replies and this conversation asked for reply {count}.",
                    code="mockllm_sequence_exhausted",
                )
            else:
                position, exhausted = len(replies) - 1, True
        return Decision(rule.name, replies[position], None, count, len(replies), exhausted)

    def first_match(self, conversation: Conversation) -> CompiledRule | None:
        """The rule :meth:`decide` would pick (None for a ``responses:`` text or no
        match), without counting a turn: what the realism knobs of a rule are read from
        before the request is answered."""
        rules = self.rules
        index = 0
        while index < len(rules) and rules[index].priority > 0:
            if rules[index].matches(conversation):
                return rules[index]
            index += 1
        if self.responses and normalize_prompt(conversation.request.prompt) in self.responses:
            return None
        for rule in rules[index:]:
            if rule.matches(conversation):
                return rule
        return None

    @property
    def reads_headers(self) -> bool:
        """Whether a rule has a condition on the request's headers (then the same body
        may be answered differently)."""
        return any(c.field == "headers" for rule in self.rules for c in rule.conditions)

    def fixed_rule(self, conversation: Conversation) -> str | None:
        """The name of the rule :meth:`decide` would pick for ``conversation`` when its
        answer is fixed by the request: a ``responses:`` text (``"responses"``), or a rule
        that is no sequence, keeps no counter and has a fixed reply
        (:attr:`CompiledReply.fixed`). None otherwise: no rule matches, or the rule's
        answer may change from one request to the next. Counts no turn."""
        rule = self.first_match(conversation)
        if rule is None:
            if self.responses and normalize_prompt(conversation.request.prompt) in self.responses:
                return "responses"
            return None
        if rule.is_sequence or rule.needs_counter or not rule.replies[0].fixed:
            return None
        return rule.name

    def answer(self, request: ChatRequest) -> Answer:
        """Dry run for tools and tests: the text the rules give ``request`` as the first
        request of a fresh conversation (no automatic answers, no state kept)."""
        conversation = Conversation(request)
        decision = self.decide(conversation, MemoryCounters(), "x-mockllm-conversation")
        context = TemplateContext(conversation, decision.counter)
        if decision.text is not None:
            return Answer(decision.text, decision.rule)
        if decision.reply is not None:
            return Answer(decision.reply.render(context).text, decision.rule)
        return Answer(self.default_text.render(context), None)

    def closest(self, conversation: Conversation, limit: int = 3) -> list[str]:
        """Descriptions of the rules that came closest to matching, best first: each names
        the rule, where it is written (the file by its base name: this goes to clients),
        and the conditions that failed."""
        scored = []
        for order, rule in enumerate(self.rules):
            failed = [c.description for c in rule.conditions if not c.test(conversation)]
            if not rule.conditions:
                continue
            held = len(rule.conditions) - len(failed)
            scored.append((-held / len(rule.conditions), len(failed), order, rule, failed))
        scored.sort(key=lambda item: item[:3])
        out = []
        for _score, _n, _order, rule, failed in scored[:limit]:
            if rule.name.startswith(UNNAMED_PREFIX):  # its name says where it is
                label = rule.name
            else:
                label = f"'{rule.name}'" + (f" ({rule.location})" if rule.location else "")
            out.append(f"{label}: failed {'; '.join(failed)}")
        return out
