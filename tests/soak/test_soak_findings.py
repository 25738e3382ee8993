"""What the chaos soak found, each reduced to a few lines with a FakeConnection.

Each asserts what the caller should be told; each failed before the engine (issue 16).
"""

from __future__ import annotations

import asyncio

import pytest

import voicelive_proactive as vp
from voicelive_proactive.testing import FakeConnection, MemoryAudioIO, audio_response_events

pytestmark = pytest.mark.soak
CHUNK = b"\1\0" * 2400  # 100 ms


def claims_heard_in_full(outcome: vp.GreetingOutcome) -> bool:
    return outcome.status is vp.GreetingStatus.SENT and not outcome.interrupted


async def test_closing_with_audio_unplayed_does_not_claim_it_was_heard() -> None:
    fake, speaker = FakeConnection(), MemoryAudioIO()
    proactive = vp.ProactiveSession(fake, greeting="Hello!", audio=speaker)
    fake.push({"type": "session.updated", "session": {"id": "s1"}})
    await proactive.handle(await fake.recv())
    [create] = fake.sent_of("response.create")
    for event in audio_response_events(
        "r1", "i1", [CHUNK] * 5, transcript="Hello!", answering=create
    ):
        fake.push(event)
        await proactive.handle(await fake.recv())
    await proactive.aclose()  # the app hangs up, or its connection dropped: 500 ms unplayed
    assert speaker.played == b""
    assert proactive.outcome.settled
    assert not claims_heard_in_full(proactive.outcome)


async def test_a_drop_mid_response_does_not_claim_it_was_heard() -> None:
    fake, speaker = FakeConnection(), MemoryAudioIO()
    proactive = vp.ProactiveSession(fake, greeting="Hello, thanks for calling!", audio=speaker)
    runner = asyncio.create_task(proactive.run())
    fake.push({"type": "session.updated", "session": {"id": "s1"}})
    await fake.wait_sent("response.create")
    [create] = fake.sent_of("response.create")
    events = audio_response_events(
        "r1", "i1", [CHUNK] * 10, transcript="Hello, thanks for calling!", answering=create
    )
    audio = [e for e in events if e["type"] == "response.audio.delta"]
    for event in [e for e in events if e["type"] != "response.audio.delta"][:5] + audio[:2]:
        fake.push(event)  # created, item, part, transcript, then 2 of its 10 chunks
    fake.close()  # the socket drops: no response.done
    await runner
    speaker.play_all()  # even if every byte received is heard: 200 ms of 1 s
    await asyncio.sleep(0)  # the speaker's report reaches the session's loop
    assert len(speaker.played) == 2 * len(CHUNK)
    assert proactive.outcome.settled and proactive.outcome.played_ms == 200
    assert not claims_heard_in_full(proactive.outcome)
    await proactive.aclose()


async def test_a_greeting_that_failed_outright_does_not_spend_the_guard() -> None:
    guard = vp.OnceGuard()  # one conversation; a RedisOnceGuard on its key behaves the same

    def crm_down(context: vp.GreetingContext) -> vp.Greeting:
        raise RuntimeError("the CRM is down")

    said: list[list[str]] = []
    for greeting in (crm_down, vp.StaticGreeting("Hello, thanks for calling!")):
        fake = FakeConnection()  # each connection of the call
        proactive = vp.ProactiveSession(
            fake, greeting=greeting, resume_greeting="Welcome back!", guard=guard, audio=None
        )
        fake.push({"type": "session.updated", "session": {"id": "s1"}})
        await proactive.handle(await fake.recv())
        said.append(
            [
                e["response"]["pre_generated_assistant_message"]["content"][0]["text"]
                for e in fake.sent_of("response.create")
            ]
        )
        await proactive.aclose()
    assert said[0] == []  # the first connection's greeting failed: nothing was sent
    assert said[1] == ["Hello, thanks for calling!"]
