"""The robust core and proactive speech, end to end: the real SDK into the emulator."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import numpy as np
import pytest

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator, Faults
from voicelive_proactive.floor import TAG_KEY
from voicelive_proactive.testing import MemoryAudioIO

from .conftest import configure, sdk_connect, until

BYTES_PER_MS = 48


def loud(ms: int) -> bytes:
    t = np.arange(24 * ms) / 24_000
    return (np.sin(2 * np.pi * 440 * t) * 12_000).astype("<i2").tobytes()


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


async def test_the_services_own_response_racing_the_greeting_is_left_alone(
    emu: Emulator,
) -> None:
    # Server VAD starts a reply just before the greeting's response.create is processed.
    emu.faults = Faults(vad_response_before_create=1)
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await configure(conn)
        async with vp.ProactiveSession(conn, greeting="Hello, welcome!", audio=mem) as p:
            runner = asyncio.create_task(p.run())
            outcome = await p.wait(timeout=10)
            await conn.close()
            await runner
    received, sent = emu.received[0], emu.sent[0]
    creates = of_type(received, "response.create")
    assert len(creates) == 2  # the busy one, then the same greeting again
    errors = of_type(sent, "error")
    assert errors[0]["error"]["code"] == "conversation_already_has_active_response"
    assert errors[0]["error"]["event_id"] == creates[0]["event_id"]
    assert of_type(received, "response.cancel") == []  # the service's reply was not touched
    responses = of_type(sent, "response.created")
    assert responses[0]["response"]["metadata"] is None  # the service's own
    assert responses[1]["response"]["metadata"] == {TAG_KEY: creates[1]["event_id"]}
    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.transcript == "Hello, welcome!"
    # The service's reply and then the greeting both played, in that order.
    done = of_type(sent, "response.done")
    assert [d["response"]["status"] for d in done] == ["completed", "completed"]


async def test_a_hanging_strategy_falls_back_and_the_loop_keeps_reading(emu: Emulator) -> None:
    forever = asyncio.Event()

    async def crm_lookup(context: vp.GreetingContext) -> vp.Greeting:
        await forever.wait()  # the CRM never answers
        return vp.Greeting.spoken("never")

    async with sdk_connect(emu) as conn:
        await configure(conn)
        async with vp.ProactiveSession(
            conn,
            greeting=vp.CallableGreeting(crm_lookup) | vp.StaticGreeting("Hello there!"),
            audio=None,
            render_timeout=0.2,
        ) as p:
            seen: list[str] = []
            runner = asyncio.create_task(p.run(on_event=lambda e: seen.append(e.type)))
            outcome = await p.wait(timeout=10)
            await conn.close()
            await runner
    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.greeting == vp.Greeting.spoken("Hello there!")
    assert outcome.attempts == 2
    assert "did not render within 0.2 s" in str(p.greeting.errors[0])
    assert seen[:2] == ["session.created", "session.updated"]


async def test_a_microphone_that_fails_to_start_costs_nothing_else(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    class NoMicrophone(MemoryAudioIO):
        def start_capture(self, on_frame: Any) -> None:
            raise OSError("the microphone is in use by another app")

    mem = NoMicrophone()
    async with sdk_connect(emu) as conn:
        await configure(conn)
        async with vp.ProactiveSession(conn, greeting="Hello!", audio=mem) as p:
            with caplog.at_level(logging.WARNING, "voicelive_proactive"):
                runner = asyncio.create_task(p.run())
                outcome = await p.wait(timeout=10)
            await conn.close()
            await runner
    assert outcome.status is vp.GreetingStatus.SENT
    assert len(mem.queued) > 0
    assert p.health.microphone_errors == 1
    assert caplog.text.count("microphone is in use") == 1


async def test_two_says_made_together_are_spoken_one_after_the_other(emu: Emulator) -> None:
    async with sdk_connect(emu) as conn:
        await configure(conn)
        async with vp.ProactiveSession(conn, greeting="Welcome!", audio=MemoryAudioIO()) as p:
            runner = asyncio.create_task(p.run())
            first, second = p.say("Your table is ready."), p.say("Enjoy!")
            outcomes = [await s.wait(timeout=10) for s in (p.greeting, first, second)]
            await conn.close()
            await runner
    assert [o.transcript for o in outcomes] == ["Welcome!", "Your table is ready.", "Enjoy!"]
    # On the wire: never a response.create while a response was active (no busy errors).
    assert of_type(emu.sent[0], "error") == []
    order = [e["type"] for e in emu.sent[0] if e["type"] in ("response.created", "response.done")]
    assert order == ["response.created", "response.done"] * 3


async def test_an_uninterruptible_greeting_is_heard_in_full_despite_loud_speech(
    emu: Emulator,
) -> None:
    mem = MemoryAudioIO()
    app_turns = {"type": "server_vad", "threshold": 0.4, "silence_duration_ms": 300}
    async with sdk_connect(emu) as conn:
        await conn.session.update(
            session={"modalities": ["text", "audio"], "turn_detection": app_turns}
        )
        async with vp.ProactiveSession(
            conn,
            greeting="This call may be recorded for quality purposes.",
            audio=mem,
            interruptible=False,
        ) as p:
            seen: list[str] = []
            runner = asyncio.create_task(p.run(on_event=lambda e: seen.append(e.type)))
            await until(lambda: p.metrics.audio_bytes > 0)
            mem.feed(loud(600))  # the caller talks over the notice
            await p.wait(timeout=10)
            await until(lambda: "input_audio_buffer.speech_started" in seen)
            assert not p.outcome.settled  # still playing: the user's speech changed nothing
            mem.play_all()
            await emu.wait_received("session.update", count=3, timeout=5)
            await conn.close()
            await runner
    received, sent = emu.received[0], emu.sent[0]
    greeting_done = of_type(sent, "response.done")[0]
    assert greeting_done["response"]["status"] == "completed"  # not cancelled by the VAD
    assert mem.skip_count == 0
    audio = [e for e in sent if e["type"] == "response.audio.delta"]
    assert len(mem.queued) == sum(len(base64.b64decode(e["delta"])) for e in audio)
    assert of_type(received, "conversation.item.truncate") == []
    forbid, restore = of_type(received, "session.update")[1:3]
    assert forbid["session"]["turn_detection"]["interrupt_response"] is False
    assert forbid["session"]["turn_detection"]["threshold"] == 0.4  # the app's other settings
    assert restore["session"]["turn_detection"].get("interrupt_response", True) is not False
    assert p.outcome.settled and not p.outcome.interrupted


async def test_an_idle_nudge_goes_out_after_playout_and_then_on_exhausted(
    emu: Emulator,
) -> None:
    exhausted = asyncio.Event()
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await configure(conn)
        async with vp.ProactiveSession(
            conn,
            greeting="Hello!",
            audio=mem,
            nudge=vp.IdleNudge(
                after=0.3, max_nudges=1, strategy="Still there?", on_exhausted=exhausted.set
            ),
        ) as p:
            nudges: list[vp.Speech] = []
            p.on(vp.NudgeFired, lambda event: nudges.append(event.speech))
            runner = asyncio.create_task(p.run())
            await p.wait(timeout=10)
            await asyncio.sleep(0.6)
            # Audio still "playing" (the test has not played it): no nudge yet.
            assert len(of_type(emu.received[0], "response.create")) == 1
            mem.play_all()
            await emu.wait_received("response.create", count=2, timeout=5)
            await until(lambda: bool(nudges))
            await nudges[0].wait(timeout=5)  # all of its audio has arrived
            mem.play_all()
            await asyncio.wait_for(exhausted.wait(), timeout=5)
            await conn.close()
            await runner
    said = [
        e["response"]["pre_generated_assistant_message"]["content"][0]["text"]
        for e in of_type(emu.received[0], "response.create")
    ]
    assert said == ["Hello!", "Still there?"]
