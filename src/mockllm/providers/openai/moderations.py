"""OpenAI moderations: ``POST /v1/moderations`` (wire-formats.md section 4).

Not scripted by rules, but predictable: a category is flagged when the text contains one of
its trigger words below (whole words, case-insensitive, also with an ``-s``, ``-ed``,
``-ing`` or ``-er`` ending) or the marker ``[flag:<category>]`` (e.g. ``[flag:sexual/minors]``);
a flagged subcategory (``violence/graphic``) flags its parent (``violence``) too. Scores are
deterministic: below 0.001 for a category that is not flagged, 0.9 or more for one that is.
Images are accepted and not looked at. docs/openai-extras.md has the table.

A list of strings gets one result per string; a list of multimodal parts gets one result for
all its parts together, as on the real API.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from pydantic import ValidationError

from ...core.ids import new_id
from ...wire import HttpCall, JsonResult, Result
from ..base import RouteSpec
from ..validation import parse_json
from .errors import invalid_request
from .extras_protocol import ModerationImage, ModerationRequest, ModerationText

DEFAULT_MODEL = "omni-moderation-latest"

CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/instructions",
        "self-harm/intent",
        "sexual",
        "violence",
        "violence/graphic",
    }
)
"""Categories the omni model also scores on images (the others apply to text only)."""

TRIGGERS: dict[str, tuple[str, ...]] = {
    "harassment": ("idiot", "moron", "loser"),
    "harassment/threatening": ("threaten", "watch your back"),
    "hate": ("subhuman", "vermin"),
    "hate/threatening": ("exterminate",),
    "illicit": ("shoplift", "counterfeit", "launder"),
    "illicit/violent": ("bomb", "explosive"),
    "self-harm": ("suicide", "self-harm"),
    "self-harm/instructions": ("overdose", "how to cut myself"),
    "self-harm/intent": ("kill myself", "end my life"),
    "sexual": ("porn", "nsfw", "erotic"),
    "sexual/minors": (),
    "violence": ("kill", "murder", "stab", "shoot", "attack"),
    "violence/graphic": ("gore", "gory", "dismember", "mutilate"),
}
"""Built-in trigger words and phrases of each category (documented in docs/openai-extras.md)."""

_ENDINGS = "(?:s|es|ed|ing|er|ers)?"


def _pattern(category: str, words: tuple[str, ...]) -> re.Pattern[str]:
    choices = [rf"\[flag:{re.escape(category)}\]"]
    if words:
        choices.append(rf"\b(?:{'|'.join(map(re.escape, words))}){_ENDINGS}\b")
    return re.compile("|".join(choices), re.IGNORECASE)


_PATTERNS = {category: _pattern(category, words) for category, words in TRIGGERS.items()}


def flagged_categories(text: str) -> set[str]:
    """The categories ``text`` flags: by trigger word or marker, subcategories with their
    parent."""
    found = {category for category, pattern in _PATTERNS.items() if pattern.search(text)}
    return found | {category.split("/")[0] for category in found}


def _score(text: str, category: str, flagged: bool) -> float:
    digest = hashlib.blake2b(f"{category}\x00{text}".encode(), digest_size=4).digest()
    unit = int.from_bytes(digest, "little") / 2**32
    return round(0.9 + 0.0999 * unit, 6) if flagged else round(1e-6 + 0.000998 * unit, 9)


def result(text: str, *, has_text: bool = True, has_image: bool = False) -> dict[str, Any]:
    """One moderation result for ``text`` (the text of the input, images aside)."""
    flags = flagged_categories(text)
    applied: dict[str, list[str]] = {}
    for category in CATEGORIES:
        kinds = ["text"] if has_text else []
        if has_image and category in IMAGE_CATEGORIES:
            kinds.append("image")
        applied[category] = kinds
    return {
        "flagged": bool(flags),
        "categories": {c: c in flags for c in CATEGORIES},
        "category_scores": {c: _score(text, c, c in flags) for c in CATEGORIES},
        "category_applied_input_types": applied,
    }


def create(call: HttpCall) -> dict[str, Any]:
    """The ``CreateModerationResponse`` for ``call``'s body."""
    try:
        body = parse_json(ModerationRequest, call.body)
    except ValidationError as exc:
        raise invalid_request(exc, call.body) from None
    results: list[dict[str, Any]]
    if isinstance(body.input, str):
        results = [result(body.input)]
    elif all(isinstance(item, str) for item in body.input):
        results = [result(item) for item in body.input if isinstance(item, str)]
    else:
        parts = [p for p in body.input if isinstance(p, ModerationText | ModerationImage)]
        text = "\n".join(p.text for p in parts if isinstance(p, ModerationText))
        has_text = any(isinstance(p, ModerationText) for p in parts)
        has_image = any(isinstance(p, ModerationImage) for p in parts)
        results = [result(text, has_text=has_text, has_image=has_image)]
    return {"id": new_id("modr-", 16), "model": body.model or DEFAULT_MODEL, "results": results}


async def create_moderation(call: HttpCall) -> Result:
    """``POST /v1/moderations``."""
    return JsonResult(create(call))


def routes() -> tuple[RouteSpec, ...]:
    """The moderations routes of one app."""
    return (RouteSpec("/v1/moderations", ("POST",), create_moderation, "moderations"),)
