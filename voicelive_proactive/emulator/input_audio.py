"""The input audio buffer: how much uncommitted audio there is, and the VAD listening to it.

Only durations are kept, not the audio: the emulator never transcribes, and a thousand
sessions streaming a microphone should not cost a thousand growing byte arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .vad import EnergyVad, VadConfig, VadEvent

__all__ = ["InputAudioBuffer"]


class InputAudioBuffer:
    """Timeline in ms from the session's first appended sample."""

    def __init__(self) -> None:
        self.total_ms = 0.0
        self.start_ms = 0.0  # where the uncommitted part begins
        self.sample_rate = 24_000
        self.turn_item_id: str | None = None  # the user item a detected turn will become
        self._odd_byte = b""
        self._vad: EnergyVad | None = None

    @property
    def buffered_ms(self) -> float:
        return self.total_ms - self.start_ms

    @property
    def vad_enabled(self) -> bool:
        return self._vad is not None

    def configure(self, turn_detection: Mapping[str, Any] | None, sample_rate: int) -> None:
        """Follow the session: ``turn_detection: null`` switches the VAD off."""
        self.sample_rate = sample_rate
        config = VadConfig.from_turn_detection(turn_detection, sample_rate)
        if config is None:
            self._vad = None
        elif self._vad is not None:
            self._vad.reconfigure(config)
        else:
            start = round(self.total_ms * sample_rate / 1000)
            self._vad = EnergyVad(config, start_sample=start)

    def append(self, pcm: bytes) -> list[VadEvent]:
        pcm = self._odd_byte + pcm
        if len(pcm) % 2:  # keep samples whole across appends
            pcm, self._odd_byte = pcm[:-1], pcm[-1:]
        else:
            self._odd_byte = b""
        self.total_ms += len(pcm) / 2 / self.sample_rate * 1000
        return self._vad.feed(pcm) if self._vad is not None else []

    def take_turn_item_id(self, new_id: str) -> str:
        """The id of the turn in progress (or ``new_id``); the turn is then over."""
        item_id, self.turn_item_id = self.turn_item_id or new_id, None
        return item_id

    def consume(self, until_ms: float | None = None) -> None:
        """The buffer up to ``until_ms`` (default: everything) became a user item."""
        self.start_ms = self.total_ms if until_ms is None else until_ms
        if until_ms is None and self._vad is not None:
            self._vad.reset()

    def clear(self) -> None:
        self.consume()
        self.turn_item_id = None
