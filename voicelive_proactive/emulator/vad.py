"""An energy voice-activity detector that follows a session's ``turn_detection``.

The level of a 20 ms frame is its RMS around the frame's mean (a constant offset is silence).
Threshold mapping: ``threshold`` (0..1) picks a frame RMS level on a log scale,
``level_dbfs = -60 + 50 * threshold``, i.e. RMS ``32768 * 10 ** (level_dbfs / 20)``.
The default 0.5 is -35 dBFS (RMS ~583 in int16 units): ordinary speech (-30..-15 dBFS)
triggers it, a quiet room (-60..-50 dBFS) does not. 0.0 is -60 dBFS (RMS ~33), 1.0 is
-10 dBFS (RMS ~10,362).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

__all__ = [
    "FRAME_MS",
    "MIN_SPEECH_MS",
    "EnergyVad",
    "SpeechStarted",
    "SpeechStopped",
    "VadConfig",
    "VadEvent",
    "threshold_to_rms",
]

FRAME_MS: Final = 20
MIN_SPEECH_MS: Final = 60
"""Voiced audio needed before speech counts as started: long enough to ignore a click."""


def threshold_to_rms(threshold: float) -> float:
    """The int16 RMS level that a ``turn_detection.threshold`` stands for."""
    level_dbfs = -60.0 + 50.0 * threshold
    return float(32768.0 * 10.0 ** (level_dbfs / 20.0))


@dataclass(frozen=True, slots=True)
class VadConfig:
    """The parts of ``turn_detection`` the detector obeys."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    sample_rate: int = 24_000
    min_speech_ms: int = MIN_SPEECH_MS
    """``speech_duration_ms``: voiced audio needed before speech counts as started."""

    @classmethod
    def from_turn_detection(
        cls, turn_detection: Mapping[str, Any] | None, sample_rate: int = 24_000
    ) -> VadConfig | None:
        """None when turn detection is off (``turn_detection: null``)."""
        if turn_detection is None:
            return None
        defaults = cls()

        def pick(name: str, default: float) -> float:
            value = turn_detection.get(name)
            return default if value is None else float(value)

        return cls(
            threshold=pick("threshold", defaults.threshold),
            prefix_padding_ms=int(pick("prefix_padding_ms", defaults.prefix_padding_ms)),
            silence_duration_ms=int(pick("silence_duration_ms", defaults.silence_duration_ms)),
            sample_rate=sample_rate,
            min_speech_ms=int(pick("speech_duration_ms", defaults.min_speech_ms)),
        )


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    audio_start_ms: int
    """Where the user's turn begins, prefix padding included (as the service reports it)."""
    speech_ms: int = field(default=0, compare=False)
    """Where the speech itself began (without the padding)."""


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    audio_end_ms: int
    """Where the turn ends: the end of the silence that closed it."""


VadEvent = SpeechStarted | SpeechStopped


class EnergyVad:
    """Feed PCM16 mono; get speech start and stop events, timed from the first sample fed."""

    def __init__(self, config: VadConfig, *, start_sample: int = 0) -> None:
        self._config = config
        self._position = start_sample  # samples seen, whole session
        self._pending = b""  # a partial frame carried to the next feed
        self._in_speech = False
        self._run = 0  # consecutive frames on the "other side" of the current state
        self._run_start = 0  # first sample of that run

    @property
    def config(self) -> VadConfig:
        return self._config

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def position_ms(self) -> int:
        return self._position * 1000 // self._config.sample_rate

    def reconfigure(self, config: VadConfig) -> None:
        """New settings, same timeline (a ``session.update`` mid-call)."""
        self._config = config

    def reset(self) -> None:
        """Forget a turn in progress (buffer cleared or committed by hand)."""
        self._in_speech = False
        self._run = 0

    def feed(self, pcm: bytes) -> list[VadEvent]:
        data = self._pending + pcm
        rate = self._config.sample_rate
        frame_samples = rate * FRAME_MS // 1000
        frames = len(data) // (frame_samples * 2)
        self._pending = data[frames * frame_samples * 2 :]
        if frames == 0:
            return []
        samples = np.frombuffer(data, dtype="<i2", count=frames * frame_samples)
        blocks = samples.astype(np.float32).reshape(frames, frame_samples)
        # A constant offset is not sound (microphones are AC-coupled): measure the frame's
        # swing around its mean, so DC, e.g. PCM zeros sent as g711, reads as silence.
        blocks -= blocks.mean(axis=1, keepdims=True)
        voiced = np.sqrt(np.mean(blocks * blocks, axis=1)) >= threshold_to_rms(
            self._config.threshold
        )
        events: list[VadEvent] = []
        start_frames = max(1, -(-self._config.min_speech_ms // FRAME_MS))
        stop_frames = max(1, -(-self._config.silence_duration_ms // FRAME_MS))
        for is_voiced in voiced.tolist():
            if is_voiced != self._in_speech:
                if self._run == 0:
                    self._run_start = self._position
                self._run += 1
            else:
                self._run = 0
            self._position += frame_samples
            if not self._in_speech and self._run >= start_frames:
                self._in_speech, self._run = True, 0
                speech_ms = self._run_start * 1000 // rate
                start_ms = speech_ms - self._config.prefix_padding_ms
                events.append(SpeechStarted(max(0, start_ms), speech_ms))
            elif self._in_speech and self._run >= stop_frames:
                self._in_speech, self._run = False, 0
                events.append(SpeechStopped(self._position * 1000 // rate))
        return events
