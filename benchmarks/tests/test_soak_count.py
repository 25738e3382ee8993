"""The soak's judging: what the caller heard, counted from the emulator's record and the ear.

Run with ``.venv/bin/pytest -q benchmarks/tests``. The soak itself runs in ``make soak`` (and a
50-conversation version in ``tests/soak``).
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from benchmarks.soak import count
from benchmarks.soak.app import TOOL_METADATA, ConnectionRecord, SpeechRecord
from benchmarks.soak.ear import Ear
from benchmarks.soak.plan import GREETING, RESUME, SAYS, audio_chunks, make_plan
from benchmarks.soak.runner import CONVERSATION, TaskLedger, summarize

TAG = "voicelive_proactive"


def audio(seed: int, n: int = 3, size: int = 4800) -> list[bytes]:
    """``n`` distinct, non-silent chunks."""
    return [bytes([seed, k + 1]) * (size // 2) for k in range(n)]


def response_events(
    rid: str,
    chunks: list[bytes],
    *,
    text: str = "",
    metadata: Any = None,
    done: str | None = "completed",
    tool: bool = False,
) -> list[dict[str, Any]]:
    where = {"response_id": rid, "item_id": f"item_{rid}"}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {"id": rid, "metadata": metadata}}
    ]
    if tool:
        item = {"type": "function_call", "call_id": "c1"}
        events.append({"type": "response.output_item.added", **where, "item": item})
        events.append({"type": "response.function_call_arguments.done", **where, "arguments": ""})
    if text:
        events.append({"type": "response.audio_transcript.delta", **where, "delta": text})
    for chunk in chunks:
        delta = base64.b64encode(chunk).decode()
        events.append({"type": "response.audio.delta", **where, "delta": delta})
    if done:
        events.append({"type": "response.done", "response": {"id": rid, "status": done}})
    return events


def speech(label: str, status: str = "sent", **fields: Any) -> SpeechRecord:
    kind = fields.pop("kind", "static")
    texts = fields.pop("texts", (GREETING, RESUME) if label == "greeting" else (SAYS[0],))
    settled = fields.pop("settled", True)
    record = SpeechRecord(label, kind, texts, status=status, settled=settled, **fields)
    record.done_when_connection_ended = True
    return record


def connection(
    index: int,
    sent: list[dict[str, Any]],
    segments: list[tuple[bytes, int]],
    speeches: list[SpeechRecord],
    **fields: Any,
) -> ConnectionRecord:
    record = ConnectionRecord(index, {}, sent=sent, segments=segments, speeches=speeches)
    record.audio_closed = True
    for name, value in fields.items():
        setattr(record, name, value)
    return record


def test_responses_are_classified_from_the_emulators_record() -> None:
    sent = [
        *response_events("r0", audio(1), text="Hello! I'm your assistant."),  # no metadata
        *response_events("r1", audio(2), text=GREETING, metadata={TAG: "e1"}),
        *response_events("r2", audio(3), text=SAYS[0], metadata={TAG: "e2"}),
        *response_events("r3", [], metadata={TAG: "e3"}, tool=True),
        *response_events("r4", audio(4), text="Here is the order.", metadata=TOOL_METADATA),
        *response_events("r5", audio(5), text=RESUME, metadata={TAG: "e5"}, done=None),
        *response_events("r6", [], metadata={TAG: "e6"}, done=None),  # cut before its words
    ]
    received = [
        {
            "type": "response.create",
            "event_id": "e6",
            "response": {"pre_generated_assistant_message": {"content": [{"text": SAYS[1]}]}},
        }
    ]
    found = count.responses(sent, {SAYS[0]: "say1", SAYS[1]: "say2"}, count.pre_generated(received))
    kinds = {r.id: r.kind for r in found}
    assert kinds == {
        "r0": "service",
        "r1": "greeting",
        "r2": "say1",
        "r3": "tool_call",
        "r4": "tool_reply",
        "r5": "resume",
        "r6": "say2",
    }
    assert [r.status for r in found][-2:] == [None, None]  # dropped before response.done
    assert len(found[1].audio) == 3 * 4800


def test_played_audio_is_credited_by_content_partial_chunks_included() -> None:
    a, b = audio(1), audio(2)
    found = count.responses(
        [
            *response_events("ra", a, text="x", metadata=None),
            *response_events("rb", b, text=GREETING, metadata={TAG: "e"}),
        ],
        {},
    )
    silence = bytes(4800)
    segments = [
        (a[0], 4800),  # heard
        (a[1], 100),  # cut: 100 bytes heard
        # a[2] never queued (dropped by the library)
        (b[0], 0),  # queued, never played (skipped or closed)
        (silence, 4800),  # silence that is nowhere next in the stream: not credited
        (b[1], 4800),
        (b"\x07\x07" * 100, 200),  # not from this connection at all
    ]
    unplaced = count.attribute(segments, found)
    assert [r.heard for r in found] == [4900, 4800]
    assert unplaced == 4800 + 200


def test_one_greeting_then_one_resume_is_what_a_reconnect_should_sound_like() -> None:
    g, r = audio(1), audio(2)
    first = connection(
        0,
        response_events("r1", g, text=GREETING, metadata={TAG: "e"}, done=None),
        [(g[0], 4800)],
        [speech("greeting", interrupted=True, played_ms=100)],
        dropped=True,
    )
    second = connection(
        1,
        response_events("r2", r, text=RESUME, metadata={TAG: "e"}),
        [(c, 4800) for c in r],
        [speech("greeting", resumed=True)],
    )
    verdict = count.judge(7, [first, second])
    assert (verdict.greetings_heard, verdict.resumes_heard) == (1, 1)
    assert not verdict.duplicate and not verdict.missed and verdict.ok
    assert verdict.drops == ["greeting"]


def test_the_greeting_heard_on_two_connections_is_a_duplicate() -> None:
    g = audio(1)
    records = [
        connection(
            n,
            response_events(f"r{n}", g, text=GREETING, metadata={TAG: "e"}),
            [(g[0], 4800)],
            [speech("greeting")],
            dropped=n == 0,
        )
        for n in (0, 1)
    ]
    verdict = count.judge(1, records)
    assert verdict.greetings_heard == 2 and verdict.duplicate and not verdict.ok


def test_two_greetings_heard_on_one_connection_is_a_duplicate() -> None:
    g = audio(1, n=1)
    sent = [
        *response_events("r1", g, text=GREETING, metadata={TAG: "e1"}),
        *response_events("r2", g, text=GREETING, metadata={TAG: "e2"}),
    ]
    verdict = count.judge(1, [connection(0, sent, [(g[0], 4800), (g[0], 4800)], [])])
    assert verdict.greetings_heard == 2 and verdict.doubled and verdict.duplicate


def test_speech_is_lost_unless_heard_or_settled_with_a_reason() -> None:
    g, s = audio(1), audio(2)
    sent = [
        *response_events("r1", g, text=GREETING, metadata={TAG: "e1"}),
        *response_events("r2", s, text=SAYS[0], metadata={TAG: "e2"}),
    ]
    greeting = speech("greeting")
    cases = {
        "heard": (speech("say1"), [(s[0], 4800)], []),
        "failed with a reason": (speech("say1", "failed", reason="the connection closed"), [], []),
        "interrupted before any audio": (speech("say1", interrupted=True, played_ms=0), [], []),
        "sent, none heard": (speech("say1"), [(s[0], 0)], [count.SENT_UNHEARD]),
        "failed without a reason": (speech("say1", "failed"), [], [count.NO_REASON]),
        "never settled": (speech("say1", settled=False), [(s[0], 4800)], [count.NEVER_SETTLED]),
    }
    for name, (say, heard, expected) in cases.items():
        record = connection(0, sent, [(g[0], 4800), *heard], [greeting, say])
        verdict = count.judge(0, [record])
        assert [p.split(": ", 1)[1].split(" [")[0] for p in verdict.lost] == expected, name
        assert verdict.speeches == 1


def test_speech_still_pending_when_the_connection_ended_is_lost() -> None:
    pending = speech("say1", "failed", reason="the session was closed")
    pending.done_when_connection_ended = False
    raced = speech("say1", "failed", reason="the session was closed")
    raced.done_when_connection_ended, raced.asked_as_it_ended = False, True
    for say, lost in ((pending, True), (raced, False)):
        verdict = count.judge(0, [connection(0, [], [], [say], dropped=True)])
        assert bool(verdict.lost) is lost
        assert (count.PENDING_AT_END in verdict.lost[0]) if lost else True


def test_a_tool_say_is_heard_through_the_apps_tool_reply() -> None:
    reply = audio(4)
    sent = [
        *response_events("r1", [], metadata={TAG: "e1"}, tool=True),
        *response_events("r2", reply, text="Here it is.", metadata=TOOL_METADATA),
    ]
    say = speech("say2", kind="tool", texts=())
    verdict = count.judge(0, [connection(0, sent, [(reply[0], 4800)], [say])])
    assert verdict.heard_speeches == 1 and not verdict.lost


def test_outcomes_that_disagree_with_the_ear_are_noted() -> None:
    s = audio(2)
    sent = response_events("r2", s, text=SAYS[0], metadata={TAG: "e2"}, done=None)
    cut = speech("say1")  # reported sent, not interrupted; the response was cut by a drop
    failed = speech("say1", "failed", reason="closed")  # reported failed; the caller heard it
    notes = [
        count.judge(0, [connection(0, sent, [(s[0], 4800)], [say])]).notes for say in (cut, failed)
    ]
    assert "cut short" in notes[0][0]
    assert "reported failed" in notes[1][0]


def test_summary_counts_each_goal_key() -> None:
    g = audio(1)
    sent = response_events("r", g, text=GREETING, metadata={})
    ok = count.judge(0, [connection(0, sent, [(g[0], 9)], [speech("greeting")])])
    lost = count.judge(1, [connection(0, [], [], [speech("greeting"), speech("say1", "failed")])])
    results = [
        {"plan": make_plan(3, 0), "verdict": ok, "leaked": [], "seconds": 0.5},
        {"plan": make_plan(3, 1), "verdict": lost, "leaked": ["Task-9 spin"], "seconds": 1.5},
    ]
    section = summarize(
        results,
        seed=3,
        concurrency=2,
        seconds=2.0,
        leaked_fds=0,
        checkpoints=[],
        unhandled=[],
        library_errors=[],
    )
    assert section["conversations"] == 2
    assert section["duplicate_greetings"] == 0
    assert section["missed_greetings"] == 1
    assert section["lost_speech"] == 1
    assert section["leaked_tasks"] == 1
    assert section["failures_total"] == 1
    assert section["failures"][0]["reproduce"].startswith("SOAK_SEED=3 ")
    assert sum(section["faults"].values()) >= 2


async def test_the_ear_plays_in_order_skips_what_is_pending_and_says_when_played() -> None:
    ear = Ear(speed=100.0)  # 4,800 bytes in 1 ms
    told: list[str] = []
    played = asyncio.Event()
    ear.queue_audio(b"\1\0" * 2400)

    def first() -> None:
        told.append("first")
        played.set()

    ear.notify_when_played(first)
    await played.wait()
    assert told == ["first"] and ear.heard_bytes == 4800 and ear.pending_bytes == 0
    ear.queue_audio(b"\2\0" * 24000)  # 0.5 s: 5 ms at 100x, so it is still playing now
    ear.notify_when_played(lambda: told.append("second"))
    dropped = ear.skip_pending_audio()
    assert told == ["first", "second"]  # played or dropped: nothing is left to play
    assert dropped + sum(s.played for s in ear.segments[1:]) == 48000
    ear.queue_audio(b"\3\0" * 2400)
    ear.notify_when_played(lambda: told.append("third"))
    ear.close()  # its audio will never play
    assert told[-1] == "third" and ear.closed
    ear.queue_audio(b"\4\0")
    assert len(ear.segments) == 3


async def test_tasks_are_charged_to_the_conversation_that_made_them() -> None:
    ledger = TaskLedger()
    ledger.install(asyncio.get_running_loop())
    gate = asyncio.Event()
    try:

        async def conversation() -> asyncio.Task[bool]:
            CONVERSATION.set(5)
            return asyncio.ensure_future(gate.wait())  # outlives the conversation: a leak

        leaked = await asyncio.create_task(conversation())
        mine = asyncio.ensure_future(asyncio.sleep(0))  # made outside any conversation
        assert ledger.alive(5) == [leaked]
        gate.set()
        await asyncio.gather(leaked, mine)
        assert ledger.alive(5) == []
    finally:
        ledger.uninstall()


def test_plans_depend_only_on_the_seed_and_index() -> None:
    assert make_plan(11, 42) == make_plan(11, 42)
    assert [make_plan(11, i) for i in range(30)] != [make_plan(12, i) for i in range(30)]
    drops = [p for p in (make_plan(11, i) for i in range(300)) if "drop_mid_say" in p.faults]
    assert drops
    for plan in drops:  # placed after the greeting's audio, inside the first spoken say's
        kind, nth = plan.first["drop_after"]
        assert kind == "response.audio.delta"
        assert nth > audio_chunks(plan.greeting.text)


@pytest.mark.parametrize("seed", [1, 2])
def test_every_fault_kind_is_drawn(seed: int) -> None:
    seen = {kind for i in range(400) for kind in make_plan(seed, i).faults}
    assert seen >= {
        "drop_before_greeting_audio",
        "drop_mid_greeting",
        "drop_mid_say",
        "drop_mid_tool",
        "busy_greeting",
        "busy_say",
        "reject_greeting",
        "reject_say",
        "slow_render",
        "slow_render_timeout",
    }


async def test_a_task_outliving_its_conversation_is_reported_and_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.soak import app, runner

    forever = asyncio.Event()
    spawned: list[asyncio.Task[bool]] = []

    async def leaky(plan: Any, client: Any) -> list[ConnectionRecord]:
        spawned.append(asyncio.ensure_future(forever.wait()))  # what a leaky library does
        return []

    monkeypatch.setattr(app, "conversation", leaky)
    monkeypatch.setattr(runner, "LEAK_GRACE_S", 0.05)
    ledger = TaskLedger()
    ledger.install(asyncio.get_running_loop())
    try:
        result = await runner._one(make_plan(1, 4), None, ledger, asyncio.Semaphore(1))
    finally:
        ledger.uninstall()
    assert len(result["leaked"]) == 1
    assert "Event.wait" in result["leaked"][0]
    await asyncio.gather(*spawned, return_exceptions=True)
    assert spawned[0].cancelled()  # cancelled, so it cannot skew the next conversation
