"""The scripts both clients run, written once so that both do exactly the same thing.

Framework-free (only :mod:`benchmarks.peers.common`): each client builds its sessions its own
way and hands them to these.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

from benchmarks.peers import common
from benchmarks.peers.common import BYTES_PER_MS, MicSource, PacedSink, Track


async def barge_script(
    sink: PacedSink,
    track: Track,
    onset: dict[str, int],
    tap: common.Tap,
    command: dict[str, Any],
    side: str,
) -> dict[str, Any]:
    """Speak ``barge_after_s`` into the agent's first response; measure what played after.

    Shared by both clients (so it must not import either framework).
    """
    out: dict[str, Any] = {"side": side}
    deadline = time.monotonic() + 10
    while sink.first_ns is None and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.002)
    if sink.first_ns is None:
        out["error"] = "no audio within 10 s"
        return out
    await asyncio.sleep(max(0.0, sink.first_ns / 1e9 + command["barge_after_s"] - time.monotonic()))
    track.speak()
    while "ns" not in onset:  # noqa: ASYNC110 - set by the microphone's thread
        await asyncio.sleep(0.002)
    # Until the user's utterance ends (+200 ms): the reply to it cannot start before its
    # end and the 500 ms of silence that end the turn, so all audio played meanwhile is stale.
    utterance_s = len(track._utterance) / (BYTES_PER_MS * 1000)
    await asyncio.sleep(max(0.0, onset["ns"] / 1e9 + utterance_s + 0.2 - time.monotonic()))
    played_end = sink.played()
    out["stale_ms"] = (played_end - onset["played"]) / BYTES_PER_MS
    after = [t for t in tap.speech_started_ns if t >= onset["ns"]]
    if after:
        out["speech_started_after_onset_ms"] = (after[0] - onset["ns"]) / 1e6
    greeting = next((r for r in tap.responses if r.tagged), None)
    await asyncio.sleep(1.0)  # let the truncate (if any) reach the emulator
    out["session_id"] = tap.session_id
    out["played_ms"] = played_end / BYTES_PER_MS
    if greeting is not None and greeting.item_id is not None:
        out["item_id"] = greeting.item_id
        out["item_audio_ms"] = tap.item_audio_ms(greeting.item_id)
        out["greeting_status"] = greeting.status
    out["sent_truncates"] = [
        {"item_id": t.get("item_id"), "audio_end_ms": t.get("audio_end_ms")}
        for t in tap.sent_truncates
    ]
    out["sent_cancels"] = tap.sent_cancels
    return out


async def settle_race(tap: common.Tap, wait_s: float) -> None:
    """Until a tagged response is done, or ``wait_s`` after the last response ended."""
    deadline = time.monotonic() + 15
    quiet_since: float | None = None
    while time.monotonic() < deadline:
        if any(r.tagged and r.status for r in tap.responses):
            await asyncio.sleep(0.2)  # a second greeting would be requested at once
            return
        if tap.responses and all(r.status for r in tap.responses):
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= wait_s:
                return
        else:
            quiet_since = None
        await asyncio.sleep(0.02)


def race_record(tap: common.Tap, sink: PacedSink) -> dict[str, Any]:
    greetings = [r for r in tap.greeting_responses() if r.audio_bytes]
    return {
        "greetings": len(greetings),
        "responses": len(tap.responses),
        "creates": tap.sent_creates,
        "errors": [e.get("code") for e in tap.errors],
        "played_ms": sink.played() / BYTES_PER_MS,
    }


async def run_race(one: Any, command: dict[str, Any]) -> dict[str, Any]:
    endpoints = command["endpoints"]
    gate = asyncio.Semaphore(command["concurrency"])
    records: list[dict[str, Any]] = []

    async def guarded(i: int) -> None:
        endpoint, api_key = endpoints[i % len(endpoints)]
        async with gate:
            try:
                records.append(await one(endpoint, api_key))
            except Exception as exc:  # a session that crashed counts as missed
                records.append({"greetings": 0, "crashed": f"{type(exc).__name__}: {exc}"})

    await asyncio.gather(*(guarded(i) for i in range(command["n"])))
    return {
        "sessions": len(records),
        "duplicate_greetings": sum(1 for r in records if r["greetings"] > 1),
        "missed_greetings": sum(1 for r in records if r["greetings"] == 0),
        "records": records,
    }


async def measure_load(
    sinks: list[PacedSink],
    mic: MicSource,
    command: dict[str, Any],
    rss0: int,
    side: str,
    opened: Callable[[], int],
) -> dict[str, Any]:
    n = len(sinks)
    deadline = time.monotonic() + 60 + n
    while opened() < n and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    connected = opened()
    await asyncio.sleep(command["warm_s"])
    gc.collect()
    played0 = sum(s.played() for s in sinks)
    ticks0, late0 = mic.ticks, mic.late_ticks
    cpu0, wall0 = common.cpu_seconds(), time.monotonic()
    await asyncio.sleep(command["window_s"])
    cpu1, wall1 = common.cpu_seconds(), time.monotonic()
    played1 = sum(s.played() for s in sinks)
    gc.collect()
    rss1 = common.rss_kb()
    wall = wall1 - wall0
    return {
        "side": side,
        "n": n,
        "connected": connected,
        "window_s": round(wall, 3),
        "cpu_s": round(cpu1 - cpu0, 3),
        "cpu_core_percent_per_session": 100 * (cpu1 - cpu0) / wall / n,
        "rss_kb_before": rss0,
        "rss_kb_after": rss1,
        "rss_kb_per_session": (rss1 - rss0) / n,
        "played_s_per_session": (played1 - played0) / (BYTES_PER_MS * 1000) / n,
        "mic_ticks": mic.ticks - ticks0,
        "mic_late_ticks": mic.late_ticks - late0,
    }
