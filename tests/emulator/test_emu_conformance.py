"""Every event type the emulator emits deserializes to its own SDK class.

The ``emu`` fixture already checks every event of every test on teardown; this test also pins
down which event types the flows in this folder cover, so a new one cannot slip in untested.
"""

from __future__ import annotations

from azure.ai.voicelive.models import ServerEvent, ServerEventType
from emulator_helpers import (
    append_audio,
    assert_typed,
    sdk,
    silence,
    tone,
    types_of,
    until,
)

from voicelive_proactive.emulator import Emulator

EXPECTED = {
    "session.created",
    "session.updated",
    "conversation.item.created",
    "conversation.item.truncated",
    "conversation.item.deleted",
    "conversation.item.retrieved",
    "response.created",
    "response.output_item.added",
    "response.content_part.added",
    "response.audio_transcript.delta",
    "response.audio.delta",
    "response.audio.done",
    "response.audio_transcript.done",
    "response.text.delta",
    "response.text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "input_audio_buffer.cleared",
    "error",
}


async def test_all_emitted_event_types_are_typed(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"instructions": "Greet the user."})
        await conn.response.create()
        done = (await until(conn, "response.done"))[-1]
        item_id = done.response.output[0].id
        await conn.conversation.item.truncate(item_id=item_id, content_index=0, audio_end_ms=100)
        await conn.conversation.item.retrieve(item_id=item_id)
        await conn.conversation.item.delete(item_id=item_id)
        await conn.response.create(response={"modalities": ["text"]})
        await until(conn, "response.done")
        await append_audio(conn, tone(300) + silence(600))
        await until(conn, "response.done")
        await conn.input_audio_buffer.clear()
        await conn.response.cancel()
        events = await until(conn, "error")
    emitted = set(types_of(emu.sent[0]))
    assert emitted == EXPECTED
    assert all(isinstance(event, ServerEvent) for event in events)
    for payload in emu.sent[0]:
        event = assert_typed(payload)
        assert event.type == ServerEventType(payload["type"])


async def test_pre_generated_response_event_fields() -> None:
    async with Emulator(pace=0) as emu, sdk(emu) as conn:
        await conn.response.create(
            response={
                "pre_generated_assistant_message": {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": "Fields!"}],
                }
            }
        )
        await until(conn, "response.done")
    sent = emu.sent[0]
    for payload in sent:
        assert_typed(payload)
    created = next(e for e in sent if e["type"] == "response.created")
    assert created["response"]["object"] == "realtime.response"
    assert created["response"]["status"] == "in_progress"
    assert created["response"]["output"] == []
    added = next(e for e in sent if e["type"] == "response.output_item.added")
    assert added["item"]["status"] == "in_progress" and added["item"]["content"] == []
    part = next(e for e in sent if e["type"] == "response.content_part.added")["part"]
    assert part == {"type": "audio", "transcript": ""}
    usage = sent[-1]["response"]["usage"]
    assert usage["input_tokens"] == 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert len({e["event_id"] for e in sent}) == len(sent)  # ids are unique


FEATURE_EVENTS = {
    "warning",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
    "response.audio_timestamp.delta",
    "response.audio_timestamp.done",
    "response.animation_viseme.delta",
    "response.animation_viseme.done",
}


async def test_feature_event_types_are_typed() -> None:
    def failing(pcm: bytes, rate: int) -> str | None:
        raise RuntimeError("no")

    async with Emulator(pace=0, transcriber=failing) as emu, sdk(emu) as conn:
        await conn.session.update(
            session={
                "tools": [{"type": "function", "name": "get_time"}],
                "tool_choice": "required",
                "input_audio_echo_cancellation": {},
                "animation": {"outputs": ["viseme_id"]},
                "output_audio_timestamp_types": ["word"],
                "input_audio_transcription": {"model": "whisper-1"},
                "turn_detection": {"type": "server_vad", "create_response": False},
            }
        )
        await conn.response.create()
        await until(conn, "response.done")
        await conn.response.create(response={"tool_choice": "none"})
        await until(conn, "response.done")
        await append_audio(conn, tone(300) + silence(600))
        await until(conn, "conversation.item.input_audio_transcription.failed")
    for payload in emu.sent[0]:
        assert_typed(payload)
    missing = FEATURE_EVENTS - set(types_of(emu.sent[0]))
    assert missing == {
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
    }
