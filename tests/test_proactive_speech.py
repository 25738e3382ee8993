"""Proactive speech after the greeting: say(), idle nudges, speech that cannot be cut off,
events, and greetings whose first response calls a tool."""

from __future__ import annotations

import asyncio
import logging
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

TURNS = {"type": "server_vad", "threshold": 0.5, "create_response": True}
U = {"type": "session.updated", "session": {"id": "s", "turn_detection": TURNS}}
U_NO_VAD = {"type": "session.updated", "session": {"id": "s", "turn_detection": None}}
STARTED = {"type": "input_audio_buffer.speech_started", "item_id": "u"}
STOPPED = {"type": "input_audio_buffer.speech_stopped", "item_id": "u"}
CHUNK = b"\x01\x02" * 2400  # 100 ms at 24 kHz


class Harness:
    def __init__(self, **kw: Any) -> None:
        self.fake = FakeConnection()
        self.clock = ManualClock()
        kw.setdefault("audio", None)
        kw.setdefault("greeting", "Hello!")
        self.p = vp.ProactiveSession(self.fake, clock=self.clock, **kw)
        self.responses = 0

    async def d(self, *events: dict[str, Any]) -> None:
        await deliver(self.p, self.fake, *events)

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def answer(self, create: dict[str, Any], chunks: int = 1, **kw: Any) -> str:
        """Play the service: speak the response to ``create`` in full."""
        self.responses += 1
        rid = f"r{self.responses}"
        await self.d(
            *audio_response_events(rid, f"i{rid}", [CHUNK] * chunks, answering=create, **kw)
        )
        return rid

    def creates(self) -> list[dict[str, Any]]:
        return self.fake.sent_of("response.create")

    def said(self, create: dict[str, Any]) -> str:
        message = create["response"]["pre_generated_assistant_message"]
        text: str = message["content"][0]["text"]
        return text


# -- say() ------------------------------------------------------------------------------------


async def test_say_returns_a_handle_at_once_and_speaks_in_order() -> None:
    h = Harness()
    await h.d(U)
    greeting = h.creates()[0]
    first = h.p.say("Your table is ready.")
    second = h.p.say(vp.StaticGreeting("Dessert is on the house."))
    assert isinstance(first, vp.Speech) and first.kind is vp.SpeechKind.SAY
    await h.settle()
    assert len(h.creates()) == 1  # both wait behind the greeting's response
    await h.answer(greeting)
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["Hello!", "Your table is ready."]
    await h.answer(h.creates()[1])
    await h.settle()
    assert [h.said(c) for c in h.creates()][-1] == "Dessert is on the house."
    await h.answer(h.creates()[2])
    assert (await first.wait(timeout=1)).status is vp.GreetingStatus.SENT
    assert (await second.wait(timeout=1)).status is vp.GreetingStatus.SENT


async def test_two_says_at_once_never_overlap_on_the_wire() -> None:
    h = Harness(greet_when="manual")
    await h.d(U)
    a, b = h.p.say("One."), h.p.say("Two.")
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["One."]
    await h.answer(h.creates()[0])
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["One.", "Two."]
    assert a.outcome.status is vp.GreetingStatus.SENT
    assert b.outcome.status is vp.GreetingStatus.PENDING


async def test_say_is_not_guarded_by_once_but_the_greeting_still_is() -> None:
    h = Harness()
    await h.d(U, U)
    await h.answer(h.creates()[0])
    for _ in range(2):
        h.p.say("Hello!")
        await h.settle()
        await h.answer(h.creates()[-1])
    await h.p.greet()
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["Hello!", "Hello!", "Hello!"]


async def test_say_accepts_a_greeting_a_callable_and_an_instruction() -> None:
    h = Harness(greet_when="manual", context={"name": "Lisa"})
    await h.d(U)
    h.p.say(vp.Greeting.spoken("Exact words."))
    await h.settle()
    await h.answer(h.creates()[-1])
    h.p.say(lambda ctx: vp.Greeting.spoken(f"Bye {ctx['name']}."))
    await h.settle()
    await h.answer(h.creates()[-1])
    h.p.say(vp.LLMGreeting("Tell {name} the order shipped."), interruptible=False)
    await h.settle()
    items = h.fake.sent_of("conversation.item.create")
    assert items[-1]["item"]["content"][0]["text"] == 'Tell "Lisa" the order shipped.'
    assert [h.said(c) for c in h.creates()[:2]] == ["Exact words.", "Bye Lisa."]


async def test_when_the_user_is_speaking_say_waits_skips_or_speaks() -> None:
    h = Harness(greet_when="manual")
    await h.d(U_NO_VAD, STARTED)
    skipped = h.p.say("Never mind.", if_user_speaking="skip")
    await h.settle()
    assert skipped.outcome.status is vp.GreetingStatus.SKIPPED
    waiting = h.p.say("After you.", if_user_speaking="wait")
    await h.settle()
    assert h.creates() == []
    await h.d(STOPPED)
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["After you."]
    assert waiting.outcome.status is vp.GreetingStatus.PENDING
    h2 = Harness(greet_when="manual")
    await h2.d(U, STARTED)
    h2.p.say("Urgent!", if_user_speaking="speak")
    await h2.settle()
    assert [h2.said(c) for c in h2.creates()] == ["Urgent!"]


async def test_say_waits_for_the_services_reply_to_the_user() -> None:
    # With create_response, the service answers the user's turn: say() goes after it, not
    # into the gap between speech_stopped and that reply's response.created.
    h = Harness(greet_when="manual")
    await h.d(U, STARTED, STOPPED)
    h.p.say("By the way...")
    await h.settle()
    assert h.creates() == []
    await h.d(*audio_response_events("r_reply", "i_reply", [CHUNK]))
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["By the way..."]


async def test_say_goes_out_when_the_reply_never_comes() -> None:
    h = Harness(greet_when="manual")
    await h.d(U, STARTED, STOPPED)
    h.p.say("Still with me?")
    await h.settle()
    assert h.creates() == []
    h.clock.advance(2.0)  # the reply grace passes with no response.created
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["Still with me?"]


async def test_cancelling_a_queued_speech_skips_it_and_a_spoken_one_stops_it() -> None:
    mem = MemoryAudioIO()
    h = Harness(greet_when="manual", audio=mem)
    await h.d(U)
    first = h.p.say("First.")
    second = h.p.say("Second.")
    assert second.cancel() is True
    await h.settle()
    assert second.outcome.status is vp.GreetingStatus.SKIPPED
    assert second.outcome.reason == "cancelled by the app"
    create = h.creates()[0]
    events = audio_response_events("r1", "i1", [CHUNK, CHUNK], answering=create)
    await h.d(*events[:6])
    first.cancel()
    await h.settle()
    [cancel] = h.fake.sent_of("response.cancel")
    assert cancel["response_id"] == "r1"
    assert mem.pending == b""  # its unplayed audio is gone at once
    await h.d(*events[6:])
    assert first.outcome.interrupted
    assert first.cancel() is False  # already done
    assert [h.said(c) for c in h.creates()] == ["First."]


async def test_speech_wait_times_out_with_the_builtin_error() -> None:
    h = Harness(greet_when="manual")
    speech = h.p.say("Hi")
    with pytest.raises(TimeoutError):
        await speech.wait(timeout=0.01)


async def test_say_from_another_thread_is_handed_to_the_session_loop() -> None:
    h = Harness(greet_when="manual")
    await h.d(U)
    speech = await asyncio.to_thread(lambda: h.p.say("From a worker."))
    await h.fake.wait_sent("response.create")
    assert [h.said(c) for c in h.creates()] == ["From a worker."]
    await h.answer(h.creates()[0])
    assert (await speech.wait(timeout=1)).status is vp.GreetingStatus.SENT


# -- idle nudges ------------------------------------------------------------------------------


def nudging(**kw: Any) -> vp.IdleNudge:
    kw.setdefault("after", 8.0)
    kw.setdefault("max_nudges", 2)
    kw.setdefault("strategy", "Are you still there?")
    return vp.IdleNudge(**kw)


async def test_the_nudge_waits_for_the_end_of_local_playout_not_response_done() -> None:
    h = Harness(nudge=nudging())
    await h.d(U)
    await h.answer(h.creates()[0], chunks=30)  # 3 s of audio, arrived at once
    await h.settle()
    h.clock.advance(8.0)  # 8 s after response.done, but the audio ended only 5 s ago
    await h.settle()
    assert len(h.creates()) == 1
    h.clock.advance(2.9)
    await h.settle()
    assert len(h.creates()) == 1
    h.clock.advance(0.2)  # 8 s after the last sample played
    await h.settle()
    assert [h.said(c) for c in h.creates()] == ["Hello!", "Are you still there?"]


async def test_exactly_max_nudges_then_on_exhausted_once() -> None:
    hung_up: list[float] = []
    h = Harness(nudge=nudging(on_exhausted=lambda: hung_up.append(1.0)))
    fired: list[int] = []
    h.p.on(vp.NudgeFired, lambda e: fired.append(e.count))
    exhausted: list[vp.NudgesExhausted] = []
    h.p.on(vp.NudgesExhausted, exhausted.append)
    await h.d(U)
    await h.answer(h.creates()[0])
    for _ in range(2):
        h.clock.advance(8.2)
        await h.settle()
        await h.answer(h.creates()[-1])
    for _ in range(3):
        h.clock.advance(8.2)
        await h.settle()
    assert [h.said(c) for c in h.creates()[1:]] == ["Are you still there?"] * 2
    assert fired == [1, 2]
    assert hung_up == [1.0] and len(exhausted) == 1


async def test_async_on_exhausted_is_awaited_and_a_failing_one_is_counted() -> None:
    calls: list[str] = []

    async def hang_up() -> None:
        calls.append("hung up")
        raise RuntimeError("phone system down")

    h = Harness(nudge=nudging(max_nudges=0, on_exhausted=hang_up))
    await h.d(U)
    await h.answer(h.creates()[0])
    h.clock.advance(9)
    await h.settle()
    assert calls == ["hung up"]
    assert h.p.health.callback_errors == 1


async def test_user_speech_and_activity_restart_the_timer_and_the_count() -> None:
    h = Harness(nudge=nudging(max_nudges=1))
    await h.d(U)
    await h.answer(h.creates()[0])
    h.clock.advance(6)
    h.p.activity()  # a key press
    h.clock.advance(6)
    await h.settle()
    assert len(h.creates()) == 1
    h.clock.advance(2.5)
    await h.settle()
    assert len(h.creates()) == 2  # 8 s after the activity
    await h.answer(h.creates()[-1])
    await h.d(STARTED)  # the user answers: the count starts again
    h.clock.advance(30)
    await h.settle()
    assert len(h.creates()) == 2  # still speaking: not idle
    await h.d(STOPPED)
    await h.d(*audio_response_events("r_reply", "i_reply", [CHUNK]))
    h.clock.advance(8.2)
    await h.settle()
    assert len(h.creates()) == 3  # a fresh nudge, not on_exhausted


async def test_the_timer_holds_while_a_tool_call_is_outstanding() -> None:
    h = Harness(nudge=nudging())
    await h.d(U)
    await h.answer(h.creates()[0])
    call = {"type": "function_call", "id": "fc1", "call_id": "c1", "name": "get_order"}
    await h.d(
        {"type": "response.created", "response": {"id": "r_tool"}},
        {"type": "response.output_item.added", "response_id": "r_tool", "item": call},
        {
            "type": "response.done",
            "response": {"id": "r_tool", "status": "completed", "output": [call]},
        },
    )
    h.clock.advance(60)
    await h.settle()
    assert len(h.creates()) == 1  # the user is waiting for the app, not absent
    await h.d(*audio_response_events("r_after", "i_after", [CHUNK]))
    h.clock.advance(8.2)
    await h.settle()
    assert len(h.creates()) == 2


async def test_nudges_pause_and_resume() -> None:
    h = Harness(nudge=nudging())
    await h.d(U)
    await h.answer(h.creates()[0])
    h.p.pause_nudges()  # the user muted themselves
    h.clock.advance(60)
    await h.settle()
    assert len(h.creates()) == 1
    h.p.resume_nudges()
    h.clock.advance(8.1)
    await h.settle()
    assert len(h.creates()) == 2


async def test_nudge_with_a_memory_speaker_waits_until_the_test_plays_the_audio() -> None:
    mem = MemoryAudioIO()
    h = Harness(audio=mem, nudge=nudging())
    await h.d(U)
    await h.answer(h.creates()[0], chunks=5)
    if not isinstance(mem, vp.audio.PlayoutAware):
        pytest.skip("MemoryAudioIO does not report playout yet")
    h.clock.advance(60)
    await h.settle()
    assert len(h.creates()) == 1  # the agent is still "talking"
    mem.play_all()
    await h.settle()
    h.clock.advance(8.1)
    await h.settle()
    assert len(h.creates()) == 2


def test_idle_nudge_is_validated() -> None:
    for bad in ({"after": 0}, {"after": -1}, {"after": float("inf")}, {"after": "8"}):
        with pytest.raises(vp.ConfigurationError, match="after"):
            vp.IdleNudge(**bad)  # type: ignore[arg-type]
    with pytest.raises(vp.ConfigurationError, match="max_nudges"):
        vp.IdleNudge(after=1, max_nudges=-1)
    with pytest.raises(vp.ConfigurationError, match="on_exhausted"):
        vp.IdleNudge(after=1, on_exhausted="hang up")  # type: ignore[arg-type]
    with pytest.raises(vp.GreetingConfigError):
        vp.IdleNudge(after=1, strategy="")


# -- speech the user cannot cut off -----------------------------------------------------------


async def test_an_uninterruptible_greeting_is_heard_in_full() -> None:
    mem = MemoryAudioIO()
    h = Harness(audio=mem, interruptible=False)
    await h.d(U)
    update, create = h.fake.sent[0], h.fake.sent[1]
    # The service is told first, keeping the app's other turn detection settings.
    assert update["type"] == "session.update"
    assert update["session"]["turn_detection"] == {**TURNS, "interrupt_response": False}
    assert create["type"] == "response.create"
    events = audio_response_events("r1", "i1", [CHUNK] * 3, answering=create)
    await h.d(*events[:6], STARTED, *events[6:])
    assert mem.skip_count == 0 and mem.queued == CHUNK * 3  # every byte, despite the user
    assert h.fake.sent_of("conversation.item.truncate") == []
    assert h.fake.sent_of("response.cancel") == []
    # Its own session.updated triggers nothing (no second greeting, no learning).
    await h.d({"type": "session.updated", "session": {**update["session"], "id": "s"}})
    assert len(h.creates()) == 1
    mem.play_all()
    h.clock.advance(1)
    await h.settle()
    restore = h.fake.sent_of("session.update")[-1]
    assert restore["session"]["turn_detection"] == TURNS  # the app's setting is back
    assert h.p.outcome.settled and not h.p.outcome.interrupted


async def test_an_interruptible_say_after_an_uninterruptible_one_can_be_cut_off() -> None:
    mem = MemoryAudioIO()
    h = Harness(audio=mem, greet_when="manual")
    await h.d(U)
    h.p.say("Legal notice.", interruptible=False)
    await h.settle()
    await h.answer(h.creates()[0], chunks=2)
    mem.play_all()
    h.clock.advance(1)
    await h.settle()
    h.p.say("Anything else?")
    await h.settle()
    events = audio_response_events("r9", "i9", [CHUNK] * 2, answering=h.creates()[-1])
    await h.d(*events[:6], STARTED)
    assert mem.skip_count == 1


async def test_echo_guard_ignores_speech_in_the_first_ms_of_audio() -> None:
    mem = MemoryAudioIO()
    h = Harness(audio=mem, echo_guard_ms=400)
    await h.d(U)
    create = h.creates()[0]
    assert (
        h.fake.sent_of("session.update")[0]["session"]["turn_detection"]["interrupt_response"]
        is False
    )
    events = audio_response_events("r1", "i1", [CHUNK] * 10, answering=create)
    await h.d(*events[:6], STARTED)  # its own echo, 0 ms in
    assert mem.skip_count == 0
    await h.settle()  # the speaker reports its first sample heard: the guard starts now
    h.clock.advance(0.5)
    await h.settle()
    assert h.fake.sent_of("session.update")[-1]["session"]["turn_detection"] == TURNS
    await h.d(*events[6:8], STARTED)  # the user, later: a real barge-in
    assert mem.skip_count == 1


# -- events ---------------------------------------------------------------------------------


async def test_events_tell_the_story_of_each_speech() -> None:
    mem = MemoryAudioIO()
    h = Harness(audio=mem)
    seen: list[str] = []

    @h.p.on(vp.ProactiveEvent)
    def record(event: vp.ProactiveEvent) -> None:
        seen.append(type(event).__name__)

    async def async_listener(event: vp.SpeechStarted) -> None:
        seen.append("async:" + event.speech.kind.value)

    h.p.on(vp.SpeechStarted, async_listener)
    await h.d(U)
    events = audio_response_events("r1", "i1", [CHUNK, CHUNK], answering=h.creates()[0])
    await h.d(*events[:6])
    mem.play(len(CHUNK))
    await h.d(STARTED, *events[6:])
    await h.settle()
    assert seen[:2] == ["SpeechQueued", "SpeechStarted"]
    assert "async:greeting" in seen
    assert "SpeechInterrupted" in seen


async def test_a_failing_callback_is_counted_and_never_breaks_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = Harness()

    def broken(event: vp.ProactiveEvent) -> None:
        raise ValueError("listener bug")

    unsubscribe = h.p.on(vp.ProactiveEvent, broken)
    with caplog.at_level(logging.WARNING, "voicelive_proactive"):
        await h.d(U)
        await h.answer(h.creates()[0])
        await h.settle()
    assert h.p.health.callback_errors >= 1
    assert "listener bug" in caplog.text
    assert h.p.outcome.status is vp.GreetingStatus.SENT
    unsubscribe()
    with pytest.raises(vp.ConfigurationError, match="event class"):
        h.p.on("speech_started", print)  # type: ignore[call-overload]


async def test_skipped_and_failed_events_carry_the_reason() -> None:
    h = Harness(greeting=lambda ctx: 42)  # type: ignore[arg-type,return-value]
    reasons: list[str] = []
    h.p.on(vp.SpeechFailed, lambda e: reasons.append(e.reason))
    h.p.on(vp.SpeechSkipped, lambda e: reasons.append(e.reason))
    await h.d(U)
    h.p.say("Later.", if_user_speaking="skip")
    await h.d(STARTED)
    await h.settle()
    assert any("every greeting strategy failed" in r for r in reasons)


# -- a greeting whose first response calls a tool -----------------------------------------------


async def test_a_greeting_that_calls_a_tool_is_pending_until_the_next_response_speaks() -> None:
    h = Harness(greeting=vp.LLMGreeting("Greet the caller by name; look them up."))
    calls: list[vp.FunctionCall] = []
    h.p.on(vp.FunctionCallRequested, lambda e: calls.append(e.call))
    await h.d(U)
    create = h.creates()[0]
    call = {"type": "function_call", "id": "fc1", "call_id": "c1", "name": "get_customer"}
    where = {"response_id": "r1", "item_id": "fc1", "output_index": 0, "call_id": "c1"}
    await h.d(
        {
            "type": "response.created",
            "response": {"id": "r1", "metadata": create["response"]["metadata"]},
        },
        {"type": "response.output_item.added", "response_id": "r1", "item": call},
        {
            "type": "response.function_call_arguments.done",
            **where,
            "name": "get_customer",
            "arguments": "{}",
        },
        {
            "type": "response.done",
            "response": {"id": "r1", "status": "completed", "output": [call]},
        },
    )
    await h.settle()
    assert h.p.outcome.status is vp.GreetingStatus.PENDING
    assert not h.p.finished
    assert h.p.outcome.function_calls == (vp.FunctionCall("get_customer", "c1", "{}"),)
    assert calls == [vp.FunctionCall("get_customer", "c1", "{}")]
    # The app answers the tool and asks for the response; that response is the greeting.
    await h.d(*audio_response_events("r2", "i2", [CHUNK], transcript="Hi Lisa!"))
    assert h.p.outcome.status is vp.GreetingStatus.SENT
    assert h.p.outcome.transcript == "Hi Lisa!"
    assert h.p.finished


async def test_cancelling_before_the_service_answers_stops_it_when_it_starts() -> None:
    mem = MemoryAudioIO()
    h = Harness(greet_when="manual", audio=mem)
    await h.d(U)
    speech = h.p.say("Never mind.")
    await h.settle()
    create = h.creates()[0]
    assert speech.cancel() is True
    await h.settle()
    await h.d(*audio_response_events("r1", "i1", [CHUNK], answering=create))
    assert [c["response_id"] for c in h.fake.sent_of("response.cancel")] == ["r1"]
    assert mem.queued == b""
    assert speech.outcome.status is vp.GreetingStatus.SKIPPED
    assert speech.outcome.reason == "cancelled by the app"


async def test_cancelling_a_speech_still_playing_spares_the_next_ones_audio() -> None:
    mem = MemoryAudioIO()
    h = Harness(greet_when="manual", audio=mem)
    await h.d(U)
    first = h.p.say("First.")
    await h.settle()
    await h.answer(h.creates()[0], chunks=3)  # done on the service, not played yet
    h.p.say("Second.")
    await h.settle()
    await h.answer(h.creates()[1], chunks=2)
    assert first.cancel() is True  # done on the service, still queued: it stops here
    await h.settle()
    # Its audio is dropped; the second's, queued behind it, plays on in full.
    assert mem.skip_count == 1 and mem.pending == CHUNK * 2
    assert first.outcome.settled and first.outcome.interrupted
    assert first.outcome.played_ms == 0
    [truncate] = h.fake.sent_of("conversation.item.truncate")
    assert (truncate["item_id"], truncate["audio_end_ms"]) == ("ir1", 0)
    mem.play_all()
    await h.settle()
    assert mem.played == CHUNK * 2


async def test_without_playout_reports_a_barge_in_ends_the_estimated_playout() -> None:
    # audio=None: playout is estimated from the bytes at the format's rate. A barge-in means
    # the app flushed its player, so nothing is left to play: the speech settles at once,
    # and no estimate timer is left behind.
    h = Harness()
    await h.d(U)
    await h.answer(h.creates()[0], chunks=50)  # 5 s of audio, "playing"
    assert not h.p.outcome.settled and h.clock.pending >= 1
    await h.d(STARTED)
    await h.settle()
    assert h.p.outcome.settled and h.p.outcome.interrupted
    assert h.clock.pending == 0
