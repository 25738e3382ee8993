"""Audio: one 50 ms ``response.audio.delta`` through ``handle()`` into the device buffer.

Both variants get fresh typed SDK events (``ServerEvent._deserialize``) each carrying 2,400
bytes of PCM16 in base64, as a loop sees them. Both variants hand the audio to the same
player, a ``SounddeviceAudioIO(capture=False)`` whose output stream is open and playing on the
ALSA ``file`` device (read at real time). The bare loop does what a careful app does by hand,
reading the type and the audio as the library does (mapping keys, not the SDK's slower
attributes, and ``binascii`` for the base64):
``if event["type"] == "response.audio.delta": player.queue_audio(delta_pcm(event))``. The
library variant is ``await proactive.handle(event)`` on a session that is speaking its
greeting (after ``session.updated`` and ``response.created`` through a ``FakeConnection``),
with the player as its audio. A third variant only decodes the audio (which any loop pays),
to show what ``handle()`` costs beyond it.

This runs in a child process on the ALSA file device (see :mod:`benchmarks.alsa`). Batches of
events rotate between the variants; the player is emptied between batches, outside the timed
region. The per-batch differences are noisy (a PortAudio callback or a collection can land in
any batch), so the report gives their spread, not only the medians.
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import sys
import time
from collections import deque
from typing import Any

CHUNK_BYTES = 2400  # 50 ms of 24 kHz mono PCM16


def _wire(i: int) -> dict[str, Any]:
    pcm = bytes((i + k) % 251 + 1 for k in range(CHUNK_BYTES))
    return {
        "type": "response.audio.delta",
        "event_id": f"event_{i}",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "delta": base64.b64encode(pcm).decode("ascii"),
    }


async def _child(params: dict[str, Any]) -> dict[str, Any]:
    from azure.ai.voicelive.models import ServerEvent

    from benchmarks.alsa import TimedSpeaker as Speaker
    from benchmarks.loops import delta_pcm
    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.audio import SounddeviceAudioIO
    from voicelive_proactive.testing import FakeConnection

    speaker = Speaker.in_home(1.0)  # opening the device blocks until the FIFO has a reader
    audio = SounddeviceAudioIO(capture=False)
    audio.open()
    fake = FakeConnection()
    proactive = ProactiveSession(fake, greeting="Hi Lisa, welcome back!", audio=audio)
    for wire in (
        {"type": "session.updated", "session": {"id": "sess_1"}},
        {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
    ):
        fake.push(wire)
        await proactive.handle(await fake.recv())
    assert proactive.metrics.response_created is not None, "the session is not speaking"

    wires = [_wire(i) for i in range(params["batch"])]
    queue: deque[bytes] = deque()

    def batch() -> list[Any]:
        return [ServerEvent._deserialize(dict(w), []) for w in wires]  # type: ignore[no-untyped-call]

    async def run_bare(events: list[Any]) -> int:
        t0 = time.perf_counter_ns()
        for event in events:
            if event["type"] == "response.audio.delta":
                audio.queue_audio(delta_pcm(event))
        return time.perf_counter_ns() - t0

    async def run_decode(events: list[Any]) -> int:
        t0 = time.perf_counter_ns()
        for event in events:
            queue.append(delta_pcm(event))
        return time.perf_counter_ns() - t0

    async def run_proactive(events: list[Any]) -> int:
        t0 = time.perf_counter_ns()
        for event in events:
            await proactive.handle(event)
        return time.perf_counter_ns() - t0

    per_chunk: dict[str, list[float]] = {"bare": [], "proactive": [], "decode": []}
    runners = {"bare": run_bare, "proactive": run_proactive, "decode": run_decode}
    names = list(runners)
    n = params["batch"]
    for i in range(params["warmup"] + params["batches"]):
        for variant in names[i % 3 :] + names[: i % 3]:  # rotate the order
            events = batch()
            elapsed = await runners[variant](events)
            if i >= params["warmup"]:
                per_chunk[variant].append(elapsed / n / 1000)
            queue.clear()
            audio.skip_pending_audio()  # keep memory flat; outside the timed region
    queued = proactive.metrics.audio_bytes
    audio.close()
    speaker.stop()
    return {
        "per_chunk_us": per_chunk,
        "device_name": audio.device_name,
        "library_audio_bytes": queued,
    }


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks._stats import ratio
    from benchmarks.alsa import AlsaFileDevice, portaudio_unavailable

    why = portaudio_unavailable()
    if why is not None:
        return {"skipped": why}
    params = {"batch": 1000, "batches": 10 if quick else 60, "warmup": 2}
    device = AlsaFileDevice.create()
    try:
        out = device.run_module("benchmarks.audio_chunk", "child", json.dumps(params))
    finally:
        device.cleanup()
    child = json.loads(out.strip().splitlines()[-1])
    bare, pro = child["per_chunk_us"]["bare"], child["per_chunk_us"]["proactive"]
    decode = child["per_chunk_us"]["decode"]
    bare_med, pro_med = statistics.median(bare), statistics.median(pro)
    decode_med = statistics.median(decode)
    # The spread of the added cost: the paired difference batch by batch.
    diffs = [p - b for p, b in zip(pro, bare, strict=True)]
    spread = statistics.quantiles(diffs, n=20) if len(diffs) >= 20 else [min(diffs), max(diffs)]
    return {
        "added_us_paired_p5_p95": [round(spread[0], 2), round(spread[-1], 2)],
        "per_chunk_us": round(pro_med - bare_med, 2),
        "bare_us": round(bare_med, 2),
        "proactive_us": round(pro_med, 2),
        "ratio": ratio(pro_med, bare_med),
        "sdk_decode_us": round(decode_med, 2),
        "library_beyond_decode_us": round(pro_med - decode_med, 2),
        "added_us_paired_median": round(statistics.median(diffs), 2),
        "added_us_paired_range": [round(min(diffs), 2), round(max(diffs), 2)],
        "bare_us_range": [round(min(bare), 2), round(max(bare), 2)],
        "proactive_us_range": [round(min(pro), 2), round(max(pro), 2)],
        "batches": params["batches"],
        "events_per_batch": params["batch"],
        "chunk_bytes": CHUNK_BYTES,
        "device": child["device_name"] + " (ALSA file PCM, stream open, read at real time)",
    }


if __name__ == "__main__":
    if sys.argv[1] == "child":
        print(json.dumps(asyncio.run(_child(json.loads(sys.argv[2])))))
