"""The engine's I/O: it performs the engine's actions on an event loop.

:class:`Driver` is the only place where the engine meets asyncio, the connection, the speaker
and user code. It takes the engine's actions in order and performs them: events go on the
wire (in order, one sender at a time), audio goes to the speaker, guards and strategies run
(at once when they answer synchronously, in a task when they must be awaited), callbacks are
scheduled, and one timer is kept armed for the engine's next deadline. Reports go back into
the engine as they come (a flush's dropped bytes, a playout report, a strategy's greeting).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .actions import (
    Abandon,
    Action,
    ConfigureAudio,
    Emit,
    Exhausted,
    Finished,
    FlushAudio,
    PauseAudio,
    Prepare,
    QueueAudio,
    Raise,
    ReleaseGuard,
    ResumeAudio,
    Send,
    StartMicrophone,
    WatchPlayout,
)
from .clock import TimerHandle, Timers
from .greetings import Greeting, GreetingContext

if TYPE_CHECKING:
    from .callbacks import EventBus
    from .engine import Engine
    from .guard import GuardLike
    from .health import SessionHealth
    from .microphone import MicrophoneUplink
    from .playout import Speaker

__all__ = ["Driver"]

log = logging.getLogger("voicelive_proactive")


class Driver:
    """Performs an :class:`~voicelive_proactive.engine.Engine`'s actions on one event loop."""

    def __init__(
        self,
        engine: Engine,
        *,
        send: Callable[[Any], Awaitable[None]],
        speaker: Speaker,
        guard: GuardLike,
        events: EventBus,
        health: SessionHealth,
        timers: Timers,
        microphone: MicrophoneUplink,
        context: Callable[[], GreetingContext],
        on_exhausted: Callable[[], Awaitable[None] | None] | None,
    ) -> None:
        self.engine = engine
        self.loop: asyncio.AbstractEventLoop | None = None
        self.timers = timers
        self._send = send
        self._speaker = speaker
        self._guard = guard
        self._events = events
        self._health = health
        self._microphone = microphone
        self._context = context
        self._on_exhausted = on_exhausted
        self._wire: deque[Send] = deque()
        self._sending: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._preparing: dict[int, asyncio.Task[Any]] = {}
        self._releases: set[asyncio.Future[None]] = set()
        self._timer: TimerHandle | None = None
        self._timer_version = -1
        self._raise: BaseException | None = None
        self._do: dict[type, Callable[[Any], None]] = {
            Send: self._wire.append,
            QueueAudio: lambda a: speaker.queue(a.pcm),
            FlushAudio: self._flush_audio,
            PauseAudio: lambda a: engine.paused(speaker.pause(), timers.now()),
            ResumeAudio: lambda a: speaker.resume(),
            WatchPlayout: lambda a: speaker.mark(a.position),
            Prepare: self._prepare,
            Abandon: self._abandon,
            Emit: self._emit,
            Finished: lambda a: a.speech.handle._finish(),
            ConfigureAudio: lambda a: speaker.configure(a.output, a.input),
            StartMicrophone: self._start_microphone,
            Exhausted: self._exhausted,
            ReleaseGuard: self._release_guard,
            Raise: self._keep_error,
        }

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.timers.bind(loop)
        self._speaker.bind(loop)

    # -- performing

    def drain(self) -> None:
        """Perform every action the engine has produced (sends are queued for :meth:`flush`).

        An action's report to the engine may produce more actions; they are performed right
        after it, before the rest, so that the order of effects is the engine's order. The
        answer to a :class:`Prepare` is the exception: the engine went on without it, so
        what the answer causes comes after the rest (a give-back of the app's setting that
        the engine decided before must not land after the next speech's override).
        """
        engine = self.engine
        pending: deque[Action] = deque(engine.take())
        do = self._do
        while pending:
            action = pending.popleft()
            try:
                do[type(action)](action)
            except Exception as exc:  # a library bug must not take the app's loop down
                log.exception("voicelive-proactive: internal error performing %r", action)
                self._health.record("internal_errors", exc, f"internal error performing {action!r}")
            more = engine.take()
            if more:
                if type(action) is Prepare:
                    pending.extend(more)
                else:
                    pending.extendleft(reversed(more))
        if engine.core.deadlines.version != self._timer_version:
            self._arm_timer()

    async def perform(self) -> None:
        """:meth:`drain`, then put the queued events on the wire; raise what ``raise_errors``
        asked for."""
        self.drain()
        while self._wire:
            await self._flush()
        error, self._raise = self._raise, None
        if error is not None:
            raise error

    def kick(self) -> None:
        """:meth:`drain` from a callback: sends go out in a task."""
        self.drain()
        if self._wire:
            self.spawn(self._flush())

    async def _flush(self) -> None:
        """Send the queued events in order (one sender at a time)."""
        if self._sending is None:
            self._sending = asyncio.Lock()
        async with self._sending:
            wire, send = self._wire, self._send
            while wire:
                action = wire.popleft()
                try:
                    await send(action.event)
                except Exception as exc:
                    log.warning(
                        "voicelive-proactive: could not send %s: %s", action.event["type"], exc
                    )
                    self.engine.send_failed(action, exc, self.timers.now())
                    self.drain()

    def _flush_audio(self, action: FlushAudio) -> None:
        speaker = self._speaker
        # Closing: the speaker stops anyway. A pause says what was left unplayed without
        # dropping it (a test's MemoryAudioIO still shows everything it was given).
        closing = action.closing and speaker.can_pause
        unplayed = speaker.pause() if closing else speaker.flush()
        self.engine.flushed(action, unplayed, self.timers.now())

    def _emit(self, action: Emit) -> None:
        if self._events.active:
            self._events.emit(action.event, self.loop)

    def _keep_error(self, action: Raise) -> None:
        self._raise = action.error

    # -- user code

    def _prepare(self, action: Prepare) -> None:
        """Ask the guard, or render a strategy: synchronously if it answers at once."""
        engine, now = self.engine, self.timers.now
        speech = action.speech
        try:
            if action.index is None:
                answer: Any = self._guard.try_acquire()
            else:
                answer = speech.alternatives[action.index].render(self._context())
        except Exception as exc:
            if not action.ahead:
                engine.prepared(action.token, error=exc, now=now())
            return
        if (
            answer.__class__ is bool
            or answer.__class__ is Greeting
            or not inspect.isawaitable(answer)
        ):
            engine.prepared(action.token, answer, now=now())
        elif action.ahead:
            if inspect.iscoroutine(answer):
                answer.close()  # async: it renders when due, in a task
        else:
            task = self.spawn(self._later(action.token, answer))
            if task is not None:
                self._preparing[action.token] = task

    async def _later(self, token: int, answer: Awaitable[Any]) -> None:
        try:
            result = await answer
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._preparing.pop(token, None)
            self.engine.prepared(token, error=exc, now=self.timers.now())
        else:
            self._preparing.pop(token, None)
            self.engine.prepared(token, result, now=self.timers.now())
        await self.perform_quietly()

    async def perform_quietly(self) -> None:
        """:meth:`perform` from a task nobody awaits: ``raise_errors`` failures are in the
        outcome already."""
        try:
            await self.perform()
        except Exception as exc:
            log.debug("voicelive-proactive: %s", exc)

    def _abandon(self, action: Abandon) -> None:
        task = self._preparing.pop(action.token, None)
        if task is not None:
            task.cancel()

    def _exhausted(self, action: Exhausted) -> None:
        callback = self._on_exhausted
        if callback is None:
            return

        async def call() -> None:  # a task of its own: it may close the session
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._health.record("callback_errors", exc, "on_exhausted raised")

        self.spawn(call())

    def _release_guard(self, action: ReleaseGuard) -> None:
        release = getattr(self._guard, "release", None)
        if not callable(release):
            return
        try:
            result = release()
        except Exception as exc:
            self._health.record("internal_errors", exc, "the guard's release() raised")
            return
        if inspect.isawaitable(result):

            async def wait() -> None:  # it outlives the session if it must: it is the guard's
                try:
                    await result
                except Exception as exc:
                    self._health.record("internal_errors", exc, "the guard's release() raised")

            task = asyncio.ensure_future(wait())
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

    def _start_microphone(self, action: StartMicrophone) -> None:
        audio = self._speaker.audio
        if audio is None or self.loop is None:
            return
        try:
            self._microphone.start(audio, self.loop)
        except Exception as exc:
            self._microphone.stop()
            self._health.record("microphone_errors", exc, "the microphone failed to start")

    # -- time and playout

    def _arm_timer(self) -> None:
        deadlines = self.engine.core.deadlines
        self._timer_version = deadlines.version
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        at = deadlines.next()
        if at is None or (self.loop is None and not _manual(self.timers)):
            return
        self._timer = self.timers.call_later(at - self.timers.now(), self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_version = -1
        self.engine.handle_timer(self.timers.now())
        self.kick()

    def played(self, position: int) -> None:
        """The speaker reports everything before ``position`` heard (on the loop)."""
        self.engine.played(position, self.timers.now())
        self.kick()

    # -- tasks

    def spawn(self, coro: Any) -> asyncio.Task[Any] | None:
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            return None
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        """Stop the timer and every task but the caller's own (a callback may be closing)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        mic = self._microphone.stop()
        if mic is not None:
            tasks.append(mic)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._releases:  # a guard giving back its yes finishes (it is bounded by its timeout)
            await asyncio.gather(*self._releases, return_exceptions=True)


def _manual(timers: Timers) -> bool:
    return timers.manual


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# Python 3.10's asyncio.Lock binds a loop on first use, so it is made lazily in _flush.
_PY310 = sys.version_info < (3, 11)
