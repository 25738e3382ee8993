"""Defects the engine's state machine (``tests/engine``) found after issue 16's list, each
reproduced as a user meets it: through the public API, the SDK's connection over a fake
socket. Each failed before its fix."""

from __future__ import annotations

import asyncio
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
CHUNK = b"\x01\x02" * 2400  # 100 ms at 24 kHz
STARTED = {"type": "input_audio_buffer.speech_started", "item_id": "u", "audio_start_ms": 0}
STOPPED = {"type": "input_audio_buffer.speech_stopped", "item_id": "u", "audio_end_ms": 900}


class Call:
    def __init__(self, **kw: Any) -> None:
        self.fake = FakeConnection()
        self.clock = ManualClock()
        kw.setdefault("audio", None)
        kw.setdefault("greeting", "Hello!")
        self.p = vp.ProactiveSession(self.fake, clock=self.clock, **kw)

    async def d(self, *events: dict[str, Any]) -> None:
        await deliver(self.p, self.fake, *events)

    async def settle(self) -> None:
        for _ in range(10):
            await asyncio.sleep(0)

    def creates(self) -> list[dict[str, Any]]:
        return self.fake.sent_of("response.create")

    def turn_detections(self) -> list[dict[str, Any]]:
        return [e["session"]["turn_detection"] for e in self.fake.sent_of("session.update")]


def ready(td: dict[str, Any] | None = TURNS) -> dict[str, Any]:
    return {"type": "session.updated", "session": {"id": "s", "turn_detection": td}}


def tool_call_response(
    response_id: str, metadata: dict[str, str] | None = None, *, status: str | None = None
) -> list[dict[str, Any]]:
    """A response that only calls ``lookup`` (call_1), completed."""
    call = {"type": "function_call", "id": "fc", "call_id": "call_1", "name": "lookup"}
    item = {**call, "arguments": "{}", **({"status": status} if status else {})}
    response = {"id": response_id, **({"metadata": metadata} if metadata else {})}
    return [
        {"type": "response.created", "response": response},
        {"type": "response.output_item.added", "response_id": response_id, "item": call},
        {
            "type": "response.function_call_arguments.done",
            "response_id": response_id,
            "item_id": "fc",
            "call_id": "call_1",
            "name": "lookup",
            "arguments": "{}",
        },
        {
            "type": "response.done",
            "response": {**response, "status": "completed", "output": [item]},
        },
    ]


async def test_an_earlier_override_is_given_back_after_a_later_one_was_rejected() -> None:
    # The app's two start-up updates race the library's override: the override built on the
    # first one lands, the corrected one (on the app's second) is refused. What the service
    # runs with is still the library's change, so it must be given back after playout.
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptible=False)
    first = {**TURNS, "threshold": 0.5}
    second = {**TURNS, "threshold": 0.6}
    await c.d(ready(first))  # the library overrides on top of the app's first setting
    await c.d(ready(second))  # the app's second update: the override is sent again on it
    assert c.turn_detections() == [
        {**first, "interrupt_response": False},
        {**second, "interrupt_response": False},
    ]
    await c.d(ready({**first, "interrupt_response": False}))  # the first override lands
    corrected = c.fake.sent_of("session.update")[1]
    refused = {"code": "invalid_value", "message": "no", "event_id": corrected["event_id"]}
    await c.d({"type": "error", "error": refused})
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 3, answering=c.creates()[0]))
    mem.play_all()
    await c.settle()
    assert c.p.outcome.status is vp.GreetingStatus.SENT
    assert c.turn_detections()[-1] == second  # the app's own setting, given back


async def test_echoes_are_matched_in_order_so_the_apps_repeat_is_not_taken_for_ours() -> None:
    # The service answers in order, the app's updates among the library's. An answer that
    # equals a later update of ours (a give-back) while an older one of ours is unanswered is
    # the app's: taking it for ours would also swallow the older one's answer, and the app's
    # newest setting would be lost.
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptible=False)
    a = {**TURNS, "threshold": 0.5}
    b = {**TURNS, "threshold": 0.6}
    await c.d(ready(a))  # the override goes out on the app's setting a
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 2, answering=c.creates()[0]))
    mem.play_all()
    await c.settle()
    assert c.turn_detections() == [{**a, "interrupt_response": False}, a]  # a given back
    await c.d(ready(b))  # the app's own update to b, sent before the library's two
    assert c.turn_detections()[-1] == b  # b given back instead (it would land after a)
    await c.d(ready(a))  # the app changes back to a, also before the library's updates
    # The app's newest setting is a: it must be what lands last.
    assert c.turn_detections()[-1] == a
    for td in ({**a, "interrupt_response": False}, a, b, a):  # the library's, answered
        await c.d(ready(td))
    await c.settle()
    assert c.turn_detections()[-1] == a


async def test_a_connection_lost_while_paused_over_the_user_stops_at_the_pause_point() -> None:
    # InterruptionPolicy paused our speech because the user spoke over it; the connection
    # then drops, so no VAD will ever say whether it was a cough. The speech must not hang
    # paused forever: it ends interrupted at the pause point.
    mem = MemoryAudioIO()
    c = Call(
        audio=mem,
        interruptions=vp.InterruptionPolicy(min_duration_ms=300, resume_within_ms=1500),
    )
    await c.d(ready())
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 5, answering=c.creates()[0]))
    mem.play_ms(200)
    await c.d(STARTED)
    await c.settle()
    assert mem.paused
    c.fake.drop()
    await c.p.run()  # the app's loop sees the connection end
    await c.settle()
    outcome = c.p.outcome
    assert outcome.settled
    assert outcome.interrupted
    assert outcome.played_ms == 200
    assert not mem.pending  # nothing is left to play once the user's turn began


async def test_a_tool_answer_whose_reply_was_refused_does_not_hold_speech_forever() -> None:
    # The app answered a tool call, the user spoke, and the app's response.create was
    # refused: no response will follow. Proactive speech waits a grace period, not forever.
    c = Call(greet_when="manual")
    await c.d(ready({**TURNS, "create_response": False}))  # the app answers turns itself
    await c.d(*tool_call_response("r1"))
    output = {"type": "function_call_output", "call_id": "call_1", "output": "{}"}
    await c.d({"type": "conversation.item.created", "item": output})
    await c.d(STARTED)  # the user speaks; the app's response.create is refused (busy)
    busy = {"code": "conversation_already_has_active_response", "message": "busy"}
    await c.d({"type": "error", "error": busy}, STOPPED)
    speech = c.p.say("Anything else?")
    await c.settle()
    c.clock.advance(5.0)  # past every grace period; no response ever came
    await c.settle()
    assert len(c.creates()) == 1, "say() is still held by the void tool answer"
    assert speech.outcome.status is vp.GreetingStatus.PENDING  # sent, awaiting its answer


async def test_a_refused_override_does_not_forget_an_identical_one_still_on_its_way() -> None:
    # Two protected speeches, so two identical overrides; the service refuses the first and
    # applies the second. The second is what the service runs with: give it back after.
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptible=False)
    override = {**TURNS, "interrupt_response": False}
    await c.d(ready())
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 2, answering=c.creates()[0]))
    mem.play_all()
    await c.settle()
    speech = c.p.say("Calls are recorded.", interruptible=False)
    await c.settle()
    assert c.turn_detections() == [override, TURNS, override]
    first = c.fake.sent_of("session.update")[0]
    refused = {"code": "invalid_value", "message": "no", "event_id": first["event_id"]}
    await c.d({"type": "error", "error": refused}, ready(TURNS), ready(override))
    await c.d(*audio_response_events("r2", "i2", [CHUNK] * 2, answering=c.creates()[1]))
    mem.play_all()
    await c.settle()
    assert speech.outcome.status is vp.GreetingStatus.SENT
    assert c.turn_detections() == [override, TURNS, override, TURNS]


async def test_a_late_answer_to_a_request_given_up_is_cancelled_and_the_newer_one_speaks() -> None:
    # say() went out; the user spoke and the service's own reply came instead, so the speech
    # was asked for again. Then the first request's answer turns up (its tag proves it):
    # it must not play alongside the newer one, and it leaves the conversation.
    mem = MemoryAudioIO()
    c = Call(audio=mem, greet_when="manual")
    await c.d(ready(None))
    speech = c.p.say("Your order is ready.")
    await c.settle()
    first = c.creates()[0]
    await c.d(STARTED, *audio_response_events("r1", "i1", []), STOPPED)
    await c.settle()
    assert len(c.creates()) == 2  # asked for again after the user's turn
    second = c.creates()[1]
    late = audio_response_events("r2", "i2", [b"\x07\x07" * 2400] * 2, answering=first)
    await c.d(*late[:2])  # created, item added: proven ours by the first request's tag
    [cancel] = c.fake.sent_of("response.cancel")
    assert cancel["response_id"] == "r2"
    busy = {
        "code": "conversation_already_has_active_response",
        "message": "busy",
        "event_id": second["event_id"],
    }
    await c.d({"type": "error", "error": busy}, *late[2:])
    await c.settle()
    assert b"\x07\x07" not in mem.queued  # none of the late answer reaches the speaker
    assert [e["item_id"] for e in c.fake.sent_of("conversation.item.delete")] == ["i2"]
    third = c.creates()[-1]
    assert third["event_id"] != second["event_id"]  # sent again once the floor was free
    await c.d(*audio_response_events("r3", "i3", [CHUNK] * 2, answering=third))
    mem.play_all()
    await c.settle()
    assert speech.outcome.status is vp.GreetingStatus.SENT
    assert speech.outcome.settled and not speech.outcome.interrupted


async def test_a_format_change_before_the_first_chunk_keeps_the_responses_own_format() -> None:
    # The response was created in pcm16; the app's switch to g711 is confirmed before its
    # first chunk arrives. Its audio is still pcm16, and what was heard is counted so.
    mem = MemoryAudioIO()
    c = Call(audio=mem)
    await c.d(ready())
    events = audio_response_events("r1", "i1", [CHUNK] * 3, answering=c.creates()[0])
    await c.d(*events[:3])  # created, item added and created: no audio yet
    g711 = {"id": "s", "turn_detection": TURNS, "output_audio_format": "g711_ulaw"}
    await c.d({"type": "session.updated", "session": g711}, *events[3:])
    mem.play(4800)  # 100 ms of pcm16 at 24 kHz
    await c.d(STARTED)
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 100
    assert c.p.outcome.played_ms == 100


class EstimatedAudio:
    """An ``AudioIO`` that cannot say when its audio has played: the session estimates it."""

    def __init__(self, mem: MemoryAudioIO) -> None:
        self.mem = mem

    def start_capture(self, on_frame: Any) -> None:
        self.mem.start_capture(on_frame)

    def queue_audio(self, pcm: bytes) -> None:
        self.mem.queue_audio(pcm)

    def skip_pending_audio(self) -> int:
        return self.mem.skip_pending_audio()

    def close(self) -> None:
        self.mem.close()


@pytest.mark.parametrize("estimated", [False, True], ids=["reported", "estimated"])
async def test_speech_whose_audio_is_queued_again_after_a_cancel_settles_when_it_plays(
    estimated: bool,
) -> None:
    # The greeting is still playing, a say() is over on the service, its audio queued behind
    # the greeting's. Cancelling the greeting flushes the speaker and queues the say()'s audio
    # again: the flush is not the end of that audio. The user then cuts it off after 100 ms,
    # and its outcome must say so (not that it played in full at the flush).
    mem = MemoryAudioIO()
    c = Call(audio=EstimatedAudio(mem) if estimated else mem)
    await c.d(ready())
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 3, answering=c.creates()[0]))
    speech = c.p.say("Your order is ready.")
    await c.settle()
    second = b"\x03\x04" * 2400
    await c.d(*audio_response_events("r2", "i2", [second] * 2, answering=c.creates()[1]))
    await c.settle()
    assert speech.outcome.status is vp.GreetingStatus.SENT and not speech.outcome.settled
    assert c.p.greeting.cancel()
    await c.settle()
    assert mem.pending == second * 2  # only the greeting's audio was dropped
    assert not speech.outcome.settled, "played out at the flush, with all of its audio queued"
    mem.play_ms(100)
    c.clock.advance(0.1)
    await c.settle()
    assert not speech.outcome.settled
    await c.d(STARTED)
    await c.settle()
    outcome = await speech.wait(timeout=1)
    assert outcome.interrupted
    assert outcome.played_ms == 100
    assert [e["audio_end_ms"] for e in c.fake.sent_of("conversation.item.truncate")] == [0, 100]


async def test_a_speech_cut_before_any_of_it_was_heard_is_said_again_not_interrupted() -> None:
    # No metadata echo: the service's reply to the user starts while say()'s request is
    # unanswered, so it is presumed ours; the user speaks over it before any audio. Nothing
    # of the speech was heard: it is said again after the user's turn, and it is reported
    # interrupted at most once (it was reported twice, once per presumed response cut).
    c = Call(greet_when="manual")
    interrupted: list[vp.SpeechInterrupted] = []
    c.p.on(vp.SpeechInterrupted, interrupted.append)
    await c.d(ready())
    speech = c.p.say("Your order shipped.")
    await c.settle()
    assert len(c.creates()) == 1

    async def presumed_reply_cut(response_id: str) -> None:
        await c.d({"type": "response.created", "response": {"id": response_id}}, STARTED)
        cancelled = {"id": response_id, "status": "cancelled", "output": []}
        await c.d({"type": "response.done", "response": cancelled}, STOPPED)
        c.clock.advance(2.0)  # the reply to the user never came
        await c.settle()

    await presumed_reply_cut("r1")
    assert interrupted == []
    assert speech.outcome.status is vp.GreetingStatus.PENDING
    assert len(c.creates()) == 2, "said again after the user's turn"
    await presumed_reply_cut("r2")
    assert interrupted == []
    assert not speech.outcome.interrupted
    assert len(c.creates()) == 3


async def test_our_tool_call_whose_continuation_never_comes_does_not_hold_speech_forever() -> None:
    # say()'s own response calls a tool; the app answers it, but another response starts
    # first and the app's response.create is refused (busy): no continuation will come. The
    # speech ends (it said nothing but the call) and later speech goes out, after a grace.
    c = Call(greet_when="manual")
    await c.d(ready({**TURNS, "create_response": False}))
    speech = c.p.say("Let me look that up.")
    await c.settle()
    tag = {"voicelive_proactive": c.creates()[0]["event_id"]}
    await c.d(*tool_call_response("r1", tag, status="completed"))
    answer = {"type": "function_call_output", "call_id": "call_1", "output": "{}"}
    await c.d({"type": "conversation.item.created", "item": answer})
    # Another response starts first: tagged, so certainly not the continuation (the service
    # echoes tags: r1's came back).
    other_tag = {"voicelive_proactive": "vp_another_session_1"}
    others = {"id": "r2", "status": "completed", "output": [], "metadata": other_tag}
    await c.d({"type": "response.created", "response": {"id": "r2", "metadata": other_tag}})
    busy = {"code": "conversation_already_has_active_response", "message": "busy"}
    await c.d({"type": "error", "error": busy}, {"type": "response.done", "response": others})
    later = c.p.say("Anything else?")
    await c.settle()
    c.clock.advance(5.0)  # past the grace: no continuation came
    await c.settle()
    assert speech.outcome.settled
    assert speech.outcome.status is vp.GreetingStatus.FAILED
    assert len(c.creates()) == 2, "the later say() goes out"
    assert later.outcome.status is vp.GreetingStatus.PENDING
