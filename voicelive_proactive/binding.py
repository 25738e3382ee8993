"""The session's loop: the app may call from any thread or loop; the engine runs on one.

The engine is not thread-safe and need not be. Everything that touches it runs on one event
loop: the loop running when the session was made, or else the first one :meth:`handle`,
:meth:`run` or :meth:`greet` runs on. A call from another thread (a ``say()`` from a web
handler, a ``cancel()`` from a UI) is handed to that loop with ``call_soon_threadsafe``; one
whose caller awaits an answer (``greet()``) with ``run_coroutine_threadsafe``. A call made
before any loop is known waits, and runs in order the moment the loop is bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .speech import Speech

if TYPE_CHECKING:
    from .lifecycle import SpeechState
    from .outcome import GreetingOutcome
    from .shell import Driver

__all__ = ["LoopBinding", "running_loop"]


class LoopBinding:
    """Binds a :class:`~voicelive_proactive.shell.Driver` (and its engine) to one loop, and
    hands every call from elsewhere to it."""

    __slots__ = ("_driver", "_early", "_lock")

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._lock = threading.Lock()
        self._early: list[Callable[[], None]] = []  # calls made before the loop was known

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Run the session on ``loop`` from now on (the first loop wins; ``None``: not yet)."""
        if loop is None:
            return
        driver = self._driver
        with self._lock:
            if driver.loop is not None:
                return
            driver.bind(loop)
            early, self._early = self._early, []
        driver.engine.start(driver.timers.now())
        for call in early:
            call()
        driver.kick()

    def call(self, func: Callable[[], None]) -> None:
        """Run ``func`` on the session's loop (now, if this is it), then perform its actions."""
        driver = self._driver
        with self._lock:
            loop = driver.loop
            if loop is None:
                self._early.append(func)  # run when the session's loop is known
                return
        if loop is running_loop():
            func()
            driver.kick()
            return

        def there() -> None:
            func()
            driver.kick()

        with contextlib.suppress(RuntimeError):  # the session's loop has closed: nobody to tell
            loop.call_soon_threadsafe(there)

    async def greet(self) -> GreetingOutcome:
        """``greet()`` from anywhere: the outcome as it stands once the greeting is due on the
        session's loop (or now, when no loop is known yet: it is due once one is)."""
        driver = self._driver
        loop = driver.loop
        if loop is None:
            # Nothing has told us which loop runs the session yet: act on it there.
            self.call(lambda: driver.engine.greet(driver.timers.now()))
            return driver.engine.greeting.outcome
        if loop is not running_loop():
            if not loop.is_running():
                raise RuntimeError(
                    "greet() was called from another thread, but the event loop this session "
                    "runs on has stopped; call greet() while the session's loop is running."
                )
            future = asyncio.run_coroutine_threadsafe(self._greet_here(), loop)
            return await asyncio.wrap_future(future)
        return await self._greet_here()

    async def _greet_here(self) -> GreetingOutcome:
        driver = self._driver
        driver.engine.greet(driver.timers.now())
        await driver.perform()
        return driver.engine.greeting.outcome

    def say(self, state: SpeechState, expires_in: float | None) -> Speech:
        """Queue a ``say()`` from anywhere; its handle at once."""
        driver = self._driver
        speech = state.handle = self.handle_for(state)
        loop = driver.loop
        if loop is not None and loop is not running_loop() and loop.is_closed():
            raise RuntimeError(
                "say() was called after the event loop this session ran on has stopped; "
                "create a new session for a new connection."
            )
        if expires_in is not None:
            state.expires_at = driver.timers.now() + expires_in
        self.call(lambda: driver.engine.say(state, driver.timers.now()))
        return speech

    def handle_for(self, state: SpeechState) -> Speech:
        """The app's handle of a speech: its ``cancel()`` may come from any thread."""
        return Speech(state, self._cancel)

    def _cancel(self, speech: Speech) -> bool:
        driver = self._driver
        self.call(lambda: driver.engine.cancel(speech.state, driver.timers.now()))
        return True


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
