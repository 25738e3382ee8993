"""Idle nudge: how late it fires after local playout ends, through the real PortAudio path.

Scaffolding for the idle-nudge issue; skipped (with a note) while ``vp.IdleNudge`` does not
exist. The API it is written against::

    vp.ProactiveSession(conn, greeting=..., audio=...,
                        nudge=vp.IdleNudge(after=SECONDS, max_nudges=N,
                                           strategy=vp.StaticGreeting("Still there?")))

the nudge firing ``after`` seconds of idle counted from the moment local playout ended.

Each trial is a real session against the emulator (its own process, ``pace=4``: the greeting's
audio arrives 4x faster than it plays, as from the service) with
``SounddeviceAudioIO(capture=False)`` on the ALSA ``file`` device, read at real-time pace by
``PacedSpeaker``: so ``response.done`` arrives long before the caller has heard the greeting.
**Lateness** = (nudge's ``response.create`` handed to the socket, or received by the emulator
when it has the public arrival hook) - (last greeting sample heard by the speaker) - ``after``.
Goal: median ≤ 20 ms. Side by side, the naive way (``timer_at_done``): a bare loop starting
``loop.call_later(after, ...)`` at the greeting's ``response.done``; its lateness is negative
(it fires early, while the caller is still listening).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

AFTER_S = 0.5
PACE = 4.0
GREETING = "Hi there, nice to hear from you again."
NUDGE = "Still there?"
VARIANTS = ("library", "timer_at_done")


def idle_nudge_missing() -> str | None:
    import voicelive_proactive as vp

    if not hasattr(vp, "IdleNudge"):
        return (
            "vp.IdleNudge does not exist yet (the idle-nudge issue); this section measures "
            "it once it does"
        )
    return None


async def _trial(endpoint: str, api_key: str, variant: str) -> dict[str, Any]:
    from azure.ai.voicelive.aio import VoiceLiveConnection

    import voicelive_proactive as vp
    from benchmarks.alsa import TimedSpeaker
    from benchmarks.loops import Run, bare_events, event_ids, session
    from benchmarks.wiretap import Wiretap
    from voicelive_proactive.audio import SounddeviceAudioIO

    speaker = TimedSpeaker.in_home(1.0)
    player = SounddeviceAudioIO(capture=False)
    box: dict[str, Any] = {}

    async def library(conn: VoiceLiveConnection) -> None:
        nudge = vp.IdleNudge(after=AFTER_S, max_nudges=1, strategy=vp.StaticGreeting(NUDGE))
        proactive = vp.ProactiveSession(
            conn,
            greeting=vp.StaticGreeting(GREETING),
            audio=player,
            nudge=nudge,
        )
        try:
            async for event in conn:
                await proactive.handle(event)
        finally:
            await player.drain(timeout=10)  # never cut the greeting short, even if early
            await proactive.aclose()

    async def timer_at_done(conn: VoiceLiveConnection) -> None:
        ids = event_ids()
        greeting = bare_events("spoken", ids, GREETING)
        nudge = bare_events("spoken", ids, NUDGE)
        loop = asyncio.get_running_loop()
        greeted = armed = False
        sends: list[asyncio.Task[None]] = []
        async for event in conn:
            kind = event["type"]
            if kind == "response.audio.delta":
                player.queue_audio(event.delta)  # type: ignore[attr-defined]
            elif kind == "session.updated" and not greeted:
                greeted = True
                for payload in greeting:
                    await conn.send(payload)
            elif kind == "response.done" and not armed:
                armed = True
                loop.call_later(
                    AFTER_S, lambda: sends.append(loop.create_task(conn.send(nudge[0])))
                )

    async def app(conn: VoiceLiveConnection, run: Run) -> None:
        tap = box["tap"]
        task = asyncio.create_task(library(conn) if variant == "library" else timer_at_done(conn))
        deadline = time.monotonic() + 20
        try:
            while tap.creates < 2 and time.monotonic() < deadline and not task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        finally:
            task.cancel()  # no more audio is queued: the nudge's own answer never plays
            await asyncio.gather(task, return_exceptions=True)
            await player.drain(timeout=10)  # the greeting plays to its end
            await asyncio.sleep(0.25)  # and leaves the device

    async def tapped(conn: VoiceLiveConnection, run: Run) -> None:
        box["tap"] = Wiretap(conn)
        await app(conn, run)

    try:
        await session(endpoint, api_key, variant, Run(), loop_fn=tapped)
    finally:
        player.close()
    data = speaker.stop()
    tap = box["tap"]
    out: dict[str, Any] = {"variant": variant, "creates": tap.creates}
    end = _greeting_end(data)
    if tap.creates >= 2 and end is not None:
        last_offset = end - 2  # the greeting's last sample: its trailing silence is audio too
        heard = speaker.heard_at(last_offset)
        if heard is not None:
            out["lateness_ms"] = (tap.create_ns[1] / 1e9 - heard - AFTER_S) * 1000
            out["session_id"] = tap.session_id
            out["nudge_ns"] = tap.create_ns[1]
            out["last_heard_ns"] = int(heard * 1e9)
    return out


def _greeting_end(heard: bytes) -> int | None:
    """Where the greeting's audio ends in what the speaker heard (bytes), or None.

    The audio is exactly what the emulator sent (the synthesized clip, its last chunk padded
    to a whole 100 ms), found in the speaker's stream by its samples: 24 kHz PCM16 plays bit
    for bit through the file device. So the end is exact even though the audio finishes with
    silence; the end of playout is its last sample, voiced or not.
    """
    import base64

    import numpy as np

    from voicelive_proactive.emulator.speech import build_speech

    audio = b"".join(
        base64.b64decode(chunk) for chunk in build_speech(GREETING, "synthetic").chunks
    )
    voiced = np.flatnonzero(np.frombuffer(audio, dtype="<i2"))
    if not len(voiced):
        return None
    first = 2 * int(voiced[0])
    found = heard.find(audio[first : first + 4800])
    return None if found < 0 else found - first + len(audio)


async def _child(params: dict[str, Any]) -> None:
    from benchmarks.emulator_proc import EmulatorProcess

    emulator = EmulatorProcess(pace=PACE, voice="synthetic")
    try:
        for trial in range(params["trials"]):
            for variant in params["variants"]:
                result = await _trial(emulator.endpoint, emulator.api_key, variant)
                result["trial"] = trial
                print(json.dumps(result), flush=True)
        print(json.dumps({"server": emulator.dump()}), flush=True)
    finally:
        emulator.close()


def run(quick: bool = False, *, variants: tuple[str, ...] = VARIANTS) -> dict[str, Any]:
    from benchmarks.alsa import AlsaFileDevice, portaudio_unavailable

    why = idle_nudge_missing() if "library" in variants else None
    why = why or portaudio_unavailable()
    if why is not None:
        return {"skipped": why, "goal": "median lateness ≤ 20 ms"}
    params = {"trials": 2 if quick else 8, "variants": list(variants)}
    device = AlsaFileDevice.create()
    try:
        out = device.run_module("benchmarks.nudge", "child", json.dumps(params))
    finally:
        device.cleanup()
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    trials = [t for t in lines if "variant" in t]
    server: dict[str, Any] = next((x["server"] for x in lines if "server" in x), {})
    if server.get("hook"):  # the emulator's own arrival stamps: the 2nd response.create
        arrivals: dict[str, list[int]] = {}
        for sid, ns in server["created"]:
            arrivals.setdefault(sid, []).append(ns)
        for t in trials:
            got = sorted(arrivals.get(t.get("session_id") or "", []))
            if len(got) >= 2 and "last_heard_ns" in t:
                t["lateness_at_emulator_ms"] = (got[1] - t["last_heard_ns"]) / 1e6 - AFTER_S * 1000
    result: dict[str, Any] = {"after_s": AFTER_S, "emulator_pace": PACE}
    for variant in variants:
        values = [
            t["lateness_ms"] for t in trials if t["variant"] == variant and "lateness_ms" in t
        ]
        result[variant] = {
            "lateness_ms_median": round(statistics.median(values), 2) if values else None,
            "lateness_ms_min": round(min(values), 2) if values else None,
            "lateness_ms_max": round(max(values), 2) if values else None,
            "trials": len(values),
        }
    lib = result.get("library", {})
    result["late_ms_median"] = lib.get("lateness_ms_median")
    result["timer_at_done_ms_median"] = result.get("timer_at_done", {}).get("lateness_ms_median")
    result["trials"] = trials
    return result


if __name__ == "__main__":
    if sys.argv[1] == "child":
        asyncio.run(_child(json.loads(sys.argv[2])))
