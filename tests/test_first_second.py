"""The first second and the last word (issue 17), through the public API and a FakeConnection:
an instant prerecorded greeting, greeting after the callee's hello, coughs that are not
turns, receipts of what was heard, and speech that knows when it is stale."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import pytest

import voicelive_proactive as vp
from voicelive_proactive.testing import (
    FakeConnection,
    ManualClock,
    MemoryAudioIO,
    audio_response_events,
)
from voicelive_proactive.words import WordTiming, write_words_file

from .conftest import deliver

TURNS = {"type": "server_vad", "threshold": 0.5, "create_response": True}
READY = {"type": "session.updated", "session": {"id": "s", "turn_detection": TURNS}}
STARTED = {"type": "input_audio_buffer.speech_started", "item_id": "u"}
STOPPED = {"type": "input_audio_buffer.speech_stopped", "item_id": "u"}
CHUNK = b"\x01\x02" * 2400  # 100 ms at 24 kHz
TEXT = "Hi, this is Contoso. How can I help?"
WORDS = [
    WordTiming("Hi,", 0, 200),
    WordTiming("this", 250, 450),
    WordTiming("is", 450, 600),
    WordTiming("Contoso.", 600, 1100),
    WordTiming("How", 1300, 1500),
    WordTiming("can", 1500, 1650),
    WordTiming("I", 1650, 1750),
    WordTiming("help?", 1750, 2000),
]


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

    def turn_updates(self) -> list[dict[str, Any]]:
        return [
            e["session"]["turn_detection"]
            for e in self.fake.sent_of("session.update")
            if "turn_detection" in e["session"]
        ]


def hello_wav(tmp_path: Path, *, words: bool = True) -> Path:
    path = tmp_path / "hello.wav"
    pcm = b"\x10\x00\xf0\xff" * 24_000  # 2 s at 24 kHz
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24_000)
        wav.writeframes(pcm)
    if words:
        write_words_file(tmp_path / "hello.words.json", TEXT, WORDS, duration_ms=2000)
    return path


# -- an instant greeting ---------------------------------------------------------------------------


async def test_a_prerecorded_greeting_plays_before_the_session_is_ready(tmp_path: Path) -> None:
    mem = MemoryAudioIO()
    greeting = vp.PrerecordedGreeting(TEXT, audio=hello_wav(tmp_path))
    c = Call(audio=mem, greeting=greeting)
    await c.settle()
    # No event from the service yet: the audio is already with the speaker.
    assert len(mem.queued) == 96_000
    [item] = c.fake.sent_of("conversation.item.create")
    assert item["item"]["role"] == "assistant"
    assert item["item"]["content"] == [{"text": TEXT, "type": "text"}]
    assert c.creates() == []  # no round trip, no synthesis
    assert c.p.outcome.status is vp.GreetingStatus.SENT and c.p.outcome.proof == "local"
    await c.d(READY)
    assert c.creates() == []  # greeted once
    mem.play_all()
    await c.settle()
    outcome = c.p.outcome
    assert (
        outcome.settled
        and outcome.delivered
        and outcome.heard_text == " ".join(w.text for w in WORDS)
    )


async def test_a_cut_off_prerecorded_greeting_leaves_only_the_heard_words(tmp_path: Path) -> None:
    mem = MemoryAudioIO()
    greeting = vp.PrerecordedGreeting(TEXT, audio=hello_wav(tmp_path))
    interrupted: list[vp.SpeechInterrupted] = []
    c = Call(audio=mem, greeting=greeting)
    c.p.on(vp.SpeechInterrupted, interrupted.append)
    await c.settle()
    item_id = c.fake.sent_of("conversation.item.create")[0]["item"]["id"]
    await c.d(READY)
    mem.play_ms(1200)
    await c.d(STARTED)
    assert mem.pending == b"" and mem.skip_count == 1
    [delete] = c.fake.sent_of("conversation.item.delete")
    assert delete["item_id"] == item_id
    replacement = c.fake.sent_of("conversation.item.create")[-1]["item"]
    assert replacement["content"][0]["text"] == "Hi, this is Contoso."
    outcome = c.p.outcome
    assert outcome.interrupted and outcome.played_ms == 1200
    assert outcome.heard_text == "Hi, this is Contoso." and not outcome.heard_estimated
    assert not outcome.delivered
    await c.settle()
    assert [e.heard_text for e in interrupted] == ["Hi, this is Contoso."]
    assert c.fake.sent_of("conversation.item.truncate") == []  # its item has no audio


async def test_without_a_words_file_what_was_heard_is_an_estimate(tmp_path: Path) -> None:
    mem = MemoryAudioIO()
    greeting = vp.PrerecordedGreeting(TEXT, audio=hello_wav(tmp_path, words=False))
    c = Call(audio=mem, greeting=greeting)
    await c.settle()
    mem.play_ms(1000)
    await c.d(READY, STARTED)
    outcome = c.p.outcome
    assert outcome.heard_estimated
    assert TEXT.startswith(outcome.heard_text) and 0 < len(outcome.heard_text) < len(TEXT)


async def test_a_prerecorded_greeting_is_once_per_conversation(tmp_path: Path) -> None:
    guard = vp.OnceGuard()
    greeting = vp.PrerecordedGreeting(TEXT, audio=hello_wav(tmp_path))
    first = Call(audio=MemoryAudioIO(), greeting=greeting, guard=guard)
    await first.settle()
    second = Call(
        audio=MemoryAudioIO(),
        greeting=greeting,
        guard=guard,
        resume_greeting=vp.StaticGreeting("Welcome back!"),
    )
    await second.settle()
    assert second.fake.sent_of("conversation.item.create") == []  # not played again
    await second.d(READY)
    assert second.p.outcome.resumed
    assert (
        second.creates()[0]["response"]["pre_generated_assistant_message"]["content"][0]["text"]
        == "Welcome back!"
    )


def test_prerecorded_audio_is_checked_at_construction(tmp_path: Path) -> None:
    with pytest.raises(vp.ConfigurationError, match="missing"):
        vp.PrerecordedGreeting(TEXT, audio=tmp_path / "nope.wav")
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(24_000)
        wav.writeframes(b"\x00" * 400)
    with pytest.raises(vp.ConfigurationError, match="mono 16-bit PCM"):
        vp.PrerecordedGreeting(TEXT, audio=stereo)
    with pytest.raises(vp.ConfigurationError, match="does not belong"):
        vp.PrerecordedGreeting(TEXT, audio=b"\x00\x00" * 2400, words=WORDS)  # 100 ms of audio
    with pytest.raises(vp.ConfigurationError, match="format must be"):
        vp.PrerecordedGreeting(TEXT, audio=b"\x00\x00", format="mp3")
    with pytest.raises(vp.EmptyGreetingError):
        vp.PrerecordedGreeting(" ", audio=b"\x00\x00")


async def test_prerecorded_bytes_in_a_telephony_format_set_the_speakers_format() -> None:
    mem = MemoryAudioIO()
    ulaw = b"\xff" * 8000  # 1 s of G.711 silence
    c = Call(audio=mem, greeting=vp.PrerecordedGreeting("Hello.", audio=ulaw, format="g711_ulaw"))
    await c.settle()
    assert mem.output_format == vp.AudioFormat.from_output("g711_ulaw")
    assert mem.queued == ulaw


# -- greeting after the callee's hello -------------------------------------------------------------


async def test_after_hello_greets_when_the_callees_hello_ends() -> None:
    c = Call(greet_when=vp.AfterHello(max_wait=4.0))
    await c.d(READY)
    assert c.creates() == []
    assert c.turn_updates()[0] == {**TURNS, "create_response": False}  # no reply to "hello"
    await c.d(STARTED)
    c.clock.advance(0.8)
    await c.d(STOPPED)
    [create] = c.creates()  # at once: the greeting is the answer
    sent = c.fake.sent
    assert sent.index(create) < sent.index(c.fake.sent_of("session.update")[-1])
    assert c.turn_updates()[-1] == TURNS  # the app's create_response is back


async def test_after_hello_greets_after_max_wait_of_silence() -> None:
    c = Call(greet_when=vp.AfterHello(max_wait=4.0))
    await c.d(READY)
    c.clock.advance(3.9)
    await c.settle()
    assert c.creates() == []
    c.clock.advance(0.2)
    await c.settle()
    assert len(c.creates()) == 1


async def test_after_hello_waits_for_a_callee_still_talking_at_max_wait() -> None:
    c = Call(greet_when=vp.AfterHello(max_wait=2.0))
    await c.d(READY)
    c.clock.advance(1.5)
    await c.d(STARTED)  # "Hello, this is Bob from accounting, who is calling?"
    c.clock.advance(3.0)
    await c.settle()
    assert c.creates() == []
    await c.d(STOPPED)
    assert len(c.creates()) == 1


async def test_a_reply_to_the_hello_is_cancelled_by_name_and_never_heard() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, greet_when=vp.AfterHello(max_wait=4.0))
    await c.d(READY, STARTED, STOPPED)
    greeting = c.creates()[0]
    # Its session.update crossed the hello: the service answered the hello itself first.
    reply = audio_response_events("r_hello", "i_hello", [CHUNK])
    await c.d(*reply[:5])  # it may be the greeting's: its audio waits until that is known
    assert mem.queued == b""
    await c.d(
        {
            "type": "error",
            "error": {
                "code": "conversation_already_has_active_response",
                "event_id": greeting["event_id"],
            },
        }
    )
    [cancel] = c.fake.sent_of("response.cancel")  # it was the service's: cancelled by name
    assert cancel["response_id"] == "r_hello"
    await c.d(*reply[5:])
    assert mem.queued == b""
    await c.settle()
    assert len(c.creates()) == 2  # the greeting again, once the reply is gone
    await c.d(*audio_response_events("r_g", "i_g", [CHUNK], answering=c.creates()[1]))
    assert mem.queued == CHUNK


def test_greet_on_ready_still_works_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match="greet_when"):
        vp.ProactiveSession(FakeConnection(), greeting="Hi", audio=None, greet_on_ready=False)
    with pytest.raises(vp.ConfigurationError, match='"ready", "manual"'):
        vp.ProactiveSession(FakeConnection(), greeting="Hi", audio=None, greet_when="later")


# -- coughs are not turns -------------------------------------------------------------------------


async def test_a_cough_pauses_the_greeting_and_it_resumes() -> None:
    mem = MemoryAudioIO()
    policy = vp.InterruptionPolicy(min_duration_ms=300, resume_within_ms=1500)
    c = Call(audio=mem, interruptions=policy)
    await c.d(READY)
    assert c.turn_updates()[0]["interrupt_response"] is False  # the decision is ours
    create = c.creates()[0]
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 10, answering=create))
    mem.play_ms(400)
    await c.d({**STARTED, "audio_start_ms": 5000})
    assert mem.paused and mem.skip_count == 0
    c.clock.advance(0.65)  # the VAD says so 500 ms (its silence_duration_ms) after the cough
    # 150 ms of sound, reported with the VAD's 300 ms of padding and 500 ms of silence
    await c.d({**STOPPED, "audio_end_ms": 5950})
    assert not mem.paused
    mem.play_all()
    await c.settle()
    outcome = c.p.outcome
    assert not outcome.interrupted and outcome.settled
    assert c.fake.sent_of("conversation.item.truncate") == []
    assert len(mem.played) == 10 * len(CHUNK)  # every sample was delivered
    assert c.turn_updates()[-1] == TURNS


async def test_speech_longer_than_min_duration_is_a_turn() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptions=vp.InterruptionPolicy(300, 1500))
    await c.d(READY)
    events = audio_response_events("r1", "i1", [CHUNK] * 10, answering=c.creates()[0])
    await c.d(*events[:8])
    mem.play_ms(250)
    await c.d({**STARTED, "audio_start_ms": 5000})
    c.clock.advance(0.9)
    await c.d({**STOPPED, "audio_end_ms": 6200})  # 400 ms of speech: a turn
    await c.settle()
    assert [x["response_id"] for x in c.fake.sent_of("response.cancel")] == ["r1"]
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 250  # the pause point
    assert mem.pending == b"" and not mem.paused
    assert c.p.outcome.interrupted


async def test_still_speaking_when_resume_within_ms_passes_is_a_turn() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptions=vp.InterruptionPolicy(300, 1500))
    await c.d(READY)
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 10, answering=c.creates()[0]))
    mem.play_ms(300)
    await c.d({**STARTED, "audio_start_ms": 5000})
    c.clock.advance(1.4)
    await c.settle()
    assert mem.paused
    c.clock.advance(0.2)
    await c.settle()
    assert not mem.paused and mem.pending == b""
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 300


async def test_a_reply_the_service_starts_after_a_blip_ends_our_speech() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, interruptions=vp.InterruptionPolicy(300, 1500))
    await c.d(READY)
    await c.d(*audio_response_events("r1", "i1", [CHUNK] * 10, answering=c.creates()[0]))
    mem.play_ms(200)
    await c.d({**STARTED, "audio_start_ms": 5000})
    c.clock.advance(0.6)
    await c.d({**STOPPED, "audio_end_ms": 5900})  # a blip: playout resumes...
    mem.play_ms(100)
    # ...but the service committed it as a turn and answers it: that was a turn after all.
    await c.d(*audio_response_events("r_reply", "i_reply", [CHUNK])[:1])
    [truncate] = c.fake.sent_of("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 300
    assert c.p.outcome.interrupted


async def test_without_a_pausable_backend_the_policy_flushes_at_once() -> None:
    c = Call(audio=None, interruptions=vp.InterruptionPolicy(300, 1500))
    await c.d(READY)
    assert c.fake.sent_of("session.update") == []  # nothing to decide: today's behaviour
    events = audio_response_events("r1", "i1", [CHUNK] * 10, answering=c.creates()[0])
    await c.d(*events[:8], STARTED)
    assert len(c.fake.sent_of("conversation.item.truncate")) == 1


def test_the_policy_is_validated() -> None:
    with pytest.raises(vp.ConfigurationError, match="at least min_duration_ms"):
        vp.InterruptionPolicy(min_duration_ms=500, resume_within_ms=200)
    with pytest.raises(vp.ConfigurationError, match="int"):
        vp.InterruptionPolicy(min_duration_ms=0.3)  # type: ignore[arg-type]
    with pytest.raises(vp.ConfigurationError, match="InterruptionPolicy"):
        vp.ProactiveSession(
            FakeConnection(), greeting="Hi", audio=None, interruptions=vp.InterruptionPolicy
        )


# -- receipts of what was heard --------------------------------------------------------------------


def timestamps(rid: str, iid: str, words: list[WordTiming]) -> list[dict[str, Any]]:
    ids = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
    return [
        {
            "type": "response.audio_timestamp.delta",
            **ids,
            "audio_offset_ms": w.start_ms,
            "audio_duration_ms": w.end_ms - w.start_ms,
            "text": w.text,
            "timestamp_type": "word",
        }
        for w in words
    ]


async def test_word_timestamps_are_asked_for_and_make_heard_text_exact() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, word_timestamps=True, greeting="This call is recorded.")
    await c.settle()
    [ask] = [
        e
        for e in c.fake.sent_of("session.update")
        if "output_audio_timestamp_types" in e["session"]
    ]
    assert ask["session"]["output_audio_timestamp_types"] == ["word"]
    await c.d(READY)
    words = [
        WordTiming("This", 0, 150),
        WordTiming("call", 150, 350),
        WordTiming("is", 350, 450),
        WordTiming("recorded.", 450, 900),
    ]
    events = audio_response_events(
        "r1", "i1", [CHUNK] * 10, answering=c.creates()[0], transcript="This call is recorded."
    )
    await c.d(*events[:5], *timestamps("r1", "i1", words), *events[5:12])
    mem.play_ms(400)
    await c.d(STARTED)
    outcome = c.p.outcome
    assert outcome.heard_text == "This call" and not outcome.heard_estimated
    assert not outcome.delivered


async def test_a_compliance_line_heard_in_full_is_delivered() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, word_timestamps=True, **{"greet_when": "manual"})
    await c.d(READY)
    speech = c.p.say("This call is recorded.", interruptible=False)
    await c.settle()
    words = [
        WordTiming("This", 0, 150),
        WordTiming("call", 150, 350),
        WordTiming("is", 350, 450),
        WordTiming("recorded.", 450, 900),
    ]
    events = audio_response_events(
        "r1", "i1", [CHUNK] * 10, answering=c.creates()[0], transcript="This call is recorded."
    )
    await c.d(*events[:5], *timestamps("r1", "i1", words), *events[5:])
    assert not speech.outcome.delivered  # not heard yet: only received
    mem.play_all()
    await c.settle()
    assert speech.outcome.delivered and speech.outcome.heard_text == "This call is recorded."


async def test_without_timestamps_heard_text_is_estimated_and_flagged() -> None:
    mem = MemoryAudioIO()
    c = Call(audio=mem, greeting="One two three four five six seven eight nine ten.")
    await c.d(READY)
    events = audio_response_events(
        "r1",
        "i1",
        [CHUNK] * 10,
        answering=c.creates()[0],
        transcript="One two three four five six seven eight nine ten.",
    )
    await c.d(*events)
    mem.play_ms(500)
    await c.d(STARTED)
    outcome = c.p.outcome
    assert outcome.heard_estimated
    assert outcome.heard_text == "One two three four five"


# -- speech that knows when it is stale -----------------------------------------------------------


async def test_a_speech_not_started_in_time_expires_even_while_the_floor_is_busy() -> None:
    c = Call(greet_when="manual")
    await c.d(READY)
    await c.d({"type": "response.created", "response": {"id": "r_long"}})
    speech = c.p.say("Your order is ready.", expires_in=10.0)
    c.clock.advance(9.9)
    await c.settle()
    assert speech.outcome.status is vp.GreetingStatus.PENDING
    c.clock.advance(0.2)
    await c.settle()
    assert speech.outcome.status is vp.GreetingStatus.SKIPPED
    assert "expired" in (speech.outcome.reason or "")
    await c.d({"type": "response.done", "response": {"id": "r_long", "status": "completed"}})
    assert c.creates() == []  # nothing is sent for it


async def test_a_newer_speech_with_the_same_key_replaces_a_queued_one() -> None:
    c = Call(greet_when="manual")
    await c.d(READY)
    await c.d({"type": "response.created", "response": {"id": "r_long"}})
    old = c.p.say("Your order is being prepared.", key="order")
    new = c.p.say("Your order is ready.", key="order")
    other = c.p.say("Dessert is on the house.", key="dessert")
    await c.settle()
    assert old.outcome.status is vp.GreetingStatus.SKIPPED
    assert "replaced" in (old.outcome.reason or "")
    await c.d({"type": "response.done", "response": {"id": "r_long", "status": "completed"}})
    said = c.creates()[0]["response"]["pre_generated_assistant_message"]["content"][0]["text"]
    assert said == "Your order is ready."
    assert new.outcome.status is vp.GreetingStatus.PENDING
    assert other.outcome.status is vp.GreetingStatus.PENDING


async def test_a_speech_already_sent_is_not_replaced() -> None:
    c = Call(greet_when="manual")
    await c.d(READY)
    first = c.p.say("Your order is being prepared.", key="order")
    await c.settle()
    second = c.p.say("Your order is ready.", key="order")
    await c.settle()
    assert first.outcome.status is vp.GreetingStatus.PENDING  # on the wire: left alone
    assert second.outcome.status is vp.GreetingStatus.PENDING


def test_expires_in_and_key_are_validated() -> None:
    c = Call(greet_when="manual")
    with pytest.raises(vp.ConfigurationError, match="expires_in"):
        c.p.say("x", expires_in=0)
    with pytest.raises(vp.ConfigurationError, match="key"):
        c.p.say("x", key="")
