"""SounddeviceAudioIO with the negotiated formats, and its playout notification, for real.

PortAudio and ALSA play into a FIFO read by a ``PacedSpeaker`` (see conftest.py): what the
speaker read is what the listener heard, and ``PacedSpeaker.heard_at`` says when.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from tests.audio.conftest import AlsaFileDevice
from voicelive_proactive.audio import formats as f

pytestmark = pytest.mark.device


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2").astype(np.int32)


def without_silences(x: np.ndarray) -> np.ndarray:
    """``x`` without runs of two or more zero samples: the silence a device plays while
    it waits for audio (resampled noise has lone zeros, but two in a row almost never)."""
    zero = x == 0
    run = zero & (np.r_[False, zero[:-1]] | np.r_[zero[1:], False])
    return x[~run]


@pytest.mark.parametrize(
    ("name", "poll"),
    [
        ("g711_ulaw", False),
        ("g711_alaw", False),
        ("pcm16_8000hz", False),
        ("pcm16_16000hz", False),
        ("g711_ulaw", True),
    ],
    ids=["ulaw", "alaw", "pcm16-8k", "pcm16-16k", "ulaw-unasked"],
)
def test_queued_audio_in_another_format_plays_as_the_right_24khz_pcm16(
    alsa_device: AlsaFileDevice, name: str, poll: bool
) -> None:
    # "unasked": nobody calls notify_when_played, so the resampler's tail is flushed on its
    # own once the chunks stop (in time, at the real pace); every queued byte still plays.
    speed = 1.0 if poll else 20.0
    result = alsa_device.run("play_format", format=name, seconds=1.0, speed=speed, poll=poll)
    clip, after = alsa_device.read("clip.raw"), alsa_device.read("after.raw")
    heard = samples(alsa_device.read("speaker.raw"))
    fmt = f.AudioFormat.from_output(name)

    # What a reference decoder and resampler make of the whole clip at once.
    reference = samples(f.resample_pcm16(f.decode_to_pcm16(clip, fmt), fmt.sample_rate, 24_000))
    assert reference.size == 24_000 and without_silences(reference).size == reference.size
    # The device plays silence until the audio comes (and if a chunk comes late).
    voiced = without_silences(heard)
    played = voiced[: reference.size]
    assert np.abs(played - reference).max() <= 4, "the same audio, up to filter rounding"

    # Then the 24 kHz clip queued after switching back, bit for bit.
    assert bytes(voiced[reference.size :].astype("<i2").tobytes()) == after

    # Counters are in queued bytes, whatever the device plays.
    assert result["output_format"] == str(fmt)
    assert result["drained"] and result["drained_after"]
    assert result["played_bytes"] == len(clip)
    assert result["pending_bytes"] == 0 and result["skipped_bytes"] == 0
    assert result["played_after"] == len(clip) + len(after)


def test_barge_in_on_resampled_audio_counts_in_queued_bytes(alsa_device: AlsaFileDevice) -> None:
    result = alsa_device.run("skip_format", format="g711_ulaw")
    heard = samples(alsa_device.read("speaker.raw"))
    played, dropped = result["played_at_skip"], result["dropped"]

    assert played > 0 and dropped > 0
    assert played + dropped == result["clip_bytes"], "every queued byte played or dropped"
    assert result["skipped_bytes"] == dropped and result["pending_bytes"] == 0
    assert result["played_bytes"] == played, "nothing more of it plays after the skip"
    assert result["notified"] is True
    # The device played played * 6 bytes of 24 kHz PCM16 for them (give or take a sample).
    voiced = np.flatnonzero(heard)
    assert abs((voiced[-1] - voiced[0] + 1) * 2 - played * 6) <= 12


@pytest.mark.parametrize("name", ["pcm16", "g711_ulaw"])
def test_the_playout_notification_fires_as_the_last_sample_is_heard(
    alsa_device: AlsaFileDevice, name: str
) -> None:
    result = alsa_device.run("playout", format=name, runs=5, seconds=0.4)
    lateness = result["lateness_ms"]
    assert result["responses_heard"] == 5 and len(lateness) == 5
    # Generous bounds for a shared machine; measured -4.5 to +5.3 ms (docs/audio.md). Firing
    # when the queue empties instead would be 15-100 ms early; at response.done, seconds.
    assert all(-20 < late < 250 for late in lateness), lateness
    assert -10 < statistics.median(lateness) < 60, lateness


@pytest.mark.parametrize(
    ("name", "rate", "size"),
    [
        ("g711_ulaw", None, 160),
        ("g711_alaw", None, 160),
        ("pcm16", 16_000, 640),
        ("pcm16", 44_100, 1764),
    ],
)
def test_the_microphone_delivers_frames_in_the_input_format(
    alsa_device: AlsaFileDevice, name: str, rate: int | None, size: int
) -> None:
    result = alsa_device.run("capture_format", format=name, rate=rate)
    assert result["frames"] >= 25
    assert result["sizes"] == [size], "20 ms blocks of the input format"
