"""Dispatch: ``session.updated`` received → the greeting's ``response.create`` at the emulator.

One emulator process (``pace=0``, synthetic voice) serves sequential sessions. Each round
runs every variant once (bare loop, ``handle()`` drop-in, ``run()``, and the drop-in with the
library owning audio), in a rotating order, so drift on a noisy machine hits all alike. The
client stamps the frame as it comes out of the socket (see :mod:`benchmarks.clients`); the
emulator stamps the ``response.create`` frame as it enters its handler (see
:mod:`benchmarks.emulator_proc`). Both use ``time.monotonic_ns()``, system-wide on Linux.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from benchmarks._stats import ratio, summary
from benchmarks.clients import VARIANTS, Stamp, emulator_counts, latencies_us, session
from benchmarks.emulator_proc import EmulatorProcess

GREETING = "Hi Lisa, welcome back! How can I assist you today?"
ROTATIONS = [VARIANTS[i:] + VARIANTS[:i] for i in range(len(VARIANTS))]
BLOCK = 80  # rounds per block: the ratio is also computed block by block, for its spread


async def _measure(rounds: int, warmup: int) -> dict[str, Any]:
    emulator = EmulatorProcess(pace=0.0, voice="synthetic")
    try:
        for _ in range(warmup):
            for variant in VARIANTS:
                await session(emulator.endpoint, emulator.api_key, variant, GREETING)
        emulator.dump()
        stamps: list[tuple[str, Stamp]] = []
        rounds_of: list[int] = []
        for i in range(rounds):
            for variant in ROTATIONS[i % len(ROTATIONS)]:
                stamp = await session(emulator.endpoint, emulator.api_key, variant, GREETING)
                stamps.append((variant, stamp))
                rounds_of.append(i)
        dumped = emulator.dump()
    finally:
        emulator.close()
    created = dumped["created"]
    latencies, counts = latencies_us(stamps, created)
    counts.update(
        {f"emulator_{k}": v for k, v in emulator_counts(created, dumped["opened"]).items()}
    )
    # Per block of BLOCK rounds: the same pairing, restricted to the block's sessions.
    blocks: dict[int, dict[str, list[float]]] = {}
    for b in range(0, rounds, BLOCK):
        chosen = [s for s, r in zip(stamps, rounds_of, strict=True) if b <= r < b + BLOCK]
        blocks[b // BLOCK], _ = latencies_us(chosen, created)
    # Paired: each variant against the bare session of the same round (adjacent in time).
    by_round: dict[int, dict[str, float]] = {}
    arrivals = dict(created)
    for (variant, stamp), r in zip(stamps, rounds_of, strict=True):
        sid = stamp.session_id
        if sid in arrivals and stamp.ns is not None:
            by_round.setdefault(r, {})[variant] = (arrivals[sid] - stamp.ns) / 1000
    paired = {
        v: [x[v] / x["bare"] for x in by_round.values() if v in x and "bare" in x]
        for v in VARIANTS[1:]
    }
    return {"latencies": latencies, "counts": counts, "blocks": blocks, "paired": paired}


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 80 if quick else 400
    measured = asyncio.run(_measure(rounds, warmup=5))
    latencies = measured["latencies"]
    stats = {variant: summary(latencies.get(variant, [])) for variant in VARIANTS}

    def median(variant: str, stat: str = "median") -> float:
        value: float = stats[variant].get(stat, float("nan"))
        return value

    block_ratios = {
        variant: [
            ratio(statistics.median(b[variant]), statistics.median(b["bare"]))
            for b in measured["blocks"].values()
            if b.get(variant) and b.get("bare")
        ]
        for variant in VARIANTS[1:]
    }
    return {
        "bare_median_us": median("bare"),
        "proactive_median_us": median("dropin"),
        "ratio_median": ratio(median("dropin"), median("bare")),
        "run_median_us": median("run"),
        "run_ratio_median": ratio(median("run"), median("bare")),
        "dropin_audio_median_us": median("dropin_audio"),
        "dropin_audio_ratio_median": ratio(median("dropin_audio"), median("bare")),
        "ratio_p90": {v: ratio(median(v, "p90"), median("bare", "p90")) for v in VARIANTS[1:]},
        "ratio_p99": {v: ratio(median(v, "p99"), median("bare", "p99")) for v in VARIANTS[1:]},
        "block_ratios": block_ratios,
        "paired_ratio_median": {
            v: round(statistics.median(x), 3) if x else None for v, x in measured["paired"].items()
        },
        "sessions_per_variant": rounds,
        "stats_us": stats,
        "correctness": measured["counts"],
        "breakdown_us": breakdown(1000 if quick else 3000),
        "samples_us": {v: [round(x, 1) for x in latencies.get(v, [])] for v in VARIANTS},
        "greeting": GREETING,
        "emulator": {"processes": 1, "pace": 0.0, "voice": "synthetic"},
    }


# ----------------------------------------------------------------------------- breakdown


def breakdown(rounds: int = 3000) -> dict[str, float]:
    """Where the time of greeting on ``session.updated`` goes, in process (µs, medians).

    ``bare``: the hand-written handler; ``library``: ``handle()``; ``library_logic``: the
    same with the SDK work taken out (pre-built events, no serialization); ``sdk_models``:
    building the greeting's SDK models; ``sdk_send``: serializing them in ``conn.send``.
    """
    import time

    from azure.ai.voicelive.models import ServerEvent

    import voicelive_proactive.session as session_module
    from benchmarks.clients import _greet_by_hand
    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.greetings import Greeting
    from voicelive_proactive.testing import FakeConnection

    wire = {"type": "session.updated", "event_id": "e1", "session": {"id": "sess_1"}}
    real_events = session_module.greeting_events  # type: ignore[attr-defined]
    greeting = Greeting.spoken(GREETING)
    prebuilt = real_events(greeting, iter(["vp_x_1"]))

    class _Quiet:
        async def send(self, event: Any) -> None:
            return None

    async def measure() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {k: [] for k in ("bare", "library", "library_logic")}
        out["sdk_models"], out["sdk_send"] = [], []
        loud = FakeConnection()  # the SDK's own send, into a list
        for _ in range(rounds):
            loud.clear_sent()
            event: Any = ServerEvent._deserialize(dict(wire), [])  # type: ignore[no-untyped-call]
            t0 = time.perf_counter_ns()
            if event.type == "session.updated":
                await _greet_by_hand(loud, GREETING)
            out["bare"].append(time.perf_counter_ns() - t0)

            proactive = ProactiveSession(loud, greeting=GREETING, audio=None)
            t0 = time.perf_counter_ns()
            await proactive.handle(event)
            out["library"].append(time.perf_counter_ns() - t0)

            session_module.greeting_events = lambda g, ids: prebuilt  # type: ignore[attr-defined,assignment]
            try:
                quiet = ProactiveSession(_Quiet(), greeting=GREETING, audio=None)  # type: ignore[arg-type]
                t0 = time.perf_counter_ns()
                await quiet.handle(event)
                out["library_logic"].append(time.perf_counter_ns() - t0)
            finally:
                session_module.greeting_events = real_events  # type: ignore[attr-defined]

            t0 = time.perf_counter_ns()
            events = real_events(greeting, iter(["vp_x_2"]))
            out["sdk_models"].append(time.perf_counter_ns() - t0)
            t0 = time.perf_counter_ns()
            await loud.send(events[0])
            out["sdk_send"].append(time.perf_counter_ns() - t0)
        return out

    measured = asyncio.run(measure())
    return {k: round(statistics.median(v) / 1000, 1) for k, v in measured.items()}
