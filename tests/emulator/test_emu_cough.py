"""A cough: a short noise burst that reaches the service as user audio, seen from the SDK."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    OutputTextContentPart,
    ResponseCreateParams,
    ServerEventInputAudioBufferSpeechStarted,
)
from emulator_helpers import b64, sdk, silence, types_of, until

from voicelive_proactive.emulator import Emulator, Faults
from voicelive_proactive.emulator.cough import Overlay, cough_noise

LONG = (
    "Thank you for calling Contoso. Please listen carefully, as our menu options have "
    "changed recently, and we would not want you to miss anything important today."
)
TURN = [
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.created",
]


def spoken(text: str = LONG) -> ResponseCreateParams:
    return ResponseCreateParams(
        pre_generated_assistant_message=AssistantMessageItem(
            content=[OutputTextContentPart(text=text)]
        )
    )


def turn_of(events: list[Any]) -> list[str]:
    """The user turn's events, in order (the agent's own items left out)."""
    return [
        str(e.type)
        for e in events
        if e.type in TURN and (e.type != "conversation.item.created" or e.item.role == "user")
    ]


def test_the_burst_is_noise_at_the_level_asked_with_soft_edges() -> None:
    pcm = np.frombuffer(cough_noise(250, 8_000, level_dbfs=-20.0), dtype="<i2")
    assert pcm.size == 2_000
    rms = float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2)))
    assert 20 * np.log10(rms / 32768) == pytest.approx(-20.0, abs=0.1)
    assert abs(int(pcm[0])) < 200 and abs(int(pcm[-1])) < 200, "no click at either end"
    assert cough_noise(250, 8_000) == cough_noise(250, 8_000), "deterministic"


def test_an_overlay_adds_onto_what_comes_and_plays_the_rest_over_silence() -> None:
    overlay = Overlay(np.arange(1, 7, dtype="<i2").tobytes(), 8_000)
    mixed = overlay.mix(np.full(4, 100, dtype="<i2").tobytes())
    assert np.frombuffer(mixed, "<i2").tolist() == [101, 102, 103, 104]
    assert np.frombuffer(overlay.take(10), "<i2").tolist() == [5, 6]
    assert overlay.remaining == 0 and overlay.mix(b"\x01\x00") == b"\x01\x00"


async def test_a_cough_is_a_whole_turn_with_nothing_recognized_and_a_reply(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"input_audio_transcription": {"model": "whisper-1"}})
        await until(conn, "session.updated")
        started = time.monotonic()
        cough = asyncio.ensure_future(emu.cough(250))
        events = await until(conn, "response.done")
        await cough
    names = types_of(events)
    assert turn_of(events) == TURN
    assert names.index("conversation.item.created") < names.index("response.created")
    speech = next(e for e in events if e.type == "input_audio_buffer.speech_started")
    stopped = next(e for e in events if e.type == "input_audio_buffer.speech_stopped")
    item = next(e for e in events if e.type == "conversation.item.created").item
    assert isinstance(speech, ServerEventInputAudioBufferSpeechStarted)
    assert speech.audio_start_ms == 0 and speech.item_id == item.id
    # The burst (250 ms) plus the VAD's closing silence (500 ms), to a 20 ms VAD frame.
    assert 740 <= stopped.audio_end_ms <= 800
    assert time.monotonic() - started >= 0.74, "a cough takes its time"
    assert item.role == "user" and item.content[0].type == "input_audio"
    heard = next(
        e for e in events if e.type == "conversation.item.input_audio_transcription.completed"
    )
    assert heard.item_id == item.id and heard.transcript == "", "noise is not words"
    reply = next(e for e in events if e.type == "response.audio_transcript.done")
    assert reply.transcript == "I heard you. Could you tell me a little more?"
    assert events[-1].response.status == "completed"


async def test_a_cough_over_the_agent_cancels_it_as_the_service_does(emu: Emulator) -> None:
    emu.pace = 1.0
    async with sdk(emu) as conn:
        await conn.response.create(response=spoken())
        events = await until(conn, "response.audio.delta")
        cough = asyncio.ensure_future(emu.cough(200))
        events += await until(conn, "response.done")
        events += await until(conn, "response.done")
        await cough
    names = types_of(events)
    first_done = names.index("response.done")
    assert names.index("input_audio_buffer.speech_started") < first_done
    cancelled = events[first_done].response
    assert cancelled.status == "cancelled"
    assert cancelled.status_details.reason == "turn_detected"
    assert first_done < names.index("input_audio_buffer.committed")
    assert turn_of(events) == TURN
    assert names.count("response.created") == 2, "the blip is a turn, and it gets a reply"
    assert events[-1].response.status == "completed"


async def test_without_interrupt_or_create_response_the_agent_finishes_and_nobody_replies(
    emu: Emulator,
) -> None:
    emu.pace = 1.0
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"turn_detection": {"interrupt_response": False, "create_response": False}}
        )
        await until(conn, "session.updated")
        await conn.response.create(response=spoken("A short notice that plays on."))
        events = await until(conn, "response.audio.delta")
        cough = asyncio.ensure_future(emu.cough(150))
        events += await until(conn, "input_audio_buffer.speech_started")
        await cough  # the whole turn has been heard: committed, the item
        events += await until(conn, "conversation.item.created")
        if "response.done" not in types_of(events):
            events += await until(conn, "response.done")
    assert turn_of(events) == TURN
    assert types_of(events).count("response.created") == 1
    assert next(e for e in events if e.type == "response.done").response.status == "completed"
    assert emu.connections[0].active_response_id is None


async def test_the_fault_coughs_once_after_the_nth_chunk_of_speech() -> None:
    faults = Faults(cough_after_chunks=3, cough_ms=200)
    async with Emulator(pace=1.0, faults=faults) as emu, sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"create_response": False}})
        await until(conn, "session.updated")
        await conn.response.create(response=spoken())
        events = await until(conn, "input_audio_buffer.committed")
        await conn.response.create(response=spoken("And once more, with no cough."))
        again = await until(conn, "response.done")
    names = types_of(events)
    before = names[: names.index("input_audio_buffer.speech_started")]
    assert before.count("response.audio.delta") >= 3, "the cough came during the speech"
    assert events[names.index("response.done")].response.status == "cancelled"
    assert "input_audio_buffer.speech_started" not in types_of(again), "once per connection"
    assert again[-1].response.status == "completed"


async def test_a_cough_rides_on_the_microphone_the_client_streams(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session={
                "turn_detection": {"prefix_padding_ms": 0, "create_response": False},
            }
        )
        await until(conn, "session.updated")
        cough: asyncio.Future[None] | None = None
        for chunk in range(20):  # two seconds of silence, in real time
            await conn.input_audio_buffer.append(audio=b64(silence(100)))
            if chunk == 4:
                cough = asyncio.ensure_future(emu.cough(250))
            await asyncio.sleep(0.1)
        assert cough is not None
        await cough
        await conn.input_audio_buffer.clear()
        events = await until(conn, "input_audio_buffer.cleared")
    assert turn_of(events) == TURN
    started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
    stopped = next(e for e in events if e.type == "input_audio_buffer.speech_stopped")
    # It began where the client's audio was when it happened, and the timeline is the
    # client's own two seconds: nothing was played over it.
    assert 400 <= started.audio_start_ms <= 900
    assert stopped.audio_end_ms - started.audio_start_ms == pytest.approx(750, abs=50)
    assert emu.connections[0]._input.total_ms == pytest.approx(2000)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"ms": 5}, "ms must be"), ({"level_dbfs": 3.0}, "level_dbfs"), ({"pace": -1}, "pace")],
)
async def test_impossible_coughs_are_refused(
    emu: Emulator, kwargs: dict[str, Any], message: str
) -> None:
    async with sdk(emu):
        await emu.wait_for(lambda: len(emu.connections) == 1)
        with pytest.raises(ValueError, match=message):
            await emu.cough(**kwargs)
    with pytest.raises(RuntimeError, match="closed"):
        await emu.cough()
    with pytest.raises(ValueError, match="cough_ms"):
        Faults(cough_ms=10)
    with pytest.raises(ValueError, match="cough_after_chunks"):
        Faults(cough_after_chunks=0)
