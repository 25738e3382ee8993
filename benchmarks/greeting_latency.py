"""Greeting latency end to end: ``session.updated`` at the client → first greeting sample
written into the PortAudio device.

Real sessions: the SDK over loopback into the emulator (its own process, ``pace=1``: audio in
real time, like the service), and a real PortAudio output, ``SounddeviceAudioIO(capture=False)``
on the ALSA ``file`` device, for **both** variants: the library gets it as ``audio=``, the bare
loop calls its ``queue_audio`` itself. The player is built before the session and opens its
stream on the first chunk, as it does by default, so the stream start is inside the window,
identically for both.

Three stamps per trial:

* ``arrived``: the ``session.updated`` bytes handed by the event loop to the client's protocol
  (:mod:`benchmarks.wiretap`), i.e. the frame arriving at the client;
* ``queued``: the first greeting audio handed to the player (a stamping wrapper);
* ``written``: the first non-zero greeting sample seen in the device's FIFO. The listener here
  reads 50x faster than real time, so a sample is seen within ~0.5 ms of being written; a
  stream's first 85 ms never wait on the 4 KiB pipe, so start-up is as on a real-time reader.

``added_ms_median`` is the library's median end to end minus the bare loop's, per greeting
mode (spoken: ``pre_generated_assistant_message``; instructed: a system item + ``response.create``).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

VARIANTS = ("bare", "dropin")
PACE = 1.0


async def _trial(endpoint: str, api_key: str, variant: str, mode: str) -> dict[str, Any]:
    from benchmarks.alsa import TimedSpeaker
    from benchmarks.devices import StampedPlayer
    from benchmarks.loops import LOOPS, Run, session
    from voicelive_proactive.audio import SounddeviceAudioIO

    speaker = TimedSpeaker.in_home(50.0)
    player = StampedPlayer(SounddeviceAudioIO(capture=False))
    run = Run(mode, player=player)

    async def until_heard(conn: Any, run: Run) -> None:
        task: asyncio.Future[None] = asyncio.ensure_future(LOOPS[variant](conn, run))
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not task.done():
                if speaker.first_voiced is not None:
                    break
                await asyncio.sleep(0.002)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    try:
        tap = await session(endpoint, api_key, variant, run, loop_fn=until_heard)
    finally:
        player.close()
    speaker.stop()
    written = speaker.first_voiced[1] if speaker.first_voiced is not None else None
    out: dict[str, Any] = {"variant": variant, "mode": mode, "greeted": tap.creates == 1}
    arrived = tap.arrived_ns or tap.updated_ns
    if arrived is not None and player.first_audio_ns is not None and written is not None:
        out["to_queue_ms"] = (player.first_audio_ns - arrived) / 1e6
        out["e2e_ms"] = written * 1000 - arrived / 1e6
        out["device_ms"] = out["e2e_ms"] - out["to_queue_ms"]
        out["dispatch_us"] = tap.dispatch_us
    return out


async def _child(params: dict[str, Any]) -> None:
    from benchmarks.emulator_proc import EmulatorProcess

    emulator = EmulatorProcess(pace=PACE, voice="synthetic")
    try:
        plan = [(v, m) for m in ("spoken", "instructed") for v in VARIANTS]
        for i in range(params["warmup"] + params["trials"]):
            order = plan[i % len(plan) :] + plan[: i % len(plan)]
            for variant, mode in order:
                result = await _trial(emulator.endpoint, emulator.api_key, variant, mode)
                result["trial"] = i - params["warmup"]
                if i >= params["warmup"]:
                    print(json.dumps(result), flush=True)
    finally:
        emulator.close()


def _stats(values: list[float]) -> dict[str, Any]:
    from benchmarks._stats import summary

    return summary(values, digits=2)


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks.alsa import AlsaFileDevice, portaudio_unavailable

    why = portaudio_unavailable()
    if why is not None:
        return {"skipped": why}
    params = {"trials": 6 if quick else 60, "warmup": 2}
    device = AlsaFileDevice.create()
    try:
        out = device.run_module("benchmarks.greeting_latency", "child", json.dumps(params))
    finally:
        device.cleanup()
    trials = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    result: dict[str, Any] = {}
    for mode in ("spoken", "instructed"):
        per: dict[str, dict[str, list[float]]] = {}
        for variant in VARIANTS:
            mine = [t for t in trials if t["variant"] == variant and t["mode"] == mode]
            per[variant] = {
                k: [t[k] for t in mine if t.get(k) is not None]
                for k in ("e2e_ms", "to_queue_ms", "device_ms")
            }
        bare, lib = per["bare"], per["dropin"]
        ok = all(per[v]["e2e_ms"] for v in VARIANTS)
        result[mode] = {
            "added_ms_median": round(
                statistics.median(lib["e2e_ms"]) - statistics.median(bare["e2e_ms"]), 3
            )
            if ok
            else None,
            "added_to_queue_ms_median": round(
                statistics.median(lib["to_queue_ms"]) - statistics.median(bare["to_queue_ms"]), 3
            )
            if ok
            else None,
            "library_e2e_ms": _stats(lib["e2e_ms"]),
            "bare_e2e_ms": _stats(bare["e2e_ms"]),
            "library_to_queue_ms": _stats(lib["to_queue_ms"]),
            "bare_to_queue_ms": _stats(bare["to_queue_ms"]),
            "library_device_ms": _stats(lib["device_ms"]),
            "bare_device_ms": _stats(bare["device_ms"]),
        }
    result["greeted_once"] = sum(1 for t in trials if t.get("greeted"))
    result["trials"] = trials
    result["setup"] = {
        "trials_per_variant_and_mode": params["trials"],
        "emulator_pace": PACE,
        "player": "SounddeviceAudioIO(capture=False), defaults, a new one per trial (both)",
        "listener": "PacedSpeaker at 50x real time (sees a write within ~0.5 ms)",
    }
    return result


if __name__ == "__main__":
    if sys.argv[1] == "child":
        asyncio.run(_child(json.loads(sys.argv[2])))
