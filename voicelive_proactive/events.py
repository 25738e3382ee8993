"""Events about proactive speech, for apps that react instead of polling ``outcome``.

Subscribe with :meth:`ProactiveSession.on`, passing the event class and a callback (plain or
``async``); subscribing to :class:`ProactiveEvent` receives every event::

    @proactive.on(vp.SpeechInterrupted)
    def log_cut_off(event: vp.SpeechInterrupted) -> None:
        print(f"{event.speech.kind} cut off after {event.played_ms} ms")

Callbacks never run inside ``handle()``: they are scheduled on the session's event loop right
after it, in the order the events happened. A callback that raises is logged and counted in
``proactive.health.callback_errors``; it never breaks the session.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from .health import SessionHealth
    from .outcome import FunctionCall
    from .speech import Speech

__all__ = [
    "EventBus",
    "FunctionCallRequested",
    "NudgeFired",
    "NudgesExhausted",
    "ProactiveEvent",
    "SpeechFailed",
    "SpeechFinished",
    "SpeechInterrupted",
    "SpeechQueued",
    "SpeechSkipped",
    "SpeechStarted",
]

log = logging.getLogger("voicelive_proactive")


@dataclass(frozen=True)
class ProactiveEvent:
    """Base class of every event; subscribe to it to receive them all."""


@dataclass(frozen=True)
class SpeechQueued(ProactiveEvent):
    """A speech (the greeting, a ``say()`` or a nudge) is waiting for its turn."""

    speech: Speech


@dataclass(frozen=True)
class SpeechStarted(ProactiveEvent):
    """The first audio of the speech arrived and was handed to the speaker."""

    speech: Speech


@dataclass(frozen=True)
class SpeechFinished(ProactiveEvent):
    """The speech was heard in full: its audio finished playing locally."""

    speech: Speech


@dataclass(frozen=True)
class SpeechInterrupted(ProactiveEvent):
    """The user (or a cancel) cut the speech off after ``played_ms`` had been heard."""

    speech: Speech
    played_ms: int


@dataclass(frozen=True)
class SpeechSkipped(ProactiveEvent):
    """The speech will not be spoken: the user spoke first, the guard said no, or the app
    cancelled it. ``reason`` says which."""

    speech: Speech
    reason: str


@dataclass(frozen=True)
class SpeechFailed(ProactiveEvent):
    """The speech could not be delivered (every strategy failed, or the service or the
    connection refused it)."""

    speech: Speech
    reason: str
    error: BaseException | None


@dataclass(frozen=True)
class FunctionCallRequested(ProactiveEvent):
    """The model called a tool before speaking the speech. Answer it as usual (send the
    ``function_call_output`` item and ``response.create``); the speech is delivered by the
    response that follows."""

    speech: Speech
    call: FunctionCall


@dataclass(frozen=True)
class NudgeFired(ProactiveEvent):
    """The user was idle for ``IdleNudge.after`` seconds: nudge number ``count`` is queued."""

    speech: Speech
    count: int


@dataclass(frozen=True)
class NudgesExhausted(ProactiveEvent):
    """``max_nudges`` nudges went unanswered; ``on_exhausted`` is being called."""

    count: int


E = TypeVar("E", bound=ProactiveEvent)
Callback = Callable[[E], Awaitable[None] | None]


class EventBus:
    """Subscriptions, and delivery off the event path with faults isolated."""

    def __init__(self, health: SessionHealth) -> None:
        self._subscribers: list[tuple[type[ProactiveEvent], Callable[[Any], Any]]] = []
        self.active = False
        """Somebody listens (checked before building an event on a hot path)."""
        self._health = health
        self._tasks: set[asyncio.Task[None]] = set()

    @overload
    def on(self, event_type: type[E], callback: Callback[E]) -> Callable[[], None]: ...

    @overload
    def on(self, event_type: type[E]) -> Callable[[Callback[E]], Callback[E]]: ...

    def on(self, event_type: type[E], callback: Callback[E] | None = None) -> Any:
        kind: object = event_type  # a runtime check: callers may pass anything
        if not (isinstance(kind, type) and issubclass(kind, ProactiveEvent)):
            from .errors import ConfigurationError

            raise ConfigurationError(
                f"on() takes an event class such as vp.SpeechFinished (or vp.ProactiveEvent "
                f"for all of them), not {event_type!r}"
            )
        if callback is None:

            def decorator(func: Callback[E]) -> Callback[E]:
                self._subscribe(event_type, func)
                return func

            return decorator
        return self._subscribe(event_type, callback)

    def _subscribe(
        self, event_type: type[ProactiveEvent], callback: Callable[[Any], Any]
    ) -> Callable[[], None]:
        func: object = callback
        if not callable(func):
            from .errors import ConfigurationError

            raise ConfigurationError(f"the callback must be callable, not {callback!r}")
        entry = (event_type, callback)
        self._subscribers.append(entry)
        self.active = True

        def unsubscribe() -> None:
            if entry in self._subscribers:
                self._subscribers.remove(entry)
            self.active = bool(self._subscribers)

        return unsubscribe

    def emit(self, event: ProactiveEvent, loop: asyncio.AbstractEventLoop | None) -> None:
        """Schedule every matching callback on ``loop`` (never run inline)."""
        if loop is None:
            return
        for event_type, callback in tuple(self._subscribers):
            if isinstance(event, event_type):
                loop.call_soon(self._call, callback, event, loop)

    def _call(
        self, callback: Callable[[Any], Any], event: ProactiveEvent, loop: asyncio.AbstractEventLoop
    ) -> None:
        try:
            result = callback(event)
        except Exception as exc:
            self._health.record("callback_errors", exc, f"a callback for {type(event).__name__}")
            return
        if inspect.isawaitable(result):
            task = loop.create_task(self._await(result, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _await(self, awaitable: Awaitable[Any], event: ProactiveEvent) -> None:
        try:
            await awaitable
        except Exception as exc:
            self._health.record("callback_errors", exc, f"a callback for {type(event).__name__}")

    async def aclose(self) -> None:
        """Wait for async callbacks still running (they were started before the close)."""
        if self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)
