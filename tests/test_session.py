from __future__ import annotations

import asyncio
import base64
import threading
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

UPDATED = {"type": "session.updated", "session": {"id": "sess_1"}}
SPEECH = {"type": "input_audio_buffer.speech_started", "audio_start_ms": 0, "item_id": "u1"}
CHUNK = b"\x01\x02" * 2400  # 100 ms of 24 kHz PCM16


def created(rid: str, answering: dict[str, Any] | None = None) -> dict[str, Any]:
    """``response.created``; ``answering`` a sent response.create echoes its metadata tag."""
    metadata = answering["response"]["metadata"] if answering is not None else None
    return {
        "type": "response.created",
        "response": {"id": rid, "status": "in_progress", "metadata": metadata},
    }


def done(rid: str, status: str = "completed") -> dict[str, Any]:
    return {"type": "response.done", "response": {"id": rid, "status": status}}


def error(event_id: str | None, code: str = "invalid_value") -> dict[str, Any]:
    return {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "code": code,
            "message": "no",
            "event_id": event_id,
        },
    }


def session(
    fake: FakeConnection, greeting: vp.StrategyLike = "Hi Lisa!", **kw: Any
) -> vp.ProactiveSession:
    kw.setdefault("audio", None)
    return vp.ProactiveSession(fake, greeting=greeting, **kw)


async def test_spoken_greeting_goes_out_as_pre_generated_message() -> None:
    fake = FakeConnection()
    p = session(fake, vp.StaticGreeting("Hi Lisa, welcome back!"))
    await deliver(p, fake, UPDATED)
    [event] = fake.sent
    assert event == {
        "type": "response.create",
        "event_id": event["event_id"],
        "response": {
            "pre_generated_assistant_message": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "Hi Lisa, welcome back!"}],
            },
            "metadata": {TAG_KEY: event["event_id"]},
        },
    }
    assert event["event_id"].startswith("vp_")
    # On the wire, but the service has not answered: still pending.
    assert p.outcome.status is vp.GreetingStatus.PENDING
    assert p.outcome.greeting == vp.Greeting.spoken("Hi Lisa, welcome back!")
    assert p.session_id == "sess_1"
    await deliver(p, fake, *audio_response_events("r1", "i1", [CHUNK], answering=event)[:5])
    assert p.outcome.status is vp.GreetingStatus.SENT
    assert not p.finished  # speaking, not done yet


async def test_instructed_greeting_is_a_system_item_then_a_plain_response() -> None:
    fake = FakeConnection()
    p = session(fake, vp.LLMGreeting("Greet {name} warmly."), context={"name": "Lisa"})
    await deliver(p, fake, UPDATED)
    item, create = fake.sent
    assert item["type"] == "conversation.item.create"
    assert item["item"] == {
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": 'Greet "Lisa" warmly.'}],
    }
    assert create == {
        "type": "response.create",
        "event_id": create["event_id"],
        "response": {"metadata": {TAG_KEY: create["event_id"]}},
    }
    assert item["event_id"] != create["event_id"]


async def test_template_is_filled_from_context() -> None:
    fake = FakeConnection()
    p = session(fake, vp.TemplateGreeting("Hi {name}!"), context={"name": "Lisa"})
    await deliver(p, fake, UPDATED)
    text = fake.sent[0]["response"]["pre_generated_assistant_message"]["content"][0]["text"]
    assert text == "Hi Lisa!"


async def test_greets_once_despite_repeated_session_updated() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, UPDATED, UPDATED, UPDATED)
    assert fake.sent_types() == ["response.create"]


async def test_no_greeting_before_the_session_is_ready() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, {"type": "session.created", "session": {"id": "sess_0"}})
    assert fake.sent == [] and p.outcome.status is vp.GreetingStatus.PENDING


async def test_waits_for_an_active_response_to_finish() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, created("r_app"), UPDATED)
    assert fake.sent == []  # handle() returned; nothing overlaps the app's response
    assert p.outcome.status is vp.GreetingStatus.PENDING
    await deliver(p, fake, done("r_app"))
    assert fake.sent_types() == ["response.create"]


async def test_skips_when_the_user_spoke_first() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, SPEECH, UPDATED)
    assert fake.sent == []
    assert p.outcome.status is vp.GreetingStatus.SKIPPED
    assert "user" in (p.outcome.reason or "")


async def test_user_speaking_while_greeting_is_deferred_skips_it() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, created("r_app"), UPDATED, SPEECH, done("r_app"))
    assert fake.sent == []
    assert p.outcome.status is vp.GreetingStatus.SKIPPED


async def test_greets_anyway_when_configured() -> None:
    fake = FakeConnection()
    p = session(fake, skip_if_user_spoke=False)
    await deliver(p, fake, SPEECH, UPDATED)
    assert fake.sent_types() == ["response.create"]


async def test_error_naming_the_greeting_falls_back_to_the_next_strategy() -> None:
    fake = FakeConnection()
    chain = vp.StaticGreeting("Hi!") | vp.LLMGreeting("Greet the user.")
    p = session(fake, chain)
    await deliver(p, fake, UPDATED)
    first = fake.sent[0]["event_id"]
    await deliver(p, fake, error(first, "unknown_parameter"))
    assert fake.sent_types() == ["response.create", "conversation.item.create", "response.create"]
    assert p.outcome.status is vp.GreetingStatus.PENDING  # the second is not answered yet
    assert p.outcome.greeting == vp.Greeting.instructed("Greet the user.")
    assert p.outcome.attempts == 2


async def test_error_naming_the_greeting_without_fallback_fails_quietly() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, UPDATED)
    await deliver(p, fake, error(fake.sent[0]["event_id"]))
    assert p.outcome.status is vp.GreetingStatus.FAILED
    assert isinstance(p.outcome.error, vp.GreetingFailedError)
    assert "no" in str(p.outcome.error)
    assert len(fake.sent) == 1


async def test_errors_about_other_events_are_ignored() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, UPDATED, error("someone_else"), error(None))
    assert fake.sent_types() == ["response.create"]
    assert p.outcome.status is vp.GreetingStatus.PENDING
    await deliver(p, fake, *audio_response_events("r1", "i1", [CHUNK], answering=fake.sent[0]))
    assert p.outcome.status is vp.GreetingStatus.SENT


async def test_active_response_error_resends_the_same_greeting_after_done() -> None:
    fake = FakeConnection()
    p = session(fake)
    await deliver(p, fake, UPDATED)
    first = fake.sent[0]
    await deliver(p, fake, error(first["event_id"], "conversation_already_has_active_response"))
    assert len(fake.sent) == 1 and p.outcome.status is vp.GreetingStatus.PENDING
    await deliver(p, fake, done("r_vad"))
    second = fake.sent[1]
    message = "pre_generated_assistant_message"
    assert second["response"][message] == first["response"][message]
    assert second["event_id"] != first["event_id"]


async def test_render_failure_falls_back_and_all_failing_sends_nothing() -> None:
    def broken(ctx: vp.GreetingContext) -> vp.Greeting:
        raise RuntimeError("CRM down")

    fake = FakeConnection()
    p = session(fake, vp.CallableGreeting(broken) | "Hello!")
    await deliver(p, fake, UPDATED)
    assert (
        fake.sent[0]["response"]["pre_generated_assistant_message"]["content"][0]["text"]
        == "Hello!"
    )

    fake2 = FakeConnection()
    p2 = session(fake2, vp.CallableGreeting(broken))
    await deliver(p2, fake2, UPDATED)
    assert fake2.sent == []
    assert p2.outcome.status is vp.GreetingStatus.FAILED
    assert "CRM down" in (p2.outcome.reason or "")


def test_missing_template_field_is_reported_at_construction() -> None:
    with pytest.raises(vp.MissingContextFieldError, match=r"\['name'\]"):
        session(FakeConnection(), vp.TemplateGreeting("Hi {name}"), context={"nick": "L"})
    # A fallback that needs nothing makes the chain safe.
    session(FakeConnection(), vp.TemplateGreeting("Hi {name}") | "Hi!", context={})


async def test_field_known_only_later_fails_without_sending_when_still_missing() -> None:
    fake = FakeConnection()
    p = session(fake, vp.TemplateGreeting("Hi {name}"), context=None)
    await deliver(p, fake, UPDATED)
    assert fake.sent == [] and p.outcome.status is vp.GreetingStatus.FAILED
    assert isinstance(p.outcome.error, vp.MissingContextFieldError)

    fake2 = FakeConnection()
    p2 = session(fake2, vp.TemplateGreeting("Hi {name}"), context=None)
    p2.update_context(name="Lisa")
    await deliver(p2, fake2, UPDATED)
    assert p2.outcome.greeting == vp.Greeting.spoken("Hi Lisa")


async def test_raise_errors_opt_in_surfaces_failures() -> None:
    fake = FakeConnection()
    p = session(fake, raise_errors=True)
    await deliver(p, fake, UPDATED)
    with pytest.raises(vp.GreetingFailedError, match="every greeting strategy failed"):
        await deliver(p, fake, error(fake.sent[0]["event_id"]))


async def test_dropped_connection_while_sending_is_recorded_not_raised() -> None:
    fake = FakeConnection()
    fake.fail_sends(ConnectionResetError("gone"))
    p = session(fake)
    await deliver(p, fake, UPDATED)
    assert p.outcome.status is vp.GreetingStatus.FAILED
    assert "connection" in (p.outcome.reason or "")


async def test_a_broken_audio_backend_never_escapes_into_the_app_loop() -> None:
    class Broken(MemoryAudioIO):
        def queue_audio(self, pcm: bytes) -> None:
            raise OSError("device unplugged")

    fake = FakeConnection()
    p = session(fake, audio=Broken())
    await deliver(p, fake, UPDATED, *audio_response_events("r1", "i1", [CHUNK]))
    assert p.outcome.status is vp.GreetingStatus.SENT


async def test_run_handles_until_close_and_calls_on_event() -> None:
    fake = FakeConnection()
    p = session(fake)
    seen: list[str] = []
    fake.push(UPDATED)
    for e in audio_response_events("r1", "i1", [CHUNK], transcript="Hi Lisa!"):
        fake.push(e)
    fake.close()
    outcome = await p.run(on_event=lambda e: seen.append(e.type))
    assert outcome.status is vp.GreetingStatus.SENT
    assert seen[0] == "session.updated" and seen[-1] == "response.done"
    assert p.metrics.done is not None


async def test_run_ending_before_the_greeting_records_failure() -> None:
    fake = FakeConnection()
    fake.drop()
    outcome = await session(fake).run()
    assert outcome.status is vp.GreetingStatus.FAILED
    assert "closed" in (outcome.reason or "")


async def test_unreadable_frame_ends_run_quietly() -> None:
    fake = FakeConnection()
    fake.push_raw("{not json")
    outcome = await session(fake).run()
    assert outcome.status is vp.GreetingStatus.FAILED
    assert outcome.error is not None


async def test_manual_greet_is_still_guarded() -> None:
    fake = FakeConnection()
    p = session(fake, greet_when="manual")
    await deliver(p, fake, UPDATED)
    assert fake.sent == []
    first = await p.greet()
    second = await p.greet()
    assert first.status is vp.GreetingStatus.PENDING and second == first
    assert fake.sent_types() == ["response.create"]


async def test_greet_racing_from_another_thread_sends_once() -> None:
    for _ in range(20):
        fake = FakeConnection()
        p = session(fake)
        await deliver(p, fake, {"type": "session.created", "session": {"id": "s"}})
        results: list[vp.GreetingOutcome] = []

        def greet_from_thread(p: vp.ProactiveSession = p, out: list[Any] = results) -> None:
            out.append(asyncio.run(p.greet()))

        thread = threading.Thread(target=greet_from_thread)
        thread.start()
        await deliver(p, fake, UPDATED)
        await asyncio.to_thread(thread.join)
        assert fake.sent_types() == ["response.create"]
        assert results[0].greeting == vp.Greeting.spoken("Hi Lisa!")


async def test_shared_guard_greets_once_across_sessions() -> None:
    guard = vp.OnceGuard()
    a, b = FakeConnection(), FakeConnection()
    pa, pb = session(a, guard=guard), session(b, guard=guard)
    await deliver(pa, a, UPDATED)
    await deliver(pb, b, UPDATED)
    assert len(a.sent) == 1 and b.sent == []
    assert pb.outcome.status is vp.GreetingStatus.SKIPPED
    assert "guard" in (pb.outcome.reason or "")


async def test_async_guard_backend_is_awaited() -> None:
    class AsyncGuard:
        calls = 0

        async def try_acquire(self) -> bool:
            self.calls += 1
            return self.calls == 1

    fake = FakeConnection()
    p = session(fake, guard=AsyncGuard())
    await deliver(p, fake, UPDATED)
    await fake.wait_sent("response.create")  # the guard is awaited off the event path
    assert fake.sent_types() == ["response.create"]


async def test_audio_is_queued_and_metrics_recorded() -> None:
    clock = ManualClock()
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, audio=mem, clock=clock)
    await deliver(p, fake, UPDATED)
    events = audio_response_events("r1", "i1", [CHUNK, CHUNK], answering=fake.sent[0])
    clock.advance(1)
    await deliver(p, fake, events[0])
    clock.advance(1)
    await deliver(p, fake, *events[1:5])
    clock.advance(1)
    await deliver(p, fake, *events[5:])
    assert mem.queued == CHUNK * 2
    m = p.metrics
    assert (m.session_ready, m.greeting_sent, m.response_created) == (0.0, 0.0, 1.0)
    assert (m.first_audio, m.done) == (2.0, 3.0)
    assert m.ready_to_first_audio_ms == 2000.0 and m.audio_bytes == len(CHUNK) * 2
    assert p.finished and not p.outcome.interrupted
    assert (await p.wait(timeout=1)).status is vp.GreetingStatus.SENT
    assert not p.outcome.settled  # its audio is still waiting to be played
    mem.play_all()
    clock.advance(1)  # (a backend without playout reports is estimated by the clock)
    await asyncio.sleep(0.01)  # the playout news reaches the loop
    assert p.outcome.settled


async def test_barge_in_flushes_audio_drops_late_chunks_and_truncates() -> None:
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, audio=mem)
    await deliver(p, fake, UPDATED)
    events = audio_response_events("r1", "i1", [CHUNK] * 4, answering=fake.sent[0])
    start, chunks, late, end = events[:4], events[4:7], events[7], events[8:]
    await deliver(p, fake, *start, *chunks)
    mem.play(len(CHUNK))  # the user has heard 100 ms
    await deliver(p, fake, SPEECH)
    assert mem.skip_count == 1
    await deliver(p, fake, late, *end)
    assert mem.queued == CHUNK  # only what was played; the late chunk was dropped
    truncate = fake.sent_of("conversation.item.truncate")
    assert truncate == [
        {
            "type": "conversation.item.truncate",
            "event_id": truncate[0]["event_id"],
            "item_id": "i1",
            "content_index": 0,
            "audio_end_ms": 100,
        }
    ]
    assert p.outcome.interrupted and p.outcome.played_ms == 100


async def test_barge_in_on_a_response_not_proven_ours_truncates_nothing() -> None:
    # Untagged, the response may be the service's own reply: it is flushed locally (the
    # user barged in) but its item is not ours to truncate.
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, audio=mem)
    await deliver(p, fake, UPDATED, *audio_response_events("r1", "i1", [CHUNK, CHUNK])[:5])
    await deliver(p, fake, SPEECH)
    assert mem.skip_count == 1
    assert fake.sent_of("conversation.item.truncate") == []


async def test_barge_in_after_the_greeting_played_does_not_truncate() -> None:
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, audio=mem)
    await deliver(p, fake, UPDATED, *audio_response_events("r1", "i1", [CHUNK]))
    mem.play_all()
    await deliver(p, fake, SPEECH)
    assert mem.skip_count == 1
    assert fake.sent_of("conversation.item.truncate") == []


async def test_microphone_frames_are_sent_as_appends() -> None:
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, audio=mem)
    mem.feed(b"\x05\x00" * 480)  # before ready: not sent yet
    await deliver(p, fake, UPDATED)
    await fake.wait_sent("input_audio_buffer.append")
    appends = fake.sent_of("input_audio_buffer.append")
    assert b"".join(base64.b64decode(a["audio"]) for a in appends) == b"\x05\x00" * 480
    assert all(a["event_id"] for a in appends)
    await p.aclose()


async def test_async_with_closes_audio() -> None:
    mem = MemoryAudioIO()
    async with session(FakeConnection(), audio=mem) as p:
        assert not mem.closed
    assert mem.closed and p.closed
    with pytest.raises(RuntimeError, match="closed"):
        await p.greet()


def test_bad_connection_is_a_config_error() -> None:
    with pytest.raises(vp.ConfigurationError, match="VoiceLiveConnection"):
        vp.ProactiveSession(object(), greeting="Hi", audio=None)  # type: ignore[arg-type]


async def test_every_sent_event_has_an_event_id() -> None:
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, vp.LLMGreeting("Greet."), audio=mem)
    events = audio_response_events("r1", "i1", [CHUNK, CHUNK])
    await deliver(p, fake, UPDATED, *events[:5], SPEECH)
    mem.feed(b"\x00" * 960)
    await fake.wait_sent("input_audio_buffer.append")
    ids = [e.get("event_id") for e in fake.sent]
    assert all(ids) and len(set(ids)) == len(ids)
    await p.aclose()


async def test_user_speaking_while_the_greeting_is_in_flight_cancels_it() -> None:
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, audio=mem)
    await deliver(p, fake, UPDATED, SPEECH)
    events = audio_response_events("r1", "i1", [CHUNK], answering=fake.sent[0])
    await deliver(p, fake, *events)
    cancel = fake.sent_of("response.cancel")
    # It names the response, so it can only ever stop the greeting.
    assert cancel == [
        {"type": "response.cancel", "event_id": cancel[0]["event_id"], "response_id": "r1"}
    ]
    assert mem.queued == b""  # none of the greeting talks over the user
    assert p.outcome.status is vp.GreetingStatus.SKIPPED
    assert "user" in (p.outcome.reason or "")


async def test_a_response_only_presumed_ours_is_held_not_cancelled() -> None:
    # Without the metadata echo the session cannot know whose response this is: it might
    # be the service's reply to the user. Nothing is cancelled, and nothing plays over the
    # user until the response turns out to be the greeting (here: by elimination at done).
    fake, mem = FakeConnection(), MemoryAudioIO()
    p = session(fake, audio=mem)
    await deliver(p, fake, UPDATED, SPEECH, *audio_response_events("r1", "i1", [CHUNK]))
    assert fake.sent_of("response.cancel") == []
    assert mem.queued == b""
    assert p.outcome.status is vp.GreetingStatus.SKIPPED


def test_greet_from_a_thread_after_the_session_loop_stopped_is_a_clear_error() -> None:
    fake = FakeConnection()
    p = session(fake)

    async def bind() -> None:
        await deliver(p, fake, {"type": "session.created", "session": {"id": "s"}})

    asyncio.run(bind())  # the session's loop has now finished
    with pytest.raises(RuntimeError, match="has stopped"):
        asyncio.run(p.greet())
