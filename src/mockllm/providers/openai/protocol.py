"""OpenAI request schemas: Chat Completions (wire-formats.md section 2.1), and embeddings,
legacy completions and moderations (section 4; ``CreateEmbeddingRequest``,
``CreateCompletionRequest`` and ``CreateModerationRequest`` in the OpenAPI spec).

Known fields are checked strictly (a string where an integer belongs is an error, as on
the real API); unknown fields are accepted and ignored, so newer SDKs keep working. Integer
fields are bounded as on the real API (token counts by int32, ``seed`` by int64).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..validation import INT32_MAX, INT64_MAX, INT64_MIN


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class TextPart(_Wire):
    type: Literal["text"]
    text: str


class ImageURL(_Wire):
    url: str
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(_Wire):
    type: Literal["image_url"]
    image_url: ImageURL


class InputAudio(_Wire):
    data: str
    format: str


class AudioPart(_Wire):
    type: Literal["input_audio"]
    input_audio: InputAudio


class FilePart(_Wire):
    type: Literal["file"]
    file: dict[str, Any]


class RefusalPart(_Wire):
    type: Literal["refusal"]
    refusal: str


UserPart = Annotated[TextPart | ImagePart | AudioPart | FilePart, Field(discriminator="type")]
AssistantPart = Annotated[TextPart | RefusalPart, Field(discriminator="type")]


class FunctionCall(_Wire):
    name: str
    arguments: str


class FunctionToolCall(_Wire):
    id: str
    type: Literal["function"]
    function: FunctionCall


class CustomCall(_Wire):
    name: str
    input: str


class CustomToolCall(_Wire):
    id: str
    type: Literal["custom"]
    custom: CustomCall


ToolCallParam = Annotated[FunctionToolCall | CustomToolCall, Field(discriminator="type")]


class SystemMessage(_Wire):
    role: Literal["system"]
    content: str | list[TextPart]
    name: str | None = None


class DeveloperMessage(_Wire):
    role: Literal["developer"]
    content: str | list[TextPart]
    name: str | None = None


class UserMessage(_Wire):
    role: Literal["user"]
    content: str | list[UserPart]
    name: str | None = None


class AssistantMessage(_Wire):
    role: Literal["assistant"]
    content: str | list[AssistantPart] | None = None
    tool_calls: list[ToolCallParam] | None = None
    function_call: FunctionCall | None = None
    refusal: str | None = None
    name: str | None = None


class ToolMessage(_Wire):
    role: Literal["tool"]
    content: str | list[TextPart]
    tool_call_id: str


class FunctionMessage(_Wire):
    role: Literal["function"]
    content: str | None
    name: str


MessageParam = Annotated[
    SystemMessage
    | DeveloperMessage
    | UserMessage
    | AssistantMessage
    | ToolMessage
    | FunctionMessage,
    Field(discriminator="role"),
]


class FunctionDefinition(_Wire):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class FunctionTool(_Wire):
    type: Literal["function"]
    function: FunctionDefinition


class CustomTool(_Wire):
    type: Literal["custom"]
    custom: dict[str, Any]


ToolParam = Annotated[FunctionTool | CustomTool, Field(discriminator="type")]


class NamedFunction(_Wire):
    name: str


class NamedToolChoice(_Wire):
    type: Literal["function"]
    function: NamedFunction


class NamedCustomChoice(_Wire):
    type: Literal["custom"]
    custom: NamedFunction


class AllowedToolsChoice(_Wire):
    type: Literal["allowed_tools"]
    allowed_tools: dict[str, Any]


ToolChoiceParam = (
    Literal["none", "auto", "required"]
    | Annotated[
        NamedToolChoice | NamedCustomChoice | AllowedToolsChoice, Field(discriminator="type")
    ]
)


class StreamOptions(_Wire):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class JsonSchemaSpec(_Wire):
    name: str
    description: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None


class TextFormat(_Wire):
    type: Literal["text"]


class JsonObjectFormat(_Wire):
    type: Literal["json_object"]


class JsonSchemaFormat(_Wire):
    type: Literal["json_schema"]
    json_schema: JsonSchemaSpec


ResponseFormat = Annotated[
    TextFormat | JsonObjectFormat | JsonSchemaFormat, Field(discriminator="type")
]


class ChatCompletionRequest(_Wire):
    """``POST /v1/chat/completions`` body."""

    model: str
    messages: list[MessageParam] = Field(min_length=1)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1, le=128)
    max_tokens: int | None = Field(None, ge=1, le=INT32_MAX)
    max_completion_tokens: int | None = Field(None, ge=1, le=INT32_MAX)
    stop: str | list[str] | None = Field(None)
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoiceParam | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    seed: int | None = Field(None, ge=INT64_MIN, le=INT64_MAX)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    user: str | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    reasoning_effort: str | None = None


# --- embeddings, legacy completions, moderations (wire-formats.md section 4) ------------

TextInput = str | list[str] | list[int] | list[list[int]]
"""A string, strings, one token array or token arrays: what embeddings and completions take."""


class _Deferred(_Wire):
    """Schemas of the endpoints a test suite calls less often: built on first use, which
    keeps them out of the server's start-up."""

    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


class EmbeddingRequest(_Deferred):
    """``POST /v1/embeddings`` body."""

    model: str
    input: TextInput
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1, le=INT32_MAX)
    user: str | None = None


class CompletionRequest(_Deferred):
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


class ModerationText(_Deferred):
    type: Literal["text"]
    text: str


class ModerationImageURL(_Deferred):
    url: str


class ModerationImage(_Deferred):
    type: Literal["image_url"]
    image_url: ModerationImageURL


ModerationPart = Annotated[ModerationText | ModerationImage, Field(discriminator="type")]


class ModerationRequest(_Deferred):
    """``POST /v1/moderations`` body."""

    input: str | list[str] | list[ModerationPart]
    model: str | None = None
