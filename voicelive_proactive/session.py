"""``ProactiveSession``: the agent speaks first, and later, on an existing Voice Live connection.

Every rule lives in the :class:`~voicelive_proactive.engine.Engine`, which does no I/O. The
session is the public face of the shell around it: a
:class:`~voicelive_proactive.shell.Driver` reads the connection, feeds the engine and
performs what it asks (sends, audio, user code, timers), and a
:class:`~voicelive_proactive.binding.LoopBinding` hands the app's threads and loops to the
session's loop. No fault escapes into the app's loop.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

from ._validation import (
    check_bool,
    check_callback,
    check_clock,
    check_connection,
    check_context,
    check_guard,
    resolve_audio,
)
from .audio.base import AudioIO
from .audio.formats import AudioFormat
from .binding import running_loop
from .callbacks import Callback
from .errors import ConfigurationError, SessionClosedError
from .events import ProactiveEvent
from .greetings import Greeting, StrategyLike, as_strategy, check_fields
from .guard import GuardLike
from .health import SessionHealth
from .hello import GreetWhen
from .interruptions import InterruptionPolicy
from .lifecycle import IfUserSpeaking, SpeechKind, SpeechState
from .nudge import IdleNudge
from .options import UNSET, engine_config, greet_when_from
from .outcome import GreetingMetrics, GreetingOutcome
from .shell import Driver
from .speech import Speech

if TYPE_CHECKING:
    from azure.ai.voicelive.aio import VoiceLiveConnection

__all__ = ["DEFAULT", "DEFAULT_RENDER_TIMEOUT", "ProactiveSession"]

log = logging.getLogger("voicelive_proactive")


class _Default(enum.Enum):
    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "DEFAULT"


#: Use the default sound device (``SounddeviceAudioIO()``) for audio.
DEFAULT: Final = _Default.DEFAULT

#: Seconds a strategy may take to render (and an async guard to answer) before the next
#: alternative is tried. Long enough for a CRM lookup; short enough that a caller hears
#: something before giving up on the call.
DEFAULT_RENDER_TIMEOUT: Final = 5.0

E = TypeVar("E", bound=ProactiveEvent)

_CLOSED: Final = (
    "This ProactiveSession is closed (aclose() or the end of `async with`); create a new one "
    "for a new connection."
)


class ProactiveSession:
    """Makes the agent speak first on a Voice Live connection, exactly once, and later on cue.

    Feed it every server event, in the app's own loop::

        proactive = ProactiveSession(conn, greeting=TemplateGreeting("Hi {name}!"),
                                     context={"name": "Lisa"})
        async for event in conn:
            await proactive.handle(event)

    or let it drive the loop with :meth:`run`, trigger the greeting yourself with
    :meth:`greet`, and speak again later with :meth:`say`. The rules:
    [the floor](../concepts/floor.md) and [when speech fires](../concepts/when-speech-fires.md).

    Args:
        conn: An ``azure.ai.voicelive.aio.VoiceLiveConnection`` (or a ``FakeConnection``).
        greeting: A strategy, a ``str`` (spoken as is) or ``(GreetingContext) -> Greeting``.
        context: Values for templates and strategies (``context["name"]``). A template
            field missing from it raises :class:`MissingContextFieldError` here, unless a
            fallback alternative can do without. ``None`` means "not known yet".
        audio: Where sound goes: ``DEFAULT`` opens the default sound device, ``None``
            leaves audio to the app, or any :class:`AudioIO`.
        guard: Decides "once". ``None``: once per session (nothing to ask). Share an
            :class:`OnceGuard` to greet once across sessions, or use a shared store
            (:class:`RedisOnceGuard`) across processes; a guard given is asked first.
        greet_when: ``"ready"`` (when the session is ready: the default), ``"manual"`` (only
            when :meth:`greet` is called) or :class:`AfterHello` (outbound calls: right
            after the callee's "hello"). A :class:`PrerecordedGreeting` with ``"ready"``
            plays the moment the session starts.
        greet_on_ready: Deprecated: ``greet_on_ready=False`` is ``greet_when="manual"``.
        skip_if_user_spoke: Skip the greeting when the user started speaking first.
        truncate_on_barge_in: Tell the service how much of interrupted proactive speech was
            heard (``conversation.item.truncate``).
        raise_errors: Let greeting failures escape from :meth:`handle` and :meth:`greet`
            as :class:`GreetingFailedError`. Off by default.
        clock: Monotonic clock (seconds) for metrics and timers. A
            :class:`~voicelive_proactive.clock.Clock` (such as ``testing.ManualClock``)
            also runs the timers, so tests need not sleep.
        now: Wall clock for :attr:`GreetingContext.now`.
        render_timeout: Seconds a strategy (or an async guard) may take; ``None`` waits.
        interruptible: ``False``: proactive speech is heard in full (user speech neither
            stops nor truncates it; the service is told ``interrupt_response: false``).
        resume_greeting: Spoken instead of ``greeting`` when the guard says this
            conversation was greeted already (a reconnect); ``outcome.resumed`` records it.
        nudge: Speak up when the conversation goes idle (:class:`IdleNudge`).
        echo_guard_ms: Ignore user speech during the first N ms *heard* of each proactive
            speech (its own echo in a room without echo cancellation).
        interruptions: :class:`InterruptionPolicy`: a cough pauses proactive speech instead
            of cutting it off (with an audio backend that can pause).
        word_timestamps: Ask the service for word timestamps, so ``outcome.heard_text`` is
            exact.
    """

    def __init__(
        self,
        conn: VoiceLiveConnection,
        *,
        greeting: StrategyLike,
        context: Mapping[str, Any] | None = None,
        audio: AudioIO | _Default | None = DEFAULT,
        guard: GuardLike | None = None,
        greet_when: GreetWhen = "ready",
        greet_on_ready: bool = UNSET,
        skip_if_user_spoke: bool = True,
        truncate_on_barge_in: bool = True,
        raise_errors: bool = False,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
        render_timeout: float | None = DEFAULT_RENDER_TIMEOUT,
        interruptible: bool = True,
        resume_greeting: StrategyLike | None = None,
        nudge: IdleNudge | None = None,
        echo_guard_ms: int = 0,
        interruptions: InterruptionPolicy | None = None,
        word_timestamps: bool = False,
    ) -> None:
        check_connection(conn)
        when = greet_when_from(greet_when, greet_on_ready)
        check_clock(clock)
        if now is not None:
            check_callback("now", now, 0, allow_async=False)
        check_guard(guard)
        strategy = self._strategy = as_strategy(greeting)
        resume = as_strategy(resume_greeting) if resume_greeting is not None else None
        values = check_context(context)
        if values is not None:
            check_fields(strategy, values)
        self._audio = resolve_audio(audio, default=isinstance(audio, _Default))
        config = engine_config(
            greet_when=when,
            skip_if_user_spoke=skip_if_user_spoke,
            truncate_on_barge_in=truncate_on_barge_in,
            raise_errors=raise_errors,
            render_timeout=render_timeout,
            interruptible=interruptible,
            resume=resume,
            nudge=nudge,
            echo_guard_ms=echo_guard_ms,
            interruptions=interruptions,
            word_timestamps=word_timestamps,
        )
        # The shell: the engine, its I/O and the loop it runs on (see shell.py, binding.py).
        self._driver = driver = Driver(
            config,
            greeting=strategy.alternatives(),
            conn=conn,
            audio=self._audio,
            clock=clock,
            guard=guard,
            context=values,
            now=now,
        )
        self._engine, self._timers, self._binding = driver.engine, driver.timers, driver.binding
        self._binding.bind(running_loop())

    # -- public state

    @property
    def outcome(self) -> GreetingOutcome:
        """What happened to the greeting so far."""
        return self._engine.greeting.outcome

    @property
    def metrics(self) -> GreetingMetrics:
        """Timestamps of the greeting's milestones and the delays between them."""
        return self._engine.greeting.metrics

    @property
    def greeting(self) -> Speech:
        """The greeting as a :class:`Speech` (its outcome, metrics, ``wait()``, ``cancel()``)."""
        handle: Speech = self._engine.greeting.handle
        return handle

    @property
    def audio(self) -> AudioIO | None:
        """The audio backend in use (``None`` when the app handles audio)."""
        return self._audio

    @property
    def session_id(self) -> str | None:
        """The service's session id, once known."""
        return self._engine.core.session_id

    @property
    def output_format(self) -> AudioFormat:
        """The agent's audio format, as negotiated in ``session.updated``."""
        return self._driver.speaker.output

    @property
    def input_format(self) -> AudioFormat:
        """The microphone's audio format, as negotiated in ``session.updated``."""
        return self._driver.speaker.input

    @property
    def health(self) -> SessionHealth:
        """Faults the session absorbed (audio, microphone, malformed events, callbacks)."""
        return self._driver.health

    @property
    def mic_frames_dropped(self) -> int:
        """Microphone blocks dropped because the connection could not keep up."""
        return self._driver.microphone.frames_dropped

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._driver.closed

    @property
    def finished(self) -> bool:
        """The greeting is over on the service (spoken or cut off), or was skipped or failed.
        :meth:`wait` returns at this point; ``outcome.settled`` follows once it played."""
        return self.greeting.done

    @property
    def protected(self) -> bool:
        """Speech the user cannot cut off is playing (or about to): with ``audio=None``, do
        not flush your player on barge-in while this is true."""
        return bool(self._engine.core.floor.protected)

    @property
    def pending_speech(self) -> tuple[Speech, ...]:
        """Proactive speech waiting for its turn or being spoken, in order."""
        return tuple(s.handle for s in self._engine.agenda.pending())

    def update_context(self, **values: Any) -> None:
        """Add or change context values before the greeting (or a later speech) renders."""
        self._driver.update_context(values)

    @overload
    def on(self, event_type: type[E], callback: Callback[E]) -> Callable[[], None]: ...

    @overload
    def on(self, event_type: type[E]) -> Callable[[Callback[E]], Callback[E]]: ...

    def on(self, event_type: type[E], callback: Callback[E] | None = None) -> Any:
        """Call ``callback(event)`` for every event of ``event_type`` (a class from
        :mod:`voicelive_proactive.events`; :class:`ProactiveEvent` for all of them).

        ``callback`` may be sync or async; it runs on the session's loop after the event,
        never inside :meth:`handle`. Returns a function that unsubscribes. Without
        ``callback``, works as a decorator.
        """
        if callback is None:
            return self._driver.events.on(event_type)
        return self._driver.events.on(event_type, callback)

    # -- entry points

    async def handle(self, event: Any) -> None:
        """Process one server event. Call it for every event, in order; it returns quickly.

        A malformed event is skipped and faults are recorded in :attr:`health`; nothing is
        raised into the app's loop unless ``raise_errors`` asked for greeting failures.
        """
        self._ensure_open()
        await self._driver.handle(event)

    async def run(
        self, *, on_event: Callable[[Any], Awaitable[None] | None] | None = None
    ) -> GreetingOutcome:
        """Iterate the connection until it closes, handling every event; return the outcome.

        ``on_event`` (sync or async) sees every event after the session has. A dropped
        connection or an unreadable frame ends the run; it is recorded, not raised.
        """
        self._ensure_open()
        await self._driver.read(self.handle, on_event)
        return self.outcome

    async def greet(self) -> GreetingOutcome:
        """Make the greeting due now (still at most once, and never over a response).

        Safe from any thread: a call from another thread or loop is handed to the session's
        loop. Returns the outcome as it stands then (``pending`` while it waits its turn).
        """
        self._ensure_open()
        return await self._binding.greet()

    def say(
        self,
        what: StrategyLike | Greeting,
        *,
        interruptible: bool | None = None,
        if_user_speaking: IfUserSpeaking = "wait",
        expires_in: float | None = None,
        key: str | None = None,
    ) -> Speech:
        """Queue proactive speech and return its :class:`Speech` handle at once.

        ``what`` is anything a greeting can be. It waits its turn (never over another
        response, in order behind other proactive speech) and follows the greeting's rules,
        without the "once" guard. ``interruptible`` defaults to the session's setting.
        ``if_user_speaking``: ``"wait"`` until the user's turn is over and answered,
        ``"skip"`` it, or ``"speak"`` anyway. ``expires_in``: seconds it may wait to start
        before it is skipped as stale. ``key``: a newer speech with the same key replaces
        this one while it waits. A plain call, safe from any thread (``await speech`` gives
        its outcome).
        """
        self._ensure_open()
        state = _speech_state(
            self._engine.greeting, what, interruptible, if_user_speaking, expires_in, key
        )
        return self._binding.say(state, expires_in)

    def activity(self) -> None:
        """The app saw the user active (a key press, a DTMF digit, a chat message): restart
        the idle timer and the count of unanswered nudges. Safe from any thread."""
        self._binding.call(lambda: self._engine.activity(self._timers.now()))

    def pause_nudges(self) -> None:
        """Hold the idle timer (the user muted, or is reading something) until resumed."""
        self._binding.call(lambda: self._engine.pause_nudges(True, self._timers.now()))

    def resume_nudges(self) -> None:
        """Let the idle timer run again; idleness counts from now."""
        self._binding.call(lambda: self._engine.pause_nudges(False, self._timers.now()))

    async def wait(self, *, timeout: float | None = None) -> GreetingOutcome:
        """Wait until the greeting is over on the service, was skipped or failed.

        Raises the built-in ``TimeoutError`` when ``timeout`` seconds pass first.
        """
        return await self.greeting.wait(timeout=timeout)

    async def aclose(self) -> None:
        """Stop capture, playback and timers, and release the audio device. Safe twice, and
        from inside an event callback or ``on_exhausted``.

        Speech not delivered yet ends as ``failed`` ("the session was closed ..."). Any later
        call to :meth:`handle`, :meth:`run`, :meth:`greet` or :meth:`say` raises
        :class:`SessionClosedError`.
        """
        if self._driver.closed:
            return
        await self._driver.close("the session was closed")

    async def __aenter__(self) -> ProactiveSession:
        self._ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        engine = self._engine
        state = "closed" if self._driver.closed else ("ready" if engine.ready else "new")
        return (
            f"<ProactiveSession {state} greeting={self.outcome.status.value} "
            f"strategy={self._strategy!r} queued={len(self.pending_speech)}>"
        )

    def _ensure_open(self) -> None:
        if self._driver.closed:
            raise SessionClosedError(_CLOSED)


def _speech_state(
    greeting: SpeechState,
    what: object,
    interruptible: object,
    if_user_speaking: object,
    expires_in: object,
    key: object,
) -> SpeechState:
    """A new ``say()``'s state, its options checked."""
    strategy = as_strategy(what)  # type: ignore[arg-type]
    if interruptible is None:
        interruptible = greeting.interruptible
    check_bool("interruptible", interruptible)
    if if_user_speaking not in ("wait", "skip", "speak"):
        raise ConfigurationError(
            f'if_user_speaking must be "wait", "skip" or "speak", not {if_user_speaking!r}'
        )
    if expires_in is not None and (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, (int, float))
        or not 0 < expires_in < float("inf")
    ):
        raise ConfigurationError(
            f"expires_in must be a positive number of seconds, not {expires_in!r}"
        )
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise ConfigurationError(f"key must be a non-empty str (or None), not {key!r}")
    return SpeechState(
        SpeechKind.SAY,
        strategy.alternatives(),
        interruptible=bool(interruptible),
        if_user_speaking=if_user_speaking,
        key=key,
    )


def _type_of(event: Any) -> object:
    try:
        return event["type"]
    except (TypeError, KeyError):
        return getattr(event, "type", None)
