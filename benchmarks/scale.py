"""Scale: N concurrent sessions from one client process, live microphones, each greeted once.

For each N (50, 200, 500, 1,000, 2,000) the client opens N real SDK connections, spread
round-robin over emulator processes (one per 250 sessions, ``pace=4``), at most
``CONNECT_AT_ONCE`` handshakes at a time. Once all are open, every session sends
``session.update`` in the same event-loop turn, so all the ``session.updated`` answers, and all
the greetings, are in flight together. From its ``session.updated`` on, every session streams
its microphone: one thread hands each session a frame of quiet room noise every
``MIC_FRAME_MS``, as a sound card's capture thread would, and each session sends it as an
``input_audio_buffer.append`` (the library through its uplink; the bare loop through the same
hand-written hop, see :mod:`benchmarks.loops`). Each session stays open, its microphone
streaming, for ``MIC_HOLD_S`` after its ``session.updated`` (or until its greeting's
``response.done``, if later), then closes: a bounded load, so an overloaded run cannot feed on
itself.

Latency, per session, under that load, two ways (:mod:`benchmarks.wiretap`): the **dispatch**
window of the dispatch section (``session.updated`` out of ``receive()`` → the greeting's
``response.create`` into ``send_str()``), which the goal keys use, and the **queued** window,
from the ``session.updated`` bytes reaching the client's protocol (the event loop read them off
the socket) to the same send, which adds the time the frame waited for the busy loop: with all
N sessions starting in one loop turn, that wait is the burst itself, for either variant.
Runs alternate N and variant; each N and variant runs ``repeats`` times; the report gives
p50, p99 and the **worst** run's p99, the event loop's lag (a 5 ms timer's lateness) and the
garbage collector's pauses, measured from the burst to the last greeting. Correctness: every
session sent exactly one ``response.create`` (and, with the emulator's hook, the emulator
received exactly one).
"""

from __future__ import annotations

import asyncio
import gc
import resource
import statistics
import time
from typing import Any

from benchmarks._stats import percentile, ratio
from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.loops import Run, session
from benchmarks.wiretap import Wiretap

GREETING_MODE = "spoken"
GREETING = "Hi there!"  # short: thousands of greetings stream their audio at once
PACE = 4.0  # the emulator's default: audio at 4x real time
SESSIONS_PER_EMULATOR = 250
CONNECT_AT_ONCE = 50
SIZES = (50, 200, 500, 1000, 2000)
MIC_FRAME_MS = 100
MIC_HOLD_S = 1.0
VARIANTS = ("library", "bare")
# At the largest N only: the library with gc.freeze() called once the sessions are open (and
# gc.unfreeze() after), to show what the collector's pauses cost and what that guidance buys.
FROZEN = "library_frozen"
LOOP_OF = {"library": "dropin", "bare": "bare", FROZEN: "dropin"}


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


async def _quiesce(emulators: list[EmulatorProcess], timeout: float = 60.0) -> None:
    """Wait until the emulators have closed every connection, so runs do not overlap."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if all(e.live_connections() == 0 for e in emulators):
            break
        await asyncio.sleep(0.05)
    gc.collect()
    await asyncio.sleep(0.2)


class _Watch:
    """Event-loop lag and GC pauses while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.lags_ms: list[float] = []
        self.gc_pauses_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_start: float | None = None

    def gc_callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif self._gc_start is not None:
            if self.on:
                pause = 1000 * (time.perf_counter() - self._gc_start)
                self.gc_pauses_ms[info["generation"]].append(pause)
            self._gc_start = None

    async def lag_probe(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            t0 = loop.time()
            await asyncio.sleep(0.005)
            if self.on:
                self.lags_ms.append(1000 * (loop.time() - t0 - 0.005))


async def _one_run(
    n: int, variant: str, emulators: list[EmulatorProcess], mic: Any, *, freeze: bool = False
) -> dict[str, Any]:
    used = emulators[: max(1, -(-n // SESSIONS_PER_EMULATOR))]
    for emulator in used:
        emulator.dump()  # forget stamps of earlier runs
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    go, all_open = asyncio.Event(), asyncio.Event()
    opened = 0

    def connected() -> None:
        nonlocal opened
        opened += 1
        if opened == n:
            all_open.set()

    runs = []
    for _ in range(n):
        audio = mic.audio_io()
        r = Run(GREETING_MODE, text=GREETING, player=audio, mic=audio)
        r.hold_s = MIC_HOLD_S
        runs.append(r)

    async def one(i: int) -> Wiretap:
        emulator = used[i % len(used)]
        try:
            return await session(
                emulator.endpoint,
                emulator.api_key,
                LOOP_OF[variant],
                runs[i],
                gate=gate,
                connected=connected,
                go=go,
            )
        finally:
            audio = runs[i].mic
            if audio is not None:
                audio.close()

    watch = _Watch()
    stop_probe = asyncio.Event()
    probe = asyncio.create_task(watch.lag_probe(stop_probe))
    gc.callbacks.append(watch.gc_callback)
    gc.collect()
    t0 = time.monotonic()
    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    errors: list[str] = []
    try:
        await asyncio.wait_for(all_open.wait(), timeout=60 + n / 10)
    except asyncio.TimeoutError:
        errors.append(f"only {opened} of {n} sessions connected")
    t_open = time.monotonic()
    if freeze:  # the guidance under test: freeze what exists before the burst
        gc.freeze()
    ticks_before = mic.ticks
    watch.on = True
    go.set()

    # The burst is over once every session has had its greeting's response.done.
    deadline = time.monotonic() + 60 + n / 10
    while time.monotonic() < deadline and not all(r.responded for r in runs):
        if all(t.done() for t in tasks):
            break
        await asyncio.sleep(0.01)
    t_greeted = time.monotonic()
    watch.on = False
    done, pending = await asyncio.wait(tasks, timeout=60 + n / 10)
    t_done = time.monotonic()
    if freeze:
        gc.unfreeze()
    stop_probe.set()
    await probe
    gc.callbacks.remove(watch.gc_callback)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=10)
    taps: list[Wiretap | None] = []
    for task in tasks:
        if task in done and task.exception() is None:
            taps.append(task.result())
        else:
            taps.append(None)
            if task in done:
                errors.append(repr(task.exception()))
    lat_ms = [
        t.queued_dispatch_us / 1000
        for t in taps
        if t is not None and t.queued_dispatch_us is not None
    ]
    processing_ms = [
        t.dispatch_us / 1000 for t in taps if t is not None and t.dispatch_us is not None
    ]
    counts = {
        "sessions": n,
        "greeted_once": sum(1 for t in taps if t is not None and t.creates == 1),
        "missed": sum(1 for t in taps if t is None or t.creates == 0),
        "double": sum(1 for t in taps if t is not None and t.creates > 1),
    }
    dumps = [emulator.dump() for emulator in used]
    if all(d.get("hook") for d in dumps):
        per: dict[str, int] = {}
        for d in dumps:
            for sid in d["opened"]:
                per.setdefault(sid, 0)
            for sid, _ in d["created"]:
                per[sid] = per.get(sid, 0) + 1
        counts["emulator_without_greeting"] = sum(1 for v in per.values() if v == 0)
        counts["emulator_greeted_twice_or_more"] = sum(1 for v in per.values() if v > 1)
    gc_all = [p for pauses in watch.gc_pauses_ms.values() for p in pauses]
    return {
        "n": n,
        "variant": variant,
        "emulators": len(used),
        "p50_ms": round(percentile(processing_ms, 50), 3),
        "p90_ms": round(percentile(processing_ms, 90), 3),
        "p99_ms": round(percentile(processing_ms, 99), 3),
        "max_ms": round(max(processing_ms), 3) if processing_ms else None,
        "queued_p50_ms": round(percentile(lat_ms, 50), 3),
        "queued_p99_ms": round(percentile(lat_ms, 99), 3),
        "queued_max_ms": round(max(lat_ms), 3) if lat_ms else None,
        "loop_lag_ms_p50": round(percentile(watch.lags_ms, 50), 3),
        "loop_lag_ms_p99": round(percentile(watch.lags_ms, 99), 3),
        "loop_lag_ms_max": round(max(watch.lags_ms), 3) if watch.lags_ms else None,
        "gc_collections": {g: len(p) for g, p in watch.gc_pauses_ms.items()},
        "gc_pause_ms_max": round(max(gc_all), 3) if gc_all else 0.0,
        "gc_pause_ms_total": round(sum(gc_all), 3),
        "mic_frames_sent": sum(t.appends for t in taps if t is not None),
        "mic_ticks": mic.ticks - ticks_before,
        "connect_s": round(t_open - t0, 2),
        "greet_s": round(t_greeted - t_open, 2),
        "close_s": round(t_done - t_greeted, 2),
        "correctness": counts,
        "errors": errors[:5],
    }


async def _measure(sizes: tuple[int, ...], repeats: int) -> list[dict[str, Any]]:
    from benchmarks.devices import PacedMicSource

    _raise_fd_limit(4 * max(sizes) + 256)
    processes = -(-max(sizes) // SESSIONS_PER_EMULATOR)
    emulators = [EmulatorProcess(pace=PACE, voice="synthetic") for _ in range(processes)]
    mic = PacedMicSource(MIC_FRAME_MS)
    runs: list[dict[str, Any]] = []
    try:
        # Warm up: each emulator synthesizes the greeting once; the client imports everything.
        for emulator in emulators:
            for variant in VARIANTS:
                await _one_run(10, variant, [emulator], mic)
        await _quiesce(emulators)
        plan: list[tuple[int, str]] = []
        for r in range(repeats):
            order = list(sizes) if r % 2 == 0 else list(reversed(sizes))
            variants = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
            plan += [(n, variant) for n in order for variant in variants]
            plan.append((max(sizes), FROZEN))
        for i, (n, variant) in enumerate(plan):
            result = await _one_run(n, variant, emulators, mic, freeze=variant == FROZEN)
            result["run"] = i
            runs.append(result)
            await _quiesce(emulators)
    finally:
        mic.stop()
        for emulator in emulators:
            emulator.close()
    return runs


def _summarise(runs: list[dict[str, Any]], sizes: tuple[int, ...]) -> dict[str, Any]:
    by_n: dict[str, Any] = {}
    for n in sizes:
        row: dict[str, Any] = {"n": n}
        for variant in (*VARIANTS, FROZEN):
            mine = [r for r in runs if r["n"] == n and r["variant"] == variant]
            if not mine:
                continue
            p99s = [r["p99_ms"] for r in mine]
            queued = [r["queued_p99_ms"] for r in mine]
            row[variant] = {
                "runs": len(mine),
                "p50_ms": round(statistics.median(r["p50_ms"] for r in mine), 3),
                "p99_ms": round(statistics.median(p99s), 3),
                "worst_p99_ms": max(p99s),
                "p99_ms_by_run": p99s,
                "queued_p50_ms": round(statistics.median(r["queued_p50_ms"] for r in mine), 3),
                "queued_p99_ms": round(statistics.median(queued), 3),
                "queued_worst_p99_ms": max(queued),
                "queued_p99_ms_by_run": queued,
                "gc_pause_ms_total": round(statistics.median(r["gc_pause_ms_total"] for r in mine)),
                "loop_lag_ms_p99": round(statistics.median(r["loop_lag_ms_p99"] for r in mine), 3),
                "loop_lag_ms_max": max(r["loop_lag_ms_max"] or 0 for r in mine),
                "gc_pause_ms_max": max(r["gc_pause_ms_max"] for r in mine),
                "gc_gen2_collections": sum(r["gc_collections"][2] for r in mine),
                "mic_frames_per_s": round(
                    statistics.median(
                        r["mic_frames_sent"] / max(r["greet_s"] + r["close_s"], 1e-3) for r in mine
                    )
                ),
                "greeted_exactly_once": all(r["correctness"]["greeted_once"] == n for r in mine),
                "connect_s": round(statistics.median(r["connect_s"] for r in mine), 2),
                "greet_s": round(statistics.median(r["greet_s"] for r in mine), 2),
            }
        lib, bare = row.get("library"), row.get("bare")
        if lib and bare:
            row["worst_p99_ms"] = lib["worst_p99_ms"]
            row["ratio_p99"] = ratio(lib["p99_ms"], bare["p99_ms"])
            row["ratio_p50"] = ratio(lib["p50_ms"], bare["p50_ms"])
            row["ratio_worst_p99"] = ratio(lib["worst_p99_ms"], bare["worst_p99_ms"])
            row["queued_worst_p99_ms"] = lib["queued_worst_p99_ms"]
            row["queued_ratio_p99"] = ratio(lib["queued_p99_ms"], bare["queued_p99_ms"])
        by_n[str(n)] = row
    return by_n


def run(quick: bool = False, sizes: tuple[int, ...] | None = None) -> dict[str, Any]:
    sizes = sizes or ((20, 50) if quick else SIZES)
    repeats = 1 if quick else 3
    runs = asyncio.run(_measure(sizes, repeats))
    by_n = _summarise(runs, sizes)
    top = by_n[str(max(sizes))]
    library_runs = [r for r in runs if r["variant"] == "library"]
    goal_rows = [row for row in by_n.values() if "ratio_p99" in row]
    return {
        "by_n": by_n,
        "sessions": max(sizes),
        "greeted_exactly_once": all(r["correctness"]["greeted_once"] == r["n"] for r in runs),
        "p99_dispatch_ms": top.get("library", {}).get("p99_ms"),
        "worst_p99_ms_any_n": max((row["worst_p99_ms"] for row in goal_rows), default=None),
        "ratio_p99_max_any_n": max((row["ratio_p99"] or 0 for row in goal_rows), default=None),
        "runs": runs,
        "correctness": {
            "runs": len(runs),
            "sessions": sum(r["correctness"]["sessions"] for r in runs),
            "greeted_once": sum(r["correctness"]["greeted_once"] for r in runs),
            "missed": sum(r["correctness"]["missed"] for r in runs),
            "double": sum(r["correctness"]["double"] for r in runs),
            "emulator_without_greeting": sum(
                r["correctness"].get("emulator_without_greeting", 0) for r in runs
            ),
            "emulator_greeted_twice_or_more": sum(
                r["correctness"].get("emulator_greeted_twice_or_more", 0) for r in runs
            ),
            "library_sessions": sum(r["n"] for r in library_runs),
        },
        "setup": {
            "sizes": list(sizes),
            "greeting_mode": GREETING_MODE,
            "greeting": GREETING,
            "emulator_pace": PACE,
            "emulator_voice": "synthetic",
            "sessions_per_emulator_process": SESSIONS_PER_EMULATOR,
            "handshakes_at_once": CONNECT_AT_ONCE,
            "mic_frame_ms": MIC_FRAME_MS,
            "mic_hold_s": MIC_HOLD_S,
            "repeats": repeats,
        },
    }
