"""The speaker, seen from the session: queue, flush, and learn when playout has ended.

Audio arrives faster than real time, so only the speaker knows when the listener stops
hearing the agent. A :class:`~voicelive_proactive.audio.base.PlayoutAware` backend says so;
for any other backend (and for ``audio=None``, where the app plays audio itself) playout is
estimated from the bytes received at the negotiated byte rate, starting with the first chunk.

Every call into the backend is isolated: a backend that raises is counted in
``proactive.health.audio_errors`` (and logged once) and never fails a speech.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from .audio.base import AudioIO, FormatAware, Pausable, PlayoutAware
from .audio.formats import PCM16_24K, AudioFormat
from .clock import TimerHandle, Timers
from .health import SessionHealth

__all__ = ["Speaker"]


class Speaker:
    """Wraps the session's ``AudioIO`` (or none) with playout tracking and fault isolation.

    ``on_played(position)`` is called on the event loop when everything queued before
    ``position`` (a running byte count) has played.
    """

    def __init__(
        self,
        audio: AudioIO | None,
        *,
        timers: Timers,
        health: SessionHealth,
        on_played: Callable[[int], None],
    ) -> None:
        self.audio = audio
        self.output = PCM16_24K
        self.input = PCM16_24K
        self._timers = timers
        self._health = health
        self._on_played = on_played
        device: object = audio  # checked for the optional capabilities below
        self._notify: Callable[[Callable[[], None]], None] | None = (
            device.notify_when_played if isinstance(device, PlayoutAware) else None
        )
        self._formats: FormatAware | None = device if isinstance(device, FormatAware) else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._estimated_end = 0.0  # when the estimated playout ends (clock seconds)
        self._estimates: dict[TimerHandle, int] = {}  # estimated playout ends still to come
        self._warned_format = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def plays(self) -> bool:
        """The library plays audio (``False`` with ``audio=None``)."""
        return self.audio is not None

    # -- formats -------------------------------------------------------------------------------

    def configure(self, output: AudioFormat, input: AudioFormat) -> None:
        """Follow the formats ``session.updated`` reported."""
        if (output, input) == (self.output, self.input):
            return
        self.output, self.input = output, input
        audio = self.audio
        if self._formats is not None:
            try:
                self._formats.configure_formats(output=output, input=input)
            except Exception as exc:
                self._health.record("audio_errors", exc, "the audio backend refused the format")
        elif (
            audio is not None
            and not self._warned_format
            and (output, input)
            != (
                PCM16_24K,
                PCM16_24K,
            )
        ):
            self._warned_format = True
            import logging

            logging.getLogger("voicelive_proactive").warning(
                "voicelive-proactive: the session negotiated %s output and %s input, but %r "
                "does not implement configure_formats(); it gets the bytes as they are",
                output,
                input,
                audio,
            )

    # -- playing -------------------------------------------------------------------------------

    def queue(self, pcm: bytes) -> None:
        """Hand audio to the speaker (or, with ``audio=None``, only count it)."""
        if self._notify is None:
            now = self._timers.now()
            start = max(now, self._estimated_end)
            self._estimated_end = start + len(pcm) / self.output.bytes_per_second
        audio = self.audio
        if audio is None:
            return
        try:
            audio.queue_audio(pcm)
        except Exception as exc:
            self._health.record("audio_errors", exc, "the audio backend failed to queue audio")

    def flush(self) -> int:
        """Barge-in: drop what has not played; return the bytes dropped (estimated when the
        backend cannot say, and always for ``audio=None``, where the app flushes its own)."""
        estimated = 0
        if self._notify is None:
            now = self._timers.now()
            remaining = max(0.0, self._estimated_end - now)
            estimated = int(remaining * self.output.bytes_per_second)
            self._estimated_end = now
            # Nothing queued so far is left to play. Audio queued after the flush (another
            # response's, queued again) is watched for on its own: it has not played.
            flushed = list(self._estimates)
            self._loop_call(lambda: self._all_played(flushed))
        audio = self.audio
        if audio is None:
            return estimated
        try:
            dropped = audio.skip_pending_audio()
        except Exception as exc:
            self._health.record("audio_errors", exc, "the audio backend failed to flush audio")
            return estimated
        return dropped if isinstance(dropped, int) and dropped >= 0 else estimated

    @property
    def can_pause(self) -> bool:
        """The backend can pause and resume playout (``Pausable``)."""
        return isinstance(self.audio, Pausable)

    def pause(self) -> int:
        """Stop playing, keeping what is queued; return the bytes still unplayed."""
        try:
            pending = self.audio.pause_audio()  # type: ignore[union-attr]
        except Exception as exc:
            self._health.record("audio_errors", exc, "the audio backend failed to pause")
            return 0
        return pending if isinstance(pending, int) and pending >= 0 else 0

    def resume(self) -> None:
        try:
            self.audio.resume_audio()  # type: ignore[union-attr]
        except Exception as exc:
            self._health.record("audio_errors", exc, "the audio backend failed to resume")

    def mark(self, position: int) -> None:
        """Report (through ``on_played``) when everything queued before ``position`` played."""
        if self._notify is not None:
            try:
                self._notify(lambda: self._played_threadsafe(position))
            except Exception as exc:
                self._health.record("audio_errors", exc, "the audio backend failed to report")
                self._on_played(position)  # assume it played rather than wait forever
            return
        delay = self._estimated_end - self._timers.now()
        if delay <= 0:
            self._on_played(position)
            return
        handles: list[TimerHandle] = []

        def fire() -> None:
            self._estimates.pop(handles[0], None)
            self._on_played(position)

        handles.append(self._timers.call_later(delay, fire))
        self._estimates[handles[0]] = position

    def _all_played(self, flushed: list[TimerHandle]) -> None:
        """After a flush: the estimated ends still to come of audio queued before it have
        come (heard or dropped)."""
        positions = [self._estimates.pop(h) for h in flushed if h in self._estimates]
        for handle in flushed:
            handle.cancel()
        if positions:
            self._on_played(max(positions))

    def _loop_call(self, callback: Callable[[], None]) -> None:
        # After the caller's own work (the flush is in the middle of a barge-in).
        if self._loop is not None:
            self._loop.call_soon(callback)
        else:
            callback()

    def _played_threadsafe(self, position: int) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.call_soon(self._on_played, position)
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to tell
            loop.call_soon_threadsafe(self._on_played, position)

    def close(self) -> None:
        for handle in self._estimates:
            handle.cancel()
        self._estimates.clear()
        if self.audio is not None:
            try:
                self.audio.close()
            except Exception as exc:
                self._health.record("audio_errors", exc, "the audio backend failed to close")
