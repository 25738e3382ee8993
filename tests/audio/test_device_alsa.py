"""SounddeviceAudioIO through real PortAudio and ALSA, with a file PCM as the sound card.

The clips are random int16 samples with no zero sample, so the silence the device plays
while it waits for audio (underrun padding) can be removed before comparing: what remains
must be exactly the audio queued, byte for byte, with nothing lost, repeated or shifted.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.audio.conftest import AlsaFileDevice

pytestmark = pytest.mark.device


def voiced(pcm: bytes) -> bytes:
    """The non-silent samples of ``pcm``: what the device played, minus its padding."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
    return bytes(samples[samples != 0].tobytes())


def test_queued_audio_reaches_the_device_bit_exact(alsa_device: AlsaFileDevice) -> None:
    # 2401-byte chunks: every other chunk ends in half a sample, exercising the carry.
    result = alsa_device.run("play", seconds=1.0, speed=20.0, chunk_bytes=2401)
    clip, speaker = alsa_device.read("clip.raw"), alsa_device.read("speaker.raw")

    assert voiced(clip) == clip, "the clip has no silent sample to confuse with padding"
    assert voiced(speaker) == clip
    assert result["drained"] is True
    assert result["played_bytes"] == len(clip)
    assert result["pending_bytes"] == 0
    assert result["played_after_close"] == len(clip), "audio queued after close() is ignored"
    assert result["callback_errors"] == 0


@pytest.mark.parametrize("playback_block_ms", [None, 20], ids=["default", "20ms"])
def test_skip_drops_the_unplayed_audio_at_once(
    alsa_device: AlsaFileDevice, playback_block_ms: int | None
) -> None:
    result = alsa_device.run(
        "skip", seconds=3.0, speed=1.0, playback_block_ms=playback_block_ms, skip_after=0.3
    )
    clip, after = alsa_device.read("clip.raw"), alsa_device.read("after.raw")
    speaker = alsa_device.read("speaker.raw")
    played, dropped = result["played_at_skip"], result["dropped"]
    assert result["playback_block_ms"] == (playback_block_ms or 5)

    # The accounting is exact: every byte was either handed to the device or dropped.
    assert dropped > 0 and played > 0
    assert played + dropped == len(clip)
    assert result["skipped_bytes"] == dropped
    assert result["stale_bytes"] == 2400, "the late chunk of the old generation is dropped"

    # The device got exactly clip[:played] and then the next response: not one byte of
    # the dropped region clip[played:] reached it.
    assert voiced(speaker) == clip[:played] + after

    # Stale audio: what the device wrote after skip returned. Only what PortAudio already
    # held can be, and that is its buffer (the reported latency plus one block) plus the
    # block being written. These are sizes, not timings: a slow machine cannot change them.
    samples = np.frombuffer(speaker[: len(speaker) // 2 * 2], dtype="<i2")
    end_of_played = 2 * (int(np.flatnonzero(samples)[played // 2 - 1]) + 1)  # a file offset
    block = result["playback_block_ms"] * 48
    latency = round(result["latency"] * 48_000)
    written_after = end_of_played - result["written_at_skip"]
    assert 0 <= written_after <= latency + 2 * block, (
        f"{written_after / 48:.1f} ms written after skip; bound {(latency + 2 * block) / 48} ms"
    )
    # What the listener still heard: that, plus the FIFO that stands in for the DAC.
    heard_after = end_of_played - result["heard_at_skip"]
    assert 0 <= heard_after <= latency + 2 * block + result["pipe_bytes"]


def test_capture_delivers_block_sized_frames(alsa_device: AlsaFileDevice) -> None:
    result = alsa_device.run("capture")
    assert result["capturing"] is True and result["closed"] is True
    assert result["frames"] == 50
    assert result["sizes"] == [960], "20 ms of 24 kHz int16 per block"
    assert result["capture_errors"] == 2, "on_frame raising twice did not stop capture"
    assert result["captured_frames"] >= 52


def test_devices_are_chosen_by_index_or_name_and_bad_ones_fail_early(
    alsa_device: AlsaFileDevice,
) -> None:
    result = alsa_device.run("errors")
    assert result["by_index"] == "default" and result["by_name"] == "default"
    for key, device in [("bad_name", "no-such-speaker"), ("bad_index", "99")]:
        message = result[key]
        assert f"output device {device}" in message.replace("'", "")
        assert "NullAudioIO()" in message and "WavAudioIO(" in message
        assert "audio=None" in message
        assert "'default'" in message.split("Available")[1], "it lists the devices there are"
    assert "no-such-mic" in result["bad_capture"] and "capture=False" in result["bad_capture"]
    assert "closed" in result["capture_after_close"]
