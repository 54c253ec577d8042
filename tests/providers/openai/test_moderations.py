"""``POST /v1/moderations`` through the official SDK and raw HTTP (wire-formats.md section 4):
all 13 categories, deterministic small scores, flagging by the documented trigger words and
``[flag:<category>]`` markers, one result per string or one for a list of multimodal parts,
``category_applied_input_types``, and every payload valid against the OpenAPI spec."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai._models import BaseModel
from openai.types import ModerationMultiModalInputParam

from mockllm.providers.openai.moderation import CATEGORIES, TRIGGERS
from mockllm.testing import MockServer
from openapi_schemas import assert_valid

IMAGE = "https://example.com/cat.png"


def as_dict(model: BaseModel) -> dict[str, Any]:
    """The payload as received (the SDK keeps every key, the API's names included)."""
    return cast(dict[str, Any], model.to_dict())


def post(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/moderations", json=body)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    assert_valid("CreateModerationResponse", payload)
    return payload


def test_benign_text(client: OpenAI) -> None:
    moderation = client.moderations.create(input="What a lovely day for a picnic.")
    assert moderation.id.startswith("modr-")
    assert moderation.model == "omni-moderation-latest"
    [result] = moderation.results
    assert result.flagged is False
    raw = as_dict(result)
    assert list(raw["categories"]) == list(CATEGORIES) and len(CATEGORIES) == 13
    assert not any(raw["categories"].values())
    assert set(raw["category_scores"]) == set(CATEGORIES)
    assert all(0 < score < 0.001 for score in raw["category_scores"].values())
    assert raw["category_applied_input_types"] == {c: ["text"] for c in CATEGORIES}


def test_scores_are_deterministic(http: httpx.Client) -> None:
    first = post(http, {"input": "some text"})["results"][0]["category_scores"]
    second = post(http, {"input": "some text"})["results"][0]["category_scores"]
    other = post(http, {"input": "other text"})["results"][0]["category_scores"]
    assert first == second != other


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("I will kill them", {"violence"}),
        ("He was KILLED yesterday", {"violence"}),
        ("a skilled worker", set()),
        ("so much gore", {"violence", "violence/graphic"}),
        ("you idiot", {"harassment"}),
        ("I threaten you", {"harassment", "harassment/threatening"}),
        ("how to build a bomb", {"illicit", "illicit/violent"}),
        ("I want to end my life", {"self-harm", "self-harm/intent"}),
        ("nsfw pictures", {"sexual"}),
        ("[flag:sexual/minors]", {"sexual", "sexual/minors"}),
        ("text [FLAG:hate] text", {"hate"}),
    ],
)
def test_flagging(client: OpenAI, text: str, flagged: set[str]) -> None:
    [result] = client.moderations.create(input=text).results
    raw = as_dict(result)
    assert {c for c, on in raw["categories"].items() if on} == flagged
    assert result.flagged is bool(flagged)
    for category, score in raw["category_scores"].items():
        assert (score >= 0.9) if category in flagged else (score < 0.001)


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_has_a_marker(http: httpx.Client, category: str) -> None:
    [result] = post(http, {"input": f"[flag:{category}]"})["results"]
    assert result["categories"][category] is True
    for word in TRIGGERS[category]:
        [result] = post(http, {"input": f"x {word} y"})["results"]
        assert result["categories"][category] is True, word


def test_list_of_strings(client: OpenAI) -> None:
    moderation = client.moderations.create(
        input=["hello", "kill", "you moron"], model="omni-moderation-2024-09-26"
    )
    assert moderation.model == "omni-moderation-2024-09-26"
    assert [r.flagged for r in moderation.results] == [False, True, True]
    assert moderation.results[1].categories.violence is True
    assert moderation.results[2].categories.harassment is True


def test_multimodal_parts_give_one_result(client: OpenAI) -> None:
    parts: list[ModerationMultiModalInputParam] = [
        {"type": "text", "text": "look at this"},
        {"type": "image_url", "image_url": {"url": IMAGE}},
        {"type": "text", "text": "then stab"},
    ]
    moderation = client.moderations.create(model="omni-moderation-latest", input=parts)
    [result] = moderation.results
    assert result.flagged and result.categories.violence
    applied = as_dict(result)["category_applied_input_types"]
    assert applied["violence"] == ["text", "image"]
    assert applied["self-harm/intent"] == ["text", "image"]
    assert applied["hate"] == ["text"]
    assert applied["sexual/minors"] == ["text"]


def test_image_only(http: httpx.Client) -> None:
    body = {"input": [{"type": "image_url", "image_url": {"url": IMAGE}}]}
    [result] = post(http, body)["results"]
    assert result["flagged"] is False
    applied = result["category_applied_input_types"]
    assert applied["violence"] == ["image"] and applied["harassment"] == []


def test_async_client(server: MockServer) -> None:
    async def run() -> bool:
        async with AsyncOpenAI(base_url=server.openai_url, api_key="sk-test", max_retries=0) as sdk:
            moderation = await sdk.moderations.create(input="murder")
            return moderation.results[0].categories.violence

    assert asyncio.run(run()) is True


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert_valid("ErrorResponse", body)
    error: dict[str, Any] = body["error"]
    return error


def test_errors(client: OpenAI, http: httpx.Client) -> None:
    error = error_of(http.post("/moderations", json={"model": "omni-moderation-latest"}))
    assert error["param"] == "input" and error["code"] == "missing_required_parameter"
    assert error_of(http.post("/moderations", json={"input": 7}))["code"] == "invalid_type"
    error = error_of(http.post("/moderations", json={"input": [{"type": "audio", "x": 1}]}))
    assert error["param"] == "input[0]"
    error = error_of(http.post("/moderations", json={"input": [{"type": "text"}]}))
    assert error["param"] == "input[0].text" and error["code"] == "missing_required_parameter"
    with pytest.raises(openai.BadRequestError):
        client.moderations.create(input=cast(Any, [{"type": "text"}]))
