"""The state of one generation and its limits: :class:`UnsatisfiableSchema` and
:class:`SchemaTooLarge`, the recursion limit and the budget factors shared by the modules, the
seed hashing, and the :class:`Context` of one generation (root schema, random stream, the
budgets of :class:`~mockllm.core.limits.Limits` and the running counts kept against them,
caches, ``$ref`` resolution by JSON pointer, anchor and embedded ``$id``, OpenAPI
``nullable``), with the JSON-pointer escaping (:func:`escape_token`), the :data:`Part` type (a
schema and its pointer) and the :data:`ABSENT` marker used throughout."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote, urljoin

from ..core.limits import Limits
from .values import json_key

if TYPE_CHECKING:
    from .merge import Merged
    from .regex import PatternInfo

__all__ = [
    "ABSENT",
    "RECURSION_LIMIT",
    "REF_CHAIN_FACTOR",
    "REGEX_TOTAL_FACTOR",
    "Context",
    "Part",
    "SchemaTooLarge",
    "UnsatisfiableSchema",
    "escape_token",
    "seed_int",
]

RECURSION_LIMIT: Final = 2
"""Expansions of one ``$ref`` along a path after which generation heads for the exit."""

_BUDGET: Final = 2000  # branch/retry steps allowed for one value

REF_CHAIN_FACTOR: Final = 2
"""``$ref`` chains are followed up to this many times ``json_max_depth``: a chain of
references that do not nest (while flattening, :mod:`.merge`) and the nested ``$ref`` checks
of one value (:mod:`.validation`); past it, :class:`SchemaTooLarge` for ``json_max_depth``."""

REGEX_TOTAL_FACTOR: Final = 4
"""All the regular-expression matches made for one value may take this many times
``regex_timeout_ms`` together (:attr:`Context.regex_left` starts there; :mod:`.regex` names it
in its message when the time is spent)."""

_WORK_DIVISOR: Final = 2  # bytes of json_max_bytes per step of work (values, keywords)
_WORK_FLOOR: Final = 50_000  # steps allowed however small json_max_bytes is

ABSENT: Final[Any] = object()
"""A keyword that is not in a schema, as ``schema.get(keyword, ABSENT)`` tells it from one
whose value is ``null``; compared by identity only, never part of a value or a schema."""


class UnsatisfiableSchema(ValueError):
    """No JSON value satisfies the schema, or none that this generator could find.

    ``pointer`` is the JSON pointer, in URI-fragment form (``#/properties/age``), of the schema
    location where generation gave up (a ``$ref`` target is named by its own pointer);
    ``reason`` says why. The message carries both.
    """

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"unsatisfiable schema at {pointer}: {reason}")
        self.pointer = pointer
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.pointer, self.reason))


_LIMIT_WHAT: Final = {
    "json_max_bytes": "bytes",
    "json_max_depth": "levels",
    "json_max_items": "items",
    "json_max_string": "characters",
    "regex_timeout_ms": "ms",
}


class SchemaTooLarge(UnsatisfiableSchema):
    """A value for the schema would pass one of the generation budgets
    (:class:`~mockllm.core.limits.Limits`): more items, characters, bytes, nesting or work
    than allowed, or a regular expression slower than allowed.

    ``limit`` is the name of the :class:`~mockllm.core.limits.Limits` field (``json_max_items``),
    ``value`` its value in force and ``variable`` the setting that raises it
    (``MOCKLLM_LIMIT_JSON_MAX_ITEMS``); the message names all three.
    """

    def __init__(self, pointer: str, reason: str, limit: str, value: float) -> None:
        self.limit = limit
        self.value = value
        self.variable = f"MOCKLLM_LIMIT_{limit.upper()}"
        super().__init__(pointer, reason)
        unit = _LIMIT_WHAT.get(limit, "")
        self.args = (
            f"schema too large at {pointer}: {reason} (limit {limit} = {value}"
            f"{' ' + unit if unit else ''}; {self.variable} raises it)",
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.pointer, self.reason, self.limit, self.value))


def _work_budget(limits: Limits) -> int:
    """Steps of work one value may take: one per two bytes of ``json_max_bytes``."""
    return max(_WORK_FLOOR, limits.json_max_bytes // _WORK_DIVISOR)


def seed_int(seed: int | str) -> int:
    """An int seed for :class:`random.Random` from ``seed``: the same for the same ``seed`` in
    every process (SHA-256, never ``hash()``), unrelated for neighbouring seeds. Raises
    :class:`TypeError` when ``seed`` is neither an int nor a str (a bool is refused too)."""
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise TypeError(f"seed is an int or a str, not {type(seed).__name__}")
    # Hashing ints too spreads neighbouring seeds (0, 1, 2...) over unrelated random streams.
    text = f"str:{seed}" if isinstance(seed, str) else f"int:{seed}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")


_DROPPED: Final = {"if": ("if", "then", "else"), "$ref": ("$ref", "$dynamicRef", "allOf")}


class Context:
    """One generation: the root schema, the random stream, the budgets and the caches.

    Made once per call of :func:`~mockllm.json_instances.generate` and passed to every function
    of the package that makes, merges or checks a value; never shared between generations or
    threads. The running counts (``size``, ``work``, ``depth``...) are kept against the
    budgets of ``limits`` (:class:`~mockllm.core.limits.Limits`, the defaults when ``None``):
    :meth:`charge`, :meth:`grow` and :meth:`room` raise :class:`SchemaTooLarge` past them,
    :meth:`spend` raises :class:`UnsatisfiableSchema` when the search budget of a value is
    spent. The caches are keyed by the ``id()`` of schema objects and hold those objects, so the
    schema must not be changed during the generation; :meth:`release` drops them at its end.
    """

    __slots__ = (
        "active",
        "anchors",
        "assumed",
        "budget",
        "depth",
        "enum_keys",
        "enum_valid",
        "exhausted",
        "ids",
        "least",
        "limits",
        "max_depth",
        "max_items",
        "max_string",
        "merged",
        "min_sizes",
        "nullables",
        "patterns",
        "ref_cache",
        "ref_depth",
        "ref_results",
        "refs_in",
        "regex_left",
        "regex_room",
        "regex_spent",
        "rng",
        "root",
        "size",
        "slow",
        "stripped",
        "too_large",
        "variant",
        "work",
        "work_tight",
    )

    def __init__(self, root: Any, rng: random.Random, limits: Limits | None = None) -> None:
        self.root = root
        self.rng = rng
        self.limits = limits = limits or Limits()
        self.max_depth = limits.json_max_depth
        self.max_items = limits.json_max_items
        self.max_string = limits.json_max_string
        self.size = 0  # bytes of the value under construction, serialized (an estimate)
        self.work = _work_budget(limits)  # steps left: values made, keywords checked
        self.work_tight = self.work * 2 // 3  # below this, only what is required is made
        self.depth = 0  # containers around the value being generated
        self.ref_depth = 0  # nested $ref checks in the validator
        self.assumed = 0  # $ref cycles the validator assumed to hold
        self.ref_results: dict[tuple[str, int], tuple[Any, bool]] = {}  # $ref verdicts
        self.regex_left = limits.regex_timeout_ms * REGEX_TOTAL_FACTOR / 1000  # seconds
        self.regex_room = limits.json_max_string  # regex program nodes left to compile
        self.patterns: dict[str, PatternInfo] = {}  # patterns checked and compiled
        self.slow: dict[str, SchemaTooLarge] = {}  # patterns that timed out
        self.regex_spent: SchemaTooLarge | None = None  # the time for all matches is spent
        self.too_large: SchemaTooLarge | None = None  # the first budget passed
        self.exhausted: SchemaTooLarge | None = None  # sticky: the work or regex time is spent
        self.enum_keys: dict[int, tuple[Any, frozenset[Hashable]]] = {}
        self.enum_valid: dict[tuple[int, ...], tuple[Any, list[Any], int]] = {}
        self.merged: dict[tuple[Any, ...], tuple[list[Any], Merged]] = {}  # merge_schemas's
        self.min_sizes: dict[tuple[int, ...], tuple[list[Any], int]] = {}  # generation's
        self.least: dict[int, tuple[Merged, int]] = {}  # generation's, per merged schema
        self.budget = _BUDGET
        self.active: set[tuple[str, int]] = set()
        self.ref_cache: dict[str, tuple[Any, str]] = {}
        # Caches keyed by id() hold the schema too, so that the id cannot be reused.
        self.refs_in: dict[int, tuple[Any, bool]] = {}
        self.nullables: dict[int, tuple[Any, Mapping[str, Any]]] = {}
        self.variant = 0  # > 0 while retrying against a "not": vary the style of strings
        self.stripped: dict[tuple[int, str], tuple[Any, Mapping[str, Any]]] = {}
        self.ids: dict[str, Any] | None = None
        self.anchors: dict[str, Any] | None = None

    def without(self, part: Mapping[str, Any], keyword: str) -> Mapping[str, Any]:
        """``part`` less ``keyword`` (less then/else with ``if``, less allOf and $dynamicRef
        with ``$ref``), the same object each time."""
        hit = self.stripped.get((id(part), keyword))
        if hit is None:
            dropped = _DROPPED.get(keyword, (keyword,))
            rest = {k: v for k, v in part.items() if k not in dropped}
            hit = self.stripped[(id(part), keyword)] = (part, rest)
        return hit[1]

    def release(self) -> None:
        """Drop the caches (the exceptions raised hold this context through their frames)."""
        for cache in (
            self.enum_keys,
            self.enum_valid,
            self.merged,
            self.min_sizes,
            self.least,
            self.ref_results,
            self.ref_cache,
            self.refs_in,
            self.nullables,
            self.stripped,
            self.patterns,
        ):
            cache.clear()
        self.ids = self.anchors = None

    def spend(self, pointer: str) -> None:
        """Count one search step; raise once the budget for this value is spent."""
        self.budget -= 1
        if self.budget < 0:
            raise UnsatisfiableSchema(pointer, "search budget exhausted")

    def too_big(self, pointer: str, reason: str, limit: str) -> SchemaTooLarge:
        """A :class:`SchemaTooLarge` for ``limit`` (a :class:`Limits` field), remembered as
        the first budget passed (reported if no value is found at all)."""
        exc = SchemaTooLarge(pointer, reason, limit, getattr(self.limits, limit))
        if self.too_large is None:
            self.too_large = exc
        return exc

    def tight(self) -> bool:
        """Whether a third of the work budget, or half the bytes, is spent: from then on
        optional parts are left out (a value must still be made and checked)."""
        return self.work < self.work_tight or self.size * 2 > self.limits.json_max_bytes

    def charge(self, steps: int, pointer: str) -> None:
        """Count ``steps`` of work (values made, keywords checked); past the budget
        (``json_max_bytes`` steps) every later charge fails too."""
        self.work -= steps
        if self.work < 0:
            if self.exhausted is None:
                self.exhausted = self.too_big(
                    pointer,
                    f"a value for this schema takes more than {_work_budget(self.limits)} steps "
                    f"(values made, keywords checked; one per {_WORK_DIVISOR} bytes of "
                    f"json_max_bytes, at least {_WORK_FLOOR}) to make and check",
                    "json_max_bytes",
                )
            raise self.exhausted

    def grow(self, nbytes: int, pointer: str) -> None:
        """Add ``nbytes`` to the running size of the value; fail past ``json_max_bytes``."""
        self.size += nbytes
        if self.size > self.limits.json_max_bytes:
            raise self.too_big(
                pointer,
                f"the value would be larger than {self.limits.json_max_bytes} bytes",
                "json_max_bytes",
            )

    def room(self, nbytes: int, pointer: str, what: str) -> None:
        """Fail before the work if ``nbytes`` more would not fit in ``json_max_bytes``."""
        if self.size + nbytes > self.limits.json_max_bytes:
            raise self.too_big(
                pointer,
                f"{what} needs at least {nbytes} bytes, more than the "
                f"{max(0, self.limits.json_max_bytes - self.size)} left of "
                f"{self.limits.json_max_bytes}",
                "json_max_bytes",
            )

    def keys_of(self, values: list[Any]) -> frozenset[Hashable]:
        """The JSON-equality keys of an ``enum`` list, computed once per list."""
        hit = self.enum_keys.get(id(values))
        if hit is None:
            self.charge(len(values), "#")
            hit = self.enum_keys[id(values)] = (values, frozenset(map(json_key, values)))
        return hit[1]

    def resolve(self, ref: str, pointer: str) -> tuple[Any, str]:
        """The schema a ``$ref`` names, and that schema's pointer (for messages)."""
        hit = self.ref_cache.get(ref)
        if hit is None:
            hit = self.ref_cache[ref] = self._resolve(ref, pointer)
        return hit

    def _resolve(self, ref: str, pointer: str) -> tuple[Any, str]:
        base, _, fragment = ref.partition("#")
        doc: Any = self.root
        where = "#"
        if base:
            self._index()
            assert self.ids is not None
            doc = self.ids.get(base, ABSENT)
            if doc is ABSENT and isinstance(self.root, Mapping):
                root_id = self.root.get("$id")
                if isinstance(root_id, str):
                    doc = self.ids.get(_join(root_id, base), ABSENT)
            if doc is ABSENT:
                raise UnsatisfiableSchema(
                    pointer, f"cannot resolve $ref {ref!r}: only references inside the schema work"
                )
            where = base + "#"
        fragment = unquote(fragment)
        if not fragment:
            return doc, where
        if fragment.startswith("/"):
            node = doc
            for token in fragment[1:].split("/"):
                token = token.replace("~1", "/").replace("~0", "~")
                if isinstance(node, Mapping) and token in node:
                    node = node[token]
                elif (
                    isinstance(node, list)
                    and token.isascii()
                    and token.isdigit()
                    and len(token) < 10
                    and int(token) < len(node)
                ):
                    node = node[int(token)]
                else:
                    raise UnsatisfiableSchema(pointer, f"cannot resolve $ref {ref!r}")
            return node, where + fragment
        self._index()
        assert self.anchors is not None
        found = self.anchors.get(fragment, ABSENT)
        if found is ABSENT:
            raise UnsatisfiableSchema(pointer, f"cannot resolve $ref {ref!r}: no such anchor")
        return found, ref

    def _index(self) -> None:
        """Find every ``$id`` and anchor in the document, once."""
        if self.ids is not None:
            return
        ids: dict[str, Any] = {}
        anchors: dict[str, Any] = {}

        def walk(node: Any, base: str) -> None:
            if isinstance(node, Mapping):
                node_id = node.get("$id")
                if isinstance(node_id, str):
                    ids[node_id] = node
                    base = _join(base, node_id) if base else node_id
                    ids[base.partition("#")[0]] = node
                for key in ("$anchor", "$dynamicAnchor"):
                    name = node.get(key)
                    if isinstance(name, str):
                        anchors.setdefault(name, node)
                for key, sub in node.items():
                    if key not in ("enum", "const", "examples", "default"):
                        walk(sub, base)
            elif isinstance(node, list):
                for sub in node:
                    walk(sub, base)

        walk(self.root, "")
        self.ids = ids
        self.anchors = anchors

    def mentions_ref(self, schema: Any) -> bool:
        """Whether ``schema`` contains a ``$ref`` anywhere (a possibly recursive option)."""
        hit = self.refs_in.get(id(schema))
        if hit is None:
            hit = self.refs_in[id(schema)] = (schema, _mentions_ref(schema))
        return hit[1]

    def nullable(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """OpenAPI's ``{..., "nullable": true}`` as ``{"anyOf": [{...}, {"type": "null"}]}``."""
        hit = self.nullables.get(id(schema))
        if hit is None:
            rest = {k: v for k, v in schema.items() if k != "nullable"}
            hit = (schema, {"anyOf": [rest, {"type": "null"}]})
            self.nullables[id(schema)] = hit
        return hit[1]


def _join(base: str, ref: str) -> str:
    """``urljoin``, with a malformed URL (``http://[``) taken as it is."""
    try:
        return urljoin(base, ref)
    except ValueError:
        return ref


def _mentions_ref(node: Any) -> bool:
    if isinstance(node, Mapping):
        if "$ref" in node or "$dynamicRef" in node:
            return True
        return any(
            _mentions_ref(sub)
            for key, sub in node.items()
            if key not in ("enum", "const", "examples", "default", "$defs", "definitions")
        )
    if isinstance(node, list):
        return any(_mentions_ref(sub) for sub in node)
    return False


def escape_token(token: str) -> str:
    """``token`` escaped for a JSON pointer (RFC 6901: ``~`` as ``~0``, ``/`` as ``~1``), the
    form in which property names and pattern keys appear in the pointers of messages."""
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


Part = tuple[Mapping[str, Any], str]
"""A schema object and its JSON pointer (``#/properties/a``): the unit of a conjunction, as
:func:`~.merge.collect_parts` flattens ``allOf`` and ``$ref`` into a list of them; the pointer
only names the schema in messages."""
