"""Telephony formats end to end: a greeting, a tool call and a barge-in, through the real SDK,
for every output format Voice Live offers. Truncation must be exact in each."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
import pytest

import voicelive_proactive as vp
from voicelive_proactive.audio.formats import AudioFormat
from voicelive_proactive.emulator import Emulator, Faults
from voicelive_proactive.testing import MemoryAudioIO

from .conftest import sdk_connect, until

FORMATS = ["pcm16", "pcm16_16000hz", "pcm16_8000hz", "g711_ulaw", "g711_alaw"]
TOOL = {
    "type": "function",
    "name": "get_customer",
    "description": "Look up the caller by phone number.",
    "parameters": {
        "type": "object",
        "properties": {"phone": {"type": "string"}},
        "required": ["phone"],
    },
}


def loud(ms: int) -> bytes:
    t = np.arange(24 * ms) / 24_000
    return (np.sin(2 * np.pi * 440 * t) * 12_000).astype("<i2").tobytes()


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


async def configure(conn: Any, output: str, **extra: Any) -> None:
    await conn.session.update(
        session={"modalities": ["text", "audio"], "output_audio_format": output, **extra}
    )


@pytest.mark.parametrize("output", FORMATS)
async def test_the_greeting_plays_in_the_negotiated_format(emu: Emulator, output: str) -> None:
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await configure(conn, output)
        async with vp.ProactiveSession(conn, greeting="Hello, this is your bank.", audio=mem) as p:
            runner = asyncio.create_task(p.run())
            outcome = await p.wait(timeout=10)
            mem.play_all()
            await until(lambda: p.outcome.settled)
            await conn.close()
            await runner
    fmt = AudioFormat.from_output(output)
    assert p.output_format == fmt
    assert mem.output_format == fmt  # the backend was told
    deltas = of_type(emu.sent[0], "response.audio.delta")
    wire = b"".join(base64.b64decode(d["delta"]) for d in deltas)
    assert mem.played == wire  # the bytes as the service sent them
    assert outcome.status is vp.GreetingStatus.SENT
    assert p.metrics.audio_bytes == len(wire)
    # Roughly 100 ms chunks in every format: the byte rate is the format's.
    assert abs(fmt.duration_ms(len(base64.b64decode(deltas[0]["delta"]))) - 100) < 1


@pytest.mark.parametrize("output", FORMATS)
async def test_a_barge_in_truncates_to_exactly_what_was_heard(emu: Emulator, output: str) -> None:
    emu.faults = Faults(stall_audio_after_chunks=5, stall_audio_seconds=10)
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await configure(conn, output)
        async with vp.ProactiveSession(conn, greeting="Hi Lisa, welcome back!", audio=mem) as p:
            runner = asyncio.create_task(p.run())
            fmt = AudioFormat.from_output(output)
            await until(lambda: p.metrics.audio_bytes >= fmt.bytes_for_ms(500))
            mem.play_ms(200)
            mem.feed(loud(400))
            await emu.wait_sent("conversation.item.truncated", timeout=5)
            await conn.close()
            await runner
    [truncate] = of_type(emu.received[0], "conversation.item.truncate")
    assert truncate["audio_end_ms"] == 200
    assert len(mem.played) == fmt.bytes_for_ms(200)
    assert p.outcome.played_ms == 200 and p.outcome.interrupted


@pytest.mark.parametrize("output", FORMATS)
async def test_a_greeting_that_calls_a_tool_speaks_after_the_tools_answer(
    emu: Emulator, output: str
) -> None:
    mem = MemoryAudioIO()
    calls: list[vp.FunctionCall] = []
    async with sdk_connect(emu) as conn:
        await configure(conn, output, tools=[TOOL], tool_choice="required")
        async with vp.ProactiveSession(
            conn,
            greeting=vp.LLMGreeting("Look the caller up, then greet them by name."),
            audio=mem,
        ) as p:

            async def answer_tool(event: vp.FunctionCallRequested) -> None:
                calls.append(event.call)
                output_item = {
                    "type": "function_call_output",
                    "call_id": event.call.call_id,
                    "output": json.dumps({"name": "Lisa"}),
                }
                await conn.send({"type": "conversation.item.create", "item": output_item})
                # The app asks for the next response as it would for any tool call: plain,
                # without tools this time, so the model speaks.
                await conn.send({"type": "response.create", "response": {"tool_choice": "none"}})

            p.on(vp.FunctionCallRequested, answer_tool)
            runner = asyncio.create_task(p.run())
            outcome = await p.wait(timeout=10)
            await conn.close()
            await runner
    assert [c.name for c in calls] == ["get_customer"]
    assert json.loads(calls[0].arguments or "{}").keys() >= {"phone"}
    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.function_calls == tuple(calls)
    assert outcome.transcript and mem.queued
    sent = emu.sent[0]
    done = of_type(sent, "response.done")
    assert [d["response"]["output"][0]["type"] for d in done] == ["function_call", "message"]
