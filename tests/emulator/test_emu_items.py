"""Conversation items: create, truncate, delete, retrieve."""

from __future__ import annotations

from typing import Any

import pytest
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    InputTextContentPart,
    OutputTextContentPart,
    ResponseCreateParams,
    ServerEventConversationItemTruncated,
    SystemMessageItem,
    UserMessageItem,
)
from emulator_helpers import pcm_of, sdk, until

from voicelive_proactive.emulator import Emulator


async def test_items_report_the_item_before_them(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=SystemMessageItem(content=[InputTextContentPart(text="Be kind.")])
        )
        first = (await until(conn, "conversation.item.created"))[-1]
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="Hello")])
        )
        second = (await until(conn, "conversation.item.created"))[-1]
        await conn.conversation.item.create(
            item=AssistantMessageItem(content=[OutputTextContentPart(text="Hi!")])
        )
        third = (await until(conn, "conversation.item.created"))[-1]
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="First!")]),
            previous_item_id="root",
        )
        rooted = (await until(conn, "conversation.item.created"))[-1]
    assert first.previous_item_id is None
    assert second.previous_item_id == first.item.id
    assert third.previous_item_id == second.item.id
    assert (first.item.role, second.item.role, third.item.role) == ("system", "user", "assistant")
    assert rooted.previous_item_id is None
    assert next(iter(emu.connections[0].conversation))["id"] == rooted.item.id


@pytest.mark.parametrize(
    ("item", "param"),
    [
        ({"type": "message", "role": "robot", "content": []}, "item.role"),
        ({"type": "banana"}, "item.type"),
        (
            {"type": "message", "role": "system", "content": [{"type": "audio"}]},
            "item.content[0].type",
        ),
        ({"type": "message", "role": "user", "content": []}, "item.content"),
    ],
)
async def test_invalid_items_are_errors_naming_the_event(
    emu: Emulator, item: dict[str, Any], param: str
) -> None:
    async with sdk(emu) as conn:
        await conn.send({"type": "conversation.item.create", "event_id": "evt_i", "item": item})
        error = (await until(conn, "error"))[-1]
    assert error.error.type == "invalid_request_error"
    assert error.error.param == param
    assert error.error.event_id == "evt_i"


async def test_truncate_an_assistant_item_within_its_audio(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(
            response=ResponseCreateParams(
                pre_generated_assistant_message=AssistantMessageItem(
                    content=[OutputTextContentPart(text="Hello there, this is a greeting.")]
                )
            )
        )
        events = await until(conn, "response.done")
        item_id = events[-1].response.output[0].id
        duration_ms = len(pcm_of(events)) // 48
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=500)
        truncated = (await until(conn, "conversation.item.truncated"))[-1]
        await conn.conversation.item.truncate(
            item_id=item_id, content_index=0, audio_end_ms=duration_ms, event_id="evt_long"
        )
        too_long = (await until(conn, "error"))[-1]
    assert isinstance(truncated, ServerEventConversationItemTruncated)
    assert (truncated.item_id, truncated.content_index, truncated.audio_end_ms) == (item_id, 0, 500)
    # after a truncation the item only holds 500 ms, so the full duration is now too long
    assert too_long.error.event_id == "evt_long"
    assert too_long.error.param == "audio_end_ms"
    stored = emu.connections[0].conversation.get(item_id)
    assert stored is not None
    assert len(stored["content"][0]["transcript"]) < len("Hello there, this is a greeting.")


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"item_id": "item_missing"}, "item_id"),
        ({"audio_end_ms": 10_000_000}, "audio_end_ms"),
        ({"audio_end_ms": -1}, "audio_end_ms"),
        ({"content_index": 3}, "content_index"),
    ],
)
async def test_invalid_truncations_are_errors_naming_the_event(
    emu: Emulator, change: dict[str, Any], param: str
) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(
            response={
                "pre_generated_assistant_message": {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": "Short."}],
                }
            }
        )
        done = (await until(conn, "response.done"))[-1]
        request = {
            "type": "conversation.item.truncate",
            "event_id": "evt_trunc",
            "item_id": done.response.output[0].id,
            "content_index": 0,
            "audio_end_ms": 100,
            **change,
        }
        await conn.send(request)
        error = (await until(conn, "error"))[-1]
    assert error.error.type == "invalid_request_error"
    assert error.error.param == param
    assert error.error.event_id == "evt_trunc"


async def test_items_without_audio_cannot_be_truncated(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=AssistantMessageItem(content=[OutputTextContentPart(text="Text only")])
        )
        created = (await until(conn, "conversation.item.created"))[-1]
        await conn.conversation.item.truncate(
            item_id=created.item.id, content_index=0, audio_end_ms=0, event_id="evt_text"
        )
        error = (await until(conn, "error"))[-1]
    assert error.error.event_id == "evt_text"


async def test_delete_and_retrieve(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="keep?")])
        )
        item_id = (await until(conn, "conversation.item.created"))[-1].item.id
        await conn.conversation.item.retrieve(item_id=item_id)
        retrieved = (await until(conn, "conversation.item.retrieved"))[-1]
        await conn.conversation.item.delete(item_id=item_id)
        deleted = (await until(conn, "conversation.item.deleted"))[-1]
        await conn.conversation.item.delete(item_id=item_id, event_id="evt_gone")
        error = (await until(conn, "error"))[-1]
    assert retrieved.item.id == item_id
    assert deleted.item_id == item_id
    assert error.error.event_id == "evt_gone"
    assert len(emu.connections[0].conversation) == 0
