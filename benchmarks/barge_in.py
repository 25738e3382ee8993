"""Barge-in: how much of an interrupted response still reaches the device, streamed in real time.

A 1.6 s response whose samples encode where they come from (chunk index and position) streams
in 100 ms ``response.audio.delta`` events at real-time pace (two chunks ahead, as a service
that is slightly ahead of playback) through the SDK's own connection (``FakeConnection``: the
real SDK parsing, an in-memory socket) into a real PortAudio output on the ALSA ``file``
device, read at real-time pace by ``PacedSpeaker``. 0.3-0.7 s after the first sample was
heard, ``input_audio_buffer.speech_started`` arrives, and then **three late chunks** of the
same response (in flight when the user started talking, 25 ms apart), then ``response.done``
(cancelled). At the moment the app reads ``speech_started`` we note how many bytes the device
had written into its FIFO. **Stale** audio is everything of the interrupted response the device
writes after that moment (ms of audio); a **late chunk played** is a late chunk any sample of
which reached the device.

Variants, each at the same block size:

* ``library``: ``ProactiveSession.handle()`` + ``SounddeviceAudioIO(playback_block_ms=B)``;
* ``sample_fixed``: the Voice Live sample's ``AudioProcessor`` playback with its leftover bug
  fixed (barge-in drops the rest of the current packet too), in a bare loop that calls
  ``skip_pending_audio()`` on ``speech_started``, as the sample does;
* ``bare_best``: ``sample_fixed`` plus what a careful user adds: deltas of the interrupted
  response are dropped (by ``response_id``);
* ``sample``: the sample as written, at its own 50 ms blocks (an extra row).

Each runs idle and under load (a busy event loop: 2 ms of Python work between yields; and a
thread running pure Python, holding the GIL between forced switches). The sample player's
callback is instrumented: how late each callback ran once PortAudio wanted it (entry time
minus ``time_info.currentTime``), gaps between callbacks, and status (underrun) flags. What
the file device cannot show: it never underruns (its ``null`` slave never runs dry, and the
FIFO makes PortAudio wait instead), and its callbacks come in 85 ms bursts (one 4 KiB pipe
page at a time), so gaps are not a sound card's; a callback later than the output latency
would be an audible gap on a real card, and that lateness is what the figures show.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import sys
import time
from typing import Any

RATE = 48_000  # bytes per second of 24 kHz mono PCM16
CHUNK_MS = 100
RESPONSE_S = 1.6
LEAD_CHUNKS = 2
LATE_CHUNKS = 3
LATE_SPACING_S = 0.025
GREETING = "Hi Lisa, welcome back! How can I assist you today?"


def clip_signal(seconds: float) -> bytes:
    """int16 sample i = 1000 + 1000 * (chunk of i) + (i mod 1000): never zero, self-locating."""
    import numpy as np

    n = int(seconds * RATE) // 2
    i = np.arange(n)
    per_chunk = CHUNK_MS * 24
    return bytes((1000 + 1000 * (i // per_chunk) + i % 1000).astype("<i2").tobytes())


def _chunks(clip: bytes) -> list[bytes]:
    size = CHUNK_MS * RATE // 1000
    return [clip[i : i + size] for i in range(0, len(clip), size)]


def _delta(index: int, pcm: bytes) -> dict[str, Any]:
    import base64

    return {
        "type": "response.audio.delta",
        "event_id": f"ev_d{index}",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "delta": base64.b64encode(pcm).decode("ascii"),
    }


_HEAD: list[dict[str, Any]] = [
    {"type": "session.updated", "session": {"id": "sess_1"}},
    {
        "type": "response.created",
        "response": {"id": "resp_1", "object": "realtime.response", "status": "in_progress"},
    },
    {
        "type": "response.output_item.added",
        "response_id": "resp_1",
        "output_index": 0,
        "item": {"id": "item_1", "type": "message", "role": "assistant", "content": []},
    },
    {
        "type": "response.content_part.added",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "part": {"type": "audio", "transcript": ""},
    },
]
_DONE = {
    "type": "response.done",
    "response": {"id": "resp_1", "object": "realtime.response", "status": "cancelled"},
}


async def _trial(variant: str, block_ms: int, load: bool, barge_at: float) -> dict[str, Any]:
    import numpy as np

    from benchmarks.alsa import TimedSpeaker
    from benchmarks.devices import GilHog, SamplePlayer, busy_loop
    from benchmarks.loops import bare_events, delta_pcm, event_ids
    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.audio import SounddeviceAudioIO
    from voicelive_proactive.testing import FakeConnection

    clip = clip_signal(RESPONSE_S)
    chunks = _chunks(clip)
    speaker = TimedSpeaker.in_home(1.0)
    fake = FakeConnection()
    library = variant == "library"
    player: Any
    if library:
        player = SounddeviceAudioIO(capture=False, playback_block_ms=block_ms)
    else:
        player = SamplePlayer(block_ms=block_ms, fixed=variant != "sample")
    state: dict[str, Any] = {"barged": False, "late": [], "snapshot": None}
    barged = asyncio.Event()

    async def feed() -> None:
        for wire in _HEAD:
            fake.push(wire)
        t0 = time.monotonic()
        k = 0
        while k < len(chunks):
            if barged.is_set():
                for _ in range(LATE_CHUNKS):  # in flight when the user started talking
                    if k >= len(chunks):
                        break
                    fake.push(_delta(k, chunks[k]))
                    state["late"].append(k)
                    k += 1
                    await asyncio.sleep(LATE_SPACING_S)
                break
            due = t0 + max(0, k - LEAD_CHUNKS) * CHUNK_MS / 1000
            wait = due - time.monotonic()
            if wait > 0:
                try:
                    await asyncio.wait_for(barged.wait(), wait)
                    continue  # barged while waiting: the rest is late
                except asyncio.TimeoutError:
                    pass
            fake.push(_delta(k, chunks[k]))
            k += 1
        fake.push(_DONE)

    async def barge() -> None:
        while speaker.first_voiced is None:  # noqa: ASYNC110 - set by the speaker's thread
            await asyncio.sleep(0.001)
        heard = speaker.first_voiced[1]
        await asyncio.sleep(max(0.0, heard + barge_at - time.monotonic()))
        fake.push(
            {"type": "input_audio_buffer.speech_started", "audio_start_ms": 900, "item_id": "u"}
        )
        barged.set()

    def on_speech_started() -> None:  # the moment the app reads it
        state["snapshot"] = speaker.snapshot()
        state["latency"] = player.output_latency if library else player.latency

    async def app() -> None:
        if library:
            proactive = ProactiveSession(fake, greeting=GREETING, audio=player)
            try:
                async for event in fake:
                    kind = event["type"]
                    if kind == "input_audio_buffer.speech_started":
                        on_speech_started()
                    await proactive.handle(event)
                    if kind == "response.done":
                        break
            finally:
                await proactive.aclose()
            return
        greeting = bare_events("spoken", event_ids())
        active: str | None = None
        interrupted: str | None = None
        greeted = False
        async for event in fake:
            kind = event["type"]
            if kind == "response.audio.delta":
                if variant == "bare_best" and event.get("response_id") == interrupted:
                    continue
                player.queue_audio(delta_pcm(event))
            elif kind == "session.updated" and not greeted:
                greeted = True
                for payload in greeting:
                    await fake.send(payload)
            elif kind == "response.created":
                active = event["response"]["id"]
            elif kind == "input_audio_buffer.speech_started":
                on_speech_started()
                player.skip_pending_audio()
                interrupted = active
            elif kind == "response.done":
                break

    stop_load = asyncio.Event()
    hog = GilHog() if load else None
    busy = asyncio.create_task(busy_loop(stop_load)) if load else None
    if hog is not None:
        hog.__enter__()
    callbacks_from = len(getattr(player, "callbacks", []))
    try:
        # The response lasts 1.6 s: an attempt still running after 8 s was starved by the load.
        await asyncio.wait_for(asyncio.gather(feed(), barge(), app()), timeout=8)
        await asyncio.sleep(0.35)  # let the device write whatever it still holds
    finally:
        stop_load.set()
        if busy is not None:
            await busy
        if hog is not None:
            hog.__exit__()
        latency = state.get("latency")
        callbacks = list(getattr(player, "callbacks", []))[callbacks_from:]
        player.close()
        data = speaker.stop()

    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    voiced = np.flatnonzero(samples)
    end = 2 * (int(voiced[-1]) + 1) if len(voiced) else 0
    _heard, written_at = state["snapshot"] or (0, 0)
    played_chunks = set(((samples[voiced].astype(int) - 1000) // 1000).tolist())
    late_played = sum(1 for k in state["late"] if k in played_chunks)
    result: dict[str, Any] = {
        "variant": variant,
        "block_ms": block_ms,
        "load": load,
        "name": f"{variant}_{block_ms}ms" + ("_load" if load else ""),
        "barge_at_s": round(barge_at, 3),
        "stale_ms": max(0, end - written_at) / (RATE / 1000),
        "late_chunks": len(state["late"]),
        "late_chunks_played": late_played,
        "output_latency_ms": round(1000 * latency, 2) if latency is not None else None,
        # Under the heaviest load the user's speech can reach the app only after the whole
        # response: then there was no barge-in to measure.
        "valid": state["snapshot"] is not None,
    }
    if callbacks:
        delay = [1000 * (entry - current) for entry, current, _ in callbacks]
        gaps = [1000 * (b[0] - a[0]) for a, b in itertools.pairwise(callbacks)]
        result["callbacks"] = {
            "n": len(callbacks),
            "late_ms_p50": round(statistics.median(delay), 3),
            "late_ms_p99": round(sorted(delay)[int(0.99 * (len(delay) - 1))], 3),
            "late_ms_max": round(max(delay), 3),
            "gap_ms_p50": round(statistics.median(gaps), 3) if gaps else None,
            "gap_ms_max": round(max(gaps), 3) if gaps else None,
            "status_flags": sum(1 for *_, status in callbacks if status),
            "later_than_latency": sum(1 for d in delay if latency and d > 1000 * latency),
        }
    return result


MAIN = ("library", "sample_fixed", "bare_best")
SWEEP = ("library", "sample_fixed")
PLAN: list[tuple[str, int, bool]] = [
    *((v, 5, load) for load in (False, True) for v in MAIN),
    *((v, b, load) for b in (10, 20) for load in (False, True) for v in SWEEP),
    ("sample", 50, False),
]


ATTEMPTS = 3


async def _child(params: dict[str, Any]) -> None:
    for trial in range(params["trials"]):
        barge_at = 0.3 + 0.4 * ((trial * 0.6180339887) % 1.0)  # spread over the block phase
        for variant, block_ms, load in params["plan"]:
            # A trial the load starved (it timed out, or the barge-in came after the response
            # ended) measures nothing: run it again, and report how often that happened.
            discarded = 0
            result: dict[str, Any] | None = None
            while result is None and discarded < ATTEMPTS:
                try:
                    attempt = await _trial(variant, block_ms, load, barge_at)
                except asyncio.TimeoutError:
                    attempt = {"valid": False}
                if attempt.get("valid"):
                    result = attempt
                else:
                    discarded += 1
                await asyncio.sleep(0.05)
            if result is None:
                continue
            result["trial"] = trial
            result["discarded_attempts"] = discarded
            print(json.dumps(result), flush=True)


def _agg(trials: list[dict[str, Any]]) -> dict[str, Any]:
    stale = [t["stale_ms"] for t in trials]
    out: dict[str, Any] = {
        "stale_ms_median": round(statistics.median(stale), 1),
        "stale_ms_min": round(min(stale), 1),
        "stale_ms_max": round(max(stale), 1),
        "late_chunks_played": sum(t["late_chunks_played"] for t in trials),
        "late_chunks_sent": sum(t["late_chunks"] for t in trials),
        "trials": len(trials),
        "discarded_attempts": sum(t.get("discarded_attempts", 0) for t in trials),
        "output_latency_ms": trials[0].get("output_latency_ms"),
    }
    cbs = [t["callbacks"] for t in trials if t.get("callbacks")]
    if cbs:
        out["callbacks"] = {
            "late_ms_p50": round(statistics.median(c["late_ms_p50"] for c in cbs), 3),
            "late_ms_p99_worst": max(c["late_ms_p99"] for c in cbs),
            "late_ms_max": max(c["late_ms_max"] for c in cbs),
            "gap_ms_max": max(c["gap_ms_max"] or 0 for c in cbs),
            "status_flags": sum(c["status_flags"] for c in cbs),
            "later_than_latency": sum(c["later_than_latency"] for c in cbs),
            "callbacks": sum(c["n"] for c in cbs),
        }
    return out


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks.alsa import AlsaFileDevice, portaudio_unavailable

    why = portaudio_unavailable()
    if why is not None:
        return {"skipped": why}
    params = {"trials": 1 if quick else 4, "plan": PLAN}
    device = AlsaFileDevice.create()
    try:
        out = device.run_module("benchmarks.barge_in", "child", json.dumps(params))
    finally:
        device.cleanup()
    trials = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    by: dict[str, list[dict[str, Any]]] = {}
    for t in trials:
        by.setdefault(t["name"], []).append(t)
    variants = {name: _agg(ts) for name, ts in by.items()}

    def get(name: str, key: str) -> Any:
        return (variants.get(name) or {}).get(key)

    library_trials = [t for t in trials if t["variant"] == "library"]
    return {
        "stale_ms_median": get("library_5ms", "stale_ms_median"),
        "stale_ms": get("library_5ms", "stale_ms_median"),
        "stale_ms_max": get("library_5ms", "stale_ms_max"),
        "fixed_sample_stale_ms_median": get("sample_fixed_5ms", "stale_ms_median"),
        "bare_best_stale_ms_median": get("bare_best_5ms", "stale_ms_median"),
        "sample_as_written_stale_ms_median": get("sample_50ms", "stale_ms_median"),
        "late_chunks_played": sum(t["late_chunks_played"] for t in library_trials),
        "late_chunks_sent_to_library": sum(t["late_chunks"] for t in library_trials),
        "fixed_sample_late_chunks_played": get("sample_fixed_5ms", "late_chunks_played"),
        "under_load": {
            "stale_ms_median": get("library_5ms_load", "stale_ms_median"),
            "fixed_sample_stale_ms_median": get("sample_fixed_5ms_load", "stale_ms_median"),
            "bare_best_stale_ms_median": get("bare_best_5ms_load", "stale_ms_median"),
        },
        "library_output_latency_ms": get("library_5ms", "output_latency_ms"),
        "library_playback_block_ms": 5,
        "variants": variants,
        "trials": trials,
        "setup": {
            "response_s": RESPONSE_S,
            "chunk_ms": CHUNK_MS,
            "lead_chunks": LEAD_CHUNKS,
            "late_chunks": LATE_CHUNKS,
            "barge_in_after_first_sample_s": "0.3-0.7 (golden-ratio sequence, same for all)",
            "trials_per_variant": params["trials"],
            "load": "busy event loop (2 ms of work per turn) + a GIL-holding thread",
            "speaker": "FIFO read at real time (1x), 4 KiB pipe",
        },
    }


if __name__ == "__main__":
    if sys.argv[1] == "child":
        asyncio.run(_child(json.loads(sys.argv[2])))
