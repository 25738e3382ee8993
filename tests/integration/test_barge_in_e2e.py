"""Barge-in for real: loud microphone audio trips the emulator's VAD mid-greeting."""

from __future__ import annotations

import asyncio
import base64

import numpy as np

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator, Faults
from voicelive_proactive.testing import MemoryAudioIO

from .conftest import configure, sdk_connect, until

BYTES_PER_MS = 48


def loud(ms: int) -> bytes:
    t = np.arange(24 * ms) / 24_000
    return (np.sin(2 * np.pi * 440 * t) * 12_000).astype("<i2").tobytes()


async def test_user_interrupts_the_greeting(emu: Emulator) -> None:
    # Hold the greeting's audio after 5 chunks so the user talks over a live response.
    emu.faults = Faults(stall_audio_after_chunks=5, stall_audio_seconds=10)
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await configure(conn)
        async with vp.ProactiveSession(conn, greeting="Hi Lisa, welcome back!", audio=mem) as p:
            runner = asyncio.create_task(p.run())
            await until(lambda: p.metrics.audio_bytes >= 5 * 100 * BYTES_PER_MS)
            mem.play_ms(200)  # the user has heard 200 ms when they start talking
            mem.feed(loud(400))
            await emu.wait_received("conversation.item.truncate", timeout=5)
            await emu.wait_sent("conversation.item.truncated", timeout=5)
            await conn.close()
            await runner

    sent = emu.sent[0]
    speech = [e for e in sent if e["type"] == "input_audio_buffer.speech_started"]
    assert speech, "the emulator's VAD heard the user"
    greeting_done = next(e for e in sent if e["type"] == "response.done")
    assert greeting_done["response"]["status"] == "cancelled"
    assert greeting_done["response"]["status_details"]["reason"] == "turn_detected"

    # Local audio was flushed at once, and nothing of the cancelled response came after.
    assert mem.skip_count >= 1
    assert mem.queued == mem.played
    assert len(mem.played) == 200 * BYTES_PER_MS

    # The greeting item was truncated to exactly what was heard.
    [truncate] = [e for e in emu.received[0] if e["type"] == "conversation.item.truncate"]
    assert truncate["audio_end_ms"] == 200
    assert truncate["content_index"] == 0
    item_added = next(e for e in sent if e["type"] == "response.output_item.added")
    assert truncate["item_id"] == item_added["item"]["id"]
    assert p.outcome.interrupted
    assert p.outcome.played_ms == 200
    assert p.outcome.status is vp.GreetingStatus.SENT


async def test_user_speaking_before_the_session_is_ready_skips_the_greeting(
    emu: Emulator,
) -> None:
    emu.faults = Faults(session_updated_delay=0.5)
    mem = MemoryAudioIO()
    async with (
        sdk_connect(emu) as conn,
        vp.ProactiveSession(conn, greeting="Hello!", audio=mem) as p,
    ):
        runner = asyncio.create_task(p.run())
        # The app streams the microphone itself before the session is configured.
        await conn.session.update(session={"modalities": ["text", "audio"]})
        for _ in range(3):
            await conn.input_audio_buffer.append(audio=base64.b64encode(loud(100)).decode())
        outcome = await p.wait(timeout=5)
        await conn.close()
        await runner
    assert outcome.status is vp.GreetingStatus.SKIPPED
    assert not [e for e in emu.received[0] if e["type"] == "response.create"]
