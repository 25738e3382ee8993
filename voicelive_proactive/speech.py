"""``Speech``: the handle of one proactive message (the greeting, a ``say()`` or an idle nudge).

The engine keeps what it knows about a speech in a
:class:`~voicelive_proactive.lifecycle.SpeechState`; the handle reads its outcome and metrics,
waits for it from any thread or loop, and cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Generator
from typing import Any

from .lifecycle import IfUserSpeaking, Phase, SpeechKind, SpeechState
from .outcome import GreetingMetrics, GreetingOutcome

__all__ = ["IfUserSpeaking", "Phase", "Speech", "SpeechKind"]

# Guards every Speech's finished flag and waiters (held for a few instructions at a time).
_LOCK = threading.Lock()


class Speech:
    """A proactive message: the greeting, a ``say()``, or an idle nudge.

    ``proactive.say(...)`` returns one at once, from any thread. It waits its turn, then goes
    out under the same rules as the greeting. ``await speech`` (or :meth:`wait`) gives its
    :class:`~voicelive_proactive.GreetingOutcome` once the service is done with it; follow it
    through :attr:`outcome` and the session's events; stop it with :meth:`cancel`.
    """

    __slots__ = ("_canceller", "_finished", "_state", "_wakers")

    def __init__(
        self, state: SpeechState, canceller: Callable[[Speech], bool] | None = None
    ) -> None:
        self._state = state
        self._canceller = canceller
        # A flag and the waiters' wake-ups under one lock for every speech, not a
        # concurrent.futures.Future each: most speeches are never awaited from another thread,
        # and a Future (with its Condition) is over 1.5 KB.
        self._finished = False
        self._wakers: list[Callable[[], None]] | None = None

    # -- public --------------------------------------------------------------------------------

    @property
    def kind(self) -> SpeechKind:
        return self._state.kind

    @property
    def number(self) -> int:
        """Its number in this process (for logs)."""
        return self._state.number

    @property
    def interruptible(self) -> bool:
        return self._state.interruptible

    @property
    def key(self) -> str | None:
        """The ``key=`` it was said with (a newer speech with the same key replaces it)."""
        return self._state.key

    @property
    def outcome(self) -> GreetingOutcome:
        """What happened so far (the same shape as the greeting's outcome)."""
        return self._state.outcome

    @property
    def metrics(self) -> GreetingMetrics:
        """Timestamps of its milestones."""
        return self._state.metrics

    @property
    def errors(self) -> tuple[BaseException, ...]:
        """Why alternatives failed so far (a strategy that raised or timed out, a rejection),
        in order; ``outcome.error`` is the last one when it failed outright."""
        return tuple(self._state.errors)

    @property
    def done(self) -> bool:
        """The service is done with it (spoken or cut off), or it was skipped or failed."""
        return self._finished

    async def wait(self, *, timeout: float | None = None) -> GreetingOutcome:
        """Wait until :attr:`done`; return the outcome. Works from any thread or loop.

        Raises the built-in ``TimeoutError`` when ``timeout`` seconds pass first.
        """
        if self._finished:
            return self._state.outcome
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the waiting loop has closed
                loop.call_soon_threadsafe(_resolve, waiter)

        with _LOCK:
            if self.done:  # it finished (on another thread) a moment ago
                return self._state.outcome
            if self._wakers is None:
                self._wakers = []
            self._wakers.append(wake)
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"{self!r} was not done within {timeout} s "
                f"(outcome: {self._state.outcome.status.value})"
            ) from None
        finally:
            with _LOCK:
                if self._wakers is not None and wake in self._wakers:
                    self._wakers.remove(wake)
        return self._state.outcome

    def __await__(self) -> Generator[Any, None, GreetingOutcome]:
        """``outcome = await speech``: the same as ``await speech.wait()``."""
        return self.wait().__await__()

    def cancel(self) -> bool:
        """Do not speak it, or stop it now if it is being spoken or is still playing.

        A speech not sent yet is skipped (reason "cancelled by the app"). One being spoken is
        cancelled on the service and its unplayed audio is dropped (``interrupted``, and its
        item truncated to what was heard); audio of later speech plays on. Returns False when
        there was nothing left to stop (it had settled). Safe from any thread.
        """
        if self._state.outcome.settled or self._canceller is None:
            return False
        return self._canceller(self)

    @property
    def noun(self) -> str:
        """How messages name it: "the greeting", "the nudge" or "the speech"."""
        return self._state.noun

    def __repr__(self) -> str:
        return repr(self._state)

    # -- for the session -----------------------------------------------------------------------

    @property
    def state(self) -> SpeechState:
        """The engine's record of it."""
        return self._state

    def _finish(self) -> None:
        """Wake every waiter (any thread)."""
        with _LOCK:
            if self._finished:
                return
            self._finished = True
            wakers, self._wakers = self._wakers, None
        for wake in wakers or ():
            wake()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


# Re-exported for code that imported the phase from here.
_ = Phase
