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


# -- credit: counting in the queued format -------------------------------------------------


def test_credit_counts_played_audio_in_the_units_it_was_queued_in() -> None:
    buffer = PlaybackBuffer()
    buffer.write(bytes(1200), credit=200)  # e.g. 200 bytes of 8 kHz µ-law, as 24 kHz PCM16
    buffer.write(bytes(600), credit=100)
    play(buffer, 300)  # 600 bytes: half the first write
    assert buffer.played_credit == pytest.approx(100)
    play(buffer, 450)  # the rest of the first write and half the second
    assert buffer.played_credit == pytest.approx(250)
    buffer.write(b"", credit=40)  # a converter's tail that came out empty
    play(buffer, 300)
    assert buffer.played_credit == pytest.approx(340), "every credit is spent exactly"


def test_clear_rounds_the_played_credit_to_whole_samples_of_the_queued_format() -> None:
    buffer = PlaybackBuffer()
    buffer.write(bytes(1200), credit=400)  # 200 samples of 16 kHz PCM16
    play(buffer, 200)  # 400 bytes, a third of it: 133.3 queued bytes
    buffer.clear(credit_quantum=2)
    assert buffer.played_credit == 134
    assert buffer.pending_bytes == 0


def test_without_credit_the_bytes_count_themselves_even_with_odd_chunks() -> None:
    buffer = PlaybackBuffer()
    for chunk in (b"\x01", b"\x02\x03\x04", b"\x05\x06\x07", b"\x08"):
        buffer.write(chunk)
    play(buffer)
    assert buffer.played_credit == buffer.played_bytes == 8


# -- marks and the playout clock -----------------------------------------------------------


class TimeInfo:
    """What PortAudio hands the callback as ``time``."""

    def __init__(self, current: float, dac: float) -> None:
        self.currentTime = current
        self.outputBufferDacTime = dac


def test_a_mark_finds_where_its_last_byte_went_on_the_stream() -> None:
    buffer = PlaybackBuffer()
    play(buffer)  # 960 bytes of silence first: stream positions count everything
    buffer.write(bytes(1500))
    mark = buffer.mark_end()
    assert mark.target == 1500 and mark.position is None
    buffer.write(bytes(5000))  # queued later: does not move the mark
    play(buffer)
    assert mark.position is None
    play(buffer)
    assert mark.position == 960 + 1500


def test_a_mark_with_nothing_queued_is_where_the_last_audio_ended() -> None:
    buffer = PlaybackBuffer()
    buffer.write(bytes(100))
    play(buffer)
    play(buffer)
    mark = buffer.mark_end()
    assert mark.position == 100


def test_clear_resolves_marks_to_the_end_of_what_was_played() -> None:
    buffer = PlaybackBuffer()
    buffer.write(bytes(3000))
    play(buffer)
    mark = buffer.mark_end()
    buffer.clear()
    assert mark.position == 960, "the dropped audio is done once what played is heard"


def test_the_clock_places_stream_bytes_at_the_dac(monkeypatch: pytest.MonkeyPatch) -> None:
    import voicelive_proactive.audio.device as device

    now = [1000.0]
    monkeypatch.setattr(device, "_monotonic", lambda: now[0])
    buffer = PlaybackBuffer()
    buffer.latency_floor = 0.015
    buffer.write(bytes(4800))
    mark = buffer.mark_end()
    assert buffer.heard_at(0) is None, "no callback yet: no clock"

    buffer.callback(block(), FRAMES, TimeInfo(5.0, 5.0), 0)  # reports no delay: the floor
    assert buffer.heard_at(0) == pytest.approx(1000.015)
    when, final = buffer.due(mark)
    assert not final and when == pytest.approx(1000.015 + 0.1), "predicted: 100 ms queued"

    now[0] += 0.05
    buffer.callback(block(), FRAMES, TimeInfo(6.0, 6.030), 0)  # the DAC is 30 ms ahead
    assert buffer.heard_at(960) == pytest.approx(1000.08)
    for _ in range(4):
        buffer.callback(block(), FRAMES, None, 0)
    when, final = buffer.due(mark)
    assert final and mark.position == 4800
    assert when == pytest.approx(1000.08 - 0.02 + 0.1)


def test_the_clock_sinks_slowly_and_is_bounded_by_the_latest_callback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import voicelive_proactive.audio.device as device

    now = [0.0]
    monkeypatch.setattr(device, "_monotonic", lambda: now[0])
    buffer = PlaybackBuffer()
    buffer.callback(block(), FRAMES, None, 0)
    for _ in range(100):  # 20 ms blocks every 19.9 ms: a device clock running fast
        now[0] += 0.0199
        buffer.callback(block(), FRAMES, None, 0)
    origin = buffer.heard_at(0)
    assert origin is not None and origin == pytest.approx(-200e-6 * 1.99), "200 ppm"

    for _ in range(10):  # a device consuming 20 times faster than its rate says
        now[0] += 0.02
        buffer.callback(block(FRAMES * 20), FRAMES * 20, None, 0)
    # The last callback wrote stream bytes from 9 x 19200 on at now: heard by now + 200 ms.
    written_at = buffer.heard_at(9 * FRAMES * 20 * 2 + 960 * 101)
    assert written_at == pytest.approx(now[0] + 0.2), "200 ms past the latest callback at most"


def test_capture_blocks_are_converted_and_cut_into_frames_of_the_input_format() -> None:
    from voicelive_proactive.audio.convert import InputConverter
    from voicelive_proactive.audio.formats import AudioFormat, ulaw_to_pcm16

    fmt = AudioFormat.from_input("g711_ulaw")
    got: list[bytes] = []
    forward = _CaptureForwarder(got.append, InputConverter(24_000, fmt), block_ms=20)
    t = np.arange(24_000) / 24_000
    tone = (np.sin(2 * np.pi * 300 * t) * 8000).astype(np.int16).reshape(-1, 1)
    for i in range(0, 24_000, FRAMES):
        forward(tone[i : i + FRAMES], FRAMES, None, 0)
    assert {len(frame) for frame in got} == {160}, "20 ms of 8 kHz µ-law each"
    assert 45 <= len(got) <= 50, "all of the second but what the filter still holds"
    assert forward.frames == len(got) and forward.errors == 0
    pcm = np.frombuffer(ulaw_to_pcm16(b"".join(got)), "<i2").astype(np.float64)
    peak = np.argmax(np.abs(np.fft.rfft(pcm))) * 8000 / pcm.size
    assert abs(peak - 300) < 5


def test_the_sound_card_backend_declares_both_capabilities() -> None:
    from voicelive_proactive.audio import FormatAware, PlayoutAware, SounddeviceAudioIO

    assert issubclass(SounddeviceAudioIO, FormatAware)
    assert issubclass(SounddeviceAudioIO, PlayoutAware)


def test_a_callback_late_for_the_gil_is_timed_when_portaudio_called_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import voicelive_proactive.audio.device as device

    now = [1000.0]
    monkeypatch.setattr(device, "_monotonic", lambda: now[0])
    buffer = PlaybackBuffer()
    buffer.callback(block(), FRAMES, TimeInfo(5.0, 5.0), 0)
    now[0] += 0.02 + 0.03  # PortAudio called 20 ms later; Python ran it 30 ms after that
    buffer.callback(block(), FRAMES, TimeInfo(5.02, 5.02), 0)
    assert buffer.heard_at(0) == pytest.approx(1000.0), "the late start does not count"
