"""Time for the session: a monotonic clock and timers, injectable so tests need not sleep.

By default the session reads ``time.monotonic`` and schedules timers on its event loop. Pass
``clock=`` a plain ``() -> float`` to change only the timestamps, or an object that is also a
:class:`Clock` (with ``call_later``), such as :class:`voicelive_proactive.testing.ManualClock`,
to drive the timers too (idle nudges, playout estimates) by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "TimerHandle", "Timers"]


class TimerHandle(Protocol):
    """A scheduled callback that can be cancelled (``asyncio.TimerHandle`` is one)."""

    def cancel(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """A monotonic clock in seconds that can also run a callback later."""

    def __call__(self) -> float:
        """The current time, in seconds."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` ``delay`` seconds from now (on the session's thread)."""
        ...


class Timers:
    """The session's clock: ``now()`` for timestamps, ``call_later()`` for timers.

    Timers run on the event loop unless the clock given is a :class:`Clock`.
    """

    __slots__ = ("_clock", "_loop", "now")

    def __init__(self, clock: Callable[[], float]) -> None:
        self.now = clock
        self._clock = clock if isinstance(clock, Clock) else None
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def manual(self) -> bool:
        """The clock runs the timers itself (a :class:`Clock`), with or without a loop."""
        return self._clock is not None

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        if self._clock is not None:
            return self._clock.call_later(delay, callback)
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        return loop.call_later(max(0.0, delay), callback)
