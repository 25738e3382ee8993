"""The PortAudio callbacks, driven by hand with numpy arrays: no device needed."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

from voicelive_proactive.audio.device import PlaybackBuffer, _CaptureForwarder

FRAMES = 480  # 20 ms at 24 kHz


def block(frames: int = FRAMES) -> np.ndarray:
    """What PortAudio hands the callback: an int16 (frames, 1) array full of leftovers."""
    return np.full((frames, 1), 12345, dtype=np.int16)


def play(buffer: PlaybackBuffer, frames: int = FRAMES) -> bytes:
    out = block(frames)
    buffer.callback(out, frames, None, 0)
    return out.tobytes()


def test_each_callback_takes_exactly_one_block_off_the_front() -> None:
    data = random.Random(1).randbytes(2000)
    buffer = PlaybackBuffer()
    buffer.write(data)
    assert buffer.pending_bytes == 2000
    assert play(buffer) == data[:960]
    assert play(buffer) == data[960:1920]
    assert buffer.played_bytes == 1920 and buffer.pending_bytes == 80


def test_underrun_pads_with_silence_and_counts_only_real_audio() -> None:
    data = random.Random(2).randbytes(100)
    buffer = PlaybackBuffer()
    buffer.write(data)
    assert play(buffer) == data + bytes(860)
    assert play(buffer) == bytes(960), "an empty queue plays silence, never leftovers"
    assert buffer.played_bytes == 100


def test_blocks_larger_than_expected_are_still_filled_completely() -> None:
    buffer = PlaybackBuffer()
    buffer.write(b"\x01\x02" * 10)
    assert play(buffer, frames=4096) == b"\x01\x02" * 10 + bytes(8192 - 20)


def test_odd_chunks_keep_samples_aligned() -> None:
    buffer = PlaybackBuffer()
    buffer.write(b"\x01")
    assert buffer.pending_bytes == 1
    assert play(buffer) == bytes(960), "half a sample is never played"
    buffer.write(b"\x02\x03\x04")
    buffer.write(b"\x05\x06\x07")
    assert play(buffer) == b"\x01\x02\x03\x04\x05\x06" + bytes(954)
    assert buffer.pending_bytes == 1
    buffer.write(b"\x08")
    assert play(buffer)[:2] == b"\x07\x08"


def test_clear_drops_everything_pending_and_bumps_the_generation() -> None:
    buffer = PlaybackBuffer()
    old = buffer.generation
    buffer.write(bytes(5000), generation=old)
    buffer.write(b"\x09")  # a dangling byte is pending audio too
    play(buffer)
    assert buffer.clear() == 5000 - 960 + 1
    assert buffer.generation == old + 1 and buffer.skipped_bytes == 4041
    assert play(buffer) == bytes(960)

    assert buffer.write(b"\x01\x00" * 100, generation=old) == 0, "late chunk: stale generation"
    assert buffer.stale_bytes == 200 and buffer.pending_bytes == 0
    assert buffer.write(b"\x02\x00" * 100, generation=buffer.generation) == 200
    assert buffer.write(b"\x03\x00" * 100) == 200, "unstamped chunks always play"
    assert play(buffer) == b"\x02\x00" * 100 + b"\x03\x00" * 100 + bytes(560)


def test_the_callback_never_raises() -> None:
    buffer = PlaybackBuffer()
    buffer.write(bytes(4000))
    strided = np.full((FRAMES * 2, 1), 7, dtype=np.int16)[::2]  # not a contiguous buffer
    buffer.callback(strided, FRAMES, None, 0)
    assert buffer.callback_errors == 1
    assert not strided.any(), "a failed callback plays silence"
    buffer.callback(object(), FRAMES, None, 0)
    assert buffer.callback_errors == 2
    buffer.callback(block(), FRAMES, None, 1)  # PortAudio flagged an underflow
    assert buffer.status_flags == 1


def test_producer_and_audio_thread_lose_and_duplicate_nothing() -> None:
    stream = random.Random(3).randbytes(1_000_000)
    buffer = PlaybackBuffer()
    heard = bytearray()

    def produce() -> None:
        rng, i = random.Random(4), 0
        while i < len(stream):
            n = rng.randint(1, 3001)  # odd sizes too
            buffer.write(stream[i : i + n])
            i += n

    def consume() -> None:
        out = block()
        deadline = time.monotonic() + 20
        while len(heard) < len(stream) and time.monotonic() < deadline:
            before = buffer.played_bytes
            buffer.callback(out, FRAMES, None, 0)
            got = buffer.played_bytes - before
            data = out.tobytes()
            heard.extend(data[:got])
            assert not any(data[got:])

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bytes(heard) == stream
    assert buffer.callback_errors == 0


def test_queueing_a_50ms_chunk_is_cheap_and_does_not_slow_down_with_backlog() -> None:
    buffer = PlaybackBuffer()
    chunk = bytes(2400)  # 50 ms, the usual response.audio.delta
    generation = buffer.generation
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(1000):
            buffer.write(chunk, generation=generation)
        timings.append((time.perf_counter() - start) / 1000)
    assert buffer.pending_bytes == 5000 * 2400  # over 4 minutes of backlog
    # Typically well under 1 us; the bound only catches accidental O(n) copies.
    assert min(timings) < 10e-6, f"{min(timings) * 1e6:.2f} us per chunk"
    assert timings[-1] < 20 * timings[0] + 10e-6


def test_capture_callback_copies_the_block_and_survives_consumer_errors() -> None:
    got: list[bytes] = []

    def on_frame(frame: bytes) -> None:
        got.append(frame)
        if len(got) == 1:
            raise RuntimeError("consumer bug")

    forward = _CaptureForwarder(on_frame)
    indata = np.arange(FRAMES, dtype=np.int16).reshape(-1, 1)
    forward(indata, FRAMES, None, 0)
    indata[:] = 0  # PortAudio reuses the buffer for the next block
    forward(indata, FRAMES, None, 0)
    assert got[0] == np.arange(FRAMES, dtype=np.int16).tobytes()
    assert got[1] == bytes(960)
    assert isinstance(got[0], bytes)
    assert (forward.frames, forward.errors) == (2, 1)


@pytest.mark.parametrize("frames", [1, 480, 4800])
def test_written_audio_comes_out_unchanged_whatever_the_block_size(frames: int) -> None:
    data = random.Random(frames).randbytes(30_000)
    buffer = PlaybackBuffer()
    buffer.write(data)
    out = b"".join(play(buffer, frames) for _ in range(-(-30_000 // (2 * frames))))
    assert out[:30_000] == data and not any(out[30_000:])
