"""NullAudioIO and WavAudioIO: audio backends that need no sound device."""

from __future__ import annotations

import random
import threading
import time
import wave
from pathlib import Path

import pytest

from voicelive_proactive.audio import AudioIO, NullAudioIO, WavAudioIO
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
