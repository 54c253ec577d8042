"""The mock moderation classifier behind ``POST /v1/moderations`` (wire-formats.md section 4).

Not scripted by rules, but predictable: a category is flagged when the text contains one of
its trigger words below (whole words, case-insensitive, also with an ``-s``, ``-ed``,
``-ing`` or ``-er`` ending) or the marker ``[flag:<category>]`` (e.g. ``[flag:sexual/minors]``);
a flagged subcategory (``violence/graphic``) flags its parent (``violence``) too. Scores are
deterministic: below 0.001 for a category that is not flagged, 0.9 or more for one that is.
Images are accepted and not looked at. docs/openai-extras.md has the table.
"""

from __future__ import annotations

import functools
import hashlib
import re

DEFAULT_MODEL = "omni-moderation-latest"
"""The model an answer names when the request names none."""

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


@functools.cache
def _patterns() -> dict[str, re.Pattern[str]]:
    """Each category's pattern, compiled on the first moderation (not at start-up)."""
    return {category: _pattern(category, words) for category, words in TRIGGERS.items()}


def flagged_categories(text: str) -> set[str]:
    """The categories ``text`` flags: by trigger word or marker, subcategories with their
    parent."""
    found = {category for category, pattern in _patterns().items() if pattern.search(text)}
    return found | {category.split("/")[0] for category in found}


def score(text: str, category: str, flagged: bool) -> float:
    """The deterministic score of ``text`` in ``category``: 0.9 or more when ``flagged``,
    else below 0.001."""
    digest = hashlib.blake2b(f"{category}\x00{text}".encode(), digest_size=4).digest()
    unit = int.from_bytes(digest, "little") / 2**32
    return round(0.9 + 0.0999 * unit, 6) if flagged else round(1e-6 + 0.000998 * unit, 9)
