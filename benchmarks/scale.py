"""Scale: N concurrent sessions from one client process, each greeted exactly once.

For each N (50, 200, 500, 1,000) the client opens N real SDK connections, spread round-robin
over emulator processes (one per 250 sessions), at most ``CONNECT_AT_ONCE`` handshakes at a
time. Once all are open, every session sends ``session.update`` in the same event-loop turn,
so all the ``session.updated`` answers, and all the greetings, are in flight together: the
dispatch latency is measured under that load, with the same stamps as the dispatch benchmark.
Each session is a ``ProactiveSession`` drop-in with ``audio=NullAudioIO()`` (the library
queues the audio and starts its microphone uplink); at every N the bare loop runs too, for
the ratio. Runs are repeated, the N and the two variants interleaved (alternating order),
and the figures are medians across the repeats.

Correctness: the emulators count ``response.create`` per connection; every session must
have exactly one.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import statistics
import time
from typing import Any

from benchmarks._stats import percentile, ratio
from benchmarks.clients import Stamp, emulator_counts, latencies_us, session
from benchmarks.emulator_proc import EmulatorProcess

GREETING = "Hi there!"  # short: 1,000 sessions of speech stream at once
PACE = 4.0  # the emulator's default: audio at 4x real time
SESSIONS_PER_EMULATOR = 250
CONNECT_AT_ONCE = 50
SIZES = (50, 200, 500, 1000)


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


async def _quiesce(emulators: list[EmulatorProcess], timeout: float = 30.0) -> None:
    """Wait until the emulators have closed every connection, so runs do not overlap."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if all(e.live_connections() == 0 for e in emulators):
            break
        await asyncio.sleep(0.05)
    gc.collect()
    await asyncio.sleep(0.2)


async def _one_run(n: int, variant: str, emulators: list[EmulatorProcess]) -> dict[str, Any]:
    used = emulators[: max(1, -(-n // SESSIONS_PER_EMULATOR))]
    for emulator in used:
        emulator.dump()  # forget stamps of earlier runs
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    go = asyncio.Event()
    all_open = asyncio.Event()
    opened = 0

    def connected() -> None:
        nonlocal opened
        opened += 1
        if opened == n:
            all_open.set()

    gc.collect()
    t0 = time.monotonic()
    tasks = [
        asyncio.create_task(
            session(
                used[i % len(used)].endpoint,
                used[i % len(used)].api_key,
                variant,
                GREETING,
                gate=gate,
                connected=connected,
                go=go,
            )
        )
        for i in range(n)
    ]
    errors: list[str] = []
    try:
        await asyncio.wait_for(all_open.wait(), timeout=60 + n / 10)
    except asyncio.TimeoutError:
        errors.append(f"only {opened} of {n} sessions connected")
    t_open = time.monotonic()
    go.set()
    done, pending = await asyncio.wait(tasks, timeout=60 + n / 10)
    t_done = time.monotonic()
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=10)
    stamps: list[tuple[str, Stamp]] = []
    for task in tasks:
        if task in done and task.exception() is None:
            stamps.append((variant, task.result()))
        else:
            stamps.append((variant, Stamp()))
            if task in done:
                errors.append(repr(task.exception()))
    dumps = [emulator.dump() for emulator in used]
    created = [c for d in dumps for c in d["created"]]
    latencies, counts = latencies_us(stamps, created)
    seen = emulator_counts(created, [sid for d in dumps for sid in d["opened"]])
    counts.update({f"emulator_{k}": v for k, v in seen.items()})
    lat_ms = [x / 1000 for x in latencies.get(variant, [])]
    return {
        "n": n,
        "variant": variant,
        "emulators": len(used),
        "p50_ms": round(percentile(lat_ms, 50), 3),
        "p90_ms": round(percentile(lat_ms, 90), 3),
        "p99_ms": round(percentile(lat_ms, 99), 3),
        "max_ms": round(max(lat_ms), 3) if lat_ms else None,
        "connect_s": round(t_open - t0, 2),
        "greet_s": round(t_done - t_open, 2),
        "correctness": counts,
        "errors": errors[:5],
    }


async def _measure(sizes: tuple[int, ...], repeats: int) -> list[dict[str, Any]]:
    _raise_fd_limit(4 * max(sizes) + 256)
    processes = -(-max(sizes) // SESSIONS_PER_EMULATOR)
    emulators = [EmulatorProcess(pace=PACE, voice="synthetic") for _ in range(processes)]
    runs: list[dict[str, Any]] = []
    try:
        # Warm up: each emulator synthesizes the greeting once; the client imports everything.
        for emulator in emulators:
            await _one_run(10, "dropin_audio", [emulator])
        await _quiesce(emulators)
        plan: list[tuple[int, str]] = []
        for r in range(repeats):
            order = list(sizes) if r % 2 == 0 else list(reversed(sizes))
            variants = ["dropin_audio", "bare"] if r % 2 == 0 else ["bare", "dropin_audio"]
            plan += [(n, variant) for n in order for variant in variants]
        for n, variant in plan:
            runs.append(await _one_run(n, variant, emulators))
            await _quiesce(emulators)
    finally:
        for emulator in emulators:
            emulator.close()
    return runs


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3) if values else float("nan")


def run(quick: bool = False) -> dict[str, Any]:
    sizes = SIZES
    repeats = 1 if quick else 5
    runs = asyncio.run(_measure(sizes, repeats))
    per_n: dict[str, Any] = {}
    for variant in ("dropin_audio", "bare"):
        for n in sizes:
            mine = [r for r in runs if r["n"] == n and r["variant"] == variant]
            if not mine:
                continue
            key = str(n) if variant == "dropin_audio" else f"{n}_bare"
            per_n[key] = {
                "n": n,
                "variant": variant,
                "runs": len(mine),
                "p50_ms": _median([r["p50_ms"] for r in mine]),
                "p99_ms": _median([r["p99_ms"] for r in mine]),
                "p99_ms_range": [min(r["p99_ms"] for r in mine), max(r["p99_ms"] for r in mine)],
                "p50_ms_range": [min(r["p50_ms"] for r in mine), max(r["p50_ms"] for r in mine)],
                "greeted_exactly_once": all(r["correctness"]["greeted_once"] == n for r in mine),
                "connect_s": _median([r["connect_s"] for r in mine]),
                "greet_s": _median([r["greet_s"] for r in mine]),
            }
    for n in sizes:
        lib, bare_n = per_n.get(str(n)), per_n.get(f"{n}_bare")
        if lib and bare_n:
            lib["ratio_p50"] = ratio(lib["p50_ms"], bare_n["p50_ms"])
            lib["ratio_p99"] = ratio(lib["p99_ms"], bare_n["p99_ms"])
    top = per_n[str(max(sizes))]
    bare = per_n.get(f"{max(sizes)}_bare")
    library_runs = [r for r in runs if r["variant"] == "dropin_audio"]
    return {
        "sessions": max(sizes),
        "greeted_exactly_once": all(
            r["correctness"]["greeted_once"] == r["n"] for r in library_runs
        ),
        "p99_dispatch_ms": top["p99_ms"],
        "p50_dispatch_ms": top["p50_ms"],
        "bare_p99_dispatch_ms": bare["p99_ms"] if bare else None,
        "bare_p50_dispatch_ms": bare["p50_ms"] if bare else None,
        "ratio_p99": ratio(top["p99_ms"], bare["p99_ms"]) if bare else None,
        "ratio_p50": ratio(top["p50_ms"], bare["p50_ms"]) if bare else None,
        "per_n": per_n,
        "runs": runs,
        "correctness": {
            "runs": len(runs),
            "sessions": sum(r["correctness"]["sessions"] for r in runs),
            "greeted_once": sum(r["correctness"]["greeted_once"] for r in runs),
            "missed": sum(r["correctness"]["missed"] + r["correctness"]["unmatched"] for r in runs),
            "double": sum(r["correctness"]["double"] for r in runs),
            "emulator_connections": sum(r["correctness"]["emulator_connections"] for r in runs),
            "emulator_without_greeting": sum(
                r["correctness"]["emulator_without_greeting"] for r in runs
            ),
            "emulator_greeted_twice_or_more": sum(
                r["correctness"]["emulator_greeted_twice_or_more"] for r in runs
            ),
        },
        "setup": {
            "greeting": GREETING,
            "emulator_pace": PACE,
            "emulator_voice": "synthetic",
            "sessions_per_emulator_process": SESSIONS_PER_EMULATOR,
            "handshakes_at_once": CONNECT_AT_ONCE,
            "repeats": repeats,
        },
    }
