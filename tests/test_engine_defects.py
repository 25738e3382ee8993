"""Regression tests for the defects of issue 16, each as a user would meet it: through the
public API, with the SDK's own connection over a fake socket.

Every test here failed before the engine existed (they are written so that they also run
against the old ``await proactive.say(...)`` API: see ``say()`` below). Defect 17 (the
Redis guard) has its tests with the guard, against a real ``redis-server``:
``tests/redis/test_redis_guard.py`` and ``tests/redis/test_redis_config.py``.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

import voicelive_proactive as vp
from voicelive_proactive.floor import TAG_KEY
from voicelive_proactive.testing import (
    FakeConnection,
    ManualClock,
    MemoryAudioIO,
    audio_response_events,
)

from .conftest import deliver

TURNS = {"type": "server_vad", "threshold": 0.5, "create_response": True}
READY = {"type": "session.updated", "session": {"id": "s", "turn_detection": TURNS}}
STARTED = {"type": "input_audio_buffer.speech_started", "item_id": "u"}
STOPPED = {"type": "input_audio_buffer.speech_stopped", "item_id": "u"}
CHUNK = b"\x01\x02" * 2400  # 100 ms at 24 kHz
BUSY = "conversation_already_has_active_response"


def manual() -> dict[str, Any]:
    """The keyword for "greet only when greet() is called", in either API."""
    params = inspect.signature(vp.ProactiveSession).parameters
    return {"greet_when": "manual"} if "greet_when" in params else {"greet_on_ready": False}


async def say(p: vp.ProactiveSession, *args: Any, **kwargs: Any) -> vp.Speech:
    result: Any = p.say(*args, **kwargs)
    return await result if inspect.iscoroutine(result) else result  # type: ignore[no-any-return]


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

    def updates(self) -> list[dict[str, Any]]:
        return [e["session"] for e in self.fake.sent_of("session.update")]


# -- 1. cancel() once the service has finished the response -----------------------------------


async def test_1_cancel_after_response_done_stops_the_audio_and_truncates() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, **manual())
    await c.d(READY)
    speech = await say(c.p, "Your table is ready, please follow me to the terrace.")
    await c.settle()
    # Audio arrives faster than real time: the service is done, 300 ms are still queued.
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 3, answering=c.creates()[0]))
    assert speech.done and not speech.outcome.settled
    mem.play_ms(100)
    assert speech.cancel() is True
    await c.settle()
    assert mem.pending == b"" and mem.skip_count == 1  # it stopped
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert (truncate["item_id"], truncate["audio_end_ms"]) == ("i1", 100)
    assert speech.outcome.interrupted and speech.outcome.played_ms == 100
    assert speech.outcome.settled


# -- 2. the app's interrupt_response is learned by content --------------------------------------


async def test_2_two_app_updates_at_start_do_not_turn_barge_in_off_for_good() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptible=False)
    second = {**TURNS, "threshold": 0.7}
    # The app sent two session.updates before the session was ready; both are answered.
    await c.d(READY)
    forbid = c.updates()[0]["turn_detection"]
    assert forbid["interrupt_response"] is False
    await c.d({"type": "session.updated", "session": {"id": "s", "turn_detection": second}})
    await c.d({"type": "session.updated", "session": {"id": "s", "turn_detection": forbid}})
    await c.d(*audio_response_events("r1", "i1", [CHUNK], answering=c.creates()[0]))
    mem.play_all()
    await c.settle()
    restored = c.updates()[-1]["turn_detection"]
    assert restored.get("interrupt_response", True) is True
    assert restored["threshold"] == 0.7  # the app's latest setting, not ours, not the first


async def test_2_the_apps_own_repeat_of_its_setting_is_not_taken_for_a_give_back() -> None:
    # Found by the engine machine: the library gives the app's setting back (R1) and, as the
    # app changes it meanwhile, gives the newer one back too (R2 = X). The app then sends X
    # again, and Y: the answer to the app's own X must not be taken for R2's, or R1 and R2
    # are forgotten while still on their way, and land after Y, leaving X on the service.
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptible=False)
    x = {**TURNS, "threshold": 0.6}
    y = {**TURNS, "threshold": 0.7}
    await c.d(READY)
    forbid = c.updates()[0]["turn_detection"]
    await c.d({"type": "session.updated", "session": {"id": "s", "turn_detection": forbid}})
    await c.d(*audio_response_events("r1", "i1", [CHUNK], answering=c.creates()[0]))
    mem.play_all()
    await c.settle()
    assert c.updates()[-1]["turn_detection"] == TURNS  # R1: the app's setting back
    for td in (x, x, y, TURNS, x):  # the app's x, x, y, then the answers to R1 and R2
        await c.d({"type": "session.updated", "session": {"id": "s", "turn_detection": td}})
    await c.settle()
    assert c.updates()[-1]["turn_detection"] == y  # the app's latest goes back last


# -- 3. closing from a callback ---------------------------------------------------------------


async def test_3_aclose_inside_an_async_callback_returns() -> None:
    c = Call()
    closed = asyncio.Event()

    async def hang_up(event: vp.SpeechFinished) -> None:
        await c.p.aclose()
        closed.set()

    c.p.on(vp.SpeechFinished, hang_up)
    await c.d(READY)
    await c.d(*audio_response_events("r1", "i1", [CHUNK], answering=c.creates()[0]))
    c.clock.advance(1)
    await asyncio.wait_for(closed.wait(), 5)
    assert c.p.closed


async def test_3_aclose_inside_on_exhausted_returns() -> None:
    holder: list[vp.ProactiveSession] = []
    closed = asyncio.Event()

    async def hang_up() -> None:
        await holder[0].aclose()
        closed.set()

    c = Call(nudge=vp.IdleNudge(after=2.0, max_nudges=0, on_exhausted=hang_up))
    holder.append(c.p)
    await c.d(READY)
    await c.d(*audio_response_events("r1", "i1", [CHUNK], answering=c.creates()[0]))
    c.clock.advance(1)
    await c.settle()
    c.clock.advance(3)
    await asyncio.wait_for(closed.wait(), 5)


# -- 4. say() waits for the service's own tool call --------------------------------------------


async def test_4_say_waits_while_the_services_tool_call_is_outstanding() -> None:
    c = Call(**manual())
    await c.d(READY)
    call = {"type": "function_call", "id": "fc", "call_id": "c1", "name": "lookup"}
    await c.d(
        {"type": "response.created", "response": {"id": "r_tool"}},
        {"type": "response.output_item.added", "response_id": "r_tool", "item": call},
        {
            "type": "response.function_call_arguments.done",
            "response_id": "r_tool",
            "call_id": "c1",
            "name": "lookup",
            "arguments": "{}",
        },
        {
            "type": "response.done",
            "response": {"id": "r_tool", "status": "completed", "output": [call]},
        },
    )
    await say(c.p, "By the way...")
    await c.settle()
    assert c.creates() == []  # the app is answering the tool: its response.create comes first
    await c.d({"type": "conversation.item.created", "item": {"type": "function_call_output"}})
    await c.d({"type": "response.created", "response": {"id": "r_app"}})
    await c.d({"type": "response.done", "response": {"id": "r_app", "status": "completed"}})
    await c.settle()
    assert len(c.creates()) == 1


# -- 5. a greeting cancelled while its async guard answers ---------------------------------------


class SlowGuard:
    def __init__(self) -> None:
        self.answer: asyncio.Future[bool] | None = None

    def try_acquire(self) -> asyncio.Future[bool]:
        self.answer = asyncio.get_running_loop().create_future()
        return self.answer


async def test_5_a_greeting_cancelled_as_its_guard_answers_is_never_sent() -> None:
    guard = SlowGuard()
    c = Call(guard=guard)
    await c.d(READY)
    assert guard.answer is not None
    c.p.greeting.cancel()
    guard.answer.set_result(True)  # in the same tick
    await c.settle()
    assert c.creates() == []
    assert c.p.outcome.status is vp.GreetingStatus.SKIPPED


async def test_5_a_drop_while_the_guard_is_pending_sends_nothing_and_fails_once() -> None:
    guard = SlowGuard()
    failed: list[vp.SpeechFailed] = []
    c = Call(guard=guard)
    c.p.on(vp.SpeechFailed, failed.append)
    c.fake.push(READY)
    c.fake.close()
    await c.p.run()
    assert guard.answer is not None
    guard.answer.set_result(True)
    await c.settle()
    assert c.creates() == []
    assert c.p.outcome.status is vp.GreetingStatus.FAILED
    assert len(failed) == 1


# -- 6. a rejected uninterruptible say gives the app its setting back ---------------------------


async def test_6_a_rejected_uninterruptible_say_restores_interrupt_response() -> None:
    c = Call(**manual())
    await c.d(READY)
    c.fake.reply_error("response.create", "invalid_value")
    speech = await say(c.p, "Calls are recorded.", interruptible=False)
    await c.settle()
    await c.d(await_reply(c))
    await c.settle()
    assert speech.outcome.status is vp.GreetingStatus.FAILED
    assert c.updates()[0]["turn_detection"]["interrupt_response"] is False
    assert c.updates()[-1]["turn_detection"] == TURNS


async def test_6_after_a_rejected_override_the_apps_next_settings_are_still_seen() -> None:
    c = Call(**manual())
    await c.d(READY)
    await say(c.p, "Calls are recorded.", interruptible=False)
    await c.settle()
    override = c.fake.sent_of("session.update")[-1]
    rejected = {"code": "invalid_value", "message": "no", "event_id": override["event_id"]}
    await c.d({"type": "error", "error": rejected})
    # The app changes its own settings; the service confirms them.
    app = {**TURNS, "threshold": 0.8}
    await c.fake.session.update(session={"turn_detection": app})
    await c.d({"type": "session.updated", "session": {"id": "s", "turn_detection": app}})
    await c.settle()
    await say(c.p, "Second.", interruptible=False)
    await c.settle()
    # The next override carries the app's new settings: its session.updated was seen.
    assert c.updates()[-1]["turn_detection"] == {**app, "interrupt_response": False}


async def test_6_a_give_back_never_lands_after_the_next_protected_speech() -> None:
    # Found by the engine machine: a protected say is refused while another waits. The
    # engine gives the app's setting back and asks for the next one's text in one step; a
    # strategy that answers at once must not put the next speech's override and request on
    # the wire before that give-back, or the give-back lands last and the next speech plays
    # with interrupt_response on.
    c = Call(**manual())
    await c.d(READY)
    first = await say(c.p, "Calls are recorded.", interruptible=False)
    second = await say(c.p, "Please hold.", interruptible=False)
    await c.settle()
    await c.d(await_reply(c))
    await c.settle()
    assert first.outcome.status is vp.GreetingStatus.FAILED
    kinds = ("session.update", "response.create")
    wire = [e for e in c.fake.sent if e["type"] in kinds]
    last_create = max(i for i, e in enumerate(wire) if e["type"] == "response.create")
    assert wire[last_create]["response"]["metadata"] is not None
    before = [e for e in wire[:last_create] if e["type"] == "session.update"]
    after = [e for e in wire[last_create:] if e["type"] == "session.update"]
    assert before[-1]["session"]["turn_detection"]["interrupt_response"] is False
    assert not after, after  # nothing turns barge-in back on under the second speech
    assert second.outcome.status is vp.GreetingStatus.PENDING


def await_reply(c: Call) -> dict[str, Any]:
    """The error the fake queued in reply to the last response.create."""
    return {
        "type": "error",
        "error": {
            "code": "invalid_value",
            "message": "no",
            "event_id": c.creates()[-1]["event_id"],
        },
    }


# -- 7. a second cut-off never rewrites what was heard ------------------------------------------


async def test_7_a_second_cut_off_sends_no_second_truncate() -> None:
    mem = MemoryAudioIO()
    interrupted: list[vp.SpeechInterrupted] = []
    c = Call(audio=mem)
    c.p.on(vp.SpeechInterrupted, interrupted.append)
    await c.d(READY)
    events = audio_response_events("r1", "i1", [CHUNK] * 5, answering=c.creates()[0])
    await c.d(*events[:7])
    mem.play_ms(300)
    await c.d(STARTED)  # cut off after 300 ms
    mem.play_ms(200)
    await c.d(STOPPED, STARTED)  # again, while its response is still ending
    c.p.greeting.cancel()
    await c.d(*events[7:])
    await c.settle()
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 300
    assert c.p.outcome.played_ms == 300
    assert len(interrupted) == 1


async def test_7_cancel_from_a_thread_racing_a_cancelled_done_interrupts_once() -> None:
    import threading

    mem = MemoryAudioIO()
    interrupted: list[vp.SpeechInterrupted] = []
    c = Call(audio=mem)
    c.p.on(vp.SpeechInterrupted, interrupted.append)
    await c.d(READY)
    events = audio_response_events("r1", "i1", [CHUNK] * 5, answering=c.creates()[0])
    await c.d(*events[:7])
    mem.play_ms(250)
    canceller = threading.Thread(target=c.p.greeting.cancel)
    canceller.start()
    # The service ends the response as cancelled while the app's cancel() is in flight.
    done = {
        "type": "response.done",
        "response": {"id": "r1", "status": "cancelled", "output": []},
    }
    await c.d(done)
    canceller.join()
    await c.settle()
    await c.settle()
    truncates = c.fake.sent_of("conversation.item.truncate")
    assert len(truncates) == 1
    assert truncates[0]["audio_end_ms"] == 250
    assert len(interrupted) == 1
    assert c.p.outcome.played_ms == 250


# -- 8. a greeting's tool call cut off before it was complete --------------------------------------


async def test_8_a_cut_off_tool_call_does_not_block_later_speech() -> None:
    c = Call()
    no_reply = {**TURNS, "create_response": False}  # the app answers turns itself
    await c.d({"type": "session.updated", "session": {"id": "s", "turn_detection": no_reply}})
    create = c.creates()[0]
    call = {"type": "function_call", "id": "fc", "call_id": "c1", "name": "lookup"}
    await c.d(
        {
            "type": "response.created",
            "response": {"id": "r1", "metadata": create["response"]["metadata"]},
        },
        {"type": "response.output_item.added", "response_id": "r1", "item": call},
        STARTED,  # the user cuts it off before the arguments are complete
        {
            "type": "response.done",
            "response": {
                "id": "r1",
                "status": "cancelled",
                "status_details": {"type": "cancelled", "reason": "turn_detected"},
                "output": [{**call, "status": "incomplete"}],
            },
        },
        STOPPED,
    )
    speech = await say(c.p, "Anything else?")
    await c.settle()
    assert len(c.creates()) == 2  # it went out: nothing waits for the void call
    assert c.p.outcome.status is not vp.GreetingStatus.PENDING
    assert speech.outcome.status is vp.GreetingStatus.PENDING


# -- 9. audio=None still truncates --------------------------------------------------------------


async def test_9_with_audio_none_the_truncate_is_sent_from_the_estimate() -> None:
    c = Call(audio=None)
    await c.d(READY)
    events = audio_response_events("r1", "i1", [CHUNK] * 10, answering=c.creates()[0])
    await c.d(*events[:14])  # 1 s of audio arrived at t=0 (it plays in real time)
    c.clock.advance(0.4)
    await c.d(STARTED)
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert (truncate["item_id"], truncate["audio_end_ms"]) == ("i1", 400)
    assert c.p.outcome.played_ms == 400


# -- 10. a greeting nobody heard leaves the conversation -----------------------------------------


async def test_10_a_greeting_the_user_talked_over_is_deleted_from_the_conversation() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem)
    await c.d(READY, STARTED)  # the user spoke after the greeting was asked for
    create = c.creates()[0]
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 2, answering=create))
    assert mem.queued == b""  # never heard
    [delete] = c.fake.sent_of("conversation.item.delete")
    assert delete["item_id"] == "i1"
    assert c.p.outcome.status is vp.GreetingStatus.SKIPPED


# -- 11. metrics of a greeting that played while only presumed ours --------------------------------


async def test_11_a_greeting_proven_ours_late_has_its_audio_and_start_recorded() -> None:
    mem = MemoryAudioIO()
    started: list[vp.SpeechStarted] = []
    c = Call(audio=mem)
    c.p.on(vp.SpeechStarted, started.append)
    await c.d(READY)
    # No metadata echo: the response is only presumed ours until it ends without an error.
    events = audio_response_events("r1", "i1", [CHUNK] * 3, status="cancelled")
    await c.d(*events[:6])
    mem.play_ms(150)
    await c.d(STARTED, *events[6:])  # cut off while presumed; then proven (by elimination)
    await c.settle()
    outcome = c.p.outcome
    assert outcome.status is vp.GreetingStatus.SENT and outcome.played_ms == 150
    assert c.p.metrics.audio_bytes > 0
    assert c.p.metrics.first_audio is not None
    assert len(started) == 1


# -- 12. the echo guard counts from the first sample heard ----------------------------------------


async def test_12_the_echo_guard_starts_when_the_speech_is_heard() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, echo_guard_ms=400, **manual())
    await c.d(READY)
    # A 2 s reply of the service's own is queued; our say() goes out behind it.
    await c.d(*audio_response_events("r_reply", "i_reply", [CHUNK] * 20))
    speech = await say(c.p, "One more thing.")
    await c.settle()
    await c.d(*audio_response_events("r2", "i2", [CHUNK] * 10, answering=c.creates()[0]))
    c.clock.advance(1.0)  # its chunks arrived a second ago; not a sample of it was heard
    mem.play_ms(2000)  # the reply plays out: now it is heard
    await c.settle()
    await c.d(STARTED)  # within 400 ms of being heard: its own echo
    assert speech.outcome.interrupted is False
    assert mem.skip_count == 0


# -- 13. a transcript match is no proof -----------------------------------------------------------


async def test_13_a_reply_that_says_the_greetings_words_is_never_cancelled() -> None:
    c = Call()
    await c.d(READY, STARTED)  # the user speaks after the greeting was asked for
    reply = audio_response_events("r_vad", "i_vad", [CHUNK], transcript="Hello!")
    await c.d(*reply[:5])  # no metadata echo; it says "Hello!"
    assert c.fake.sent_of("response.cancel") == []
    await c.d({"type": "error", "error": {"code": BUSY, "event_id": c.creates()[0]["event_id"]}})
    await c.d(*reply[5:])
    assert c.fake.sent_of("response.cancel") == []
    assert c.fake.sent_of("conversation.item.delete") == []


# -- 14. an item keeps the format it started in ---------------------------------------------------


async def test_14_a_format_change_mid_playback_does_not_rescale_what_was_heard() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem)
    await c.d(READY)
    events = audio_response_events("r1", "i1", [CHUNK] * 10, answering=c.creates()[0])
    await c.d(*events[:7])
    mem.play_ms(300)
    fmt = {"output_audio_format": "g711_ulaw", "turn_detection": TURNS}
    await c.d({"type": "session.updated", "session": {"id": "s", **fmt}})
    await c.d(STARTED)
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 300  # 14,400 bytes of 24 kHz PCM16, not of g711


# -- 15. wait(timeout=0) on a speech that is done -------------------------------------------------


async def test_15_wait_with_timeout_zero_on_a_done_speech_returns_its_outcome() -> None:
    c = Call()
    await c.d(READY)
    await c.d(*audio_response_events("r1", "i1", [CHUNK], answering=c.creates()[0]))
    outcome = await c.p.greeting.wait(timeout=0)
    assert outcome.status is vp.GreetingStatus.SENT


# -- 16. run() and a close from elsewhere ---------------------------------------------------------


async def test_16_run_started_before_aclose_ends_quietly_when_the_next_event_comes() -> None:
    c = Call()
    runner = asyncio.create_task(c.p.run())
    await c.settle()
    await c.p.aclose()
    c.fake.push(READY)
    outcome = await asyncio.wait_for(runner, 5)  # no SessionClosedError into the app
    assert outcome.status is vp.GreetingStatus.FAILED


# -- the metadata tag in these tests --------------------------------------------------------------


def test_the_tag_key_is_what_the_fake_echoes() -> None:
    assert TAG_KEY == "voicelive_proactive"
    pytest.importorskip("azure.ai.voicelive")
