"""The input audio buffer: how much uncommitted audio there is, and the VAD listening to it.

Audio arrives in the session's input format (PCM16 at 8, 16, 24 or 44.1 kHz, or 8 kHz g711)
and is decoded to PCM16 at its own rate; the VAD works on that. Durations are in ms of the
real format. Only durations are kept, not the audio, unless a listener (recognition or a
transcriber) asks for it: a thousand sessions streaming a microphone should not cost a
thousand growing byte arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat

from .audio_formats import to_pcm16
from .cough import Overlay
from .vad import EnergyVad, VadConfig, VadEvent

__all__ = ["AudioListener", "InputAudioBuffer"]


class AudioListener(Protocol):
    """Keeps what it needs of the uncommitted audio (see :mod:`.hearing`)."""

    def feed(self, pcm: bytes, sample_rate: int) -> None: ...

    def clear(self) -> None: ...


class InputAudioBuffer:
    """Timeline in ms from the session's first appended sample."""

    def __init__(self, listener: AudioListener | None = None) -> None:
        self.total_ms = 0.0
        self.start_ms = 0.0  # where the uncommitted part begins
        self.format: AudioFormat = PCM16_24K
        self.turn_item_id: str | None = None  # the user item a detected turn will become
        self.listener = listener
        self._partial = b""  # bytes of a sample split across appends
        self._vad: EnergyVad | None = None
        self.overlay: Overlay | None = None
        """A noise at the caller's end, mixed into what comes next (see :mod:`.cough`)."""

    @property
    def sample_rate(self) -> int:
        return self.format.sample_rate

    @property
    def buffered_ms(self) -> float:
        return self.total_ms - self.start_ms

    @property
    def vad_enabled(self) -> bool:
        return self._vad is not None

    def configure(self, turn_detection: Mapping[str, Any] | None, fmt: AudioFormat) -> None:
        """Follow the session: ``turn_detection: null`` switches the VAD off."""
        if fmt != self.format:
            self._partial = b""
            if fmt.sample_rate != self.format.sample_rate:
                self.overlay = None  # made for the old rate
                if self._vad is not None:
                    self._vad = None  # its timeline is in samples of the old rate: start afresh
        self.format = fmt
        config = VadConfig.from_turn_detection(turn_detection, fmt.sample_rate)
        if config is None:
            self._vad = None
        elif self._vad is not None:
            self._vad.reconfigure(config)
        else:
            start = round(self.total_ms * fmt.sample_rate / 1000)
            self._vad = EnergyVad(config, start_sample=start)

    def append(self, data: bytes) -> list[VadEvent]:
        """Take client bytes in the session's input format; return what the VAD saw."""
        data = self._partial + data
        width = self.format.bytes_per_sample
        whole = len(data) - len(data) % width  # keep samples whole across appends
        data, self._partial = data[:whole], data[whole:]
        pcm = to_pcm16(data, self.format)
        if self.overlay is not None:
            pcm = self.overlay.mix(pcm)
        return self._feed(pcm)

    def inject(self, samples: int) -> list[VadEvent]:
        """The overlay's next ``samples`` as if sent over silence: the client sent nothing."""
        if self.overlay is None:
            return []
        return self._feed(self.overlay.take(samples))

    def _feed(self, pcm: bytes) -> list[VadEvent]:
        self.total_ms += len(pcm) / 2 / self.format.sample_rate * 1000
        if self.listener is not None and pcm:
            self.listener.feed(pcm, self.format.sample_rate)
        return self._vad.feed(pcm) if self._vad is not None else []

    def speech_ms(self, since_ms: int) -> int:
        """How long the VAD has been hearing speech that started at ``since_ms`` (0 if none)."""
        if self._vad is None or not self._vad.in_speech:
            return 0
        return self._vad.position_ms - since_ms

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
        if self.listener is not None:
            self.listener.clear()
