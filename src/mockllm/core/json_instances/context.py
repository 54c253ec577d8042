"""The state of one generation and its limits: :class:`UnsatisfiableSchema`, the recursion
limit and search budgets, the seed hashing, and the ``_Ctx`` class (root schema, random stream,
caches, ``$ref`` resolution by JSON pointer, anchor and embedded ``$id``, OpenAPI ``nullable``),
with the JSON-pointer escaping and the ``_Part`` type (a schema and its pointer) used throughout."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import unquote, urljoin

RECURSION_LIMIT: Final = 2
"""Expansions of one ``$ref`` along a path after which generation heads for the exit."""

_HARD_LIMIT: Final = RECURSION_LIMIT + 12  # expansions after which recursion is called endless
_TOP_ATTEMPTS: Final = 3  # whole-value attempts before giving up
_BUDGET: Final = 2000  # branch/retry steps allowed for one value
_NOT_ATTEMPTS: Final = 12  # values tried against a "not"
_UNIQUE_ATTEMPTS: Final = 6  # tries for one distinct array item

_ABSENT: Final[Any] = object()


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

    def __reduce__(self) -> tuple[type[UnsatisfiableSchema], tuple[str, str]]:
        return (type(self), (self.pointer, self.reason))


def _seed_int(seed: int | str) -> int:
    """An int seed for :class:`random.Random`, stable across processes (SHA-256, not hash())."""
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise TypeError(f"seed is an int or a str, not {type(seed).__name__}")
    # Hashing ints too spreads neighbouring seeds (0, 1, 2...) over unrelated random streams.
    text = f"str:{seed}" if isinstance(seed, str) else f"int:{seed}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")


_DROPPED: Final = {"if": ("if", "then", "else"), "$ref": ("$ref", "$dynamicRef", "allOf")}


class _Ctx:
    """One generation: the root schema, the random stream and the caches."""

    __slots__ = (
        "active",
        "anchors",
        "budget",
        "ids",
        "nullables",
        "ref_cache",
        "refs_in",
        "rng",
        "root",
        "stripped",
        "variant",
    )

    def __init__(self, root: Any, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
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

    def spend(self, pointer: str) -> None:
        """Count one search step; raise once the budget for this value is spent."""
        self.budget -= 1
        if self.budget < 0:
            raise UnsatisfiableSchema(pointer, "search budget exhausted")

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
            doc = self.ids.get(base, _ABSENT)
            if doc is _ABSENT and isinstance(self.root, Mapping):
                root_id = self.root.get("$id")
                if isinstance(root_id, str):
                    doc = self.ids.get(urljoin(root_id, base), _ABSENT)
            if doc is _ABSENT:
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
                elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                    node = node[int(token)]
                else:
                    raise UnsatisfiableSchema(pointer, f"cannot resolve $ref {ref!r}")
            return node, where + fragment
        self._index()
        assert self.anchors is not None
        found = self.anchors.get(fragment, _ABSENT)
        if found is _ABSENT:
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
                    base = urljoin(base, node_id) if base else node_id
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


def _esc(token: str) -> str:
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


_Part = tuple[Mapping[str, Any], str]
