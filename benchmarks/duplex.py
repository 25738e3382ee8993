"""Duplex audio cost: CPU time per second of two-way audio, the library against a bare loop.

The client process runs one session against the emulator (its own process, ``pace=1``: the
agent's voice arrives in real time, 100 ms chunks) with a real PortAudio device for both
directions: ``SounddeviceAudioIO()`` (20 ms capture blocks, 5 ms playback blocks) on the ALSA
``file`` device, capturing from a FIFO that a separate process fills with quiet room noise
in whole 20 ms blocks at real-time pace (so capture is paced like a microphone), and playing
into a FIFO that the same separate process reads at real-time pace. Nothing but the client
runs in the measured process.

Both variants use that same ``SounddeviceAudioIO``: the bare loop hands it the agent's audio
and sends each captured block as a plain ``input_audio_buffer.append`` dict (the same hop as
the library: ``call_soon_threadsafe``, a deque, one sender task); the library does both itself
(``ProactiveSession(audio=...)``). After the greeting, the app asks for one long response
after another (``response.create`` with a pre-generated message) in both variants, so audio
flows both ways for the whole window. CPU is ``getrusage(RUSAGE_SELF)`` (every thread of the
process, PortAudio's included) over a window that starts once audio has flowed for a second.
``added_core_percent`` is the library's median CPU seconds per second minus the bare loop's,
times 100: percent of one core, per session.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import time
from typing import Any

TEXT = (
    "Here is a long answer, so that the agent keeps talking while we measure: one sentence "
    "after another, with pauses, the way a real assistant reads out an order."
)
PACE = 1.0
VARIANTS = ("bare", "library")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _next_response(ids: Any) -> dict[str, Any]:
    from benchmarks.loops import bare_events

    return bare_events("spoken", ids, TEXT)[0]


async def _measure(
    endpoint: str, api_key: str, variant: str, warm_s: float, window_s: float
) -> dict[str, Any]:
    from azure.ai.voicelive.aio import VoiceLiveConnection

    from benchmarks.loops import (
        BareMicrophone,
        Run,
        bare_events,
        delta_pcm,
        event_ids,
        session,
        strategy,
    )
    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.audio import SounddeviceAudioIO

    audio = SounddeviceAudioIO()
    state: dict[str, Any] = {"first_audio": None}
    first_audio = asyncio.Event()

    async def app(conn: VoiceLiveConnection, run: Run) -> None:
        ids = event_ids()
        if variant == "library":
            proactive = ProactiveSession(conn, greeting=strategy("spoken", TEXT), audio=audio)
            try:
                async for event in conn:
                    await proactive.handle(event)
                    kind = event["type"]
                    if kind == "response.audio.delta" and state["first_audio"] is None:
                        state["first_audio"] = time.monotonic()
                        first_audio.set()
                    elif kind == "response.done":
                        await conn.send(_next_response(ids))
            finally:
                await proactive.aclose()
            return
        greeting = bare_events("spoken", ids, TEXT)
        mic = BareMicrophone(conn, ids)
        greeted = False
        try:
            async for event in conn:
                kind = event["type"]
                if kind == "response.audio.delta":
                    audio.queue_audio(delta_pcm(event))
                    if state["first_audio"] is None:
                        state["first_audio"] = time.monotonic()
                        first_audio.set()
                elif kind == "session.updated" and not greeted:
                    greeted = True
                    for payload in greeting:
                        await conn.send(payload)
                    mic.start(audio)
                elif kind == "input_audio_buffer.speech_started":
                    audio.skip_pending_audio()
                elif kind == "response.done":
                    await conn.send(_next_response(ids))
        finally:
            await mic.stop()
            audio.close()

    result: dict[str, Any] = {"variant": variant}

    async def measured(conn: VoiceLiveConnection, run: Run) -> None:
        task = asyncio.create_task(app(conn, run))
        try:
            waiter = asyncio.create_task(first_audio.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            await asyncio.sleep(warm_s)
            tap_sent0, played0 = tap_box[0].appends, audio.played_bytes
            captured0 = audio.captured_frames
            cpu0, wall0 = _cpu(), time.monotonic()
            thread0 = time.thread_time()
            await asyncio.sleep(window_s)
            cpu1, wall1 = _cpu(), time.monotonic()
            thread1 = time.thread_time()
            wall = wall1 - wall0
            result.update(
                {
                    "window_s": wall,
                    "cpu_s_per_s": (cpu1 - cpu0) / wall,
                    "loop_thread_cpu_s_per_s": (thread1 - thread0) / wall,
                    "mic_frames_sent_per_s": (tap_box[0].appends - tap_sent0) / wall,
                    "mic_frames_captured_per_s": (audio.captured_frames - captured0) / wall,
                    "played_s_per_s": (audio.played_bytes - played0) / 48_000 / wall,
                }
            )
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    tap_box: list[Any] = []

    async def tapped(conn: VoiceLiveConnection, run: Run) -> None:
        from benchmarks.wiretap import Wiretap

        tap_box.append(Wiretap(conn))
        await measured(conn, run)

    await session(endpoint, api_key, variant, Run(), loop_fn=tapped)
    audio.close()
    return result


async def _child(params: dict[str, Any]) -> None:
    from benchmarks.emulator_proc import EmulatorProcess

    emulator = EmulatorProcess(pace=PACE, voice="synthetic")
    try:
        for rep in range(params["reps"]):
            order = VARIANTS if rep % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                result = await _measure(
                    emulator.endpoint,
                    emulator.api_key,
                    variant,
                    params["warm_s"],
                    params["window_s"],
                )
                result["rep"] = rep
                print(json.dumps(result), flush=True)
    finally:
        emulator.close()


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks.alsa import AlsaFileDevice, DeviceDriver, portaudio_unavailable

    why = portaudio_unavailable()
    if why is not None:
        return {"skipped": why}
    params = {"reps": 1 if quick else 4, "warm_s": 1.0, "window_s": 2.0 if quick else 8.0}
    device = AlsaFileDevice.create(capture=True)
    driver = DeviceDriver(device, mic_block_bytes=960)  # 20 ms capture blocks
    try:
        out = device.run_module("benchmarks.duplex", "child", json.dumps(params))
    finally:
        devices = driver.stop()
        device.cleanup()
    reps = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    per = {v: [r for r in reps if r["variant"] == v and "cpu_s_per_s" in r] for v in VARIANTS}

    def med(variant: str, key: str) -> float:
        values = [r[key] for r in per[variant]]
        return statistics.median(values) if values else float("nan")

    bare, lib = med("bare", "cpu_s_per_s"), med("library", "cpu_s_per_s")
    return {
        "added_core_percent": round(100 * (lib - bare), 3),
        "library_core_percent": round(100 * lib, 2),
        "bare_core_percent": round(100 * bare, 2),
        "ratio": round(lib / bare, 3) if bare > 0 else None,
        "library_core_percent_range": [
            round(100 * min(r["cpu_s_per_s"] for r in per["library"]), 2),
            round(100 * max(r["cpu_s_per_s"] for r in per["library"]), 2),
        ]
        if per["library"]
        else None,
        "bare_core_percent_range": [
            round(100 * min(r["cpu_s_per_s"] for r in per["bare"]), 2),
            round(100 * max(r["cpu_s_per_s"] for r in per["bare"]), 2),
        ]
        if per["bare"]
        else None,
        "flow": {
            v: {
                k: round(med(v, k), 3)
                for k in (
                    "mic_frames_sent_per_s",
                    "mic_frames_captured_per_s",
                    "played_s_per_s",
                    "loop_thread_cpu_s_per_s",
                )
            }
            for v in VARIANTS
        },
        "reps": reps,
        "devices": devices,
        "setup": {
            "reps_per_variant": params["reps"],
            "window_s": params["window_s"],
            "warm_s": params["warm_s"],
            "emulator_pace": PACE,
            "audio": "SounddeviceAudioIO(): 20 ms capture blocks, 5 ms playback blocks (both)",
            "microphone": "FIFO fed 20 ms blocks of quiet noise at real time, another process",
            "speaker": "FIFO read at real time by PacedSpeaker, another process",
        },
    }


if __name__ == "__main__":
    if sys.argv[1] == "child":
        asyncio.run(_child(json.loads(sys.argv[2])))
