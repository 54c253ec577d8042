"""Request schemas of OpenAI's embeddings, legacy completions and moderations endpoints
(wire-formats.md section 4; ``CreateEmbeddingRequest``, ``CreateCompletionRequest`` and
``CreateModerationRequest`` in the OpenAPI spec).

As in :mod:`.protocol`, known fields are checked strictly and unknown fields are ignored.
Limits the spec states but pydantic would word differently (array lengths, empty strings)
are checked in :mod:`.decode`, in OpenAI's words.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..validation import INT32_MAX, INT64_MAX, INT64_MIN
from .protocol import StreamOptions

TextInput = str | list[str] | list[int] | list[list[int]]
"""A string, strings, one token array or token arrays: what embeddings and completions take."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


class EmbeddingRequest(_Wire):
    """``POST /v1/embeddings`` body."""

    model: str
    input: TextInput
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1, le=INT32_MAX)
    user: str | None = None


class CompletionRequest(_Wire):
    """``POST /v1/completions`` body (legacy text completions)."""

    model: str
    prompt: TextInput | None
    max_tokens: int | None = Field(None, ge=0, le=INT32_MAX)
    n: int | None = Field(None, ge=1, le=128)
    stop: str | list[str] | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    echo: bool | None = None
    suffix: str | None = None
    logprobs: int | None = Field(None, ge=0, le=5)
    best_of: int | None = Field(None, ge=0, le=20)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, Any] | None = None
    seed: int | None = Field(None, ge=INT64_MIN, le=INT64_MAX)
    user: str | None = None


class ModerationText(_Wire):
    type: Literal["text"]
    text: str


class ModerationImageURL(_Wire):
    url: str


class ModerationImage(_Wire):
    type: Literal["image_url"]
    image_url: ModerationImageURL


ModerationPart = Annotated[ModerationText | ModerationImage, Field(discriminator="type")]


class ModerationRequest(_Wire):
    """``POST /v1/moderations`` body."""

    input: str | list[str] | list[ModerationPart]
    model: str | None = None
