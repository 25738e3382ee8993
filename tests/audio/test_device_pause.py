"""SounddeviceAudioIO's pause through real PortAudio and ALSA (the ALSA file device).

The clip's samples are never zero, so the device's silence (before the audio, and while
paused) can be told apart from the audio, sample for sample.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.conftest import AlsaFileDevice
from tests.audio.test_device_alsa import voiced

pytestmark = pytest.mark.device

BYTES_PER_SECOND = 48_000


def silent_runs(pcm: bytes) -> list[tuple[int, int]]:
    """``(start, length)`` in bytes of each run of zero samples between audio."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
    loud = np.flatnonzero(samples)
    gaps = np.flatnonzero(np.diff(loud) > 1)
    return [(2 * (int(loud[i]) + 1), 2 * (int(loud[i + 1] - loud[i]) - 1)) for i in gaps]


def test_a_paused_device_plays_silence_then_the_rest_exactly(alsa_device: AlsaFileDevice) -> None:
    result = alsa_device.run("pause", seconds=1.5, pause_after=0.3, pause=0.5)
    clip, speaker = alsa_device.read("clip.raw"), alsa_device.read("speaker.raw")
    played = result["played_at_pause"]

    assert result["paused"] is True
    assert 0 < played < len(clip)
    assert result["unplayed"] == result["unplayed_again"] == len(clip) - played
    assert result["played_after_pause"] == played, "nothing was consumed while paused"
    assert result["notified_while_paused"] is False, "the rest had not been heard"
    assert result["drained"] is True
    assert result["notified_after_resume"] is True
    assert result["played_bytes"] == len(clip) and result["pending_bytes"] == 0

    # Every sample of the clip, in order, nothing lost or repeated...
    assert voiced(speaker) == clip
    # ...with the pause as one stretch of silence right after what had been handed over.
    start, length = max(silent_runs(speaker), key=lambda run: run[1])
    assert voiced(speaker[:start]) == clip[:played]
    assert length >= 0.3 * BYTES_PER_SECOND, f"{length / 48:.0f} ms of silence for a 500 ms pause"


def test_skip_while_paused_drops_the_rest_and_the_next_audio_plays(
    alsa_device: AlsaFileDevice,
) -> None:
    result = alsa_device.run("pause", seconds=1.5, pause_after=0.3, pause=0.2, skip=True)
    clip, after = alsa_device.read("clip.raw"), alsa_device.read("after.raw")
    speaker = alsa_device.read("speaker.raw")
    played = result["played_at_pause"]

    assert result["dropped"] == result["unplayed"] == len(clip) - played
    assert result["paused_after_skip"] is False
    assert result["skipped_bytes"] == len(clip) - played
    assert result["drained"] is True
    assert voiced(speaker) == clip[:played] + after, "not one dropped sample reached the device"
