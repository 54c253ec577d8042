"""OpenAI Responses API request schema (wire-formats.md section 3.1, spec ``CreateResponse``).

Known fields are checked strictly, as on the real API; unknown fields are accepted and
ignored, so newer SDKs keep working. Input items and tools of types mockllm does not
interpret (built-in tools, hosted tool calls) are accepted and kept as they are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from ...validation import INT32_MAX


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


# --- content parts ------------------------------------------------------------------


class InputText(_Wire):
    type: Literal["input_text"]
    text: str


class InputImage(_Wire):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["auto", "low", "high", "original"] | None = None


class InputFile(_Wire):
    type: Literal["input_file"]
    file_id: str | None = None
    filename: str | None = None
    file_data: str | None = None
    file_url: str | None = None


class InputAudio(_Wire):
    type: Literal["input_audio"]
    input_audio: dict[str, Any]


class OutputText(_Wire):
    type: Literal["output_text"]
    text: str
    annotations: list[Any] | None = None
    logprobs: list[Any] | None = None


class Refusal(_Wire):
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[
    InputText | InputImage | InputFile | InputAudio | OutputText | Refusal,
    Field(discriminator="type"),
]


# --- input items --------------------------------------------------------------------


class MessageItem(_Wire):
    """``EasyInputMessage`` (no ``type``), ``InputMessage`` and an earlier ``OutputMessage``."""

    type: Literal["message"] | None = None
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[ContentPart]
    id: str | None = None
    status: str | None = None


class FunctionCallItem(_Wire):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None


class FunctionCallOutputItem(_Wire):
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[ContentPart]
    id: str | None = None
    status: str | None = None


class CustomToolCallItem(_Wire):
    type: Literal["custom_tool_call"]
    call_id: str
    name: str
    input: str
    id: str | None = None


class CustomToolCallOutputItem(_Wire):
    type: Literal["custom_tool_call_output"]
    call_id: str
    output: str | list[ContentPart]
    id: str | None = None


class ReasoningItem(_Wire):
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[dict[str, Any]] = Field(default_factory=list)
    encrypted_content: str | None = None


class ItemReference(_Wire):
    type: Literal["item_reference"] | None = None
    id: str


class OtherItem(_Wire):
    """A hosted tool's item (web search call, MCP call...): kept, not interpreted."""

    type: str
    id: str | None = None


_ITEM_TAGS = {
    "message": "Message",
    "function_call": "FunctionCall",
    "function_call_output": "FunctionCallOutput",
    "custom_tool_call": "CustomToolCall",
    "custom_tool_call_output": "CustomToolCallOutput",
    "reasoning": "Reasoning",
    "item_reference": "ItemReference",
}


def _item_kind(value: Any) -> str:
    """The union member of an input item. Tags are CamelCase so that error locations do
    not mistake them for request fields (see ``providers.validation.is_member_name``)."""
    if isinstance(value, dict):
        kind = value.get("type")
        if kind is None:
            kind = "item_reference" if "role" not in value and "id" in value else "message"
    else:
        kind = getattr(value, "type", None) or "message"
    # A ``type`` that is not a string (a list, an object) goes to OtherItem, which says so.
    return _ITEM_TAGS.get(kind, "Other") if isinstance(kind, str) else "Other"


InputItem = Annotated[
    Annotated[MessageItem, Tag("Message")]
    | Annotated[FunctionCallItem, Tag("FunctionCall")]
    | Annotated[FunctionCallOutputItem, Tag("FunctionCallOutput")]
    | Annotated[CustomToolCallItem, Tag("CustomToolCall")]
    | Annotated[CustomToolCallOutputItem, Tag("CustomToolCallOutput")]
    | Annotated[ReasoningItem, Tag("Reasoning")]
    | Annotated[ItemReference, Tag("ItemReference")]
    | Annotated[OtherItem, Tag("Other")],
    Discriminator(_item_kind),
]


# --- tools and tool choice ----------------------------------------------------------


class FunctionTool(_Wire):
    """A flat function tool (unlike Chat Completions' nested ``function``)."""

    type: Literal["function"]
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class BuiltinTool(_Wire):
    """``web_search``, ``file_search``, ``mcp``, ``custom``...: echoed, never called."""

    type: str


def _tool_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "Function" if kind == "function" else "Builtin"


ToolParam = Annotated[
    Annotated[FunctionTool, Tag("Function")] | Annotated[BuiltinTool, Tag("Builtin")],
    Discriminator(_tool_kind),
]


class FunctionChoice(_Wire):
    type: Literal["function"]
    name: str


class AllowedToolsChoice(_Wire):
    type: Literal["allowed_tools"]
    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


class OtherChoice(_Wire):
    """A hosted tool forced by type (``{"type": "web_search_preview"}``), MCP or custom."""

    type: str


def _choice_kind(value: Any) -> str:
    if isinstance(value, str):
        return "Mode"
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if not isinstance(kind, str):
        return "Other"  # OtherChoice reports the wrong type
    return {"function": "Function", "allowed_tools": "AllowedTools"}.get(kind, "Other")


ToolChoiceParam = Annotated[
    Annotated[Literal["none", "auto", "required"], Tag("Mode")]
    | Annotated[FunctionChoice, Tag("Function")]
    | Annotated[AllowedToolsChoice, Tag("AllowedTools")]
    | Annotated[OtherChoice, Tag("Other")],
    Discriminator(_choice_kind),
]


# --- text format, reasoning, stream options -------------------------------------------


class TextFormatText(_Wire):
    type: Literal["text"]


class TextFormatJsonObject(_Wire):
    type: Literal["json_object"]


class TextFormatJsonSchema(_Wire):
    type: Literal["json_schema"]
    name: str
    schema_: dict[str, Any] = Field(alias="schema")
    description: str | None = None
    strict: bool | None = None


TextFormat = Annotated[
    TextFormatText | TextFormatJsonObject | TextFormatJsonSchema, Field(discriminator="type")
]


class TextConfig(_Wire):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningConfig(_Wire):
    effort: str | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class StreamOptions(_Wire):
    include_obfuscation: bool | None = None


# --- the request --------------------------------------------------------------------


class PromptFields(_Wire):
    """The fields that make up the prompt, shared by a create request and a token count."""

    input: str | list[InputItem] | None = None
    instructions: str | None = None
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoiceParam | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    truncation: Literal["auto", "disabled"] | None = None


PromptVariable = str | Annotated[InputText | InputImage | InputFile, Field(discriminator="type")]


class PromptParam(_Wire):
    """``prompt``: a reference to a stored prompt template and its variables."""

    id: str
    version: str | None = None
    variables: dict[str, PromptVariable] | None = None


class CreateResponse(PromptFields):
    """``POST /v1/responses`` body. ``input`` is required unless ``prompt`` is given (the
    handler says so, in the words of a missing field)."""

    model: str
    prompt: PromptParam | None = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    max_output_tokens: int | None = Field(None, ge=16, le=INT32_MAX)
    include: list[str] | None = None
    metadata: dict[str, str] | None = None
    background: bool | None = None
    service_tier: str | None = None
    max_tool_calls: int | None = Field(None, ge=1, le=INT32_MAX)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    top_logprobs: int | None = Field(None, ge=0, le=20)
    user: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    safety_identifier: str | None = None


class CompactRequest(PromptFields):
    """``POST /v1/responses/compact`` body (spec ``CompactResponseMethodPublicBody``):
    ``model``, and the conversation as ``input`` and/or ``previous_response_id``."""

    model: str
    prompt_cache_key: str | None = Field(None, max_length=64)
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    service_tier: str | None = None


class CountInputTokens(PromptFields):
    """``POST /v1/responses/input_tokens`` body (``model`` is optional there)."""

    model: str | None = None
