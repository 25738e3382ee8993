"""The caller's ear on one connection: an ``AudioIO`` that plays fast and keeps what was heard.

Audio is "played" at ``speed`` times real time by loop timers (no task of its own, so every
task still alive after a conversation belongs to somebody else). Each queued chunk is kept
as a :class:`Segment` with how much of it was played: skipped or never-played audio was not
heard. Which response a segment came from is decided afterwards, by content, against the
emulator's record of what it sent (:mod:`benchmarks.soak.count`), never from the library.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from voicelive_proactive.audio.base import FrameCallback

BYTES_PER_SECOND = 48_000  # 24 kHz PCM16 mono: the soak never negotiates another format
TICK_S = 0.005


@dataclass
class Segment:
    """One chunk as the library queued it, and how many of its bytes reached the caller."""

    pcm: bytes
    played: int = 0
    skipped: bool = False


class Ear:
    """``AudioIO`` + ``PlayoutAware`` for one connection; see the module docstring."""

    def __init__(self, *, speed: float = 25.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.segments: list[Segment] = []
        self.closed = False
        self.skips = 0
        self._head = 0  # the first segment not played in full
        self._waiters: list[tuple[int, Callable[[], None]]] = []  # (segment count, callback)
        self._timer: asyncio.TimerHandle | None = None

    # -- AudioIO ------------------------------------------------------------------------------

    def start_capture(self, on_frame: FrameCallback) -> None:
        """The soak's caller never speaks (busy races come from the emulator's faults)."""

    def queue_audio(self, pcm: bytes) -> None:
        if self.closed or not pcm:
            return
        self.segments.append(Segment(bytes(pcm)))
        self._schedule()

    def skip_pending_audio(self) -> int:
        dropped = 0
        self.skips += 1
        for segment in self.segments[self._head :]:
            dropped += len(segment.pcm) - segment.played
            segment.skipped = True
        self._head = len(self.segments)
        self._wake()
        return dropped

    def close(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters, []
        for _, callback in waiters:  # their audio will never play
            callback()

    # -- PlayoutAware ---------------------------------------------------------------------------

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        if self.closed or self._head >= len(self.segments):
            callback()
            return
        self._waiters.append((len(self.segments), callback))

    # -- what was heard -------------------------------------------------------------------------

    @property
    def heard_bytes(self) -> int:
        return sum(segment.played for segment in self.segments)

    @property
    def pending_bytes(self) -> int:
        return sum(len(s.pcm) - s.played for s in self.segments[self._head :] if not s.skipped)

    # -- playing --------------------------------------------------------------------------------

    def _schedule(self) -> None:
        if self._timer is None and not self.closed:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(TICK_S, self._tick, loop.time())

    def _tick(self, since: float) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        budget = max(1, int((now - since) * self.speed * BYTES_PER_SECOND))
        while budget > 0 and self._head < len(self.segments):
            segment = self.segments[self._head]
            step = min(budget, len(segment.pcm) - segment.played)
            segment.played += step
            budget -= step
            if segment.played == len(segment.pcm):
                self._head += 1
        self._wake()
        if self._head < len(self.segments) and not self.closed:
            self._timer = loop.call_later(TICK_S, self._tick, now)

    def _wake(self) -> None:
        done = self._head
        ready = [cb for count, cb in self._waiters if count <= done]
        if ready:
            self._waiters = [(count, cb) for count, cb in self._waiters if count > done]
            for callback in ready:
                callback()
