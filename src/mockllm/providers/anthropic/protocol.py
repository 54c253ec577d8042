"""Anthropic Messages request schema (wire-formats.md section 5.2).

Known fields are checked strictly; unknown fields are accepted, so newer SDKs keep working.
Integers are bounded by int64 (see :func:`..validation.parse_json`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..validation import INT64_MAX


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


class TextBlock(_Wire):
    type: Literal["text"]
    text: str


class Base64Source(_Wire):
    type: Literal["base64"]
    media_type: str
    data: str


class URLSource(_Wire):
    type: Literal["url"]
    url: str


class FileSource(_Wire):
    type: Literal["file"]
    file_id: str


ImageSource = Annotated[Base64Source | URLSource | FileSource, Field(discriminator="type")]


class ImageBlock(_Wire):
    type: Literal["image"]
    source: ImageSource


class DocumentBlock(_Wire):
    type: Literal["document"]
    source: dict[str, Any]


class ToolUseBlock(_Wire):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


ToolResultContent = Annotated[TextBlock | ImageBlock | DocumentBlock, Field(discriminator="type")]


class ToolResultBlock(_Wire):
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[ToolResultContent] | None = None
    is_error: bool | None = None


class ThinkingBlock(_Wire):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(_Wire):
    type: Literal["redacted_thinking"]
    data: str


class ServerBlock(_Wire):
    """Server-tool and search blocks: accepted in histories, not interpreted."""

    type: Literal[
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "search_result",
        "container_upload",
        "mcp_tool_use",
        "mcp_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
    ]


ContentBlock = Annotated[
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ServerBlock,
    Field(discriminator="type"),
]


class MessageParam(_Wire):
    role: Literal["user", "assistant", "system"]
    content: str | list[ContentBlock]


class Tool(_Wire):
    name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    type: str | None = None


class AutoChoice(_Wire):
    type: Literal["auto"]
    disable_parallel_tool_use: bool | None = None


class AnyChoice(_Wire):
    type: Literal["any"]
    disable_parallel_tool_use: bool | None = None


class NamedChoice(_Wire):
    type: Literal["tool"]
    name: str
    disable_parallel_tool_use: bool | None = None


class NoneChoice(_Wire):
    type: Literal["none"]


ToolChoiceParam = Annotated[
    AutoChoice | AnyChoice | NamedChoice | NoneChoice, Field(discriminator="type")
]


class ThinkingEnabled(_Wire):
    type: Literal["enabled"]
    budget_tokens: int = Field(ge=1024, le=INT64_MAX)


class ThinkingDisabled(_Wire):
    type: Literal["disabled"]


class ThinkingAdaptive(_Wire):
    type: Literal["adaptive"]


ThinkingParam = Annotated[
    ThinkingEnabled | ThinkingDisabled | ThinkingAdaptive, Field(discriminator="type")
]


class CountTokensRequest(_Wire):
    """``POST /v1/messages/count_tokens`` body."""

    model: str
    messages: list[MessageParam] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoiceParam | None = None
    thinking: ThinkingParam | None = None


class MessagesRequest(CountTokensRequest):
    """``POST /v1/messages`` body."""

    max_tokens: int = Field(ge=1, le=INT64_MAX)
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    metadata: dict[str, Any] | None = None
    temperature: float | None = Field(None, ge=0, le=1)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0, le=INT64_MAX)
    service_tier: str | None = None
