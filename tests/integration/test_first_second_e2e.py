"""The first second and the last word, end to end: the real SDK client, over a loopback
WebSocket, into the emulator (its VAD, its word timestamps, its coughs)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator
from voicelive_proactive.recording import record_speech
from voicelive_proactive.testing import MemoryAudioIO
from voicelive_proactive.words import heard_words

from .conftest import SESSION, sdk_connect, until

TEXT = "Hi, this is Contoso. How can I help you today?"


def loud(ms: int) -> bytes:
    t = np.arange(24 * ms) / 24_000
    return (np.sin(2 * np.pi * 440 * t) * 12_000).astype("<i2").tobytes()


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


async def session_with(conn: Any, **turns: Any) -> None:
    detection = {"type": "server_vad", "silence_duration_ms": 300, **turns}
    await conn.session.update(session={**SESSION, "turn_detection": detection})


async def test_a_prerecorded_greeting_plays_before_anything_is_sent(
    emu: Emulator, tmp_path: Path
) -> None:
    async with sdk_connect(emu) as conn:
        (await record_speech(conn, TEXT)).save(tmp_path / "hello.wav")
    greeting = vp.PrerecordedGreeting(TEXT, audio=tmp_path / "hello.wav")
    assert greeting.words  # hello.words.json, found beside it
    mem = MemoryAudioIO()
    async with (
        sdk_connect(emu) as conn,
        vp.ProactiveSession(conn, greeting=greeting, audio=mem) as p,
    ):
        # Constructed: the first sample is with the speaker, and nothing was read yet.
        assert len(mem.queued) == len(greeting.render(vp.GreetingContext()).audio or b"")
        await session_with(conn)
        runner = asyncio.create_task(p.run())
        await emu.wait_received("conversation.item.create", timeout=5)
        mem.play_ms(1500)
        mem.feed(loud(500))  # the caller talks over it 1.5 s in
        await emu.wait_received("conversation.item.delete", timeout=5)
        await emu.wait_received("conversation.item.create", count=2, timeout=5)
        await conn.close()
        await runner
    received = emu.received[-1]
    assert of_type(received, "response.create") == []  # no round trip, no synthesis
    first, replacement = of_type(received, "conversation.item.create")
    assert first["item"]["role"] == "assistant"
    assert first["item"]["content"][0]["text"] == TEXT
    [delete] = of_type(received, "conversation.item.delete")
    assert delete["item_id"] == first["item"]["id"]
    heard = heard_words(greeting.words, 1500)
    assert replacement["item"]["content"][0]["text"] == heard == p.outcome.heard_text
    assert p.outcome.interrupted and p.outcome.played_ms == 1500


async def test_after_hello_the_greeting_answers_the_callee(emu: Emulator) -> None:
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await session_with(conn)
        async with vp.ProactiveSession(
            conn,
            greeting="Hi, this is Contoso.",
            audio=mem,
            greet_when=vp.AfterHello(max_wait=4.0),
        ) as p:
            runner = asyncio.create_task(p.run())
            await emu.wait_received("session.update", count=2, timeout=5)  # create_response off
            mem.feed(loud(400))  # "Hello?"
            mem.feed(b"\0\0" * 24 * 600)  # then silence: the VAD ends the turn
            outcome = await p.wait(timeout=10)
            await emu.wait_received("session.update", count=3, timeout=5)  # and back on
            await conn.close()
            await runner
    sent, received = emu.sent[-1], emu.received[-1]
    assert of_type(sent, "input_audio_buffer.speech_stopped")
    assert outcome.status is vp.GreetingStatus.SENT
    # The service answered nothing itself: the only response is the greeting.
    assert len(of_type(sent, "response.created")) == 1
    updates = [e["session"]["turn_detection"] for e in of_type(received, "session.update")[1:]]
    assert updates[0]["create_response"] is False
    assert updates[-1].get("create_response", True) is True
    create = of_type(received, "response.create")[0]
    assert received.index(create) < received.index(of_type(received, "session.update")[-1])


async def test_a_cough_pauses_the_greeting_and_it_is_heard_in_full(emu: Emulator) -> None:
    mem = MemoryAudioIO()
    policy = vp.InterruptionPolicy(min_duration_ms=300, resume_within_ms=2000)
    async with sdk_connect(emu) as conn:
        await session_with(conn, create_response=False)  # the app answers turns itself
        async with vp.ProactiveSession(conn, greeting=TEXT, audio=mem, interruptions=policy) as p:
            runner = asyncio.create_task(p.run())
            await p.wait(timeout=10)  # all of its audio is here
            mem.play_ms(400)
            await emu.cough(120, pace=0)
            await until(lambda: mem.pause_count == 1 and not mem.paused)  # paused, resumed
            mem.play_all()
            await until(lambda: p.outcome.settled)
            await conn.close()
            await runner
    assert of_type(emu.sent[-1], "input_audio_buffer.speech_started")
    assert of_type(emu.received[-1], "conversation.item.truncate") == []
    assert of_type(emu.received[-1], "response.cancel") == []
    outcome = p.outcome
    assert not outcome.interrupted and outcome.delivered


async def test_word_timestamps_say_exactly_what_was_heard(emu: Emulator) -> None:
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await session_with(conn)
        async with vp.ProactiveSession(conn, greeting=TEXT, audio=mem, word_timestamps=True) as p:
            runner = asyncio.create_task(p.run())
            await p.wait(timeout=10)
            mem.play_ms(1200)
            mem.feed(loud(500))
            await emu.wait_received("conversation.item.truncate", timeout=5)
            await conn.close()
            await runner
    sent = emu.sent[-1]
    words = [
        vp.WordTiming(
            e["text"], e["audio_offset_ms"], e["audio_offset_ms"] + e["audio_duration_ms"]
        )
        for e in of_type(sent, "response.audio_timestamp.delta")
    ]
    assert words
    outcome = p.outcome
    assert outcome.played_ms == 1200 and not outcome.heard_estimated
    assert outcome.heard_text == heard_words(words, 1200)
    assert not outcome.delivered


async def test_a_say_that_cannot_start_in_time_expires(emu: Emulator) -> None:
    from voicelive_proactive.emulator import Faults

    emu.faults = Faults(stall_audio_after_chunks=2, stall_audio_seconds=5)
    async with sdk_connect(emu) as conn:
        await session_with(conn)
        async with vp.ProactiveSession(conn, greeting=TEXT, audio=MemoryAudioIO()) as p:
            runner = asyncio.create_task(p.run())
            await emu.wait_sent("response.created", timeout=5)
            speech = p.say("Your order is ready.", expires_in=0.3)
            outcome = await speech.wait(timeout=5)
            await conn.close()
            await runner
    assert outcome.status is vp.GreetingStatus.SKIPPED
    assert "expired" in (outcome.reason or "")
    said = [
        e["response"]["pre_generated_assistant_message"]["content"][0]["text"]
        for e in of_type(emu.received[-1], "response.create")
    ]
    assert "Your order is ready." not in said


async def test_a_cough_the_service_answers_is_a_turn_after_all(emu: Emulator) -> None:
    mem = MemoryAudioIO()
    policy = vp.InterruptionPolicy(min_duration_ms=300, resume_within_ms=2000)
    async with sdk_connect(emu) as conn:
        await session_with(conn)  # create_response on: the service answers the cough
        async with vp.ProactiveSession(conn, greeting=TEXT, audio=mem, interruptions=policy) as p:
            runner = asyncio.create_task(p.run())
            await p.wait(timeout=10)
            mem.play_ms(400)
            await emu.cough(120, pace=0)
            await emu.wait_received("conversation.item.truncate", timeout=5)
            await conn.close()
            await runner
    # Its reply started: what was left of the greeting was dropped, and its item truncated
    # to where the caller was (the pause point); the reply plays instead.
    [truncate] = of_type(emu.received[-1], "conversation.item.truncate")
    assert truncate["audio_end_ms"] == 400
    assert p.outcome.interrupted and p.outcome.played_ms == 400
    assert (
        of_type(emu.sent[-1], "response.created")[-1]["response"]["id"]
        != (of_type(emu.sent[-1], "response.created")[0]["response"]["id"])
    )
