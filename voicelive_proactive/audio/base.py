"""The ``AudioIO`` seam: where the agent's voice goes and where the microphone comes from."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .formats import AudioFormat

__all__ = [
    "SAMPLE_RATE",
    "BYTES_PER_SAMPLE",
    "BYTES_PER_MS",
    "AudioIO",
    "FormatAware",
    "FrameCallback",
    "Pausable",
    "PlayoutAware",
]

#: Voice Live's ``pcm16`` format: 24 kHz, mono, 16-bit little-endian.
SAMPLE_RATE = 24_000
BYTES_PER_SAMPLE = 2
BYTES_PER_MS = SAMPLE_RATE * BYTES_PER_SAMPLE // 1000  # 48

#: Called with one block of microphone PCM16, possibly from an audio thread.
FrameCallback = Callable[[bytes], None]


@runtime_checkable
class AudioIO(Protocol):
    """Plays the agent's audio and captures the user's microphone.

    Audio is 24 kHz mono PCM16 (little-endian), the Voice Live ``pcm16`` format, unless the
    backend is also :class:`FormatAware` and was told otherwise. Implementations must be
    safe to call from the event loop's thread: none of these methods may block for long,
    because the session calls them while handling events.
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


@runtime_checkable
class FormatAware(Protocol):
    """Optional ``AudioIO`` capability: follow the formats the session negotiated.

    The session calls :meth:`configure_formats` when ``session.updated`` reports formats that
    differ from the ones in use (24 kHz PCM16 both ways until then), before it queues audio
    in the new format. From then on ``queue_audio`` receives bytes in ``output``,
    ``skip_pending_audio`` counts dropped bytes in ``output`` (as queued, whatever the
    backend plays internally), and ``on_frame`` must deliver microphone bytes in ``input``.
    A backend without this capability gets the service's bytes as they are, whatever the
    format.
    """

    def configure_formats(self, *, output: AudioFormat, input: AudioFormat) -> None:
        """Play ``output`` and capture ``input`` from now on.

        It may be called again with other formats; audio queued before keeps playing.
        It must not block for long, and raises ``ConfigurationError`` for arguments that are
        not :class:`~voicelive_proactive.audio.formats.AudioFormat`.
        """
        ...


@runtime_checkable
class PlayoutAware(Protocol):
    """Optional ``AudioIO`` capability: say when queued audio has finished playing.

    Audio arrives faster than real time, so the service's ``response.done`` says nothing about
    when the listener stops hearing the agent. The session asks here instead (idle nudges,
    speech the user cannot cut off). Without this capability it estimates playout from the
    bytes received.
    """

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once, from any thread, when all audio queued so far has played.

        "Played" means heard, or as close to it as the backend can tell (a sound card adds
        its output latency), or dropped by :meth:`AudioIO.skip_pending_audio` or
        ``close()``. Audio queued after this call does not delay it. With nothing pending,
        ``callback`` may run at once, even before this method returns. Backends call it
        from where they learn the news cheaply (never from inside a real-time audio
        callback) and must survive it raising. The callback must not block; the session's
        only hands the news to its event loop.
        """
        ...


@runtime_checkable
class Pausable(Protocol):
    """Optional ``AudioIO`` capability: hold playback without losing what is queued.

    A user who starts speaking over the agent may only be coughing. A session that knows the
    backend can pause stops the agent's voice at once and decides later whether to go on
    (:meth:`resume_audio`) or to drop the rest (:meth:`AudioIO.skip_pending_audio`).

    While paused the listener hears silence and nothing queued is consumed; ``queue_audio``
    keeps queueing. ``skip_pending_audio`` drops everything pending, paused or not, returns
    its size and ends the pause (there is nothing left to hold; audio queued afterwards
    plays). ``notify_when_played`` callbacks (:class:`PlayoutAware`) fire only once their
    audio is really heard, so a pause delays them; ``close()`` while paused drops the audio
    and runs them. Audio a sound card already holds when the pause comes (its output
    latency) still plays.
    """

    def pause_audio(self) -> int:
        """Stop playing now, keeping what is queued; return the bytes still unplayed.

        The count is in the output format, as queued. Idempotent: pausing again changes
        nothing and returns the same kind of count.
        """
        ...

    def resume_audio(self) -> None:
        """Continue from where it paused. A no-op when not paused."""
        ...
