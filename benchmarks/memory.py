"""Memory: what the library itself keeps per live session, at 1,000 sessions.

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
"""

from __future__ import annotations

import asyncio
import gc
import linecache
import os
import tracemalloc
from collections import Counter
from typing import Any

import voicelive_proactive

N_SESSIONS = 1000
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


def run(quick: bool = False) -> dict[str, Any]:
    with_audio = asyncio.run(_measure(N_SESSIONS, "null"))
    no_audio = asyncio.run(_measure(N_SESSIONS, ""))
    return {
        "per_session_kb": with_audio["per_session_kb"],
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
