"""Azure's content-filter annotations, added to OpenAI-shaped answers.

Azure runs every prompt and completion through its content filters and says so in the
body: ``prompt_filter_results`` (one entry per prompt) at the top and
``content_filter_results`` on each choice. mockllm reports every category as safe. A chat
stream starts, as on Azure, with a chunk carrying only ``prompt_filter_results`` (empty
``id``, ``object`` and ``choices``), which openai-python's ``.stream()`` helper skips
(wire-formats.md section 8).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ...core.events import Frame
from ..sse import sse

_SEVERITY = ("hate", "self_harm", "sexual", "violence")


def _safe() -> dict[str, Any]:
    return {name: {"filtered": False, "severity": "safe"} for name in _SEVERITY}


def prompt_results(count: int = 1) -> list[dict[str, Any]]:
    """``prompt_filter_results`` for ``count`` prompts."""
    return [
        {
            "prompt_index": index,
            "content_filter_results": {
                **_safe(),
                "jailbreak": {"filtered": False, "detected": False},
            },
        }
        for index in range(count)
    ]


def completion_results() -> dict[str, Any]:
    """``content_filter_results`` of one choice with content."""
    return {
        **_safe(),
        "protected_material_code": {"filtered": False, "detected": False},
        "protected_material_text": {"filtered": False, "detected": False},
    }


def annotate(payload: dict[str, Any], prompts: int = 1) -> dict[str, Any]:
    """A non-streaming answer (chat or text completion) with Azure's filter results."""
    for choice in payload["choices"]:
        choice["content_filter_results"] = completion_results()
    payload["prompt_filter_results"] = prompt_results(prompts)
    return payload


def annotate_chunk(payload: dict[str, Any]) -> dict[str, Any]:
    """A stream chunk with filter results on each choice: full results on content, an
    empty object on role, tool-call and finish chunks, as Azure sends them."""
    for choice in payload["choices"]:
        delta = choice.get("delta", choice)
        content = delta.get("content") or delta.get("text") or delta.get("refusal")
        choice["content_filter_results"] = completion_results() if content else {}
    return payload


def prompt_chunk(prompts: int = 1) -> bytes:
    """The first chunk of an Azure chat stream."""
    return sse(
        {
            "choices": [],
            "created": 0,
            "id": "",
            "model": "",
            "object": "",
            "prompt_filter_results": prompt_results(prompts),
        }
    )


def chat_frames(frames: Iterable[Frame]) -> Iterator[Frame]:
    """An OpenAI chat stream made Azure's: the prompt chunk first, then every chunk
    annotated; ``[DONE]`` and in-stream errors pass unchanged."""
    yield None, prompt_chunk()
    for event, frame in frames:
        if frame.startswith(b"data: {"):
            payload = orjson.loads(frame[len(b"data: ") :])
            if "choices" in payload:
                frame = sse(annotate_chunk(payload))
        yield event, frame
