"""Every strategy, end to end: the real SDK client, a real WebSocket, the emulator."""

from __future__ import annotations

import random

import pytest

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator
from voicelive_proactive.testing import MemoryAudioIO

from .conftest import configure, run_until_settled, sdk_connect


def creates(emu: Emulator) -> list[dict[str, object]]:
    return [e for e in emu.received[0] if e["type"] == "response.create"]


def transcript(emu: Emulator) -> str:
    done = [e for e in emu.sent[0] if e["type"] == "response.audio_transcript.done"]
    return str(done[0]["transcript"])


@pytest.mark.parametrize(
    ("strategy", "context", "spoken"),
    [
        (vp.StaticGreeting("Hi Lisa, welcome back!"), None, "Hi Lisa, welcome back!"),
        (
            vp.TemplateGreeting("Hi {name}, welcome back!"),
            {"name": "Lisa"},
            "Hi Lisa, welcome back!",
        ),
        (vp.RandomGreeting(["Hello!", "Hi there!"], rng=random.Random(3)), None, None),
    ],
)
async def test_spoken_strategies_are_said_verbatim(
    emu: Emulator,
    strategy: vp.GreetingStrategy,
    context: dict[str, str] | None,
    spoken: str | None,
) -> None:
    mem = MemoryAudioIO()
    async with sdk_connect(emu) as conn:
        await configure(conn)
        async with vp.ProactiveSession(conn, greeting=strategy, context=context, audio=mem) as p:
            outcome = await run_until_settled(p, conn)
    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.greeting is not None
    said = transcript(emu)
    assert said == outcome.greeting.text
    if spoken is not None:
        assert said == spoken
    [create] = creates(emu)
    assert create["response"]["pre_generated_assistant_message"]["content"][0]["text"] == said  # type: ignore[index]
    assert len(mem.queued) == p.metrics.audio_bytes > 12_000  # a quarter second of speech, at least
    assert p.metrics.sent_to_first_audio_ms is not None


async def test_llm_strategy_makes_the_model_greet_by_name(emu: Emulator) -> None:
    async with sdk_connect(emu) as conn:
        await configure(conn)
        p = vp.ProactiveSession(
            conn,
            greeting=vp.LLMGreeting("Greet the user, whose name is {name}, warmly."),
            context={"name": "Lisa"},
            audio=MemoryAudioIO(),
        )
        async with p:
            outcome = await run_until_settled(p, conn)
    assert outcome.greeting == vp.Greeting.instructed(
        'Greet the user, whose name is "Lisa", warmly.'
    )
    system = [e for e in emu.received[0] if e["type"] == "conversation.item.create"]
    assert system[0]["item"]["role"] == "system"  # type: ignore[index]
    assert "Lisa" in transcript(emu)


async def test_fallback_chain_against_an_old_api_version(emu: Emulator) -> None:
    chain = vp.StaticGreeting("Hi Lisa!") | vp.LLMGreeting("Greet the user briefly.")
    async with sdk_connect(emu, api_version="2025-10-01") as conn:
        await configure(conn)
        p = vp.ProactiveSession(conn, greeting=chain, audio=MemoryAudioIO())
        async with p:
            outcome = await run_until_settled(p, conn)
    errors = [e for e in emu.sent[0] if e["type"] == "error"]
    assert errors[0]["error"]["code"] == "unknown_parameter"  # type: ignore[index]
    assert errors[0]["error"]["event_id"] == creates(emu)[0]["event_id"]  # type: ignore[index]
    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.greeting == vp.Greeting.instructed("Greet the user briefly.")
    assert outcome.attempts == 2
    assert len(creates(emu)) == 2


async def test_repeated_session_updates_greet_once(emu: Emulator) -> None:
    async with sdk_connect(emu) as conn:
        for _ in range(3):
            await configure(conn)
        p = vp.ProactiveSession(conn, greeting="Hello!", audio=None)
        async with p:
            await run_until_settled(p, conn)
    assert len(creates(emu)) == 1
