"""Regression tests for the races and faults of issue 8, each as its reproduction describes it.

``d(*events)`` pushes events through the fake (so the SDK deserializes them) into ``handle()``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import voicelive_proactive as vp
from voicelive_proactive.testing import (
    FakeConnection,
    ManualClock,
    MemoryAudioIO,
    audio_response_events,
)

from .conftest import deliver

U = {"type": "session.updated", "session": {"id": "s"}}
SPEECH = {"type": "input_audio_buffer.speech_started", "item_id": "u"}
CHUNK = b"\x01\x02" * 2400  # 100 ms
BUSY = "conversation_already_has_active_response"


def error(event_id: str | None, code: str = "invalid_value") -> dict[str, Any]:
    return {"type": "error", "error": {"code": code, "message": "m", "event_id": event_id}}


def created(rid: str, metadata: Any = None) -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": rid, "metadata": metadata}}


def done(rid: str, status: str = "completed") -> dict[str, Any]:
    return {"type": "response.done", "response": {"id": rid, "status": status}}


Deliver = Callable[..., Awaitable[None]]


def harness(**kw: Any) -> tuple[FakeConnection, vp.ProactiveSession, Deliver]:
    fake = FakeConnection()
    kw.setdefault("audio", None)
    kw.setdefault("greeting", "Hello!")
    proactive = vp.ProactiveSession(fake, **kw)

    async def d(*events: dict[str, Any]) -> None:
        await deliver(proactive, fake, *events)

    return fake, proactive, d


# -- 1. response attribution ----------------------------------------------------------------


async def test_the_services_own_reply_is_never_taken_for_the_greeting() -> None:
    fake, p, d = harness()
    await d(U)
    g = fake.sent[0]["event_id"]
    await d(
        SPEECH,
        created("r_vad"),
        error(g, BUSY),
        {"type": "response.done", "response": {"id": "r_vad"}},
    )
    # Never cancel the service's reply to the user; the user spoke first, so skip.
    assert fake.sent_types() == ["response.create"]
    assert p.outcome.status is vp.GreetingStatus.SKIPPED


async def test_a_busy_error_after_a_presumed_response_resends_the_greeting() -> None:
    fake, p, d = harness()
    await d(U)
    g = fake.sent[0]["event_id"]
    await d(created("r_vad"), error(g, BUSY))
    assert p.outcome.status is vp.GreetingStatus.PENDING
    assert fake.sent_types() == ["response.create"]  # not while r_vad is active
    await d(done("r_vad"))
    assert fake.sent_types() == ["response.create", "response.create"]
    second = fake.sent[1]
    await d(*audio_response_events("r_g", "i_g", [CHUNK], answering=second))
    assert p.outcome.status is vp.GreetingStatus.SENT


async def test_the_held_audio_of_a_refuted_response_plays_for_the_user() -> None:
    mem = MemoryAudioIO()
    fake, _p, d = harness(audio=mem)
    await d(U)
    g = fake.sent[0]["event_id"]
    vad = audio_response_events("r_vad", "i_vad", [CHUNK])
    # The user spoke after we asked: a response that may be ours must not talk over them...
    await d(SPEECH, *vad[:5])
    assert mem.queued == b""
    # ...but it was the service's reply to the user: it is released, in full.
    await d(error(g, BUSY), *vad[5:])
    assert mem.queued == CHUNK
    assert fake.sent_of("response.cancel") == []


async def test_a_tag_proves_ownership_and_an_untagged_response_is_then_not_ours() -> None:
    fake, p, d = harness(audio=MemoryAudioIO())
    await d(U)
    first = fake.sent[0]
    await d(*audio_response_events("r1", "i1", [CHUNK], answering=first))
    assert p.outcome.status is vp.GreetingStatus.SENT
    speech = p.say("Your table is ready.")
    await fake.wait_sent("response.create", count=2)
    second = fake.sent_of("response.create")[1]
    # The service echoes tags, so an untagged response now is somebody else's.
    await d(created("r_other"), SPEECH)
    assert speech.outcome.status is vp.GreetingStatus.PENDING
    assert fake.sent_of("response.cancel") == []
    # The barge-in cut off the greeting's unplayed audio (the speaker never played it).
    [truncate] = fake.sent_of("conversation.item.truncate")
    assert (truncate["item_id"], truncate["audio_end_ms"]) == ("i1", 0)
    await d(error(second["event_id"], BUSY), done("r_other"))
    assert len(fake.sent_of("response.create")) == 2  # the user is still speaking
    await d({"type": "input_audio_buffer.speech_stopped", "item_id": "u"})
    await fake.wait_sent("response.create", count=3)


# -- 2. handle() never waits for user code ----------------------------------------------------


async def test_a_hanging_async_strategy_never_blocks_handle() -> None:
    never = asyncio.Event()

    async def hangs(context: vp.GreetingContext) -> vp.Greeting:
        await never.wait()
        return vp.Greeting.spoken("too late")

    fake, p, d = harness(greeting=vp.CallableGreeting(hangs) | "Hello!", render_timeout=0.05)
    await asyncio.wait_for(d(U), timeout=1)  # returns at once
    assert fake.sent == []
    await fake.wait_sent("response.create")  # the timeout moved on to the fallback
    text = fake.sent[0]["response"]["pre_generated_assistant_message"]["content"][0]["text"]
    assert text == "Hello!"
    assert isinstance(p.outcome.strategy, vp.StaticGreeting)


async def test_speech_during_a_slow_render_in_run_mode_skips_the_greeting() -> None:
    release = asyncio.Event()

    async def slow(context: vp.GreetingContext) -> vp.Greeting:
        await release.wait()
        return vp.Greeting.spoken("Hi!")

    fake, p, _ = harness(greeting=slow)
    fake.push(U)
    fake.push(SPEECH)
    runner = asyncio.create_task(p.run())
    for _ in range(50):
        await asyncio.sleep(0.001)
    release.set()
    await p.wait(timeout=2)
    fake.close()
    await runner
    assert fake.sent_of("response.create") == []
    assert p.outcome.status is vp.GreetingStatus.SKIPPED


def test_render_timeout_is_validated() -> None:
    for bad in (0, -1, float("inf"), float("nan"), "5", True):
        with pytest.raises(vp.ConfigurationError, match="render_timeout"):
            harness(render_timeout=bad)
    harness(render_timeout=None)
    harness(render_timeout=0.5)


# -- 3. faults are isolated per concern -------------------------------------------------------


class FailingMicrophone(MemoryAudioIO):
    def start_capture(self, on_frame: Any) -> None:
        raise OSError("no microphone")


class FailingSpeaker(MemoryAudioIO):
    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        raise OSError("speaker unplugged")


async def test_a_microphone_that_fails_to_start_costs_nothing_else(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake, p, d = harness(audio=FailingMicrophone())
    with caplog.at_level(logging.WARNING, "voicelive_proactive"):
        await d(U)
    assert fake.sent_types() == ["response.create"]
    assert p.health.microphone_errors == 1
    assert "microphone" in caplog.text
    await d(*audio_response_events("r1", "i1", [CHUNK], answering=fake.sent[0]))
    assert p.outcome.status is vp.GreetingStatus.SENT


async def test_malformed_events_are_skipped() -> None:
    fake, p, d = harness(audio=MemoryAudioIO())
    await d(U)
    g = fake.sent[0]
    await d(
        {"type": "response.created"},  # no response
        {"type": "response.audio.delta", "response_id": "r1", "delta": "%%% not base64"},
        {"type": "response.done"},
        {"type": "error"},
    )
    assert p.health.malformed_events == 4
    assert p.outcome.status is vp.GreetingStatus.PENDING
    await d(*audio_response_events("r1", "i1", [CHUNK], answering=g))
    assert p.outcome.status is vp.GreetingStatus.SENT


async def test_a_failing_speaker_costs_neither_the_greeting_nor_truncation() -> None:
    fake, p, d = harness(audio=FailingSpeaker())
    await d(U)
    events = audio_response_events("r1", "i1", [CHUNK, CHUNK], answering=fake.sent[0])
    await d(*events[:6], SPEECH)
    assert p.health.audio_errors == 2
    assert p.outcome.status is vp.GreetingStatus.SENT
    assert p.outcome.interrupted
    [truncate] = fake.sent_of("conversation.item.truncate")
    assert truncate["item_id"] == "i1"


# -- 4. a settled outcome never changes -------------------------------------------------------


async def test_an_error_after_the_greeting_was_accepted_changes_nothing() -> None:
    fake, p, d = harness()
    await d(U)
    g = fake.sent[0]
    await d(*audio_response_events("r1", "i1", [CHUNK], answering=g))
    before = p.outcome
    await d(error(g["event_id"]), error(g["event_id"], BUSY))
    assert p.outcome == before and p.outcome.status is vp.GreetingStatus.SENT
    assert fake.sent_types() == ["response.create"]


# -- 5. an LLM greeting makes at most one agent turn -----------------------------------------


async def test_a_rejected_system_item_never_lets_two_greetings_reach_the_user() -> None:
    mem = MemoryAudioIO()
    fake, p, d = harness(
        audio=mem, greeting=vp.LLMGreeting("Greet the user.") | vp.StaticGreeting("Hello!")
    )
    await d(U)
    item, create = fake.sent
    # The service rejects the instructions but runs the response.create anyway.
    await d(error(item["event_id"]))
    events = audio_response_events("r1", "i1", [CHUNK], answering=create)
    await d(*events)
    assert mem.queued == b""  # a turn without its instructions never reaches the user
    assert [c["response_id"] for c in fake.sent_of("response.cancel")] == ["r1"]
    # Then, and only then, the fallback: one greeting in all.
    assert fake.sent_types()[-1] == "response.create"
    fallback = fake.sent_of("response.create")[-1]
    assert "pre_generated_assistant_message" in fallback["response"]
    await d(*audio_response_events("r2", "i2", [CHUNK], answering=fallback))
    assert mem.queued == CHUNK
    assert p.outcome.greeting == vp.Greeting.spoken("Hello!")


# -- 6. greet() from any thread, in any order -------------------------------------------------


async def test_greet_from_a_short_lived_thread_loop_before_any_event() -> None:
    fake, p, d = harness(greet_when="manual", audio=MemoryAudioIO())
    results: list[vp.GreetingOutcome] = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(p.greet())))
    thread.start()
    await asyncio.to_thread(thread.join)
    await fake.wait_sent("response.create")
    await d(U)
    assert fake.sent_types()[:1] == ["response.create"]
    assert len(fake.sent_of("response.create")) == 1
    assert p.audio is not None and p.audio.capturing  # type: ignore[attr-defined]
    # Later calls, from any thread, still work and still greet once.
    again = threading.Thread(target=lambda: results.append(asyncio.run(p.greet())))
    again.start()
    await asyncio.to_thread(again.join)
    assert len(fake.sent_of("response.create")) == 1 and len(results) == 2


def test_greet_before_the_session_loop_is_known_waits_for_it() -> None:
    fake = FakeConnection.__new__(FakeConnection)  # built outside any loop, like a sync app

    async def build() -> None:
        FakeConnection.__init__(fake)

    asyncio.run(build())
    p = vp.ProactiveSession(fake, greeting="Hello!", audio=None, greet_when="manual")
    outcome = asyncio.run(p.greet())  # a short-lived loop in this thread
    assert outcome.status is vp.GreetingStatus.PENDING

    async def main() -> None:
        fake.push(U)
        fake.close()
        await p.run()

    asyncio.run(main())
    assert fake.sent_types() == ["response.create"]


# -- construction: wrong types fail early, saying what to pass ------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"context": "x"}, "context must be a mapping"),
        ({"context": [1]}, "context must be a mapping"),
        ({"context": {1: "x"}}, "context keys"),
        ({"audio": "speaker"}, "audio must be an AudioIO"),
        ({"guard": 5}, "guard must have a try_acquire"),
        ({"greet_when": "no"}, "greet_when must be"),
        ({"greet_when": vp.AfterHello}, "needs parentheses"),
        ({"skip_if_user_spoke": 1}, "skip_if_user_spoke must be True or False"),
        ({"interruptible": None}, "interruptible must be True or False"),
        ({"nudge": 8.0}, "nudge must be a vp.IdleNudge"),
        ({"echo_guard_ms": -1}, "echo_guard_ms"),
        ({"greeting": lambda: vp.Greeting.spoken("x")}, "must take one argument"),
        ({"greeting": 42}, "GreetingStrategy"),
    ],
)
def test_wrong_types_are_rejected_at_construction(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(vp.ConfigurationError, match=match):
        harness(**kwargs)


def test_a_synchronous_connection_is_rejected() -> None:
    class SyncConn:
        def send(self, event: Any) -> None: ...

        def __aiter__(self) -> Any:
            return self

    with pytest.raises(vp.ConfigurationError, match="coroutine"):
        vp.ProactiveSession(SyncConn(), greeting="Hi", audio=None)  # type: ignore[arg-type]
    with pytest.raises(vp.ConfigurationError, match="async for"):
        vp.ProactiveSession(object(), greeting="Hi", audio=None)  # type: ignore[arg-type]


# -- closed sessions: one typed behaviour -----------------------------------------------------


async def test_every_entry_point_of_a_closed_session_raises_session_closed() -> None:
    _fake, p, d = harness()
    await d(U)
    await p.aclose()
    await p.aclose()  # twice is fine
    assert p.outcome.status is vp.GreetingStatus.FAILED
    assert "closed" in (p.outcome.reason or "")
    for call in (lambda: p.handle(U), p.greet, p.run, lambda: p.say("Hi")):
        with pytest.raises(vp.SessionClosedError, match="closed"):
            await call()
    assert issubclass(vp.SessionClosedError, RuntimeError)


# -- silent pending ---------------------------------------------------------------------------


async def test_a_session_that_never_gets_session_updated_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    _fake, _p, d = harness(clock=clock)
    with caplog.at_level(logging.WARNING, "voicelive_proactive"):
        await d({"type": "session.created", "session": {"id": "s"}})
        clock.advance(4.9)
        assert "session.update" not in caplog.text
        clock.advance(0.2)
        clock.advance(60)
    assert caplog.text.count("no session.updated") == 1
    assert "session.update" in caplog.text


async def test_no_warning_when_session_updated_comes(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    _fake, _p, d = harness(clock=clock)
    with caplog.at_level(logging.WARNING, "voicelive_proactive"):
        await d({"type": "session.created", "session": {"id": "s"}}, U)
        clock.advance(60)
    assert "no session.updated" not in caplog.text


# -- what was actually said -------------------------------------------------------------------


async def test_the_transcript_of_an_instructed_greeting_is_recorded() -> None:
    fake, p, d = harness(greeting=vp.LLMGreeting("Greet the user warmly."))
    await d(U)
    create = fake.sent[1]
    events = audio_response_events(
        "r1", "i1", [CHUNK], transcript="Hello there, how can I help?", answering=create
    )
    await d(*events)
    assert p.outcome.greeting == vp.Greeting.instructed("Greet the user warmly.")
    assert p.outcome.transcript == "Hello there, how can I help?"


# -- the testing kit --------------------------------------------------------------------------


async def test_the_fake_can_reject_the_next_event_of_a_type() -> None:
    fake, p, _ = harness(greeting=vp.StaticGreeting("Hi!") | vp.LLMGreeting("Greet."))
    fake.reply_error("response.create", "unknown_parameter", param="response.metadata")
    fake.push(U)
    fake.close()
    await p.run()
    assert fake.sent_types() == ["response.create", "conversation.item.create", "response.create"]
    assert p.outcome.greeting == vp.Greeting.instructed("Greet.")


async def test_the_fakes_and_the_emulators_waits_raise_the_same_timeout() -> None:
    fake = FakeConnection()
    with pytest.raises(TimeoutError):
        await fake.wait_sent("response.create", timeout=0.01)
    p = vp.ProactiveSession(fake, greeting="Hi", audio=None)
    with pytest.raises(TimeoutError):
        await p.wait(timeout=0.01)
