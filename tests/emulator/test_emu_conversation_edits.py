"""Editing the conversation: client-chosen ids, inserting after an item, deleting, and an
assistant message the client wrote (a prerecorded greeting the model must know it said)."""

from __future__ import annotations

from typing import Any

from azure.ai.voicelive.models import (
    AssistantMessageItem,
    InputTextContentPart,
    OutputTextContentPart,
    ServerEventConversationItemCreated,
    ServerEventConversationItemDeleted,
    ServerEventError,
    UserMessageItem,
)
from emulator_helpers import append_audio, sdk, silence, tone, types_of, until

from voicelive_proactive.emulator import Emulator

GREETING = "Hi, this is Contoso. How can I help you today?"


def ids(emu: Emulator) -> list[str]:
    return [item["id"] for item in emu.connections[0].conversation]


async def reply_to(conn: Any) -> str:
    await conn.response.create()
    events = await until(conn, "response.done")
    return str(next(e.transcript for e in events if e.type == "response.audio_transcript.done"))


async def test_a_greeting_item_is_replaced_by_the_words_heard(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=AssistantMessageItem(id="greet_1", content=[OutputTextContentPart(text=GREETING)])
        )
        created = (await until(conn, "conversation.item.created"))[-1]
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="Hello?")])
        )
        user = (await until(conn, "conversation.item.created"))[-1]
        # What the caller heard goes in right after the greeting, which then goes.
        await conn.conversation.item.create(
            item=AssistantMessageItem(
                id="greet_1_heard", content=[OutputTextContentPart(text="Hi, this is")]
            ),
            previous_item_id="greet_1",
        )
        heard = (await until(conn, "conversation.item.created"))[-1]
        await conn.conversation.item.delete(item_id="greet_1")
        deleted = (await until(conn, "conversation.item.deleted"))[-1]
        await conn.conversation.item.retrieve(item_id="greet_1_heard")
        retrieved = (await until(conn, "conversation.item.retrieved"))[-1]

    sent = emu.received[0][0]
    assert sent["item"] == {
        "type": "message",
        "role": "assistant",
        "id": "greet_1",
        "content": [{"type": "text", "text": GREETING}],
    }, "the SDK's assistant text part is type 'text' on the wire"
    assert isinstance(created, ServerEventConversationItemCreated)
    assert created.item.id == "greet_1" and created.previous_item_id is None
    assert created.item.role == "assistant" and created.item.content[0].text == GREETING
    assert heard.item.id == "greet_1_heard" and heard.previous_item_id == "greet_1"
    assert isinstance(deleted, ServerEventConversationItemDeleted)
    assert deleted.item_id == "greet_1"
    assert ids(emu) == ["greet_1_heard", user.item.id], "the heard words took its place"
    assert retrieved.item.content[0].text == "Hi, this is"


async def test_unknown_and_duplicate_ids_are_errors_that_change_nothing(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        item = AssistantMessageItem(id="greet_1", content=[OutputTextContentPart(text=GREETING)])
        await conn.conversation.item.create(item=item)
        await until(conn, "conversation.item.created")
        await conn.conversation.item.delete(item_id="nobody_heard_it", event_id="evt_del")
        unknown_delete = (await until(conn, "error"))[-1]
        await conn.conversation.item.create(
            item=AssistantMessageItem(content=[OutputTextContentPart(text="Hi")]),
            previous_item_id="no_such_item",
            event_id="evt_after",
        )
        unknown_previous = (await until(conn, "error"))[-1]
        await conn.conversation.item.create(item=item, event_id="evt_again")
        duplicate = (await until(conn, "error"))[-1]
        await conn.conversation.item.truncate(
            item_id="greet_1", content_index=0, audio_end_ms=0, event_id="evt_cut"
        )
        no_audio = (await until(conn, "error"))[-1]
    for error, event_id, param in [
        (unknown_delete, "evt_del", "item_id"),
        (unknown_previous, "evt_after", "previous_item_id"),
        (duplicate, "evt_again", "item.id"),
        (no_audio, "evt_cut", "item_id"),
    ]:
        assert isinstance(error, ServerEventError)
        assert error.error.type == "invalid_request_error"
        assert (error.error.event_id, error.error.param) == (event_id, param)
    assert "nobody_heard_it" in unknown_delete.error.message
    assert "audio" in no_audio.error.message, "a text item cannot be truncated: replace it"
    assert ids(emu) == ["greet_1"]


async def test_the_model_knows_what_a_client_written_assistant_message_said(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=AssistantMessageItem(id="greet_1", content=[OutputTextContentPart(text=GREETING)])
        )
        await until(conn, "conversation.item.created")
        after_greeting = await reply_to(conn)
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="Sorry, what did you say?")])
        )
        await until(conn, "conversation.item.created")
        repeated = await reply_to(conn)
    assert after_greeting == "Is there anything else I can help you with?", "no second hello"
    assert repeated == 'I said: "Is there anything else I can help you with?"'


async def test_the_model_repeats_only_the_words_that_replaced_a_greeting(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=AssistantMessageItem(id="greet_1", content=[OutputTextContentPart(text=GREETING)])
        )
        await conn.conversation.item.create(
            item=AssistantMessageItem(
                id="greet_1_heard", content=[OutputTextContentPart(text="Hi, this is Contoso.")]
            ),
            previous_item_id="greet_1",
        )
        await conn.conversation.item.delete(item_id="greet_1")
        await until(conn, "conversation.item.deleted")
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="What did you say?")])
        )
        await until(conn, "conversation.item.created")
        repeated = await reply_to(conn)
    assert repeated == 'I said: "Hi, this is Contoso."'


async def test_without_create_response_a_turn_is_committed_and_nobody_answers(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"create_response": False}})
        await until(conn, "session.updated")
        await append_audio(conn, tone(400) + silence(700))
        events = await until(conn, "conversation.item.created")
        # A round trip after the turn: a response the turn started would be out by now.
        await conn.conversation.item.retrieve(item_id=events[-1].item.id)
        events += await until(conn, "conversation.item.retrieved")
    assert types_of(events) == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
        "conversation.item.retrieved",
    ]
    assert emu.connections[0].active_response_id is None
    assert not any(e["type"].startswith("response.") for e in emu.sent[0])
