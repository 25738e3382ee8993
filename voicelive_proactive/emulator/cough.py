"""A noise at the caller's end: a short burst that reaches the service as user audio.

A cough, a door, line noise: loud enough for the VAD, too short to be a turn anyone meant,
and nothing the emulator can recognize. The burst is *mixed into* the microphone stream the
client sends (as a real cough would be), from the moment it happens; when the client sends
no audio, the emulator plays it over silence itself, at real time. Either way it is
followed by enough silence for the VAD to end the turn, so every cough gives
``speech_started``, ``speech_stopped`` about ``ms`` plus ``silence_duration_ms`` later,
``committed`` and a user item, like any user turn.
"""

from __future__ import annotations

from typing import Final

import numpy as np

__all__ = ["COUGH_LEVEL_DBFS", "Overlay", "cough_noise"]

COUGH_LEVEL_DBFS: Final = -20.0
"""A cough's RMS level: well above the VAD's default threshold (-35 dBFS), like speech."""

_EDGE_MS: Final = 5  # fade in and out, so the burst has no click at either end


def cough_noise(
    ms: int, sample_rate: int, *, level_dbfs: float = COUGH_LEVEL_DBFS, seed: int = 0
) -> bytes:
    """``ms`` of noise at ``level_dbfs`` RMS, as mono PCM16 at ``sample_rate``.

    Deterministic for a seed. The spectrum is tilted down (each sample leans on the one
    before), which sounds more like a cough than a hiss and survives 8 kHz and G.711.
    """
    count = sample_rate * ms // 1000
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(count + 1)
    noise = white[1:] + 0.6 * white[:-1]
    edge = min(count // 2, sample_rate * _EDGE_MS // 1000)
    if edge:
        ramp = np.linspace(0.0, 1.0, edge, endpoint=False)
        noise[:edge] *= ramp
        noise[count - edge :] *= ramp[::-1]
    rms = float(np.sqrt(np.mean(noise**2))) if count else 0.0
    target = 32768.0 * 10.0 ** (level_dbfs / 20.0)
    scaled = noise * (target / rms) if rms else noise
    return bytes(np.clip(np.rint(scaled), -32768, 32767).astype("<i2").tobytes())


class Overlay:
    """Sound to add onto the input stream, sample by sample, from where it begins."""

    def __init__(self, pcm: bytes, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
        self.position = 0
        """Samples of the overlay that have reached the input so far."""

    @property
    def total(self) -> int:
        return int(self._samples.size)

    @property
    def remaining(self) -> int:
        return self.total - self.position

    def mix(self, pcm: bytes) -> bytes:
        """``pcm`` (PCM16 at :attr:`sample_rate`) with the overlay's next samples added."""
        count = min(len(pcm) // 2, self.remaining)
        if count == 0:
            return pcm
        mixed = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
        mixed[:count] += self._samples[self.position : self.position + count]
        self.position += count
        return bytes(np.clip(mixed, -32768, 32767).astype("<i2").tobytes())

    def take(self, count: int) -> bytes:
        """The next ``count`` samples over silence (the client sent nothing meanwhile)."""
        count = min(count, self.remaining)
        chunk = self._samples[self.position : self.position + count]
        self.position += count
        return bytes(chunk.astype("<i2").tobytes())
