"""response.create in its forms, response.cancel, and the order of an audio response."""

from __future__ import annotations

import asyncio
import time

import pytest
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    InputTextContentPart,
    OutputTextContentPart,
    ResponseCreateParams,
    ServerEventError,
    SystemMessageItem,
    UserMessageItem,
)
from emulator_helpers import pcm_of, rms, sdk, types_of, until

from voicelive_proactive.emulator import Emulator

AUDIO_RESPONSE_ORDER = [
    "response.created",
    "response.output_item.added",
    "conversation.item.created",
    "response.content_part.added",
]
AUDIO_RESPONSE_END = [
    "response.audio.done",
    "response.audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
]


def spoken(text: str) -> ResponseCreateParams:
    return ResponseCreateParams(
        pre_generated_assistant_message=AssistantMessageItem(
            content=[OutputTextContentPart(text=text)]
        )
    )


async def test_pre_generated_speech_is_spoken_verbatim(emu: Emulator) -> None:
    text = "Hi Lisa, welcome back! How can I assist you today?"
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken(text), event_id="evt_greet")
        events = await until(conn, "response.done")
    names = types_of(events)
    assert names[1:5] == AUDIO_RESPONSE_ORDER
    assert names[-5:] == AUDIO_RESPONSE_END
    middle = set(names[5:-5])
    assert middle == {"response.audio_transcript.delta", "response.audio.delta"}
    transcript_deltas = [e.delta for e in events if e.type == "response.audio_transcript.delta"]
    assert transcript_deltas == [text]  # one delta with the whole text, as the service does
    done = events[-1]
    assert done.response.status == "completed"
    assert done.response.usage.input_tokens == 0
    assert done.response.output[0].content[0].transcript == text
    assert next(e for e in events if e.type == "response.audio_transcript.done").transcript == text
    pcm = pcm_of(events)
    assert rms(pcm) > 300  # speech, not silence
    assert len(pcm) / 2 / 24_000 > 1.0
    # ids line up across the whole response
    response_id, item_id = done.response.id, done.response.output[0].id
    for event in events[1:]:
        if getattr(event, "item_id", None) is not None:
            assert event.item_id == item_id
        if getattr(event, "response_id", None) is not None:
            assert event.response_id == response_id


async def test_audio_chunks_are_40_to_100_ms_of_whole_samples(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken("Chunk sizes matter."))
        events = await until(conn, "response.done")
    sizes = {len(e.delta) for e in events if e.type == "response.audio.delta"}
    assert all(1920 <= size <= 4800 and size % 2 == 0 for size in sizes)


async def test_longer_text_gives_longer_speech(emu: Emulator) -> None:
    durations = []
    async with sdk(emu) as conn:
        for text in ("Hi.", "Hello there, welcome to the service.", "Hello there. " * 6):
            await conn.response.create(response=spoken(text))
            durations.append(len(pcm_of(await until(conn, "response.done"))))
    assert durations[0] < durations[1] < durations[2]


async def test_pre_generated_on_an_old_api_version_is_an_unknown_parameter(
    emu: Emulator,
) -> None:
    async with sdk(emu, api_version="2025-10-01") as conn:
        await conn.response.create(response=spoken("Hi"), event_id="evt_old")
        events = await until(conn, "error")
    error = events[-1]
    assert isinstance(error, ServerEventError)
    assert error.error.code == "unknown_parameter"
    assert error.error.param == "response.pre_generated_assistant_message"
    assert error.error.event_id == "evt_old"
    assert "response.created" not in types_of(emu.sent[0])


async def test_preview_version_from_2026_supports_pre_generated(emu: Emulator) -> None:
    async with sdk(emu, api_version="2026-01-01-preview") as conn:
        await conn.response.create(response=spoken("Hi"))
        events = await until(conn, "response.done")
    assert events[-1].response.status == "completed"


async def test_malformed_pre_generated_message_is_rejected(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(
            response={
                "pre_generated_assistant_message": {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                }
            },
            event_id="evt_two_parts",
        )
        error = (await until(conn, "error"))[-1]
    assert error.error.event_id == "evt_two_parts"
    assert error.error.param == "response.pre_generated_assistant_message"


async def test_plain_response_after_a_system_item_greets_by_name(emu: Emulator) -> None:
    instruction = (
        'Greet the user warmly and briefly explain how you can help. The user\'s name is "Lisa".'
    )
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=SystemMessageItem(content=[InputTextContentPart(text=instruction)])
        )
        created = (await until(conn, "conversation.item.created"))[-1]
        await conn.response.create()
        events = await until(conn, "response.done")
    transcript = next(e for e in events if e.type == "response.audio_transcript.done").transcript
    assert transcript == "Hello Lisa! I'm your assistant. How can I help you today?"
    deltas = [e.delta for e in events if e.type == "response.audio_transcript.delta"]
    assert len(deltas) > 1 and "".join(deltas) == transcript  # streamed word by word
    item_created = next(e for e in events if e.type == "conversation.item.created")
    assert item_created.previous_item_id == created.item.id
    assert events[-1].response.usage.input_tokens > 0
    assert rms(pcm_of(events)) > 300


async def test_additional_instructions_steer_the_reply(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(additional_instructions='Say "Welcome to Contoso."')
        events = await until(conn, "response.done")
    transcript = next(e for e in events if e.type == "response.audio_transcript.done").transcript
    assert transcript == "Welcome to Contoso."


async def test_a_user_item_gets_an_acknowledgement(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.conversation.item.create(
            item=UserMessageItem(content=[InputTextContentPart(text="What are your hours?")])
        )
        await conn.response.create()
        events = await until(conn, "response.done")
    transcript = events[-1].response.output[0].content[0].transcript
    assert "What are your hours?" in transcript


async def test_text_only_modality_streams_text(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(response={"modalities": ["text"]})
        events = await until(conn, "response.done")
    names = types_of(events)
    assert "response.audio.delta" not in names
    assert "response.text.delta" in names
    text = next(e for e in events if e.type == "response.text.done").text
    assert text == "Hello! I'm your assistant. How can I help you today?"


async def test_second_response_create_while_active_is_an_error(emu: Emulator) -> None:
    emu.pace = 1.0  # keep the first response active
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken("A long enough greeting to overlap."))
        await until(conn, "response.audio.delta")
        await conn.response.create(event_id="evt_second")
        error = (await until(conn, "error"))[-1]
        await conn.response.cancel()
        await until(conn, "response.done")
    assert error.error.code == "conversation_already_has_active_response"
    assert error.error.event_id == "evt_second"
    assert types_of(emu.sent[0]).count("response.created") == 1


async def test_a_new_response_can_start_right_after_response_done(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        for _ in range(3):
            await conn.response.create(response=spoken("Again."))
            assert (await until(conn, "response.done"))[-1].response.status == "completed"
    assert "error" not in types_of(emu.sent[0])


async def test_cancel_stops_the_audio_and_reports_client_cancelled(emu: Emulator) -> None:
    emu.pace = 1.0
    text = "This sentence is long enough that nobody will hear the end of it today."
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken(text))
        before = await until(conn, "response.audio.delta")
        await conn.response.cancel(event_id="evt_cancel")
        after = await until(conn, "response.done")
    done = after[-1]
    assert done.response.status == "cancelled"
    assert done.response.status_details.type == "cancelled"
    assert done.response.status_details.reason == "client_cancelled"
    assert done.response.output[0].status == "incomplete"
    assert types_of(after)[-5:] == AUDIO_RESPONSE_END
    heard = len(pcm_of(before + after)) / 2 / 24_000
    assert heard < 1.5  # far less than the ~4 s the text takes to say


async def test_cancel_with_nothing_active_is_an_error(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.cancel(event_id="evt_nothing")
        error = (await until(conn, "error"))[-1]
        await conn.response.create(response=spoken("Hi"))
        await until(conn, "response.done")
        await conn.response.cancel(event_id="evt_too_late")
        late = (await until(conn, "error"))[-1]
    assert error.error.code == late.error.code == "response_cancel_not_active"
    assert (error.error.event_id, late.error.event_id) == ("evt_nothing", "evt_too_late")


async def test_pace_streams_faster_than_real_time_but_not_instantly() -> None:
    async with Emulator(pace=8.0) as emu, sdk(emu) as conn:
        await conn.response.create(response=spoken("One two three four five six."))
        started = time.perf_counter()
        events = await until(conn, "response.done")
        elapsed = time.perf_counter() - started
    audio_s = len(pcm_of(events)) / 2 / 24_000
    assert audio_s / 8 * 0.7 < elapsed < audio_s / 2


@pytest.mark.parametrize("bad", [{"response": "nope"}, {"additional_instructions": 3}])
async def test_wrongly_typed_response_create_fields_are_errors(
    emu: Emulator, bad: dict[str, object]
) -> None:
    async with sdk(emu) as conn:
        await conn.send({"type": "response.create", "event_id": "evt_t", **bad})
        error = (await until(conn, "error"))[-1]
    assert error.error.code == "invalid_type"
    assert error.error.event_id == "evt_t"


async def test_responses_are_added_to_the_conversation(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken("Remember me."))
        await until(conn, "response.done")
        await asyncio.sleep(0)
    items = list(emu.connections[0].conversation)
    assert items[-1]["role"] == "assistant"
    assert items[-1]["content"][0]["transcript"] == "Remember me."


async def test_too_long_pre_generated_text_is_rejected(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken("x" * 20_001), event_id="evt_long")
        error = (await until(conn, "error"))[-1]
    assert error.error.event_id == "evt_long"


async def test_a_synthesis_failure_ends_the_response_as_failed(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("no voice today")

    monkeypatch.setattr("voicelive_proactive.emulator.speech.build_speech", broken)
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken("Unspeakable words."))
        events = await until(conn, "response.done")
        await conn.response.create(response={"modalities": ["text"]})
        after = await until(conn, "response.done")  # the connection carries on
    assert "error" in types_of(events)
    assert events[-1].response.status == "failed"
    assert after[-1].response.status == "completed"
