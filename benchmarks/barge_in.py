"""Barge-in: how much of the interrupted response still reaches the device after ``speech_started``.

A 3 s response whose samples encode their position is streamed through ``handle()`` into a
real PortAudio output (``SounddeviceAudioIO``) on the ALSA ``file`` device, which a
:class:`~benchmarks.alsa.Speaker` drains at real-time pace. 0.5-1 s in, the user barges in:
``input_audio_buffer.speech_started`` goes through ``handle()``, and at the moment it returns
we note how many bytes the device had written into the FIFO (the listener's read position
plus what sits in the pipe). Everything of the interrupted response that the device writes
after that moment is *stale*: the user hears it although they are already talking.

The baseline is a naive chunk queue modelled on the Azure Voice Live sample's
``AudioProcessor``: a ``queue.Queue`` of sequence-numbered packets; the output callback first
plays the leftover of the packet it is in, then pulls whole packets; ``skip_pending_audio()``
only raises a sequence threshold, so older packets are skipped when pulled, but the rest of
the packet being played keeps playing. It runs in the bare loop, without the library.

Each trial runs both variants with the same barge-in time (paired, interleaved), in one child
process per benchmark run, because PortAudio reads the ALSA configuration at import.
"""

from __future__ import annotations

import asyncio
import json
import queue
import statistics
import sys
import time
from typing import Any

RATE = 48_000  # bytes per second of 24 kHz mono PCM16
RESPONSE_S = 3.0
GREETING = "Hi Lisa, welcome back! How can I assist you today?"


# --------------------------------------------------------------------------- the baseline


class NaiveAudioProcessor:
    """The Azure sample's playback queue, rewritten on sounddevice (PyAudio is not a dependency).

    Packets carry sequence numbers; the callback fills each block from the leftover of the
    current packet, then pulls packets; a packet older than ``playback_base`` is skipped when
    pulled. Barge-in (:meth:`skip_pending_audio`) only raises ``playback_base``.
    """

    def __init__(self, block_frames: int = 1200) -> None:
        import sounddevice as sd

        self.playback_queue: queue.Queue[tuple[int, bytes]] = queue.Queue()
        self.playback_base = 0
        self.next_seq_num = 0
        self.played_bytes = 0
        self._remaining = b""
        self._stream = sd.RawOutputStream(
            samplerate=24_000,
            channels=1,
            dtype="int16",
            blocksize=block_frames,  # the sample's CHUNK_SIZE: 1200 frames = 50 ms
            latency="low",
            callback=self._callback,
        )
        self._stream.start()

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        need = frames * 2
        out = self._remaining[:need]
        self._remaining = self._remaining[need:]
        while len(out) < need:
            try:
                seq, data = self.playback_queue.get_nowait()
            except queue.Empty:
                out += bytes(need - len(out))
                break
            if seq < self.playback_base:  # skip requested
                if self._remaining:
                    self._remaining = b""
                continue
            take = need - len(out)
            out += data[:take]
            self._remaining = data[take:]
        self.played_bytes += len(out.rstrip(b"\x00"))  # approximate; only for the record
        outdata[:] = out

    def _seq(self) -> int:
        seq = self.next_seq_num
        self.next_seq_num += 1
        return seq

    def queue_audio(self, data: bytes) -> None:
        self.playback_queue.put((self._seq(), data))

    def skip_pending_audio(self) -> None:
        self.playback_base = self._seq()

    def close(self) -> None:
        self._stream.close(ignore_errors=True)


# --------------------------------------------------------------------------- child process


def position_signal(seconds: float) -> bytes:
    """int16 samples 1000 + (i mod 30000): never zero, and each tells where it came from."""
    import numpy as np

    n = int(seconds * RATE) // 2
    return bytes((1000 + np.arange(n) % 30000).astype("<i2").tobytes())


def response_events(clip: bytes, packet_ms: int) -> list[dict[str, Any]]:
    from voicelive_proactive.testing import audio_response_events

    size = packet_ms * RATE // 1000
    chunks = [clip[i : i + size] for i in range(0, len(clip), size)]
    events = audio_response_events("resp_1", "item_1", chunks, transcript=GREETING)
    return [e for e in events if e["type"] != "response.done"][:-4]  # stop after the deltas


def variant_name(variant: str, packet_ms: int, block_ms: int | None) -> str:
    suffix = f"_block{block_ms}ms" if variant == "library" and block_ms else ""
    return f"{variant}_{packet_ms}ms{suffix}"


async def _trial(
    variant: str, packet_ms: int, block_ms: int | None, barge_at: float
) -> dict[str, Any]:
    import numpy as np

    from benchmarks.alsa import Speaker
    from voicelive_proactive import ProactiveSession
    from voicelive_proactive.audio import SounddeviceAudioIO
    from voicelive_proactive.testing import FakeConnection

    clip = position_signal(RESPONSE_S)
    speaker = Speaker.in_home(1.0)
    fake = FakeConnection()
    wires: list[dict[str, Any]] = [{"type": "session.updated", "session": {"id": "sess_1"}}]
    wires += response_events(clip, packet_ms)
    for wire in wires:
        fake.push(wire)
    typed: list[Any] = [await fake.recv() for _ in wires]
    fake.push({"type": "input_audio_buffer.speech_started", "audio_start_ms": 900, "item_id": "u"})
    speech_started: Any = await fake.recv()

    proactive: ProactiveSession | None = None
    naive: NaiveAudioProcessor | None = None
    device: SounddeviceAudioIO | None = None
    if variant == "library":
        options = {} if block_ms is None else {"playback_block_ms": block_ms}
        device = SounddeviceAudioIO(capture=False, **options)
        proactive = ProactiveSession(fake, greeting=GREETING, audio=device)
        for event in typed:
            await proactive.handle(event)
    else:
        naive = NaiveAudioProcessor()
        greeted = False
        for event in typed:  # the bare loop
            if event.type == "session.updated" and not greeted:
                greeted = True
            elif event.type == "response.audio.delta":
                naive.queue_audio(event.delta)

    first_sample_at = await asyncio.to_thread(speaker.wait_first_sample, 10.0)
    await asyncio.sleep(max(0.0, first_sample_at + barge_at - time.monotonic()))

    if proactive is not None:
        await proactive.handle(speech_started)
    else:
        assert naive is not None
        if speech_started.type == "input_audio_buffer.speech_started":
            naive.skip_pending_audio()
    heard_at, written_at = speaker.snapshot()
    played_at = device.played_bytes if device is not None else None
    latency = device.output_latency if device is not None else None

    await asyncio.sleep(0.4)  # let the device write whatever it still holds
    if proactive is not None:
        await proactive.aclose()  # closes the device too
    if naive is not None:
        naive.close()
    data = speaker.stop()

    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    voiced = np.flatnonzero(samples)
    played_clip = samples[voiced].tobytes()
    intact = clip.startswith(played_clip) and len(played_clip) > 0
    end = 2 * (int(voiced[-1]) + 1) if len(voiced) else 0  # file offset after the last sample
    return {
        "variant": variant,
        "name": variant_name(variant, packet_ms, block_ms),
        "packet_ms": packet_ms,
        "block_ms": block_ms,
        "barge_at_s": round(barge_at, 3),
        "heard_at": heard_at,
        "written_at": written_at,
        "played_at": played_at,
        "clip_bytes_played": len(played_clip),
        "end_offset": end,
        "intact": intact,
        "stale_ms": max(0, end - written_at) / (RATE / 1000),
        "heard_after_ms": max(0, end - heard_at) / (RATE / 1000),
        "pipe_bytes": speaker.pipe_bytes,
        "latency_s": latency,
        "playback_block_ms": device.playback_block_ms if device is not None else None,
    }


async def _child(params: dict[str, Any]) -> None:
    for trial in range(params["trials"]):
        # Spread the barge-in over the packet/block phase (golden-ratio sequence).
        barge_at = 0.5 + 0.5 * ((trial * 0.6180339887) % 1.0)
        for variant, packet_ms, block_ms in params["variants"]:
            result = await _trial(variant, packet_ms, block_ms, barge_at)
            result["trial"] = trial
            print(json.dumps(result), flush=True)
            await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- parent


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks._stats import ratio
    from benchmarks.alsa import AlsaFileDevice, portaudio_unavailable

    why = portaudio_unavailable()
    if why is not None:
        return {"skipped": why}
    # (variant, delta/packet size, the library's playback block in ms: None = its default)
    variants = [
        ("library", 100, None),
        ("library", 100, 10),  # the library's earlier playback blocks, for comparison
        ("library", 100, 20),  # and the first ones (then the same as the capture blocks)
        ("naive", 100, None),
        ("naive", 200, None),
    ]
    params = {"trials": 3 if quick else 7, "variants": variants}
    device = AlsaFileDevice.create()
    try:
        out = device.run_module("benchmarks.barge_in", "child", json.dumps(params))
    finally:
        device.cleanup()
    trials = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    by: dict[str, list[dict[str, Any]]] = {}
    for t in trials:
        by.setdefault(t["name"], []).append(t)
    variants_out: dict[str, Any] = {}
    for name, ts in by.items():
        stale = [t["stale_ms"] for t in ts]
        heard = [t["heard_after_ms"] for t in ts]
        variants_out[name] = {
            "stale_ms_median": round(statistics.median(stale), 1),
            "stale_ms_min": round(min(stale), 1),
            "stale_ms_max": round(max(stale), 1),
            "heard_after_ms_median": round(statistics.median(heard), 1),
            "heard_after_ms_max": round(max(heard), 1),
            "audio_intact": all(t["intact"] for t in ts),
            "trials": len(ts),
        }
    lib, naive = variants_out["library_100ms"], variants_out["naive_100ms"]
    latency = [t["latency_s"] for t in by["library_100ms"] if t["latency_s"] is not None]
    pipe = by["library_100ms"][0]["pipe_bytes"]
    return {
        "stale_ms": lib["stale_ms_median"],
        "stale_ms_max": lib["stale_ms_max"],
        "naive_stale_ms": naive["stale_ms_median"],
        "naive_stale_ms_max": naive["stale_ms_max"],
        "ratio_naive_over_library": ratio(naive["stale_ms_median"], lib["stale_ms_median"]),
        "heard_after_ms": lib["heard_after_ms_median"],
        "naive_heard_after_ms": naive["heard_after_ms_median"],
        "pipe_ms": round(pipe / (RATE / 1000), 1),
        "library_playback_block_ms": by["library_100ms"][0]["playback_block_ms"],
        "library_output_latency_ms": round(1000 * statistics.median(latency), 1)
        if latency
        else None,
        "variants": variants_out,
        "trials": trials,
        "setup": {
            "response_s": RESPONSE_S,
            "barge_in_after_s": "0.5-1.0 (golden-ratio sequence, same for every variant)",
            "library": "ProactiveSession.handle() + SounddeviceAudioIO(capture=False), defaults",
            "naive": "bare loop + AudioProcessor-style packet queue, 50 ms PortAudio blocks",
            "speaker": "FIFO read at real time (1x), 4 KiB pipe",
        },
    }


if __name__ == "__main__":
    if sys.argv[1] == "child":
        asyncio.run(_child(json.loads(sys.argv[2])))
