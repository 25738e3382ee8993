"""Every fault the emulator can inject ends in a defined outcome, and never in a crash."""

from __future__ import annotations

import asyncio

import pytest
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator, Faults
from voicelive_proactive.testing import MemoryAudioIO

from .conftest import configure, run_until_settled, sdk_connect


def received(emu: Emulator, event_type: str) -> list[dict[str, object]]:
    return [e for e in emu.received[0] if e["type"] == event_type]


async def greet_through(emu: Emulator, greeting: vp.StrategyLike = "Hello!") -> vp.ProactiveSession:
    async with sdk_connect(emu) as conn:
        await configure(conn)
        p = vp.ProactiveSession(conn, greeting=greeting, audio=MemoryAudioIO())
        async with p:
            await asyncio.wait_for(p.run(), timeout=10)
    return p


async def test_drop_before_session_updated_fails_cleanly(emu: Emulator) -> None:
    emu.faults = Faults(drop_after_events=1)  # only session.created gets through
    p = await greet_through(emu)
    assert p.outcome.status is vp.GreetingStatus.FAILED
    assert "closed before the greeting" in (p.outcome.reason or "")
    assert received(emu, "response.create") == []


async def test_drop_mid_greeting_keeps_sent_and_settles(emu: Emulator) -> None:
    emu.faults = Faults(drop_after_events=6)  # created, updated, response.created, ...
    p = await greet_through(emu)
    assert p.outcome.status is vp.GreetingStatus.SENT
    assert p.outcome.settled
    assert p.metrics.response_created is not None
    assert p.metrics.done is None
    assert len(received(emu, "response.create")) == 1


async def test_delayed_and_repeated_session_updated_greets_once(emu: Emulator) -> None:
    emu.faults = Faults(session_updated_delay=0.2, session_updated_repeat=3)
    async with sdk_connect(emu) as conn:
        await configure(conn)
        await configure(conn)
        p = vp.ProactiveSession(conn, greeting="Hello!", audio=None)
        async with p:
            outcome = await run_until_settled(p, conn)
    updated = [e for e in emu.sent[0] if e["type"] == "session.updated"]
    assert len(updated) == 8
    assert len(received(emu, "response.create")) == 1
    assert outcome.status is vp.GreetingStatus.SENT


async def test_error_on_the_greeting_falls_back(emu: Emulator) -> None:
    emu.faults = Faults(response_errors={1: ("server_error", "the TTS is down")})
    async with sdk_connect(emu) as conn:
        await configure(conn)
        chain = vp.StaticGreeting("Hi!") | vp.LLMGreeting("Greet the user.")
        p = vp.ProactiveSession(conn, greeting=chain, audio=None)
        async with p:
            outcome = await run_until_settled(p, conn)
    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.greeting == vp.Greeting.instructed("Greet the user.")
    assert len(received(emu, "response.create")) == 2


async def test_error_on_the_greeting_without_fallback_fails(emu: Emulator) -> None:
    emu.faults = Faults(response_errors={1: ("server_error", "the TTS is down")})
    async with sdk_connect(emu) as conn:
        await configure(conn)
        p = vp.ProactiveSession(conn, greeting="Hi!", audio=None)
        async with p:
            outcome = await run_until_settled(p, conn)
    assert outcome.status is vp.GreetingStatus.FAILED
    assert "the TTS is down" in str(outcome.error)


async def test_stalled_audio_still_completes(emu: Emulator) -> None:
    emu.faults = Faults(stall_audio_after_chunks=2, stall_audio_seconds=0.3)
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await configure(conn)
        p = vp.ProactiveSession(conn, greeting="Hello there, Lisa!", audio=mem)
        async with p:
            outcome = await run_until_settled(p, conn)
    assert outcome.status is vp.GreetingStatus.SENT
    assert p.metrics.ready_to_done_ms is not None
    assert p.metrics.ready_to_done_ms >= 300
    deltas = [e for e in emu.sent[0] if e["type"] == "response.audio.delta"]
    assert len(mem.queued) == sum(len(e["delta"]) * 3 // 4 for e in deltas)


async def test_slow_response_created_is_not_mistaken_for_idle(emu: Emulator) -> None:
    emu.faults = Faults(response_created_delay=0.3, session_updated_repeat=2)
    async with sdk_connect(emu) as conn:
        await configure(conn)
        p = vp.ProactiveSession(conn, greeting="Hello!", audio=None)
        async with p:
            outcome = await run_until_settled(p, conn)
    assert outcome.status is vp.GreetingStatus.SENT
    assert len(received(emu, "response.create")) == 1
    assert not [e for e in emu.sent[0] if e["type"] == "error"]


async def test_rejected_upgrade_raises_the_sdk_error(emu: Emulator) -> None:
    emu.faults = Faults(reject_status=503)
    with pytest.raises(SdkConnectionError):
        async with sdk_connect(emu):
            pass


async def test_wrong_key_is_refused() -> None:
    async with Emulator(api_key="right-key") as emu:
        with pytest.raises(SdkConnectionError, match="401") as info:
            async with vp_connect(emu.endpoint, "wrong-key"):
                pass
        assert len(emu.connections) == 0
        assert "wrong-key" not in str(info.value)
        assert "right-key" not in repr(emu)


def vp_connect(endpoint: str, key: str) -> object:
    from azure.ai.voicelive.aio import connect

    return connect(endpoint=endpoint, credential=AzureKeyCredential(key), model="gpt-realtime")
