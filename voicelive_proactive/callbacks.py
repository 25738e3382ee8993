"""Event callbacks: subscriptions, and delivery off the event path with faults isolated.

Callbacks run on the session's loop, each in its own step (``call_soon``), never inside
``handle()``. An ``async`` callback runs as a task of its own, so it may await anything,
including ``proactive.aclose()``: closing waits for the *other* callbacks, never for the one
that is closing it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._validation import check_callback
from .events import ProactiveEvent

if TYPE_CHECKING:
    from .health import SessionHealth

__all__ = ["Callback", "EventBus"]

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
        check_callback(f"on({event_type.__name__}, ...)", callback, 1, what="the event")
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
        """Wait for async callbacks still running (they were started before the close),
        except the one calling this, if any: a callback may close the session."""
        current = asyncio.current_task()
        others = [task for task in self._tasks if task is not current]
        if others:
            await asyncio.gather(*others, return_exceptions=True)
