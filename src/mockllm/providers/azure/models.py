"""The Azure catalogue: OpenAI's models, under the ``azure`` provider, with Azure's own
names as aliases (``gpt-35-turbo``).

A deployment name is looked up here as a model name: the deployment ``gpt-4o`` is the model
``gpt-4o``. Other deployment names map to a model through an alias in the config, e.g.
``models: [{id: gpt-4o, provider: azure, aliases: [my-chat-deployment]}]``.
"""

from __future__ import annotations

from dataclasses import replace

from ...core.models import ModelInfo
from ..openai.interface import MODELS as OPENAI_MODELS

AZURE_NAMES: dict[str, tuple[str, ...]] = {
    "gpt-3.5-turbo": ("gpt-35-turbo", "gpt-35-turbo-0125"),
}
"""Azure spells some model names its own way (no dot in a deployment's model name)."""

MODELS: tuple[ModelInfo, ...] = tuple(
    replace(m, provider="azure", aliases=m.aliases + AZURE_NAMES.get(m.id, ()))
    for m in OPENAI_MODELS
)
