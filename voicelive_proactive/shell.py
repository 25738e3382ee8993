"""The engine's I/O: it performs the engine's actions on an event loop.

:class:`Driver` is the only place where the engine meets asyncio, the connection, the speaker
and user code. It builds the engine with its I/O parts (the speaker, the microphone, the
timers), feeds it the connection's events, takes its actions in order and performs them:
events go on the wire (in order, one sender at a time), audio goes to the speaker, guards and
strategies run (at once when they answer synchronously, in a task when they must be
awaited), callbacks are scheduled, and one timer is kept armed for the engine's next
deadline. Reports go back into the engine as they come (a flush's dropped bytes, a playout
report, a strategy's greeting). Which loop all this runs on is the
:class:`~voicelive_proactive.binding.LoopBinding`'s to say.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._validation import check_callback
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
from .binding import LoopBinding
from .callbacks import EventBus
from .clock import TimerHandle, Timers
from .core import EngineConfig
from .engine import Engine, Malformed
from .greetings import Greeting, GreetingContext
from .health import SessionHealth
from .microphone import MicrophoneUplink
from .playout import Speaker
from .sending import Sender

if TYPE_CHECKING:
    from azure.ai.voicelive.aio import VoiceLiveConnection

    from .audio.base import AudioIO
    from .guard import GuardLike

__all__ = ["Driver"]

log = logging.getLogger("voicelive_proactive")


class Driver:
    """Builds an :class:`~voicelive_proactive.engine.Engine` with its I/O, feeds it the
    connection, and performs its actions on one event loop."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        greeting: tuple[Any, ...],
        conn: VoiceLiveConnection,
        audio: AudioIO | None,
        clock: Callable[[], float],
        guard: GuardLike | None,
        context: Mapping[str, Any] | None,
        now: Callable[[], datetime] | None,
    ) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        """The session was closed (``aclose()``): the speaker's reports stop counting."""
        self.reading = False  # run() is iterating the connection
        self.context = context
        """The values strategies render with (``update_context()`` replaces them)."""
        self.health = health = SessionHealth()
        self.events = EventBus(health)
        self.timers = timers = Timers(clock)
        ids = map(f"vp_{secrets.token_hex(4)}_{{}}".format, itertools.count(1))
        speaker = Speaker(audio, timers=timers, health=health, on_played=self.played)
        self.speaker = speaker
        self.binding = LoopBinding(self)
        # Whether proactive speech can pause (for a cough) is the audio backend's to say.
        # With no guard given, the session's own would say yes the first time: not asked.
        config = dataclasses.replace(
            config, can_pause=speaker.can_pause, asks_guard=guard is not None
        )
        self.engine = Engine(
            config, ids=ids, greeting=greeting, make_handle=self.binding.handle_for
        )
        self.microphone = MicrophoneUplink(conn.send, ids)
        self._conn = conn
        self._guard = guard
        self._now = now
        self._on_exhausted = config.nudge.on_exhausted if config.nudge is not None else None
        self.sender = Sender(conn.send, self._send_failed)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._preparing: dict[int, asyncio.Task[Any]] = {}
        self._releases: set[asyncio.Future[None]] = set()
        self._timer: TimerHandle | None = None
        self._timer_version = -1
        self._raise: BaseException | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.timers.bind(loop)
        self.speaker.bind(loop)

    # -- the connection

    async def handle(self, event: Any) -> None:
        """One server event into the engine, then its actions. A malformed event is skipped
        and a library bug recorded; neither is raised into the app's loop."""
        if self.loop is None:
            self.binding.bind(asyncio.get_running_loop())
        try:
            self.engine.receive(event, self.timers.now())
        except Exception as exc:
            self._not_handled(exc, _type_of(event))
        await self.perform()

    def _not_handled(self, exc: Exception, kind: object) -> None:
        """A malformed event is skipped (and counted); a library bug must not take the app's
        loop down (it is logged and counted)."""
        if isinstance(exc, Malformed):
            self.health.record("malformed_events", exc, f"skipped a malformed {kind} event")
        else:
            log.exception("voicelive-proactive: internal error handling %s", kind)
            self.health.record("internal_errors", exc, "internal error handling an event")

    async def read(
        self,
        handle: Callable[[Any], Awaitable[None]],
        on_event: Callable[[Any], Awaitable[None] | None] | None,
    ) -> None:
        """Iterate the connection into ``handle`` (then ``on_event``) until it ends or the
        session closes. A dropped connection or an unreadable frame ends it; it is recorded,
        not raised, and the engine is told the connection is gone."""
        if on_event is not None:
            check_callback("run(on_event=...)", on_event, 1, what="the server event")
        if self.reading:
            raise RuntimeError("run() is already iterating this connection.")
        self.binding.bind(asyncio.get_running_loop())
        self.reading = True
        error: BaseException | None = None
        try:
            async for event in self._conn:
                if self._closed_now():  # closed while the next event was on its way
                    break
                await handle(event)
                if on_event is not None:
                    result = on_event(event)
                    if inspect.isawaitable(result):
                        await result
                if self._closed_now():
                    break
        except Exception as exc:
            from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError

            if not isinstance(exc, SdkConnectionError):
                raise
            log.warning("voicelive-proactive: connection ended: %s", exc)
            error = exc
        finally:
            self.reading = False
            self.microphone.stop()
        if not self.closed:
            why = "the connection failed" if error is not None else "the connection closed"
            self.engine.connection_lost(why, self.timers.now(), error)
            self.drain()

    def _closed_now(self) -> bool:
        return self.closed  # read again after an await (the session may have closed)

    def update_context(self, values: Mapping[str, Any]) -> None:
        self.context = {**(self.context or {}), **values}
        self.binding.call(self.engine.context_changed)

    def render_context(self) -> GreetingContext:
        return GreetingContext(
            self.context,
            session_id=self.engine.core.session_id,
            now=self._now() if self._now is not None else None,
        )

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
        do = _PERFORM
        while pending:
            action = pending.popleft()
            try:
                do[type(action)](self, action)
            except Exception as exc:  # a library bug must not take the app's loop down
                log.exception("voicelive-proactive: internal error performing %r", action)
                self.health.record("internal_errors", exc, f"internal error performing {action!r}")
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
        engine, sender = self.engine, self.sender
        while True:
            self.drain()
            while sender.wire:
                await sender.flush()
            if not engine.behind:
                break
            # The greeting is on the wire: now the rest of the event that sent it.
            try:
                engine.catch_up()
            except Exception as exc:
                self._not_handled(exc, "session.updated")
        error, self._raise = self._raise, None
        if error is not None:
            raise error

    def kick(self) -> None:
        """:meth:`drain` from a callback: sends go out in a task."""
        self.drain()
        if self.sender.wire:
            self.spawn(self.sender.flush())

    def _send_failed(self, action: Send, error: Exception) -> None:
        self.engine.send_failed(action, error, self.timers.now())
        self.drain()

    def _queue_audio(self, action: QueueAudio) -> None:
        speaker, pcm = self.speaker, action.pcm
        speaker.queue(pcm)
        # The agent is audible: the microphone sends a voice at once (barge-in latency).
        self.microphone.agent_audio(len(pcm) / speaker.output.bytes_per_second)

    def _flush_audio(self, action: FlushAudio) -> None:
        speaker = self.speaker
        # Closing: the speaker stops anyway. A pause says what was left unplayed without
        # dropping it (a test's MemoryAudioIO still shows everything it was given).
        closing = action.closing and speaker.can_pause
        unplayed = speaker.pause() if closing else speaker.flush()
        self.engine.flushed(action, unplayed, self.timers.now())

    def _emit(self, action: Emit) -> None:
        if self.events.active:
            self.events.emit(action.event, self.loop)

    def _keep_error(self, action: Raise) -> None:
        self._raise = action.error

    # -- user code

    def _prepare(self, action: Prepare) -> None:
        """Ask the guard, or render a strategy: synchronously if it answers at once."""
        engine, now = self.engine, self.timers.now
        speech = action.speech
        try:
            if action.index is None:
                guard = self._guard
                answer: Any = guard.try_acquire() if guard is not None else True
            else:
                answer = speech.alternatives[action.index].render(self.render_context())
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
                self.health.record("callback_errors", exc, "on_exhausted raised")

        self.spawn(call())

    def _release_guard(self, action: ReleaseGuard) -> None:
        release = getattr(self._guard, "release", None)
        if not callable(release):
            return
        try:
            result = release()
        except Exception as exc:
            self.health.record("internal_errors", exc, "the guard's release() raised")
            return
        if inspect.isawaitable(result):

            async def wait() -> None:  # it outlives the session if it must: it is the guard's
                try:
                    await result
                except Exception as exc:
                    self.health.record("internal_errors", exc, "the guard's release() raised")

            task = asyncio.ensure_future(wait())
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

    def _start_microphone(self, action: StartMicrophone) -> None:
        audio = self.speaker.audio
        if audio is None or self.loop is None:
            return
        try:
            self.microphone.start(audio, self.loop, self.speaker.input)
        except Exception as exc:
            self.microphone.stop()
            self.health.record("microphone_errors", exc, "the microphone failed to start")

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
        if self.closed:
            return
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

    async def close(self, why: str) -> None:
        """Close the engine, then stop every part of the shell (the caller makes it once)."""
        self.closed = True
        self.engine.close(why, self.timers.now())
        self.drain()
        await self.aclose()
        self.speaker.close()
        await self.events.aclose()

    async def aclose(self) -> None:
        """Stop the timer and every task but the caller's own (a callback may be closing)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        mic = self.microphone.stop()
        if mic is not None:
            tasks.append(mic)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._releases:  # a guard giving back its yes finishes (it is bounded by its timeout)
            await asyncio.gather(*self._releases, return_exceptions=True)


#: How the shell performs each kind of action (one table for every session).
_PERFORM: dict[type, Callable[[Driver, Any], None]] = {
    Send: lambda d, a: d.sender.wire.append(a),
    QueueAudio: Driver._queue_audio,
    FlushAudio: Driver._flush_audio,
    PauseAudio: lambda d, a: d.engine.paused(d.speaker.pause(), d.timers.now()),
    ResumeAudio: lambda d, a: d.speaker.resume(),
    WatchPlayout: lambda d, a: d.speaker.mark(a.position),
    Prepare: Driver._prepare,
    Abandon: Driver._abandon,
    Emit: Driver._emit,
    Finished: lambda d, a: a.speech.handle._finish(),
    ConfigureAudio: lambda d, a: d.speaker.configure(a.output, a.input),
    StartMicrophone: Driver._start_microphone,
    Exhausted: Driver._exhausted,
    ReleaseGuard: Driver._release_guard,
    Raise: Driver._keep_error,
}


def _manual(timers: Timers) -> bool:
    return timers.manual


def _type_of(event: Any) -> object:
    try:
        return event["type"]
    except (TypeError, KeyError):
        return getattr(event, "type", None)
