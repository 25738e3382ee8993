"""Fire "your audio has been heard" callbacks at the moment a backend predicts.

A backend knows *when* queued audio will have been heard (a sound card's clock, a WAV
playhead, a telephony peer's byte rate) but must not call user code from where it learns
that (the PortAudio callback, a lock). :class:`PlayoutNotifier` keeps the pending
notifications and runs them on one daemon thread, each when its ``due`` function says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Due", "PlayoutNotifier", "PlayoutWaits", "run_callback"]

logger = logging.getLogger(__name__)

#: ``() -> (when, final)``: the ``time.monotonic()`` at which the audio will have been heard.
#: ``final=False`` means "not sure yet: ask again at ``when``".
Due = Callable[[], tuple[float, bool]]

# A non-final answer in the past (a stalled stream) is asked again this much later, so a
# device that stopped calling back does not make the thread spin.
_RECHECK = 0.01


class _Watch:
    __slots__ = ("callback", "due")

    def __init__(self, callback: Callable[[], None], due: Due) -> None:
        self.callback = callback
        self.due = due


class PlayoutNotifier:
    """Runs each callback once, on a daemon thread, when its ``due`` time has come.

    The thread starts with the first :meth:`add` and waits on a condition, so it costs
    nothing while no notification is pending. :meth:`poke` makes it ask every ``due`` again
    (after a barge-in, say); :meth:`close` runs whatever is left at once.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._cond = threading.Condition()
        self._watches: list[_Watch] = []
        self._poked = False
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def pending(self) -> int:
        """Callbacks not run yet."""
        return len(self._watches)

    def add(self, callback: Callable[[], None], due: Due) -> None:
        """Run ``callback`` once ``due()`` answers a final time that has come."""
        with self._cond:
            if not self._closed:
                self._watches.append(_Watch(callback, due))
                self._poked = True
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()
                self._cond.notify()
                return
        run_callback(callback)  # closed: the audio was dropped, so it is "played" now

    def poke(self) -> None:
        """Ask every pending ``due`` again now (cheap; safe from any thread)."""
        with self._cond:
            if self._watches:
                self._poked = True
                self._cond.notify()

    def close(self) -> None:
        """Run every pending callback now, on this thread, and stop the notifier thread."""
        with self._cond:
            self._closed = True
            left, self._watches = self._watches, []
            self._cond.notify()
        for watch in left:
            run_callback(watch.callback)

    def _run(self) -> None:
        cond = self._cond
        while True:
            with cond:
                while not self._watches and not self._closed:
                    cond.wait()
                if self._closed:
                    return
                watches = list(self._watches)
                self._poked = False
            answers = [(watch, _ask(watch)) for watch in watches]
            now = time.monotonic()  # after asking: an answer of "now" is due, not a spin
            ready: list[_Watch] = []
            wake = float("inf")
            for watch, (when, final) in answers:
                if final and when <= now:
                    ready.append(watch)
                else:
                    wake = min(wake, when if when > now else now + _RECHECK)
            if ready:
                with cond:
                    ready = [w for w in ready if w in self._watches]  # close() may have run them
                    for watch in ready:
                        self._watches.remove(watch)
                for watch in ready:
                    run_callback(watch.callback)
                continue
            with cond:
                if not self._poked and not self._closed:
                    cond.wait(None if wake == float("inf") else max(0.0, wake - time.monotonic()))


def _ask(watch: _Watch) -> tuple[float, bool]:
    try:
        return watch.due()
    except Exception:  # a broken estimate must not keep the callback waiting forever
        logger.exception("estimating when audio is played failed; notifying now")
        return time.monotonic(), True


def run_callback(callback: Callable[[], None]) -> None:
    """Run a playout callback; its failure is logged, never raised into the backend."""
    try:
        callback()
    except Exception:
        logger.exception("a notify_when_played callback failed")


class PlayoutWaits:
    """Waiting for playout, for a backend that has ``notify_when_played``."""

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        raise NotImplementedError  # the backend's own

    def wait_until_played(self, timeout: float | None = None) -> bool:
        """Block until the queued audio has been heard (see :meth:`notify_when_played`).

        Return ``False`` if ``timeout`` seconds passed first. Meant for scripts and demos.
        """
        done = threading.Event()
        self.notify_when_played(done.set)
        return done.wait(timeout)

    async def drain(self, timeout: float | None = None) -> bool:
        """Like :meth:`wait_until_played`, without blocking the event loop."""
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def played() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(done.set)

        self.notify_when_played(played)
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True
