"""Drive ``SounddeviceAudioIO`` through PortAudio and ALSA in a fresh process.

Run as ``python device_scenarios.py SCENARIO OUTDIR [JSON_PARAMS]`` with ``HOME`` pointing at
a directory whose ``.asoundrc`` makes the default ALSA device an ``asym`` of a ``file``
playback PCM (writing to the FIFO ``$HOME/speaker.fifo``) and a ``null`` capture PCM.
PortAudio reads the ALSA configuration once, when ``sounddevice`` is imported, which is why
every scenario gets its own process.

The FIFO is the trick that turns the file device into a sound card: ALSA's ``null`` slave
never blocks, so on its own the file device would swallow audio as fast as the callback
can produce it. :class:`Speaker` reads the FIFO at a fixed rate (``speed`` times real time)
and the small pipe buffer blocks the writer in between, so playback is paced by the reader
the way a DAC paces a real device. ``Speaker.position`` is what the listener has heard.

Each scenario prints one JSON object on stdout and leaves raw PCM files in OUTDIR.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from voicelive_proactive.testing.alsa import PacedSpeaker

RATE = 48_000  # bytes per second of 24 kHz mono PCM16


Speaker = PacedSpeaker


def pcm(seconds: float, seed: int) -> bytes:
    """Random int16 samples, none of them zero.

    Random data makes any misaligned, lost or repeated byte show up as a mismatch, and
    with no zero sample in it, the silence a device plays on underrun can be told apart.
    """
    import numpy as np

    samples = np.frombuffer(random.Random(seed).randbytes(int(seconds * RATE)), "<i2").copy()
    samples[samples == 0] = 1
    return bytes(samples.tobytes())


def speaker(speed: float, *, paused: bool = False) -> Speaker:
    return Speaker(Path(os.environ["HOME"]) / "speaker.fifo", speed, paused=paused)


def counters(audio: Any) -> dict[str, Any]:
    return {
        "played_bytes": audio.played_bytes,
        "pending_bytes": audio.pending_bytes,
        "skipped_bytes": audio.skipped_bytes,
        "stale_bytes": audio.stale_bytes,
        "callback_errors": audio.callback_errors,
    }


def scenario_probe(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    import sounddevice as sd

    return {
        "devices": [dict(d) for d in sd.query_devices()],
        "default": list(sd.default.device),
    }


def scenario_play(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    from voicelive_proactive.audio import SounddeviceAudioIO

    clip = pcm(params["seconds"], seed=1)
    # Paused while queueing: meanwhile the device takes only what fits in its buffers.
    listener = speaker(params["speed"], paused=True)
    audio = SounddeviceAudioIO(device=params.get("device"), capture=False)
    chunk = params["chunk_bytes"]  # odd sizes exercise the dangling-byte carry
    for i in range(0, len(clip), chunk):
        audio.queue_audio(clip[i : i + chunk])
    listener.resume()
    played = audio.wait_until_played(timeout=20)
    result = {"drained": played, "latency": audio.output_latency, **counters(audio)}
    time.sleep(0.05)
    audio.close()
    audio.close()  # idempotent
    audio.queue_audio(b"\x01\x00" * 10)  # ignored once closed
    result["played_after_close"] = audio.played_bytes
    (out / "clip.raw").write_bytes(clip)
    (out / "speaker.raw").write_bytes(listener.stop())
    result["pipe_bytes"] = listener.pipe_bytes
    return result


def scenario_skip(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    from voicelive_proactive.audio import SounddeviceAudioIO

    clip, after = pcm(params["seconds"], seed=2), pcm(0.2, seed=3)
    listener = speaker(params["speed"], paused=True)
    block_ms = params.get("playback_block_ms")  # None: the default
    options = {} if block_ms is None else {"playback_block_ms": block_ms}
    audio = SounddeviceAudioIO(capture=False, **options)
    generation = audio.generation
    for i in range(0, len(clip), 2400):  # 50 ms deltas, as Voice Live sends them
        audio.queue_audio(clip[i : i + 2400], generation=generation)
    listener.resume()
    time.sleep(params["skip_after"])
    heard = listener.position  # what the listener had heard when the user barged in
    dropped = audio.skip_pending_audio()
    _, written = listener.snapshot()  # what the device had written when skip returned
    played = audio.played_bytes  # the buffer is empty now, so this cannot move
    audio.queue_audio(clip[:2400], generation=generation)  # a late chunk of the old response
    audio.queue_audio(after, generation=audio.generation)  # the next response plays
    drained = asyncio.run(audio.drain(timeout=20))
    result = {
        "heard_at_skip": heard,
        "written_at_skip": written,
        "dropped": dropped,
        "played_at_skip": played,
        "drained": drained,
        "latency": audio.output_latency,
        "playback_block_ms": audio.playback_block_ms,
        **counters(audio),
    }
    time.sleep(0.05)
    audio.close()
    (out / "clip.raw").write_bytes(clip)
    (out / "after.raw").write_bytes(after)
    (out / "speaker.raw").write_bytes(listener.stop())
    result["pipe_bytes"] = listener.pipe_bytes
    return result


def scenario_pause(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Pause mid-playback for ``pause`` seconds, then resume (or skip, then play ``after``)."""
    import threading

    from voicelive_proactive.audio import SounddeviceAudioIO

    clip, after = pcm(params["seconds"], seed=8), pcm(0.2, seed=9)
    listener = speaker(1.0, paused=True)
    audio = SounddeviceAudioIO(capture=False)
    for i in range(0, len(clip), 2400):
        audio.queue_audio(clip[i : i + 2400])
    notified = threading.Event()
    notified_at: list[float] = []
    audio.notify_when_played(lambda: (notified_at.append(time.monotonic()), notified.set()))
    listener.resume()
    time.sleep(params["pause_after"])
    unplayed = audio.pause_audio()
    played = audio.played_bytes
    again = audio.pause_audio()  # idempotent
    time.sleep(params["pause"])
    result: dict[str, Any] = {
        "unplayed": unplayed,
        "unplayed_again": again,
        "played_at_pause": played,
        "played_after_pause": audio.played_bytes,
        "paused": audio.paused,
        "notified_while_paused": notified.is_set(),
    }
    resumed_at = time.monotonic()
    if params.get("skip"):
        result["dropped"] = audio.skip_pending_audio()
        result["paused_after_skip"] = audio.paused
        audio.queue_audio(after)
        result["drained"] = audio.wait_until_played(timeout=20)
    else:
        audio.resume_audio()
        result["drained"] = notified.wait(20)
    result["notified_after_resume"] = bool(notified_at) and notified_at[0] > resumed_at
    result.update(counters(audio))
    time.sleep(0.05)
    audio.close()
    (out / "clip.raw").write_bytes(clip)
    (out / "after.raw").write_bytes(after)
    (out / "speaker.raw").write_bytes(listener.stop())
    return result


def scenario_capture(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    from voicelive_proactive.audio import SounddeviceAudioIO

    frames: list[bytes] = []
    calls = 0

    def on_frame(block: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError("a consumer bug")  # must not stop the microphone
        if len(frames) < 50:
            frames.append(block)

    listener = speaker(50.0)
    with SounddeviceAudioIO("default", capture_device="default") as audio:
        audio.start_capture(on_frame)
        audio.start_capture(on_frame)  # a no-op
        deadline = time.monotonic() + 5
        while len(frames) < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        capturing = audio.capturing
    listener.stop()
    return {
        "capturing": capturing,
        "closed": audio.closed,
        "sizes": sorted({len(f) for f in frames}),
        "frames": len(frames),
        "capture_errors": audio.capture_errors,
        "captured_frames": audio.captured_frames,
    }


def scenario_errors(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    from voicelive_proactive.audio import SounddeviceAudioIO
    from voicelive_proactive.errors import AudioUnavailableError

    listener = speaker(50.0)  # opening the FIFO for writing blocks until someone reads it
    result: dict[str, Any] = {}
    bad: dict[str, dict[str, Any]] = {
        "bad_name": {"device": "no-such-speaker"},
        "bad_index": {"device": 99},
        "bad_capture": {"capture_device": "no-such-mic"},
    }
    for label, kwargs in bad.items():
        try:
            SounddeviceAudioIO(**kwargs).close()
        except AudioUnavailableError as exc:
            result[label] = str(exc)
    import sounddevice as sd

    index = next(d["index"] for d in sd.query_devices() if d["name"] == "default")
    by_index = SounddeviceAudioIO(index, capture_device=index)
    result["by_index"] = by_index.device_name
    by_index.close()
    by_name = SounddeviceAudioIO("default", capture=False)
    result["by_name"] = by_name.device_name
    by_name.close()
    try:
        by_name.start_capture(lambda block: None)
    except AudioUnavailableError as exc:
        result["capture_after_close"] = str(exc)
    listener.stop()
    return result


def scenario_play_format(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Queue audio in another output format in 50 ms chunks; the device plays 24 kHz."""
    from voicelive_proactive.audio import PCM16_24K, AudioFormat, SounddeviceAudioIO

    fmt = AudioFormat.from_output(params["format"])
    clip = random.Random(5).randbytes(fmt.bytes_for_ms(params["seconds"] * 1000))
    after = pcm(0.1, seed=6)  # what plays once the format is back to 24 kHz
    listener = speaker(params["speed"], paused=True)
    audio = SounddeviceAudioIO(capture=False)
    audio.configure_formats(output=fmt, input=PCM16_24K)
    chunk = fmt.bytes_for_ms(50)
    for i in range(0, len(clip), chunk):
        audio.queue_audio(clip[i : i + chunk])
    listener.resume()
    if params.get("poll"):  # nobody asks notify_when_played: the tail must come anyway
        deadline = time.monotonic() + 20
        while audio.played_bytes < len(clip) and time.monotonic() < deadline:
            time.sleep(0.01)
        drained = audio.played_bytes == len(clip)
    else:
        drained = audio.wait_until_played(timeout=20)
    result = {
        "drained": drained,
        "played_bytes": audio.played_bytes,
        "pending_bytes": audio.pending_bytes,
        "skipped_bytes": audio.skipped_bytes,
        "output_format": str(audio.output_format),
    }
    audio.configure_formats(output=PCM16_24K, input=PCM16_24K)
    audio.queue_audio(after)
    result["drained_after"] = audio.wait_until_played(timeout=20)
    result["played_after"] = audio.played_bytes
    audio.close()
    (out / "clip.raw").write_bytes(clip)
    (out / "after.raw").write_bytes(after)
    (out / "speaker.raw").write_bytes(listener.stop())
    return result


def scenario_skip_format(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Barge in on resampled audio: the counters stay in the queued format."""
    from voicelive_proactive.audio import PCM16_24K, AudioFormat, SounddeviceAudioIO

    fmt = AudioFormat.from_output(params["format"])
    clip = random.Random(7).randbytes(fmt.bytes_for_ms(3000))
    listener = speaker(1.0, paused=True)
    audio = SounddeviceAudioIO(capture=False)
    audio.configure_formats(output=fmt, input=PCM16_24K)
    for i in range(0, len(clip), fmt.bytes_for_ms(50)):
        audio.queue_audio(clip[i : i + fmt.bytes_for_ms(50)])
    listener.resume()
    time.sleep(0.3)
    dropped = audio.skip_pending_audio()
    played = audio.played_bytes
    notified = audio.wait_until_played(timeout=20)  # the audio already on the device
    result = {
        "dropped": dropped,
        "played_at_skip": played,
        "notified": notified,
        "played_bytes": audio.played_bytes,
        "pending_bytes": audio.pending_bytes,
        "skipped_bytes": audio.skipped_bytes,
        "clip_bytes": len(clip),
    }
    audio.close()
    (out / "speaker.raw").write_bytes(listener.stop())
    return result


def scenario_playout(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Responses queued faster than real time; when does notify_when_played fire?

    Each response is queued in 50 ms chunks, as Voice Live sends them, and the notification
    is asked right after the last chunk. Responses are separated by silence, so the end of
    each one can be found in what the speaker heard, and the time it was heard compared
    with the time the notification ran.
    """
    import threading

    import numpy as np

    from voicelive_proactive.audio import PCM16_24K, AudioFormat, SounddeviceAudioIO
    from voicelive_proactive.audio.formats import encode_from_pcm16

    fmt = AudioFormat.from_output(params.get("format", "pcm16"))
    listener = speaker(1.0)
    audio = SounddeviceAudioIO(capture=False, **params.get("options", {}))
    if fmt != PCM16_24K:
        audio.configure_formats(output=fmt, input=PCM16_24K)
    fired: list[float] = []
    for run in range(params["runs"]):
        # Loud random samples at the format's rate: no stretch of silence inside a response.
        rng = np.random.default_rng(run)
        samples = rng.integers(2000, 20000, int(fmt.sample_rate * params["seconds"]))
        samples *= rng.choice([-1, 1], samples.size)
        clip = encode_from_pcm16(samples.astype("<i2").tobytes(), fmt)
        chunk = fmt.bytes_for_ms(50)
        for i in range(0, len(clip), chunk):
            audio.queue_audio(clip[i : i + chunk])
        done = threading.Event()
        at: list[float] = []

        def played(at: list[float] = at, done: threading.Event = done) -> None:
            at.append(time.monotonic())
            done.set()

        audio.notify_when_played(played)
        if not done.wait(20):
            raise TimeoutError("notify_when_played never fired")
        fired.append(at[0])
        time.sleep(params.get("gap", 0.3))
    latency = audio.output_latency
    audio.close()
    data = listener.stop()
    samples = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    voiced = np.flatnonzero(np.abs(samples.astype(np.int32)) > 200)
    ends = [*voiced[np.flatnonzero(np.diff(voiced) > 2400)], voiced[-1]]  # 100 ms of quiet
    heard = [listener.heard_at(2 * int(end) + 1) for end in ends]
    return {
        "lateness_ms": [round((f - h) * 1000, 2) for f, h in zip(fired, heard, strict=True)],
        "responses_heard": len(ends),
        "latency": latency,
    }


def scenario_capture_format(out: Path, params: dict[str, Any]) -> dict[str, Any]:
    """The microphone delivers frames in the negotiated input format."""
    from voicelive_proactive.audio import PCM16_24K, AudioFormat, SounddeviceAudioIO

    fmt = AudioFormat.from_input(params["format"], params.get("rate"))
    frames: list[bytes] = []
    listener = speaker(50.0)
    with SounddeviceAudioIO("default", capture_device="default") as audio:
        audio.configure_formats(output=PCM16_24K, input=fmt)
        audio.start_capture(frames.append)
        deadline = time.monotonic() + 5
        while len(frames) < 25 and time.monotonic() < deadline:
            time.sleep(0.01)
    listener.stop()
    return {"sizes": sorted({len(f) for f in frames[:25]}), "frames": len(frames)}


def main() -> None:
    name, out = sys.argv[1], Path(sys.argv[2])
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    result = globals()[f"scenario_{name}"](out, params)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
