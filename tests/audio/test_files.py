"""NullAudioIO and WavAudioIO: audio backends that need no sound device."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from voicelive_proactive.audio import (
    PCM16_24K,
    AudioFormat,
    AudioIO,
    FormatAware,
    NullAudioIO,
    PlayoutAware,
    WavAudioIO,
)
from voicelive_proactive.audio.formats import decode_to_pcm16
from voicelive_proactive.errors import AudioUnavailableError, ConfigurationError


def noise(n_bytes: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n_bytes)


def write_wav(
    path: Path, pcm: bytes, *, rate: int = 24_000, channels: int = 1, width: int = 2
) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return path


def read_wav(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24_000, 1, 2)
        return wav.readframes(wav.getnframes())


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- NullAudioIO -------------------------------------------------------------------------


def test_null_audio_discards_and_counts() -> None:
    null = NullAudioIO()
    assert isinstance(null, AudioIO)
    null.start_capture(lambda frame: pytest.fail("NullAudioIO has no microphone"))
    null.queue_audio(bytes(960))
    null.queue_audio(bytes(2400))
    assert null.played_bytes == 3360 and null.pending_bytes == 0
    old = null.generation
    assert null.skip_pending_audio() == 0, "audio plays instantly, so nothing is pending"
    null.queue_audio(bytes(100), generation=old)
    assert null.played_bytes == 3360, "a late chunk of the old generation is dropped"
    null.close()
    null.close()
    null.queue_audio(bytes(100))
    assert null.closed and null.played_bytes == 3360 and not null.capturing


# -- WavAudioIO playback -----------------------------------------------------------------


def test_wav_records_what_was_queued_byte_for_byte(tmp_path: Path) -> None:
    pcm = noise(48_000)
    out = tmp_path / "out.wav"
    with WavAudioIO(out) as audio:
        assert isinstance(audio, AudioIO)
        for i in range(0, len(pcm), 2401):  # odd chunks: a dangling byte waits for the next
            audio.queue_audio(pcm[i : i + 2401])
        assert audio.skip_pending_audio() == 0, "a file plays instantly by default"
        assert audio.played_bytes == len(pcm)
    assert read_wav(out) == pcm
    audio.close()  # idempotent


def test_realtime_wav_plays_at_24khz_and_barge_in_drops_the_rest(tmp_path: Path) -> None:
    clock, out = FakeClock(), tmp_path / "out.wav"
    first, second = noise(48_000, seed=1), noise(9_600, seed=2)  # 1 s, then 200 ms
    audio = WavAudioIO(out, realtime=True, clock=clock)
    stale = audio.generation
    audio.queue_audio(first, generation=stale)
    clock.now += 0.25
    assert audio.played_bytes == 12_000 and audio.pending_bytes == 36_000
    assert audio.skip_pending_audio() == 36_000, "everything the playhead had not reached"
    audio.queue_audio(first, generation=stale)  # a late chunk of the cancelled response
    clock.now += 5  # silence: nothing is queued
    audio.queue_audio(second, generation=audio.generation)
    clock.now += 0.125
    assert audio.played_bytes == 12_000 + 6_000
    audio.close()  # plays out what is pending
    assert read_wav(out) == first[:12_000] + second
    assert audio.skipped_bytes == 36_000


def test_without_a_path_nothing_is_recorded(tmp_path: Path) -> None:
    audio = WavAudioIO(None)
    audio.queue_audio(bytes(960))
    audio.close()
    assert audio.played_bytes == 960 and list(tmp_path.iterdir()) == []


def test_an_unwritable_path_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot write"):
        WavAudioIO(tmp_path / "missing-dir" / "out.wav")


# -- WavAudioIO microphone ---------------------------------------------------------------


def collect(audio: WavAudioIO) -> list[bytes]:
    frames: list[bytes] = []
    audio.start_capture(frames.append)
    audio.start_capture(frames.append)  # a no-op
    assert audio.wait_for_capture(timeout=10)
    return frames


def test_mic_file_is_fed_in_20ms_blocks(tmp_path: Path) -> None:
    pcm = noise(5 * 960 + 20, seed=3)
    audio = WavAudioIO(None, mic=write_wav(tmp_path / "in.wav", pcm))
    assert audio.mic_frames == len(pcm) // 2
    frames = collect(audio)
    assert [len(f) for f in frames] == [960] * 5 + [20]
    assert b"".join(frames) == pcm
    assert audio.captured_frames == 6 and not audio.capturing
    audio.close()


def test_realtime_mic_is_paced_like_a_microphone(tmp_path: Path) -> None:
    pcm = noise(10 * 960, seed=4)  # 200 ms
    audio = WavAudioIO(None, mic=write_wav(tmp_path / "in.wav", pcm), realtime=True)
    arrivals: list[float] = []
    start = time.monotonic()
    audio.start_capture(lambda frame: arrivals.append(time.monotonic() - start))
    assert audio.capturing
    assert audio.wait_for_capture(timeout=10)
    assert len(arrivals) == 10
    assert arrivals[0] >= 0.015, "a block is handed over once it has been 'recorded'"
    assert arrivals[-1] >= 0.19
    audio.close()


def test_close_stops_a_realtime_mic_at_once(tmp_path: Path) -> None:
    audio = WavAudioIO(None, mic=write_wav(tmp_path / "in.wav", bytes(48_000 * 10)), realtime=True)
    audio.start_capture(lambda frame: None)
    start = time.monotonic()
    audio.close()
    assert time.monotonic() - start < 1 and not audio.capturing
    with pytest.raises(AudioUnavailableError, match="closed"):
        audio.start_capture(lambda frame: None)


def test_mic_consumer_errors_are_counted_not_fatal(tmp_path: Path) -> None:
    audio = WavAudioIO(None, mic=write_wav(tmp_path / "in.wav", bytes(960 * 4)))
    seen = threading.Event()

    def on_frame(frame: bytes) -> None:
        seen.set()
        raise RuntimeError("consumer bug")

    audio.start_capture(on_frame)
    assert audio.wait_for_capture(timeout=10) and seen.is_set()
    assert audio.capture_errors == 4 and audio.captured_frames == 4
    audio.close()


def test_without_a_mic_capture_delivers_nothing(tmp_path: Path) -> None:
    audio = WavAudioIO(tmp_path / "out.wav")
    audio.start_capture(lambda frame: pytest.fail("no mic file was given"))
    assert audio.wait_for_capture(timeout=0) and not audio.capturing
    audio.close()


@pytest.mark.parametrize(
    ("kwargs", "found"),
    [
        ({"rate": 16_000}, "16000 Hz, 1 channel(s), 16-bit"),
        ({"channels": 2}, "24000 Hz, 2 channel(s), 16-bit"),
        ({"width": 1}, "24000 Hz, 1 channel(s), 8-bit"),
    ],
)
def test_mic_wav_format_is_checked_at_construction(
    tmp_path: Path, kwargs: dict[str, int], found: str
) -> None:
    path = write_wav(tmp_path / "in.wav", bytes(3840), **kwargs)
    with pytest.raises(ConfigurationError, match="needs 24000 Hz, 1 channel, 16-bit") as info:
        WavAudioIO(None, mic=path)
    assert found in str(info.value) and "ffmpeg" in str(info.value)


def test_mic_that_is_not_a_wav_or_missing_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "in.wav").write_bytes(b"ID3 definitely an mp3")
    with pytest.raises(ConfigurationError, match="not a PCM WAV"):
        WavAudioIO(None, mic=tmp_path / "in.wav")
    with pytest.raises(ConfigurationError, match="not found"):
        WavAudioIO(None, mic=tmp_path / "nope.wav")


# -- formats and playout -----------------------------------------------------------------

ULAW = AudioFormat.from_output("g711_ulaw")


def read_wav_any(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return wav.getframerate(), wav.readframes(wav.getnframes())


def test_null_audio_takes_any_format_and_reports_playout_at_once() -> None:
    null = NullAudioIO()
    assert isinstance(null, FormatAware) and isinstance(null, PlayoutAware)
    null.configure_formats(output=ULAW, input=ULAW)
    assert null.output_format == ULAW and null.input_format == ULAW
    null.queue_audio(bytes(800))
    assert null.played_bytes == 800, "counted in queued bytes"
    called: list[str] = []
    null.notify_when_played(lambda: called.append(threading.current_thread().name))
    assert called == [threading.current_thread().name]
    with pytest.raises(ConfigurationError, match="output must be an AudioFormat"):
        null.configure_formats(output="g711_ulaw", input=ULAW)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["g711_ulaw", "g711_alaw", "pcm16_8000hz", "pcm16_16000hz"])
def test_wav_records_the_output_format_as_pcm16_at_its_rate(tmp_path: Path, name: str) -> None:
    fmt = AudioFormat.from_output(name)
    data = noise(fmt.bytes_for_ms(500), seed=5)
    with WavAudioIO(tmp_path / "out.wav") as audio:
        assert isinstance(audio, FormatAware) and isinstance(audio, PlayoutAware)
        audio.configure_formats(output=fmt, input=PCM16_24K)
        for i in range(0, len(data), 333):
            audio.queue_audio(data[i : i + 333])
        assert audio.played_bytes == len(data) and audio.file_rate == fmt.sample_rate
    rate, pcm = read_wav_any(tmp_path / "out.wav")
    assert rate == fmt.sample_rate
    assert pcm == decode_to_pcm16(data, fmt), "decoded, never resampled"


def test_a_format_change_after_audio_keeps_the_file_s_rate(tmp_path: Path) -> None:
    first = noise(4800, seed=6)  # 100 ms at 24 kHz
    wide = AudioFormat.from_output("pcm16_16000hz")
    t = np.arange(16_000) / 16_000
    tone = (np.sin(2 * np.pi * 500 * t) * 9000).astype("<i2").tobytes()
    with WavAudioIO(tmp_path / "out.wav") as audio:
        audio.queue_audio(first)
        audio.configure_formats(output=wide, input=PCM16_24K)
        for i in range(0, len(tone), 640):
            audio.queue_audio(tone[i : i + 640])
        assert audio.played_bytes == len(first) + len(tone)
    rate, pcm = read_wav_any(tmp_path / "out.wav")
    assert rate == 24_000 and pcm[:4800] == first
    resampled = np.frombuffer(pcm[4800:], "<i2").astype(np.float64)
    assert resampled.size == 24_000, "one second, resampled to the file's rate"
    assert abs(np.argmax(np.abs(np.fft.rfft(resampled))) * 24_000 / resampled.size - 500) < 2


def test_the_header_counts_every_sample_while_recording(tmp_path: Path) -> None:
    audio = WavAudioIO(tmp_path / "out.wav")
    data = noise(9600, seed=7)
    audio.queue_audio(data[:4800])
    assert read_wav(tmp_path / "out.wav") == data[:4800], "readable before close()"
    audio.queue_audio(data[4800:])
    assert read_wav(tmp_path / "out.wav") == data
    audio.close()
    assert read_wav(tmp_path / "out.wav") == data


_WRITER = """
import sys, time
from voicelive_proactive.audio import WavAudioIO
audio = WavAudioIO(sys.argv[1])
chunk = bytes(range(256)) * 9 + bytes(96)  # 2400 bytes: 50 ms
written = 0
while True:
    audio.queue_audio(chunk)
    written += len(chunk)
    print(written, flush=True)
    time.sleep(0.001)
"""


def test_a_killed_recording_leaves_a_valid_wav_holding_everything_written(
    tmp_path: Path,
) -> None:
    # Issue 8: the header used to be written at close() only, so it claimed 0.1 s while
    # the file held 1.6 s.
    out = tmp_path / "out.wav"
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(out)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        written = 0
        try:
            while written < 2 * 48_000:  # 2 s of audio
                line = proc.stdout.readline()
                assert line, "the writer died"
                written = int(line)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    with wave.open(str(out), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24_000, 1, 2)
        frames = wav.getnframes()
        pcm = wav.readframes(frames)
    assert frames * 2 == out.stat().st_size - 44, "the header counts every byte in the file"
    assert frames * 2 >= written, "nothing that was written is lost"
    chunk = bytes(range(256)) * 9 + bytes(96)
    assert pcm == chunk * (len(pcm) // len(chunk))


_FULL_DISK = """
import logging, resource, signal, sys
logging.basicConfig()
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (44 + 10_000, 44 + 10_000))
from voicelive_proactive.audio import WavAudioIO
audio = WavAudioIO(sys.argv[1])
for _ in range(10):
    audio.queue_audio(bytes(2400))
audio.close()
print(audio.write_errors, audio.played_bytes)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE (POSIX)")
def test_a_full_disk_stops_the_recording_without_raising(tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    proc = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "24000"], "one failure, logged; playing goes on"
    assert "recording stops here" in proc.stderr
    with wave.open(str(out), "rb") as wav:
        assert wav.getnframes() * 2 == 9600, "the 4 chunks that fit, with a valid header"


def test_a_non_realtime_wav_has_played_everything_at_once(tmp_path: Path) -> None:
    audio = WavAudioIO(tmp_path / "out.wav")
    audio.queue_audio(bytes(4800))
    called: list[bool] = []
    audio.notify_when_played(lambda: called.append(True))
    assert called == [True]
    audio.close()


def test_realtime_wav_plays_at_the_format_rate_and_notifies_when_the_playhead_passes(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    audio = WavAudioIO(tmp_path / "out.wav", realtime=True, clock=clock)
    audio.configure_formats(output=ULAW, input=PCM16_24K)
    data = noise(800, seed=8)  # 100 ms of µ-law
    audio.queue_audio(data)
    played = threading.Event()
    audio.notify_when_played(played.set)
    audio.queue_audio(noise(800, seed=9))  # queued later: not waited for
    clock.now += 0.05
    assert audio.played_bytes == 400 and not played.is_set()
    clock.now += 0.051
    assert played.wait(10), "the notifier looks at an injected clock now and then"
    assert audio.pending_bytes == 792
    audio.close()
    rate, pcm = read_wav_any(tmp_path / "out.wav")
    assert rate == 8000 and pcm[:1600] == decode_to_pcm16(data, ULAW)


def test_realtime_wav_notifies_on_barge_in_and_on_close(tmp_path: Path) -> None:
    audio = WavAudioIO(None, realtime=True)  # the real clock
    audio.queue_audio(bytes(48_000 * 60))  # a minute
    skipped, closed = threading.Event(), threading.Event()
    audio.notify_when_played(skipped.set)
    assert audio.skip_pending_audio() > 0
    assert skipped.wait(10), "dropped audio counts as played"
    audio.queue_audio(bytes(48_000 * 60))
    audio.notify_when_played(closed.set)
    audio.close()
    assert closed.is_set()


def test_realtime_wav_notification_is_not_early(tmp_path: Path) -> None:
    audio = WavAudioIO(None, realtime=True)
    start = time.monotonic()
    audio.queue_audio(bytes(4800))  # 100 ms
    done: list[float] = []
    event = threading.Event()
    audio.notify_when_played(lambda: (done.append(time.monotonic()), event.set()))
    assert event.wait(10)
    assert done[0] - start >= 0.1
    assert audio.played_bytes == 4800
    audio.close()


@pytest.mark.parametrize(
    ("name", "rate", "size"), [("g711_ulaw", None, 160), ("pcm16", 16_000, 640)]
)
def test_the_mic_file_is_fed_in_the_input_format(
    tmp_path: Path, name: str, rate: int | None, size: int
) -> None:
    t = np.arange(24_000) / 24_000
    tone = (np.sin(2 * np.pi * 400 * t) * 9000).astype("<i2").tobytes()
    audio = WavAudioIO(None, mic=write_wav(tmp_path / "in.wav", tone))
    fmt = AudioFormat.from_input(name, rate)
    audio.configure_formats(output=PCM16_24K, input=fmt)
    frames = collect(audio)
    assert {len(f) for f in frames[:-1]} == {size} and 0 < len(frames[-1]) <= size
    joined = b"".join(frames)
    assert len(joined) == fmt.bytes_per_second, "one second, the filter's tail included"
    pcm = np.frombuffer(decode_to_pcm16(joined, fmt), "<i2").astype(np.float64)
    assert abs(np.argmax(np.abs(np.fft.rfft(pcm))) * fmt.sample_rate / pcm.size - 400) < 2
    audio.close()
