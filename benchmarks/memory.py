"""Memory: what the library keeps per live session, and whether one session grows over an hour.

**Per session.**
1,000 ``ProactiveSession`` objects on ``FakeConnection`` each go through a whole greeting
(``session.created``, ``session.updated`` → greeting sent, ``response.created``, the item,
two audio deltas, ``response.done``) and stay alive, as in a running call. ``tracemalloc``
starts (25 frames deep) after the connections exist, their events have been read (typed SDK
events, which belong to the SDK) and one warm-up session has run, so only what the sessions
allocate while handling the events is traced. An allocation is the library's when
ANY frame of its traceback is in the package (``voicelive_proactive/``), except in
``voicelive_proactive/testing/`` and ``voicelive_proactive/emulator/``: so SDK objects the
library builds and keeps count, while the fake connection's own buffers (and the JSON frames
it records, cleared before the snapshot) do not. ``gc.collect()`` runs before the snapshot,
so only memory still referenced is counted.

**An hour.** One session lives through a simulated hour of conversation: ``HOUR_TURNS`` turns
of 10 s, each with 5 s of the user talking (250 microphone frames of 20 ms through the
library's uplink, ``speech_started``/``speech_stopped``, the user item) and a 5 s answer (50
audio deltas of 100 ms through ``handle()`` into the session's audio). Events go through the
SDK's own parsing (``FakeConnection``), as fast as the machine runs them. ``tracemalloc``
(``HOUR_FRAMES`` frames) runs from turn ``WARM_TURNS``; every ``CHECK_EVERY`` turns, after
clearing CPython's type attribute cache and ``gc.collect()``, we record what is still
allocated: everything, and what has a library frame in its traceback (the SDK objects the
library keeps count too). ``hour_growth_kb`` is the library's growth from the first
checkpoint to the last.
"""

from __future__ import annotations

import asyncio
import gc
import json
import linecache
import os
import sys
import time
import tracemalloc
from collections import Counter
from typing import Any

import voicelive_proactive

N_SESSIONS = 1000
HOUR_TURNS = 360  # 10 s turns: one hour of conversation
WARM_TURNS = 10
CHECK_EVERY = 25
HOUR_FRAMES = 6  # deep enough to see the library's frame under the SDK's
PACKAGE = os.path.dirname(os.path.abspath(voicelive_proactive.__file__))
EXCLUDED = (os.path.join(PACKAGE, "testing") + os.sep, os.path.join(PACKAGE, "emulator") + os.sep)


def _events() -> list[dict[str, Any]]:
    from voicelive_proactive.testing import audio_response_events

    chunks = [bytes(range(256)) * 9 + bytes(96)] * 2  # two 50 ms deltas
    return [
        {"type": "session.created", "session": {"id": "sess_1"}},
        {"type": "session.updated", "session": {"id": "sess_1"}},
        *audio_response_events("resp_1", "item_1", chunks, transcript="Hi Lisa!"),
    ]


def _code(site: str) -> str:
    path, line = site.rsplit(":", 1)
    return linecache.getline(os.path.join(PACKAGE, path), int(line)).strip()


def _is_library(frame_filename: str) -> bool:
    return frame_filename.startswith(PACKAGE) and not frame_filename.startswith(EXCLUDED)


async def _measure(n: int, audio: str) -> dict[str, Any]:
    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.audio import NullAudioIO
    from voicelive_proactive.testing import FakeConnection

    events = _events()

    async def make_fake() -> tuple[FakeConnection, list[Any]]:
        fake = FakeConnection()
        for event in events:
            fake.push(event)
        # Read (deserialize) the typed events now, untraced: they are the SDK's, not ours.
        return fake, [await fake.recv() for _ in events]

    async def greet(fake: FakeConnection, typed: list[Any]) -> ProactiveSession:
        proactive = ProactiveSession(
            fake, greeting="Hi Lisa, welcome back!", audio=NullAudioIO() if audio else None
        )
        for event in typed:
            await proactive.handle(event)
        fake.clear_sent()
        return proactive

    # Warm-up: lazy imports and caches are not per-session costs.
    warm = await greet(*await make_fake())
    await warm.aclose()
    fakes = [await make_fake() for _ in range(n)]
    gc.collect()
    tracemalloc.start(25)
    sessions = [await greet(fake, typed) for fake, typed in fakes]
    await asyncio.sleep(0)  # let the microphone tasks reach their first await
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert all(s.outcome.status.value == "sent" for s in sessions), "a session did not greet"
    del fakes

    library = 0
    everything = 0
    by_line: Counter[str] = Counter()
    for trace in snapshot.traces:
        everything += trace.size
        frames = trace.traceback
        if any(_is_library(frame.filename) for frame in frames):
            library += trace.size
            # Attribute it to the innermost library line, for the breakdown.
            site = next(f for f in frames if _is_library(f.filename))
            by_line[f"{site.filename[len(PACKAGE) + 1 :]}:{site.lineno}"] += trace.size
    for proactive in sessions:
        await proactive.aclose()
    top = by_line.most_common(8)
    return {
        "per_session_kb": round(library / n / 1024, 2),
        "per_session_bytes": round(library / n),
        "traced_per_session_kb": round(everything / n / 1024, 2),
        "top_sites_bytes_per_session": {site: round(size / n) for site, size in top},
        "top_sites_code": {site: _code(site) for site, _ in top},
    }


class _HourAudio:
    """The session's audio: counts what it plays; its microphone is driven by the test."""

    def __init__(self) -> None:
        self.on_frame: Any = None
        self.played = 0

    def start_capture(self, on_frame: Any) -> None:
        self.on_frame = on_frame

    def queue_audio(self, pcm: bytes, **_: Any) -> None:
        self.played += len(pcm)

    def skip_pending_audio(self) -> int:
        return 0

    def close(self) -> None:
        self.on_frame = None


async def _hour(turns: int) -> dict[str, Any]:
    import resource

    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.testing import FakeConnection, audio_response_events

    fake = FakeConnection()
    audio = _HourAudio()
    proactive = ProactiveSession(fake, greeting="Hi Lisa, welcome back!", audio=audio)
    mic_frame = bytes(range(256)) * 3 + bytes(192)  # 20 ms
    answer = [bytes(range(256)) * 18 + bytes(192)] * 50  # 50 x 100 ms
    outgoing = fake._socket.outgoing  # what the SDK serialized; cleared as we go

    async def feed(events: list[dict[str, Any]]) -> None:
        for wire in events:
            fake.push(wire)
            await proactive.handle(await fake.recv())

    await feed([{"type": "session.updated", "session": {"id": "sess_1"}}])
    await feed(audio_response_events("resp_greet", "item_greet", answer[:20], transcript="Hi"))
    checkpoints: list[dict[str, float]] = []
    files: list[dict[str, int]] = []
    t0 = time.monotonic()
    for turn in range(turns):
        if turn == WARM_TURNS:
            gc.collect()
            tracemalloc.start(HOUR_FRAMES)
        user = f"item_u{turn}"
        await feed(
            [{"type": "input_audio_buffer.speech_started", "audio_start_ms": 0, "item_id": user}]
        )
        for _ in range(250):
            audio.on_frame(mic_frame)
        # Let the uplink send them all: gathered, they are fewer messages than frames.
        expected, seen, sent = 250 * len(mic_frame), 0, 0
        while sent < expected:
            while seen < len(outgoing):
                message = json.loads(outgoing[seen])
                seen += 1
                if message.get("type") == "input_audio_buffer.append":
                    sent += len(message["audio"]) * 3 // 4 - message["audio"].count("=")
            if sent < expected:
                await asyncio.sleep(0.001)
        outgoing.clear()
        await feed(
            [
                {
                    "type": "input_audio_buffer.speech_stopped",
                    "audio_end_ms": 5000,
                    "item_id": user,
                },
                {"type": "input_audio_buffer.committed", "item_id": user},
                {
                    "type": "conversation.item.created",
                    "item": {"id": user, "type": "message", "role": "user", "content": []},
                },
                *audio_response_events(f"resp_{turn}", f"item_a{turn}", answer, transcript="Ok."),
            ]
        )
        outgoing.clear()
        due = turn >= WARM_TURNS and (turn - WARM_TURNS) % CHECK_EVERY == 0
        if (due or turn == turns - 1) and tracemalloc.is_tracing():
            # CPython's type attribute cache (4,096 entries, bounded) keeps the attribute names
            # the SDK's models build with an f-string on every item access; let go of them,
            # so what remains is what the code keeps.
            sys._clear_type_cache()
            gc.collect()
            traced = tracemalloc.get_traced_memory()[0]
            snapshot = tracemalloc.take_snapshot()
            by_file = {
                stat.traceback[0].filename: stat.size for stat in snapshot.statistics("filename")
            }
            library_bytes = sum(
                trace.size
                for trace in snapshot.traces
                if any(_is_library(frame.filename) for frame in trace.traceback)
            )
            del snapshot
            checkpoints.append(
                {
                    "turn": turn,
                    "library_kb": round(library_bytes / 1024, 2),
                    "traced_kb": round(traced / 1024, 2),
                }
            )
            files.append(by_file)
    tracemalloc.stop()
    elapsed = time.monotonic() - t0
    await proactive.aclose()
    first, last = checkpoints[0], checkpoints[-1]
    grew = {
        name: files[-1].get(name, 0) - files[0].get(name, 0)
        for name in set(files[0]) | set(files[-1])
    }
    top = sorted(grew.items(), key=lambda kv: -abs(kv[1]))[:6]
    return {
        "growth_by_file_bytes": {name: size for name, size in top if size},
        "hour_growth_kb": round(last["library_kb"] - first["library_kb"], 2),
        "traced_growth_kb": round(last["traced_kb"] - first["traced_kb"], 2),
        "checkpoints": checkpoints,
        "turns": turns,
        "simulated_s": turns * 10,
        "mic_frames": turns * 250,
        "audio_deltas": turns * 50,
        "ran_s": round(elapsed, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "outcome": proactive.outcome.status.value,
    }


def run(quick: bool = False) -> dict[str, Any]:
    with_audio = asyncio.run(_measure(N_SESSIONS, "null"))
    no_audio = asyncio.run(_measure(N_SESSIONS, ""))
    hour = asyncio.run(_hour(60 if quick else HOUR_TURNS))
    return {
        "per_session_kb": with_audio["per_session_kb"],
        "hour_growth_kb": hour["hour_growth_kb"],
        "hour": hour,
        "sessions": N_SESSIONS,
        "audio": "NullAudioIO() (the library queues audio and runs its microphone uplink)",
        "with_audio": with_audio,
        "audio_none_per_session_kb": no_audio["per_session_kb"],
        "audio_none": no_audio,
        "method": (
            "tracemalloc with 25 frames, started once the fake connections exist, their events "
            "have been read and one warm-up session has run; an allocation still alive after "
            "gc.collect() counts when any frame of its traceback is under voicelive_proactive/ "
            "(but not testing/ or emulator/)"
        ),
    }
