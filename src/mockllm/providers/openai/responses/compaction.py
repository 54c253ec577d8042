"""``POST /v1/responses/compact``: what a conversation is compacted into.

The real API keeps every user message and replaces the rest of the conversation
(assistant messages, tool calls and their results, reasoning, system and developer
messages) with one ``compaction`` item whose ``encrypted_content`` only the model can
read. mockllm's is deterministic: the compacted items as plain text (:func:`summary`),
base64-encoded behind the prefix real encrypted content starts with, and the item's id is
derived from it, so the same conversation always compacts to the same item. A
``compaction`` item given back as input is kept (and compacted again with the rest), but,
like a reasoning item, it is not part of the conversation rules see.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from typing import Any

from .items import ID_BYTES, Item

PREFIX = "gAAAAAB"
"""What mockllm's ``encrypted_content`` starts with (as the real API's does)."""


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for part in content:
        if isinstance(part, dict):
            text = part.get("text", part.get("refusal"))
            if isinstance(text, str):
                texts.append(text)
    return "\n".join(texts)


def _reveal(encrypted: object) -> str:
    """The text of a compaction item mockllm made; empty for anyone else's."""
    if not isinstance(encrypted, str) or not encrypted.startswith(PREFIX):
        return ""
    try:
        return base64.urlsafe_b64decode(encrypted[len(PREFIX) :]).decode("utf-8")
    except (binascii.Error, ValueError):
        return ""


def _line(item: Item) -> str:
    kind = item.get("type")
    if kind == "message":
        return f"{item.get('role')}: {_text(item.get('content'))}"
    if kind == "function_call":
        return f"function_call {item.get('name')}({item.get('arguments', '')})"
    if kind == "custom_tool_call":
        return f"custom_tool_call {item.get('name')}({item.get('input', '')})"
    if kind in ("function_call_output", "custom_tool_call_output"):
        return f"{kind} {item.get('call_id')}: {_text(item.get('output'))}"
    if kind == "reasoning":
        return f"reasoning: {_text(item.get('summary'))}"
    if kind == "compaction":
        return _reveal(item.get("encrypted_content"))
    return str(kind)


def summary(items: Iterable[Item]) -> str:
    """The compacted items as text, one line (or earlier compaction) each."""
    return "\n".join(line for line in map(_line, items) if line)


def compact(conversation: Iterable[Item]) -> tuple[list[Item], str]:
    """The user messages of ``conversation`` (kept as they are) and the text of the rest."""
    kept: list[Item] = []
    rest: list[Item] = []
    for item in conversation:
        user = item.get("type") == "message" and item.get("role") == "user"
        (kept if user else rest).append(item)
    return kept, summary(rest)


def item(text: str) -> Item:
    """The ``compaction`` item for ``text``: same text, same item."""
    encrypted = PREFIX + base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")
    digest = hashlib.sha256(encrypted.encode("ascii")).hexdigest()[: 2 * ID_BYTES]
    return {"id": f"cmp_{digest}", "type": "compaction", "encrypted_content": encrypted}
