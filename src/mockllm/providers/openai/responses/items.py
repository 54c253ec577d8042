"""Input items: the canonical form they are stored and listed in (each with an id), and
the neutral messages they stand for.

A ``function_call`` item joins the assistant message before it as a tool call, a
``function_call_output`` item is a tool message; reasoning items and hosted tools' items
are kept but are not part of the conversation the rules see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ....core.ids import new_id
from ....core.types import ImagePart, Message, OtherPart, Part, TextPart, ToolCall
from . import protocol as p

Item = dict[str, Any]
ID_BYTES = 25  # real ids are a prefix and 50 hex digits: resp_0775572d10a1...


def item_id(prefix: str) -> str:
    """A fresh item or response id, e.g. ``msg_`` + 50 hex digits."""
    return new_id(prefix, ID_BYTES)


# --- input items: canonical stored form -------------------------------------------------


def content_part(part: Any, assistant: bool = False) -> Item:
    """A content part in its canonical stored form (an image's defaults filled in)."""
    if isinstance(part, p.InputText | p.OutputText):
        if assistant:
            return {"type": "output_text", "annotations": [], "logprobs": [], "text": part.text}
        return {"type": "input_text", "text": part.text}
    if isinstance(part, p.InputImage):
        return {
            "type": "input_image",
            "detail": part.detail or "auto",
            "file_id": part.file_id,
            "image_url": part.image_url,
        }
    if isinstance(part, p.Refusal):
        return {"type": "refusal", "refusal": part.refusal}
    dumped: Item = part.model_dump(by_alias=True, exclude_none=True)
    return dumped


def _content(content: str | list[Any], assistant: bool) -> list[Item]:
    if isinstance(content, str):
        if assistant:
            return [{"type": "output_text", "annotations": [], "logprobs": [], "text": content}]
        return [{"type": "input_text", "text": content}]
    return [content_part(part, assistant) for part in content]


def _output(output: str | list[Any]) -> str | list[Item]:
    return output if isinstance(output, str) else [content_part(part, False) for part in output]


def input_items(body: p.PromptFields, resolve: Callable[[str], Item]) -> list[Item]:
    """The request's input as stored items, each with an id (kept when the client gave
    one); ``resolve`` looks up an ``item_reference`` (and raises when it is unknown)."""
    given = body.input
    if given is None:
        return []
    if isinstance(given, str):
        given_items: list[Any] = [p.MessageItem(role="user", content=given)]
    else:
        given_items = list(given)
    items: list[Item] = []
    for item in given_items:
        if isinstance(item, p.MessageItem):
            assistant = item.role == "assistant"
            message: Item = {
                "id": item.id or item_id("msg_"),
                "type": "message",
                "status": "completed",
                "content": _content(item.content, assistant),
                "role": item.role,
            }
            items.append(message)
        elif isinstance(item, p.FunctionCallItem):
            items.append(
                {
                    "id": item.id or item_id("fc_"),
                    "type": "function_call",
                    "status": "completed",
                    "arguments": item.arguments,
                    "call_id": item.call_id,
                    "name": item.name,
                }
            )
        elif isinstance(item, p.FunctionCallOutputItem | p.CustomToolCallOutputItem):
            items.append(
                {
                    "id": item.id or item_id("fco_"),
                    "type": item.type,
                    "call_id": item.call_id,
                    "output": _output(item.output),
                    "status": "completed",
                }
            )
        elif isinstance(item, p.ItemReference):
            items.append(resolve(item.id))
        else:
            dumped: Item = item.model_dump(by_alias=True, exclude_none=True)
            if isinstance(item, p.ReasoningItem):
                dumped.setdefault("id", item_id("rs_"))
            elif isinstance(item, p.CustomToolCallItem):
                dumped.setdefault("id", item_id("ctc_"))
            items.append(dumped)
    return items


def prompt_item(prompt: p.PromptParam) -> Item:
    """The user message a ``prompt`` (a stored prompt template mockllm cannot read) stands
    for: its variables as text, one ``name: value`` line each in the order given, in one
    ``input_text`` part (an ``input_text`` variable counts as its text), then one part per
    image or file variable. No variables make an empty text."""
    lines: list[str] = []
    others: list[Item] = []
    for name, value in (prompt.variables or {}).items():
        if isinstance(value, str):
            lines.append(f"{name}: {value}")
        elif isinstance(value, p.InputText):
            lines.append(f"{name}: {value.text}")
        else:
            others.append(content_part(value, False))
    return {
        "id": item_id("msg_"),
        "type": "message",
        "status": "completed",
        "content": [{"type": "input_text", "text": "\n".join(lines)}, *others],
        "role": "user",
    }


# --- as neutral messages -------------------------------------------------------------


def _parts(content: list[Item]) -> tuple[Part, ...]:
    out: list[Part] = []
    for part in content:
        kind = part.get("type")
        if kind in ("input_text", "output_text"):
            out.append(TextPart(str(part.get("text", ""))))
        elif kind == "input_image":
            out.append(ImagePart(url=part.get("image_url"), detail=part.get("detail")))
        elif kind == "refusal":
            out.append(OtherPart("refusal", str(part.get("refusal", ""))))
        elif kind == "input_file":
            out.append(OtherPart("file", str(part.get("filename") or "")))
        else:
            out.append(OtherPart(str(kind)))
    return tuple(out)


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    return "\n".join(str(part.get("text", "")) for part in output if "text" in part)


def item_messages(items: Iterable[Item]) -> list[Message]:
    """Neutral messages for stored items. A function call joins the assistant message just
    before it (parallel calls become one assistant turn); reasoning items and hosted tools'
    items are not part of the conversation the rules see."""
    messages: list[Message] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            messages.append(Message(item["role"], _parts(item["content"])))
        elif kind in ("function_call", "custom_tool_call"):
            arguments = item["arguments"] if kind == "function_call" else item.get("input", "")
            call = ToolCall(item["call_id"], item["name"], arguments)
            if messages and messages[-1].role == "assistant":
                last = messages[-1]
                messages[-1] = Message("assistant", last.parts, (*last.tool_calls, call))
            else:
                messages.append(Message("assistant", (), (call,)))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            text = _output_text(item.get("output", ""))
            messages.append(Message("tool", (TextPart(text),), tool_call_id=item["call_id"]))
    return messages
