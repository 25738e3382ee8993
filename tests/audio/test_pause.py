"""Pausable: every bundled backend holds its audio while paused and plays on afterwards.

The sound card's own pause runs through real PortAudio in ``test_device_alsa.py``; here are
the buffer it is built on, the file backends and the test double.
"""

from __future__ import annotations

import random
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from voicelive_proactive.audio import (
    PCM16_24K,
    AudioFormat,
    NullAudioIO,
    Pausable,
    WavAudioIO,
)
from voicelive_proactive.audio.device import PlaybackBuffer, SounddeviceAudioIO
from voicelive_proactive.testing import MemoryAudioIO

A = random.Random(1).randbytes(4800)  # 100 ms of 24 kHz PCM16
B = random.Random(2).randbytes(4800)
FRAMES = 480  # a 20 ms PortAudio block


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes())


@pytest.mark.parametrize(
    "backend", [MemoryAudioIO, NullAudioIO, WavAudioIO, SounddeviceAudioIO, PlaybackBuffer]
)
def test_the_bundled_backends_say_they_can_pause(backend: type) -> None:
    if backend is PlaybackBuffer:  # a building block, not a backend
        assert not issubclass(backend, Pausable)
    else:
        assert issubclass(backend, Pausable)


def test_a_class_without_the_methods_cannot_pause() -> None:
    class Plain:
        def queue_audio(self, pcm: bytes) -> None: ...

    assert not isinstance(Plain(), Pausable)


# -- MemoryAudioIO ----------------------------------------------------------------------


def test_memory_plays_nothing_while_paused_then_the_rest_in_order() -> None:
    mem = MemoryAudioIO()
    mem.queue_audio(A)
    assert mem.play(1000) == A[:1000]
    assert mem.pause_audio() == len(A) - 1000
    assert mem.paused and mem.pause_count == 1
    assert mem.pause_audio() == len(A) - 1000, "idempotent"
    assert mem.pause_count == 1
    mem.queue_audio(B)  # queueing goes on
    assert mem.play(500) == b"" and mem.play_ms(10) == b"" and mem.play_all() == b""
    assert mem.played == A[:1000] and mem.pending == A[1000:] + B
    mem.resume_audio()
    assert not mem.paused
    assert mem.play_all() == A[1000:] + B
    mem.resume_audio()  # a no-op when not paused
    assert mem.played == A + B


def test_memory_skip_while_paused_drops_everything_and_ends_the_pause() -> None:
    mem = MemoryAudioIO()
    mem.queue_audio(A)
    mem.play(1000)
    mem.pause_audio()
    mem.queue_audio(B)
    assert mem.skip_pending_audio() == len(A) - 1000 + len(B)
    assert not mem.paused
    mem.queue_audio(B)
    assert mem.play_all() == B, "audio queued after the skip plays"


def test_memory_notifications_wait_for_the_pause_and_close_runs_them() -> None:
    mem = MemoryAudioIO()
    mem.queue_audio(A)
    heard: list[str] = []
    mem.notify_when_played(lambda: heard.append("a"))
    mem.pause_audio()
    mem.play_all()
    assert heard == [] and mem.notifications_pending == 1
    mem.resume_audio()
    mem.play_all()
    assert heard == ["a"]
    mem.queue_audio(B)
    mem.notify_when_played(lambda: heard.append("b"))
    mem.pause_audio()
    mem.close()
    assert heard == ["a", "b"], "closing while paused drops the audio: its callback runs"


# -- NullAudioIO ------------------------------------------------------------------------


def test_null_holds_what_is_queued_while_paused() -> None:
    null = NullAudioIO()
    null.queue_audio(A)
    assert null.pause_audio() == 0, "it had all played already"
    null.queue_audio(B)
    assert null.paused
    assert (null.played_bytes, null.pending_bytes) == (len(A), len(B))
    heard: list[bool] = []
    null.notify_when_played(lambda: heard.append(True))
    assert heard == [], "the held audio has not been heard"
    assert null.pause_audio() == len(B), "idempotent"
    null.resume_audio()
    assert heard == [True]
    assert (null.played_bytes, null.pending_bytes) == (len(A) + len(B), 0)
    null.queue_audio(A)
    assert null.played_bytes == 2 * len(A) + len(B), "playing instantly again"


def test_null_skip_while_paused_drops_the_held_audio_and_ends_the_pause() -> None:
    null = NullAudioIO()
    null.pause_audio()
    null.queue_audio(A)
    heard: list[bool] = []
    null.notify_when_played(lambda: heard.append(True))
    generation = null.generation
    assert null.skip_pending_audio() == len(A)
    assert heard == [True] and not null.paused and null.generation == generation + 1
    assert null.played_bytes == 0
    null.pause_audio()
    null.queue_audio(A)
    null.notify_when_played(lambda: heard.append(False))
    null.close()
    assert heard == [True, False] and null.pending_bytes == 0


# -- WavAudioIO -------------------------------------------------------------------------


def test_realtime_wav_stops_its_playhead_and_writes_nothing_while_paused(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    audio = WavAudioIO(tmp_path / "out.wav", realtime=True, clock=clock)
    audio.queue_audio(A + B)  # 200 ms
    clock.now += 0.05
    assert audio.pause_audio() == len(A + B) - 2400
    assert audio.paused
    clock.now += 10.0  # a long pause
    assert audio.played_bytes == 2400, "the playhead stood still"
    assert len(read_wav(tmp_path / "out.wav")) == 2400, "not even silence is written"
    audio.queue_audio(A)  # queueing goes on
    audio.resume_audio()
    clock.now += 0.1
    assert audio.played_bytes == 2400 + 4800, "it plays on from where it stopped"
    clock.now += 0.2
    assert audio.played_bytes == 3 * 4800
    audio.close()
    assert read_wav(tmp_path / "out.wav") == A + B + A, "the rest of the samples, in order"


def test_realtime_wav_notifications_wait_for_the_resume(tmp_path: Path) -> None:
    clock = FakeClock()
    audio = WavAudioIO(None, realtime=True, clock=clock)
    audio.queue_audio(A)
    played = threading.Event()
    audio.notify_when_played(played.set)
    audio.pause_audio()
    clock.now += 5.0
    assert not played.wait(0.3), "paused: the audio is not heard, however long it waits"
    audio.resume_audio()
    clock.now += 0.05
    assert not played.wait(0.2), "half of it is still to come"
    clock.now += 0.06
    assert played.wait(10)
    audio.close()


def test_realtime_wav_skip_while_paused_drops_the_rest_and_plays_what_comes_next(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    audio = WavAudioIO(tmp_path / "out.wav", realtime=True, clock=clock)
    audio.queue_audio(A)
    clock.now += 0.025
    audio.pause_audio()
    skipped = threading.Event()
    audio.notify_when_played(skipped.set)
    assert audio.skip_pending_audio() == 4800 - 1200
    assert skipped.wait(10) and not audio.paused
    audio.queue_audio(B)
    clock.now += 0.1
    audio.close()
    assert read_wav(tmp_path / "out.wav") == A[:1200] + B


def test_a_wav_that_plays_instantly_holds_audio_while_paused(tmp_path: Path) -> None:
    audio = WavAudioIO(tmp_path / "out.wav")
    audio.queue_audio(A)
    assert audio.pause_audio() == 0
    audio.queue_audio(B[:1001])  # an odd chunk: its last byte waits for the next
    heard = threading.Event()
    audio.notify_when_played(heard.set)
    assert audio.pending_bytes == 1001 and len(read_wav(tmp_path / "out.wav")) == len(A)
    assert not heard.wait(0.2)
    audio.resume_audio()
    assert heard.wait(10)
    audio.queue_audio(B[1001:])
    audio.close()
    assert read_wav(tmp_path / "out.wav") == A + B


def test_closing_a_paused_wav_drops_what_it_holds(tmp_path: Path) -> None:
    audio = WavAudioIO(tmp_path / "out.wav", realtime=True, clock=FakeClock())
    audio.queue_audio(A)
    audio.pause_audio()
    closed = threading.Event()
    audio.notify_when_played(closed.set)
    audio.close()
    assert closed.is_set()
    assert read_wav(tmp_path / "out.wav") == b""
    assert audio.skipped_bytes == len(A)


def test_a_paused_wav_in_another_format_counts_in_queued_bytes(tmp_path: Path) -> None:
    ulaw = AudioFormat.from_output("g711_ulaw")
    clock = FakeClock()
    audio = WavAudioIO(tmp_path / "out.wav", realtime=True, clock=clock)
    audio.configure_formats(output=ulaw, input=PCM16_24K)
    audio.queue_audio(bytes(range(256)) * 4)  # 128 ms of µ-law
    clock.now += 0.1
    assert audio.pause_audio() == 1024 - 800
    audio.close()


# -- PlaybackBuffer (the sound card's queue) ---------------------------------------------


def play(buffer: PlaybackBuffer) -> bytes:
    out = np.full((FRAMES, 1), 12345, dtype=np.int16)
    buffer.callback(out, FRAMES, None, 0)
    return out.tobytes()


def test_the_device_callback_plays_silence_while_paused_and_keeps_the_queue() -> None:
    data = random.Random(3).randbytes(4000)
    buffer = PlaybackBuffer()
    buffer.write(data)
    assert play(buffer) == data[:960]
    buffer.pause()
    assert play(buffer) == bytes(960) and play(buffer) == bytes(960)
    assert buffer.played_bytes == 960 and buffer.pending_bytes == 4000 - 960
    buffer.write(b"\x01\x00")
    buffer.resume()
    assert play(buffer) == data[960:1920]
    buffer.pause()
    assert buffer.clear() == 4000 - 1920 + 2
    assert not buffer.paused, "nothing is left to hold"


def test_a_paused_device_cannot_predict_when_its_queue_is_heard() -> None:
    buffer = PlaybackBuffer()
    buffer.write(bytes(4800))
    mark = buffer.mark_end()
    play(buffer)
    buffer.pause()
    when, final = buffer.due(mark)
    assert (when, final) == (float("inf"), False), "the notifier waits for a poke"
    buffer.resume()
    when, final = buffer.due(mark)
    assert when < float("inf") and not final
    for _ in range(4):
        play(buffer)
    assert buffer.due(mark)[1], "final once the mark's byte is on the stream"
