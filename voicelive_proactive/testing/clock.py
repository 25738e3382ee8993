"""``ManualClock``: time that moves only when a test says so."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

__all__ = ["ManualClock"]


class _Timer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A monotonic clock and timer wheel for tests: pass it as ``clock=`` to the session.

    Nothing happens until :meth:`advance`, which moves time forward and runs, in order, every
    timer that falls due (idle nudges, playout estimates, reply grace periods)::

        clock = ManualClock()
        proactive = vp.ProactiveSession(fake, greeting="Hi!", clock=clock, nudge=...)
        ...
        clock.advance(8.0)          # eight silent seconds pass, instantly

    Timers run on the calling thread; call it from the test's event loop.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._heap: list[tuple[float, int, _Timer]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self._now

    @property
    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> _Timer:
        """Run ``callback`` once :meth:`advance` has moved ``delay`` seconds past now."""
        timer = _Timer(self._now + max(0.0, delay), callback)
        heapq.heappush(self._heap, (timer.when, next(self._order), timer))
        return timer

    def advance(self, seconds: float) -> int:
        """Move time forward by ``seconds``, running the timers due; return how many ran."""
        if seconds < 0:
            raise ValueError(f"time only moves forward; got {seconds}")
        target = self._now + seconds
        ran = 0
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback()
            ran += 1
        self._now = target
        return ran

    @property
    def pending(self) -> int:
        """Timers scheduled and not yet run or cancelled."""
        return sum(1 for _, _, timer in self._heap if not timer.cancelled)

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now}, pending={self.pending})"
