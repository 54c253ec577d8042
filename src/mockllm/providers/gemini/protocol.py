"""Gemini (Generative Language API) request schema (wire-formats.md section 6).

Wire names are camelCase (``systemInstruction``, ``inlineData``); the snake_case names that
google-genai sends in places (``thinkingConfig: {include_thoughts}``,
``parameters_json_schema``) and that REST users write are accepted too. Known fields are
type-checked; unknown fields are accepted, so newer SDKs keep working. Integer fields are
proto ``int32``s; numbers of free-form fields (``Struct``) are doubles.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from ..validation import INT32_MAX, INT32_MIN

Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
"""A proto ``int32`` field: Google's 400 names ``TYPE_INT32`` for a value out of range."""


class _Wire(BaseModel):
    model_config = ConfigDict(
        extra="allow", alias_generator=to_camel, populate_by_name=True, defer_build=True
    )


class Blob(_Wire):
    mime_type: str = ""
    data: str = ""


class FileData(_Wire):
    mime_type: str | None = None
    file_uri: str


class FunctionCall(_Wire):
    name: str
    args: dict[str, Any] | None = None
    id: str | None = None


class FunctionResponse(_Wire):
    name: str
    response: dict[str, Any] | None = None
    id: str | None = None


class Part(_Wire):
    text: str | None = None
    inline_data: Blob | None = None
    file_data: FileData | None = None
    function_call: FunctionCall | None = None
    function_response: FunctionResponse | None = None
    thought: bool | None = None
    thought_signature: str | None = None
    executable_code: dict[str, Any] | None = None
    code_execution_result: dict[str, Any] | None = None


class Content(_Wire):
    role: str | None = None
    parts: list[Part] = Field(default_factory=list)


class FunctionDeclaration(_Wire):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    parameters_json_schema: dict[str, Any] | None = None


class Tool(_Wire):
    """A tool: function declarations; built-in tools (``googleSearch``, ``codeExecution``,
    ``urlContext``...) are accepted and not interpreted."""

    function_declarations: list[FunctionDeclaration] | None = None


class FunctionCallingConfig(_Wire):
    mode: str | None = None
    allowed_function_names: list[str] | None = None


class ToolConfig(_Wire):
    function_calling_config: FunctionCallingConfig | None = None


class ThinkingConfig(_Wire):
    include_thoughts: bool | None = None
    thinking_budget: Int32 | None = None
    thinking_level: str | None = None


class GenerationConfig(_Wire):
    max_output_tokens: Int32 | None = None
    stop_sequences: list[str] | None = None
    candidate_count: Int32 | None = None
    response_mime_type: str | None = None
    response_schema: dict[str, Any] | None = None
    response_json_schema: dict[str, Any] | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: float | None = None
    seed: Int32 | None = None
    thinking_config: ThinkingConfig | None = None


class GenerateContentRequest(_Wire):
    """``POST /{ver}/models/{model}:generateContent`` (and ``:streamGenerateContent``)."""

    contents: list[Content]
    model: str | None = None
    system_instruction: Content | None = None
    tools: list[Tool] | None = None
    tool_config: ToolConfig | None = None
    generation_config: GenerationConfig | None = None
    safety_settings: list[dict[str, Any]] | None = None
    cached_content: str | None = None


class CountTokensRequest(_Wire):
    """``POST /{ver}/models/{model}:countTokens``: either ``contents`` or a whole
    ``generateContentRequest``."""

    contents: list[Content] | None = None
    generate_content_request: GenerateContentRequest | None = None


class EmbedContentRequest(_Wire):
    """``POST /{ver}/models/{model}:embedContent`` (and each of a batch's requests)."""

    content: Content
    model: str | None = None
    task_type: str | None = None
    title: str | None = None
    output_dimensionality: Int32 | None = None


class BatchEmbedContentsRequest(_Wire):
    """``POST /{ver}/models/{model}:batchEmbedContents``."""

    requests: list[EmbedContentRequest]
