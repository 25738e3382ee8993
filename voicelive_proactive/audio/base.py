"""The ``AudioIO`` seam: where the agent's voice goes and where the microphone comes from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["SAMPLE_RATE", "BYTES_PER_SAMPLE", "BYTES_PER_MS", "AudioIO", "FrameCallback"]

#: Voice Live's ``pcm16`` format: 24 kHz, mono, 16-bit little-endian.
SAMPLE_RATE = 24_000
BYTES_PER_SAMPLE = 2
BYTES_PER_MS = SAMPLE_RATE * BYTES_PER_SAMPLE // 1000  # 48

#: Called with one block of microphone PCM16, possibly from an audio thread.
FrameCallback = Callable[[bytes], None]


@runtime_checkable
class AudioIO(Protocol):
    """Plays the agent's audio and captures the user's microphone.

    All audio is 24 kHz mono PCM16 (little-endian), the Voice Live ``pcm16`` format.
    Implementations must be safe to call from the event loop's thread: none of these
    methods may block for long, because the session calls them while handling events.
    """

    def start_capture(self, on_frame: FrameCallback) -> None:
        """Start delivering microphone audio to ``on_frame``.

        ``on_frame`` may be called from any thread (typically the audio driver's) with a
        ``bytes`` block that the callee owns. Calling ``start_capture`` twice is a no-op.
        """
        ...

    def queue_audio(self, pcm: bytes) -> None:
        """Queue PCM16 for playback and return at once."""
        ...

    def skip_pending_audio(self) -> int:
        """Drop all audio not yet played, now (barge-in); return how many bytes were dropped.

        Audio queued after this call plays normally.
        """
        ...

    def close(self) -> None:
        """Stop playback and capture and release the device. Safe to call twice."""
        ...
