"""Dispatch: ``session.updated`` out of the client's socket → the greeting into it.

One emulator process (``pace=0``, synthetic voice) serves sequential sessions. Each round runs
every variant once, in a rotating order, so drift on a noisy machine hits all alike. The
stamps are taken on the SDK's own socket (:mod:`benchmarks.wiretap`), identically for every
variant, so the difference between two variants is exactly the code between the two stamps.
When the emulator has the public ``on_client_event`` hook, the same sessions are also timed
to the moment the ``response.create`` reached the emulator (``e2e``).

The headline is ``ratio_vs_same_dict``: the library's ``handle()`` drop-in divided by the
strongest bare loop (the same plain dict, built before it is due; see :mod:`benchmarks.loops`).
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from benchmarks._stats import ratio, summary
from benchmarks.emulator_proc import EmulatorProcess
from benchmarks.loops import Run, same_dicts, session
from benchmarks.wiretap import Wiretap

VARIANTS = ("bare", "dropin", "run", "dropin_audio", "bare_models")
ROTATIONS = [VARIANTS[i:] + VARIANTS[:i] for i in range(len(VARIANTS))]
BLOCK = 80  # rounds per block: the ratio is also computed block by block, for its spread


async def _measure(rounds: int, warmup: int) -> dict[str, Any]:
    emulator = EmulatorProcess(pace=0.0, voice="synthetic")
    taps: list[tuple[int, str, Wiretap]] = []
    try:
        for _ in range(warmup):
            for variant in VARIANTS:
                await session(emulator.endpoint, emulator.api_key, variant, Run())
        emulator.dump()
        for i in range(rounds):
            for variant in ROTATIONS[i % len(ROTATIONS)]:
                tap = await session(emulator.endpoint, emulator.api_key, variant, Run())
                taps.append((i, variant, tap))
        dumped = emulator.dump()
    finally:
        emulator.close()
    return {"taps": taps, "server": dumped}


def _paired(by_round: dict[int, dict[str, float]], variant: str) -> list[float]:
    return [r[variant] - r["bare"] for r in by_round.values() if variant in r and "bare" in r]


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 60 if quick else 800
    measured = asyncio.run(_measure(rounds, warmup=3))
    taps: list[tuple[int, str, Wiretap]] = measured["taps"]
    latencies: dict[str, list[float]] = {v: [] for v in VARIANTS}
    by_round: dict[int, dict[str, float]] = {}
    counts = {"sessions": 0, "greeted_once": 0, "missed": 0, "double": 0, "unmatched": 0}
    for r, variant, tap in taps:
        counts["sessions"] += 1
        if tap.updated_ns is None:
            counts["unmatched"] += 1
        elif tap.creates == 0:
            counts["missed"] += 1
        elif tap.creates > 1:
            counts["double"] += 1
        else:
            counts["greeted_once"] += 1
        us = tap.dispatch_us
        if us is not None:
            latencies[variant].append(us)
            by_round.setdefault(r, {})[variant] = us

    # End to end, when the emulator stamps arrivals (the public hook): per session id.
    server = measured["server"]
    e2e: dict[str, list[float]] = {}
    if server.get("hook"):
        arrivals: dict[str, list[int]] = {}
        for sid, ns in server["created"]:
            arrivals.setdefault(sid, []).append(ns)
        for _, variant, tap in taps:
            got = arrivals.get(tap.session_id or "", [])
            if tap.updated_ns is not None and len(got) == 1:
                e2e.setdefault(variant, []).append((got[0] - tap.updated_ns) / 1000)

    stats = {v: summary(latencies[v]) for v in VARIANTS}

    def med(v: str) -> float:
        return statistics.median(latencies[v]) if latencies[v] else float("nan")

    block_ratios = {
        v: [
            ratio(
                statistics.median(
                    [x[v] for k, x in by_round.items() if b <= k < b + BLOCK and v in x]
                ),
                statistics.median(
                    [x["bare"] for k, x in by_round.items() if b <= k < b + BLOCK and "bare" in x]
                ),
            )
            for b in range(0, rounds, BLOCK)
        ]
        for v in VARIANTS[1:]
    }
    paired = {v: _paired(by_round, v) for v in VARIANTS[1:]}
    added = {
        v: {
            "median_us": round(statistics.median(d), 1),
            "iqr_us": [round(q, 1) for q in statistics.quantiles(d, n=4)[::2]],
        }
        for v, d in paired.items()
        if len(d) >= 4
    }
    return {
        "ratio_vs_same_dict": ratio(med("dropin"), med("bare")),
        "library_added_us": round(med("dropin") - med("bare"), 1),
        "library_added_us_paired": added.get("dropin"),
        "bare_same_dict_median_us": round(med("bare"), 1),
        "bare_models_median_us": round(med("bare_models"), 1),
        "proactive_median_us": round(med("dropin"), 1),
        "run_median_us": round(med("run"), 1),
        "dropin_audio_median_us": round(med("dropin_audio"), 1),
        "run_ratio_vs_same_dict": ratio(med("run"), med("bare")),
        "dropin_audio_ratio_vs_same_dict": ratio(med("dropin_audio"), med("bare")),
        "ratio_vs_models_loop": ratio(med("dropin"), med("bare_models")),
        "same_dict_ratio_vs_models_loop": ratio(med("bare"), med("bare_models")),
        "ratio_p90_vs_same_dict": {
            v: ratio(stats[v].get("p90", 0), stats["bare"].get("p90", 0)) for v in VARIANTS[1:]
        },
        "added_us_paired": added,
        "block_ratios_vs_same_dict": block_ratios,
        "sessions_per_variant": rounds,
        "stats_us": stats,
        "e2e_stats_us": {v: summary(x) for v, x in e2e.items()} if e2e else None,
        "e2e_ratio_vs_same_dict": (
            ratio(statistics.median(e2e["dropin"]), statistics.median(e2e["bare"]))
            if e2e.get("dropin") and e2e.get("bare")
            else None
        ),
        "e2e_note": None
        if e2e
        else (
            "the emulator has no public arrival hook (on_client_event) yet: only client-side "
            "stamps, which leave out the kernel and the emulator (the same for every variant)"
        ),
        "same_dict": asyncio.run(same_dicts()),
        "correctness": counts,
        "samples_us": {v: [round(x, 1) for x in latencies[v]] for v in VARIANTS},
        "emulator": {"processes": 1, "pace": 0.0, "voice": "synthetic"},
    }
