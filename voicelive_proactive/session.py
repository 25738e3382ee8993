"""``ProactiveSession``: the agent speaks first, and later, on an existing Voice Live connection.

The session is a thin layer of I/O over three pieces without any:

* :class:`~voicelive_proactive.floor.Floor` knows who holds the floor (responses, our
  requests, the user, local playout) and which responses are ours;
* :class:`~voicelive_proactive.speech.Speech` objects (the greeting, ``say()``, nudges) wait
  in one queue and go out one at a time when the floor is free;
* :class:`~voicelive_proactive.playout.Speaker` plays audio and says when playout ended.

``handle(event)`` turns one server event into floor calls, acts on the facts that come back
(send, cancel, truncate, settle an outcome) and returns. It never awaits user code:
strategies that are ``async`` and async guards run in tasks, with a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import enum
import inspect
import itertools
import logging
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

from ._validation import check_bool, check_connection, check_context, check_timeout, resolve_audio
from .audio.base import AudioIO
from .audio.formats import AudioFormat
from .clock import TimerHandle, Timers
from .errors import (
    ConfigurationError,
    GreetingFailedError,
    GreetingRenderError,
    MissingContextFieldError,
    SessionClosedError,
)
from .events import (
    Callback,
    EventBus,
    FunctionCallRequested,
    NudgeFired,
    NudgesExhausted,
    ProactiveEvent,
    SpeechFailed,
    SpeechFinished,
    SpeechInterrupted,
    SpeechQueued,
    SpeechSkipped,
    SpeechStarted,
)
from .floor import (
    Attributed,
    AudioVerdict,
    Fact,
    Floor,
    FunctionCalled,
    Heard,
    Refuted,
    Rejected,
    Request,
    ResponseEnded,
    UserTurn,
)
from .greetings import (
    Greeting,
    GreetingContext,
    GreetingMode,
    GreetingStrategy,
    StrategyLike,
    as_strategy,
    missing_fields,
)
from .guard import GuardLike, GuardResult, OnceGuard
from .health import SessionHealth
from .interruptions import TurnDetection
from .microphone import MicrophoneUplink
from .nudge import IdleNudge, IdleWatch
from .outcome import FunctionCall, GreetingMetrics, GreetingOutcome, GreetingStatus
from .playout import Speaker
from .speech import IfUserSpeaking, Phase, Speech, SpeechKind
from .wire import cancel_event, greeting_events, truncate_event

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

# After the user stops, how long the service's reply may take to start before proactive
# speech stops waiting for it (create_response replies start within a few hundred ms).
_REPLY_GRACE: Final = 1.5
# With greet_on_ready, how long to wait for session.updated after session.created before
# warning that the app may never have sent session.update.
_READY_WARNING_AFTER: Final = 5.0

E = TypeVar("E", bound=ProactiveEvent)


class ProactiveSession:
    """Makes the agent speak first on a Voice Live connection, exactly once, and later on cue.

    Feed it every server event, in the app's own loop::

        proactive = ProactiveSession(conn, greeting=TemplateGreeting("Hi {name}!"),
                                     context={"name": "Lisa"})
        async for event in conn:
            await proactive.handle(event)

    or let it drive the loop with :meth:`run`, trigger the greeting yourself with
    :meth:`greet`, and speak again later with :meth:`say`. The rules: docs/concepts/.

    Args:
        conn: An ``azure.ai.voicelive.aio.VoiceLiveConnection`` (or a ``FakeConnection``).
        greeting: A strategy, a ``str`` (spoken as is) or ``(GreetingContext) -> Greeting``.
        context: Values for templates and strategies (``context["name"]``). A template
            field missing from it raises :class:`MissingContextFieldError` here, unless a
            fallback alternative can do without. ``None`` means "not known yet": fields
            are then checked at render time.
        audio: Where sound goes: ``DEFAULT`` opens the default sound device, ``None``
            leaves audio to the app, or any :class:`AudioIO`.
        guard: Decides "once". Share an :class:`OnceGuard` to greet once across sessions,
            or use a shared store (:class:`RedisOnceGuard`) across processes.
        greet_on_ready: Greet when the session is ready (first ``session.updated``).
            ``False`` waits for :meth:`greet`.
        skip_if_user_spoke: Skip the greeting when the user started speaking first;
            ``False`` greets anyway.
        truncate_on_barge_in: Tell the service how much of interrupted proactive speech was
            heard (``conversation.item.truncate``).
        raise_errors: Let greeting failures escape from :meth:`handle` and :meth:`greet`
            as :class:`GreetingFailedError`. Off by default: the app's loop never sees them.
        clock: Monotonic clock for :attr:`metrics` and the session's timers (seconds). A
            :class:`~voicelive_proactive.clock.Clock` (such as ``testing.ManualClock``)
            also runs the timers, so tests need not sleep.
        now: Wall clock for :attr:`GreetingContext.now`.
        render_timeout: Seconds a strategy may take to render (and an async guard to
            answer) before it counts as failed; ``None`` waits forever.
        interruptible: ``False``: the greeting is heard in full (user speech neither stops
            nor truncates it; the service is told with ``interrupt_response: false``).
        resume_greeting: Spoken instead of ``greeting`` when the guard says this
            conversation was greeted already (a reconnect); ``outcome.resumed`` records it.
        nudge: Speak up when the conversation goes idle (:class:`IdleNudge`).
        echo_guard_ms: Ignore user speech during the first N ms of each proactive speech's
            audio (its own echo in a room without echo cancellation).
    """

    def __init__(
        self,
        conn: VoiceLiveConnection,
        *,
        greeting: StrategyLike,
        context: Mapping[str, Any] | None = None,
        audio: AudioIO | _Default | None = DEFAULT,
        guard: GuardLike | None = None,
        greet_on_ready: bool = True,
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
    ) -> None:
        check_connection(conn)
        for name, flag in (
            ("greet_on_ready", greet_on_ready),
            ("skip_if_user_spoke", skip_if_user_spoke),
            ("truncate_on_barge_in", truncate_on_barge_in),
            ("raise_errors", raise_errors),
            ("interruptible", interruptible),
        ):
            check_bool(name, flag)
        self._render_timeout = check_timeout(render_timeout)
        if not callable(clock):
            raise ConfigurationError(f"clock must be a function returning seconds, not {clock!r}")
        if now is not None and not callable(now):
            raise ConfigurationError(f"now must be a function returning a datetime, not {now!r}")
        if guard is not None and not callable(getattr(guard, "try_acquire", None)):
            raise ConfigurationError(
                f"guard must have a try_acquire() method (a vp.OnceGuard, a vp.RedisOnceGuard "
                f"or your own GuardLike), not {guard!r}"
            )
        if nudge is not None and not isinstance(nudge, IdleNudge):
            raise ConfigurationError(f"nudge must be a vp.IdleNudge(...), not {nudge!r}")
        if isinstance(echo_guard_ms, bool) or not isinstance(echo_guard_ms, int):
            raise ConfigurationError(f"echo_guard_ms must be an int (ms), not {echo_guard_ms!r}")
        if not 0 <= echo_guard_ms <= 10_000:
            raise ConfigurationError(f"echo_guard_ms must be 0..10000 ms, not {echo_guard_ms}")
        self._conn = conn
        strategy = as_strategy(greeting)
        self._strategy = strategy
        self._resume = as_strategy(resume_greeting) if resume_greeting is not None else None
        self._context: dict[str, Any] | None = check_context(context)
        if self._context is not None:
            self._check_fields(frozenset(self._context))
        if isinstance(audio, _Default):
            from .audio.device import SounddeviceAudioIO

            self._audio: AudioIO | None = SounddeviceAudioIO()
        else:
            self._audio = resolve_audio(audio)
        self._guard: GuardLike = guard if guard is not None else OnceGuard()
        self._greet_on_ready = greet_on_ready
        self._truncate = truncate_on_barge_in
        self._raise_errors = raise_errors
        self._now = now
        self._nudge = nudge
        self._echo_guard_s = echo_guard_ms / 1000

        self._ids = map(f"vp_{secrets.token_hex(4)}_{{}}".format, itertools.count(1))
        self._health = SessionHealth()
        self._events = EventBus(self._health)
        self._timers = Timers(clock)
        self._floor = Floor()
        self._speaker = Speaker(
            self._audio, timers=self._timers, health=self._health, on_played=self._on_played
        )
        self._microphone = MicrophoneUplink(conn.send, self._ids)
        self._greeting = Speech(
            SpeechKind.GREETING,
            strategy.alternatives(),
            interruptible=interruptible,
            if_user_speaking="skip" if skip_if_user_spoke else "speak",
            canceller=self._cancel_from_any_thread,
        )
        self._queue: deque[Speech] = deque()
        self._outbox: list[dict[str, Any]] = []  # best-effort events to send next
        self._unsettled: list[Speech] = []  # done on the service, audio maybe still playing
        self._tasks: set[asyncio.Task[None]] = set()

        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_lock = threading.Lock()
        self._greet_requested = False  # greet() before the session's loop was known
        self._closed = False
        self._running = False
        self._ready = False
        self._session_id: str | None = None
        self._user_spoke = False
        self._turns = TurnDetection(self._ids)
        self._raw_formats: tuple[object, ...] = ("pcm16", "pcm16", 24_000)  # the defaults
        self._first_session: Any = None  # the first session.updated, read after the greeting
        self._reply_timer: TimerHandle | None = None
        self._ready_timer: TimerHandle | None = None
        self._idle = IdleWatch(
            nudge,
            timers=self._timers,
            conversation_idle=self._conversation_idle,
            nudge_due=self._nudge_due,
            exhausted=self._nudges_exhausted,
        )
        self._tool_running = False
        with_loop = _running_loop()
        if with_loop is not None:
            self._bind(with_loop)

    # ------------------------------------------------------------------ public state

    @property
    def outcome(self) -> GreetingOutcome:
        """What happened to the greeting so far."""
        return self._greeting.outcome

    @property
    def metrics(self) -> GreetingMetrics:
        """Timestamps of the greeting's milestones and the delays between them."""
        return self._greeting.metrics

    @property
    def greeting(self) -> Speech:
        """The greeting as a :class:`Speech` (its outcome, metrics, ``wait()``, ``cancel()``)."""
        return self._greeting

    @property
    def audio(self) -> AudioIO | None:
        """The audio backend in use (``None`` when the app handles audio)."""
        return self._audio

    @property
    def session_id(self) -> str | None:
        """The service's session id, once known."""
        return self._session_id

    @property
    def output_format(self) -> AudioFormat:
        """The agent's audio format, as negotiated in ``session.updated``."""
        return self._speaker.output

    @property
    def input_format(self) -> AudioFormat:
        """The microphone's audio format, as negotiated in ``session.updated``."""
        return self._speaker.input

    @property
    def health(self) -> SessionHealth:
        """Faults the session absorbed (audio, microphone, malformed events, callbacks)."""
        return self._health

    @property
    def mic_frames_dropped(self) -> int:
        """Microphone blocks dropped because the connection could not keep up."""
        return self._microphone.frames_dropped

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` has run."""
        return self._closed

    @property
    def finished(self) -> bool:
        """The greeting is over on the service: it finished (or was cut off), or was skipped
        or failed. :meth:`wait` returns at this point; ``outcome.settled`` follows once its
        audio has finished playing."""
        return self._greeting.done

    @property
    def protected(self) -> bool:
        """Speech the user cannot cut off is playing (or about to): with ``audio=None``, do
        not flush your player on barge-in while this is true."""
        return self._floor.protected

    @property
    def pending_speech(self) -> tuple[Speech, ...]:
        """Proactive speech waiting for its turn or being spoken, in order."""
        return tuple(s for s in self._queue if s.phase is not Phase.DONE)

    def update_context(self, **values: Any) -> None:
        """Add or change context values before the greeting (or a later speech) renders."""
        self._context = {**(self._context or {}), **values}
        greeting = self._greeting
        if greeting.phase is Phase.WAITING and greeting.rendered is not None:
            greeting.rendered, greeting.next_alternative, greeting.prepared = None, 0, None

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
            return self._events.on(event_type)
        return self._events.on(event_type, callback)

    # ------------------------------------------------------------------ entry points

    async def handle(self, event: Any) -> None:
        """Process one server event. Call it for every event, in order; it returns quickly.

        Events the session does not care about cost one dictionary lookup. A malformed
        event is skipped, and faults are recorded in :attr:`health`; nothing is raised into
        the app's loop unless ``raise_errors`` asked for greeting failures.
        """
        try:
            event_type = event["type"]  # SDK models are mappings; this skips the slow getattr
        except (TypeError, KeyError):
            event_type = getattr(event, "type", None)
        handler = _HANDLERS.get(event_type)
        if handler is None:
            return
        if self._closed:
            raise SessionClosedError(_CLOSED_MESSAGE)
        if self._loop is None:
            self._bind(asyncio.get_running_loop())
        try:
            needs_pump = handler(self, event)
        except _Malformed as exc:
            self._health.record("malformed_events", exc, f"skipped a malformed {event_type} event")
            return
        except GreetingFailedError:
            raise
        except Exception as exc:  # a library bug must not take the app's loop down
            log.exception("voicelive-proactive: internal error handling %s", event_type)
            self._health.record("internal_errors", exc, f"internal error handling {event_type}")
            return
        if needs_pump or self._outbox:
            try:
                await self._pump()
            finally:
                if self._first_session is not None:
                    self._after_ready()

    async def run(
        self, *, on_event: Callable[[Any], Awaitable[None] | None] | None = None
    ) -> GreetingOutcome:
        """Iterate the connection until it closes, handling every event; return the outcome.

        ``on_event`` (sync or async) sees every event after the session has. A dropped
        connection or an unreadable frame ends the run; it is recorded, not raised.
        """
        self._ensure_open()
        if self._running:
            raise RuntimeError("run() is already iterating this connection.")
        self._bind(asyncio.get_running_loop())
        self._running = True
        try:
            async for event in self._conn:
                await self.handle(event)
                if on_event is not None:
                    result = on_event(event)
                    if inspect.isawaitable(result):
                        await result
                if self._closed:
                    break
        except Exception as exc:
            from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError

            if not isinstance(exc, SdkConnectionError):
                raise
            log.warning("voicelive-proactive: connection ended: %s", exc)
            self._connection_lost("the connection failed", exc)
        finally:
            self._running = False
            self._microphone.stop()
        self._connection_lost("the connection closed")
        return self._greeting.outcome

    async def greet(self) -> GreetingOutcome:
        """Make the greeting due now (still at most once, and never over a response).

        Safe to call from any thread: a call from another thread or loop is handed to the
        session's loop. Returns the outcome as it stands after the attempt: ``pending``
        while the greeting waits for the floor or for the service's answer.
        """
        self._ensure_open()
        loop = self._session_loop()
        if loop is None:
            # Nothing has told us which loop runs the session yet: remember the request and
            # let handle()/run() act on it there (never adopt a short-lived caller's loop).
            with self._thread_lock:
                self._greet_requested = True
            return self._greeting.outcome
        if loop is not _running_loop():
            if not loop.is_running():
                raise RuntimeError(
                    "greet() was called from another thread, but the event loop this session "
                    "runs on has stopped; call greet() while the session's loop is running."
                )
            future = asyncio.run_coroutine_threadsafe(self._greet_here(), loop)
            return await asyncio.wrap_future(future)
        return await self._greet_here()

    async def say(
        self,
        what: StrategyLike | Greeting,
        *,
        interruptible: bool | None = None,
        if_user_speaking: IfUserSpeaking = "wait",
    ) -> Speech:
        """Queue proactive speech and return its :class:`Speech` handle at once.

        ``what`` is anything a greeting can be: a ``str`` (spoken as is), a strategy, a
        :class:`Greeting` or ``(GreetingContext) -> Greeting``. It waits its turn (never over
        another response, in order behind other proactive speech) and follows the greeting's
        rules, without the "once" guard. ``interruptible`` defaults to the session's setting.
        ``if_user_speaking``: ``"wait"`` until the user's turn is over and answered,
        ``"skip"`` it, or ``"speak"`` anyway. Safe to call from any thread.
        """
        self._ensure_open()
        strategy = as_strategy(what)
        if interruptible is None:
            interruptible = self._greeting.interruptible
        check_bool("interruptible", interruptible)
        if if_user_speaking not in ("wait", "skip", "speak"):
            raise ConfigurationError(
                f'if_user_speaking must be "wait", "skip" or "speak", not {if_user_speaking!r}'
            )
        speech = Speech(
            SpeechKind.SAY,
            strategy.alternatives(),
            interruptible=interruptible,
            if_user_speaking=if_user_speaking,
            canceller=self._cancel_from_any_thread,
        )
        loop = self._session_loop()
        if loop is not None and loop is not _running_loop():
            loop.call_soon_threadsafe(self._enqueue_and_pump, speech)
        elif loop is None:
            with self._thread_lock:
                self._queue.append(speech)  # picked up when the session's loop is known
        else:
            self._enqueue_and_pump(speech)
        return speech

    def activity(self) -> None:
        """The app saw the user active (a key press, a DTMF digit, a chat message): restart
        the idle timer and the count of unanswered nudges. Safe from any thread."""
        self._call_in_loop(self._idle.user_active)

    def pause_nudges(self) -> None:
        """Hold the idle timer (the user muted, or is reading something) until resumed."""
        self._call_in_loop(self._idle.pause, True)

    def resume_nudges(self) -> None:
        """Let the idle timer run again; idleness counts from now."""
        self._call_in_loop(self._idle.pause, False)

    async def wait(self, *, timeout: float | None = None) -> GreetingOutcome:
        """Wait until the greeting is over on the service, was skipped or failed.

        Raises the built-in ``TimeoutError`` when ``timeout`` seconds pass first.
        """
        return await self._greeting.wait(timeout=timeout)

    async def aclose(self) -> None:
        """Stop capture, playback and timers, and release the audio device. Safe twice.

        Speech not delivered yet ends as ``failed`` ("the session was closed"). Any later call
        to :meth:`handle`, :meth:`run`, :meth:`greet` or :meth:`say` raises
        :class:`SessionClosedError`.
        """
        if self._closed:
            return
        self._closed = True
        for handle in (self._reply_timer, self._ready_timer):
            if handle is not None:
                handle.cancel()
        self._idle.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        mic = self._microphone.stop()
        if mic is not None:
            tasks.append(mic)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._speaker.close()
        self._end_all("the session was closed")  # "...before the greeting was sent"
        await self._events.aclose()

    async def __aenter__(self) -> ProactiveSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("ready" if self._ready else "new")
        return (
            f"<ProactiveSession {state} greeting={self._greeting.outcome.status.value} "
            f"strategy={self._strategy!r} queued={len(self.pending_speech)}>"
        )

    # ------------------------------------------------------------------ server events
    # Each handler returns True when the floor may have changed so the queue should move.

    def _on_session_created(self, event: Any) -> bool:
        self._session_id = self._session_id or _session_id(event)
        if self._greet_on_ready and not self._ready and self._ready_timer is None:
            self._ready_timer = self._timers.call_later(_READY_WARNING_AFTER, self._warn_not_ready)
            self._render_ahead()
        return False

    def _on_session_updated(self, event: Any) -> bool:
        if self._ready:
            session = _session_of(event)
            self._turns.learn(session)
            self._learn_formats(session)
            return False  # after every session.update; the greeting is due only once
        self._ready = True  # (the ready warning's timer, if any, finds this and stays quiet)
        self._greeting.metrics.session_ready = self._timers.now()
        # Everything else this event says (formats, turn detection, the session id) is read
        # once the greeting is on its way: it is not needed to send it, and reading the SDK's
        # models costs microseconds. Speech the user cannot cut off needs the app's turn
        # detection first, though.
        self._first_session = event
        if not self._greeting.interruptible or self._echo_guard_s:
            self._after_ready()
        if self._greet_on_ready:
            self._make_greeting_due()
        return True

    def _after_ready(self) -> None:
        """What the first ``session.updated`` says, once the greeting is on its way."""
        event, self._first_session = self._first_session, None
        if event is None:
            return
        self._start_microphone()
        try:
            session = _session_of(event)
        except _Malformed as exc:
            self._health.record("malformed_events", exc, "skipped a malformed session.updated")
            return
        self._turns.learn(session)
        session_id = session.get("id")
        if isinstance(session_id, str):
            self._session_id = session_id
        self._learn_formats(session)

    def _on_response_created(self, event: Any) -> bool:
        response = _get(event, "response")
        response_id = _get(response, "id")
        if not isinstance(response_id, str):
            raise _Malformed("response.created without a response id")
        self._tool_running = False
        self._cancel_reply_timer()
        self._apply(self._floor.response_created(response_id, response.get("metadata")))
        view = self._floor.active
        if view is not None and view.request is not None:
            speech = view.request.owner
            assert isinstance(speech, Speech)
            speech.metrics.response_created = self._timers.now()
            if speech.response is None or not speech.response.active:
                speech.response = view
        self._idle.stop()
        return False

    def _on_output_item_added(self, event: Any) -> bool:
        response_id = _get(event, "response_id")
        item = _get(event, "item")
        if not isinstance(item, Mapping):
            raise _Malformed("response.output_item.added without an item")
        if item.get("type") == "function_call":
            # Its arguments come with response.function_call_arguments.done.
            self._apply(
                self._floor.function_call(response_id, item.get("call_id"), item.get("name"), None)
            )
        elif item.get("type") == "message":
            self._floor.message_started(response_id, item.get("id"))
            self._maybe_sent(self._floor.response(response_id))
        return False

    def _on_function_call_done(self, event: Any) -> bool:
        self._apply(
            self._floor.function_call(
                _get(event, "response_id"),
                event.get("call_id"),
                event.get("name"),
                event.get("arguments") or "",
            )
        )
        return False

    def _on_audio_delta(self, event: Any) -> bool:
        response_id = _get(event, "response_id")
        try:
            pcm = _decode_audio(_get(event, "delta"))
        except (binascii.Error, ValueError, TypeError) as exc:
            raise _Malformed(f"undecodable audio: {exc}") from None
        verdict = self._floor.audio(response_id, pcm)
        if verdict is not AudioVerdict.PLAY:
            return False
        self._floor.queued(response_id, len(pcm))
        self._speaker.queue(pcm)
        view = self._floor.response(response_id)
        if view is not None and view.request is not None and view.ours:
            speech = view.request.owner
            assert isinstance(speech, Speech)
            self._on_speech_audio(speech, len(pcm))
        return False

    def _on_transcript(self, event: Any, *, done: bool) -> bool:
        response_id = _get(event, "response_id")
        text = event.get("transcript" if done else "delta")
        if not isinstance(text, str):
            return False
        self._apply(self._floor.transcript(response_id, text, done=done))
        self._maybe_sent(self._floor.response(response_id))
        return False

    def _on_transcript_delta(self, event: Any) -> bool:
        return self._on_transcript(event, done=False)

    def _on_transcript_done(self, event: Any) -> bool:
        return self._on_transcript(event, done=True)

    def _on_response_done(self, event: Any) -> bool:
        response = _get(event, "response")
        response_id = response.get("id") if isinstance(response, Mapping) else None
        if not isinstance(response_id, str):
            raise _Malformed("response.done without a response id")
        details = response.get("status_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        self._apply(self._floor.response_done(response_id, response.get("status"), reason))
        if self._floor.awaiting_tool is None and _ended_in_function_call(response):
            self._tool_running = True  # the app runs a tool; its response follows
        self._speaker.mark(self._floor.playout_position)
        return True

    def _on_speech_started(self, event: Any) -> bool:
        self._floor.speech_started()
        self._cancel_reply_timer()
        self._idle.in_a_row = 0
        self._idle.stop()
        self._user_spoke = True
        greeting = self._greeting
        if (
            greeting.if_user_speaking == "skip"
            and greeting.phase in (Phase.QUEUED, Phase.READY)
            and (self._ready or greeting in self._queue)
        ):
            self._skip(greeting, "the user started speaking before the greeting")
        if self.protected:
            return False  # speech the user cannot cut off plays on
        dropped = self._speaker.flush()
        self._apply(self._floor.barge_in(dropped))
        return False

    def _on_speech_stopped(self, event: Any) -> bool:
        reply = self._turns.reply_expected
        self._floor.speech_stopped(reply_expected=reply)
        if reply:
            self._cancel_reply_timer()
            self._reply_timer = self._timers.call_later(_REPLY_GRACE, self._reply_not_coming)
            return False
        self._idle.update()
        return True

    def _on_item_created(self, event: Any) -> bool:
        item = event.get("item")
        if isinstance(item, Mapping) and item.get("type") == "function_call_output":
            # The app answered a tool call; its response.create should follow at once (and,
            # for a greeting awaiting its tool, that response is the greeting).
            self._cancel_reply_timer()
            self._reply_timer = self._timers.call_later(_REPLY_GRACE, self._reply_not_coming)
        return False

    def _on_error(self, event: Any) -> bool:
        error = event.get("error")
        if not isinstance(error, Mapping):
            raise _Malformed("error event without an error object")
        code = error.get("code")
        message = str(error.get("message") or code or "unknown error")
        facts = self._floor.error(error.get("event_id"), code, message)
        if not facts:
            log.debug("voicelive-proactive: service error not about a request: %s", message)
        self._apply(facts)
        return True

    # ------------------------------------------------------------------ facts

    def _apply(self, facts: list[Fact]) -> None:
        for fact in facts:
            if isinstance(fact, Attributed):
                self._on_attributed(fact)
            elif isinstance(fact, Refuted):
                self._on_refuted(fact)
            elif isinstance(fact, Rejected):
                self._on_rejected(fact)
            elif isinstance(fact, ResponseEnded):
                self._on_response_ended(fact)
            elif isinstance(fact, Heard):
                self._on_heard(fact)
            elif isinstance(fact, FunctionCalled):
                self._on_function_called(fact)

    def _on_attributed(self, fact: Attributed) -> None:
        view = fact.response
        speech = _owner(view.request)
        if speech is None:
            return
        speech.response = view
        if speech.phase in (Phase.REQUESTED, Phase.AWAITING_TOOL):
            speech.phase = Phase.SPEAKING
        if view.queued_bytes and not view.muted:  # it played while only presumed ours
            self._on_speech_audio(speech, view.queued_bytes)
        if view.cancel_due:
            view.cancel_due = False
            self._outbox.append(cancel_event(next(self._ids), view.id))
        self._maybe_sent(view)

    def _on_refuted(self, fact: Refuted) -> None:
        view = fact.response
        for pcm in fact.released:  # somebody else's reply, held back while presumed ours
            self._floor.queued(view.id, len(pcm))
            self._speaker.queue(pcm)

    def _on_rejected(self, fact: Rejected) -> None:
        speech = _owner(fact.request)
        if speech is None or speech.phase is Phase.DONE:
            return
        speech.request = None
        speech.response = None
        speech.metrics.greeting_sent = speech.metrics.response_created = None
        if speech.cancelled:
            self._skip(speech, "cancelled by the app")
            return
        if fact.busy and not fact.request.item_rejected:
            # Another response started first (e.g. server VAD): the same speech, sent later.
            log.info("voicelive-proactive: a response is active; %r waits for it", speech)
            speech.phase = Phase.READY
            if speech.if_user_speaking == "skip" and (
                self._user_spoke or self._floor.user is not UserTurn.SILENT
            ):
                self._skip(speech, "the user started speaking before it could be sent")
            return
        log.warning("voicelive-proactive: the service rejected %r: %s", speech, fact.message)
        speech.errors.append(GreetingFailedError(f"the service rejected it: {fact.message}"))
        speech.rendered = None
        speech.phase = Phase.QUEUED  # on to the next alternative

    def _on_function_called(self, fact: FunctionCalled) -> None:
        speech = _owner(fact.response.request)
        if speech is None or fact.arguments is None:
            return
        call = FunctionCall(fact.name, fact.call_id, fact.arguments)
        speech.update(function_calls=(*speech.outcome.function_calls, call))
        self._emit(FunctionCallRequested(speech, call))

    def _on_response_ended(self, fact: ResponseEnded) -> None:
        view = fact.response
        if not view.ours:
            return
        speech = _owner(view.request)
        if speech is None or speech.phase is Phase.DONE or speech.response is not view:
            return
        speech.metrics.done = self._timers.now()
        if self._floor.awaiting_tool is view:
            speech.phase = Phase.AWAITING_TOOL  # the app answers the tool; then it speaks
            return
        request = view.request
        if request is not None and request.item_rejected:
            speech.errors.append(
                GreetingFailedError("the service rejected the greeting's instructions")
            )
            speech.rendered, speech.request, speech.response = None, None, None
            speech.phase = Phase.QUEUED  # its response never reached the user: fall back
            return
        if request is not None and request.user_spoke_after and request.yield_to_user:
            pending = speech.outcome.status is GreetingStatus.PENDING
            if pending and speech.cancelled:
                self._skip(speech, "cancelled by the app")
                return
            if pending and speech.if_user_speaking == "wait":
                speech.request = speech.response = None
                speech.phase = Phase.READY  # say it again after the user's turn
                return
            if pending:
                self._skip(speech, "the user started speaking before it could be heard")
                return
        transcript = view.transcript or None
        if fact.status == "cancelled":
            speech.update(
                status=GreetingStatus.SENT,
                interrupted=True,
                played_ms=view.played_ms
                if view.played_ms is not None
                else view.queued_bytes * 1000 // self._floor.bytes_per_second,
                transcript=transcript,
            )
            if view.played_ms is None:
                self._emit(SpeechInterrupted(speech, speech.outcome.played_ms or 0))
        else:
            speech.update(status=GreetingStatus.SENT, transcript=transcript)
        speech.playout_marker = self._floor.playout_position
        speech.finish()
        self._unsettled.append(speech)
        self._log_done(speech)

    def _on_heard(self, fact: Heard) -> None:
        view = fact.response
        speech = _owner(view.request)
        if speech is None:
            return
        speech.update(interrupted=True, played_ms=fact.played_ms)
        if fact.truncate and view.item_id is not None and self._truncate and self._speaker.plays:
            self._outbox.append(truncate_event(next(self._ids), view.item_id, fact.played_ms))
        if speech.phase is Phase.DONE:  # done on the service already: nothing more to hear
            speech.metrics.played_out = self._timers.now()
            self._settle(speech)
        self._emit(SpeechInterrupted(speech, fact.played_ms))

    # ------------------------------------------------------------------ the queue

    def _make_greeting_due(self) -> None:
        greeting = self._greeting
        if greeting.phase is not Phase.WAITING or self._closed:
            return
        greeting.phase = Phase.QUEUED
        self._queue.appendleft(greeting)  # the greeting is the first thing the agent says
        if self._events.active:
            self._emit(SpeechQueued(greeting))
        if greeting.if_user_speaking == "skip" and self._user_spoke:
            self._skip(greeting, "the user started speaking before the greeting")

    def _enqueue_and_pump(self, speech: Speech) -> None:
        if self._closed:
            self._fail(speech, "the session was closed before it was sent")
            return
        self._queue.append(speech)
        self._emit(SpeechQueued(speech))
        self._idle.stop()
        self._spawn(self._pump())

    async def _greet_here(self) -> GreetingOutcome:
        self._make_greeting_due()
        await self._pump()
        return self._greeting.outcome

    def _head(self) -> Speech | None:
        queue = self._queue
        while queue and queue[0].phase is Phase.DONE:
            queue.popleft()
        return queue[0] if queue else None

    def _may_start(self, speech: Speech) -> bool:
        greeting = speech is self._greeting
        if not (greeting or self._ready):
            return False
        floor = self._floor
        policy = speech.if_user_speaking
        if policy == "skip" and (
            floor.user is not UserTurn.SILENT or (greeting and self._user_spoke)
        ):
            self._skip(
                speech,
                "the user started speaking before the greeting"
                if greeting
                else "the user was speaking",
            )
            return False
        return floor.may_speak(policy != "speak")

    async def _pump(self) -> None:
        """Move the queue: prepare, and send the head speech when the floor is free."""
        if self._outbox:
            await self._send_outbox()
        speech = self._next_to_send()
        while speech is not None:
            await self._send(speech)
            speech = self._next_to_send()
        if self._outbox:
            await self._send_outbox()
        self._idle.update()

    def _next_to_send(self) -> Speech | None:
        """The speech to send now, prepared (rendered) and with the floor free; or None."""
        while not self._closed:
            speech = self._head()
            if speech is None:
                return None
            phase = speech.phase
            if phase is Phase.QUEUED:
                if not self._may_start(speech):
                    return None
                self._prepare(speech)
                if speech.phase is not Phase.READY:
                    continue  # skipped or failed (the next one's turn), or preparing in a task
            elif phase is not Phase.READY or not self._may_start(speech):
                return None  # preparing, requested, speaking, awaiting a tool, not its turn
            return speech
        return None

    def _prepare(self, speech: Speech) -> None:
        """Guard and render ``speech`` now if that needs no awaiting, else in a task."""
        speech.phase = Phase.PREPARING
        if speech.needs_guard:
            speech.needs_guard = False
            try:
                answer = self._guard.try_acquire()
            except Exception as exc:
                self._fail(speech, f"the guard failed: {exc}", exc)
                return
            if answer is not True:  # (True, the common answer, needs nothing more)
                if answer.__class__ is not bool and inspect.isawaitable(answer):
                    self._spawn(self._prepare_later(speech, answer, None))
                    return
                if not self._apply_guard(speech, answer):
                    return
        if speech.rendered is None:
            self._render_now(speech)
        else:
            speech.phase = Phase.READY  # rendered ahead

    def _apply_guard(self, speech: Speech, answer: object) -> bool:
        if answer is GuardResult.UNAVAILABLE:
            self._skip(speech, "the guard could not tell whether this conversation was greeted")
            return False
        if answer:
            return True
        if self._resume is None:
            self._skip(speech, "the guard says this greeting was already given")
            return False
        speech.rendered, speech.next_alternative, speech.prepared = None, 0, None  # not these
        speech.alternatives = self._resume.alternatives()
        speech.update(resumed=True)
        return True

    def _render_now(self, speech: Speech) -> None:
        while speech.rendered is None:
            strategy = self._next_alternative(speech)
            if strategy is None:
                return
            try:
                result = strategy.render(self._context_for_render())
            except Exception as exc:
                self._render_failed(speech, strategy, exc)
                continue
            if result.__class__ is not Greeting and inspect.isawaitable(result):
                self._spawn(self._prepare_later(speech, None, (strategy, result)))
                return
            self._accept(speech, strategy, result)
        speech.phase = Phase.READY

    def _render_ahead(self) -> None:
        """Render the greeting before it is due (at ``session.created``), off the critical path.

        Only a synchronous render is kept; the guard is still asked when the greeting is due,
        and :meth:`update_context` throws the early rendering away.
        """
        speech = self._greeting
        if speech.phase is not Phase.WAITING or speech.rendered is not None:
            return
        strategy = speech.alternatives[0]
        try:
            result = strategy.render(self._context_for_render())
        except Exception:
            return  # rendered again when due, and then its error counts
        if result.__class__ is Greeting:
            speech.rendered = (result, strategy)
            speech.next_alternative = 1
            speech.prepared = self._request(speech)  # ready to send
        elif inspect.iscoroutine(result):
            result.close()  # async: it renders when due, in a task

    async def _prepare_later(
        self,
        speech: Speech,
        answer: Awaitable[object] | None,
        pending: tuple[GreetingStrategy, Awaitable[object]] | None,
    ) -> None:
        """The rest of :meth:`_prepare`, once something had to be awaited."""
        try:
            if answer is not None:
                try:
                    result = await self._within_timeout(answer)
                except Exception as exc:
                    what = "did not answer in time" if _is_timeout(exc) else f"failed: {exc}"
                    self._fail(speech, f"the guard {what}", exc)
                    return
                if self._apply_guard(speech, result):
                    self._render_now(speech)
                return
            assert pending is not None
            strategy, awaitable = pending
            try:
                rendered = await self._within_timeout(awaitable)
            except Exception as exc:
                if _is_timeout(exc):
                    exc = GreetingRenderError(
                        f"{strategy!r} did not render within {self._render_timeout} s"
                    )
                self._render_failed(speech, strategy, exc)
            else:
                self._accept(speech, strategy, rendered)
            if speech.phase is Phase.PREPARING:  # not skipped or cancelled meanwhile
                self._render_now(speech)
        except GreetingFailedError:
            pass  # raise_errors: nobody awaits this task; the outcome says it
        finally:
            if not self._closed:
                await self._pump()

    async def _within_timeout(self, awaitable: Awaitable[object]) -> object:
        if self._render_timeout is None:
            return await awaitable
        if sys.version_info >= (3, 11):  # no task of its own, unlike wait_for
            async with asyncio.timeout(self._render_timeout):
                return await awaitable
        return await asyncio.wait_for(awaitable, self._render_timeout)

    def _next_alternative(self, speech: Speech) -> GreetingStrategy | None:
        if speech.next_alternative >= len(speech.alternatives):
            self._fail_all(speech)
            return None
        strategy = speech.alternatives[speech.next_alternative]
        speech.next_alternative += 1
        return strategy

    def _accept(self, speech: Speech, strategy: GreetingStrategy, result: object) -> None:
        if not isinstance(result, Greeting):
            self._render_failed(
                speech,
                strategy,
                GreetingRenderError(
                    f"{strategy!r}.render() returned {type(result).__name__}; it must return "
                    "a Greeting (Greeting.spoken(...) or Greeting.instructed(...))."
                ),
            )
            return
        speech.rendered = (result, strategy)

    def _render_failed(self, speech: Speech, strategy: GreetingStrategy, exc: Exception) -> None:
        log.info("voicelive-proactive: %r could not render: %s", strategy, exc)
        speech.errors.append(exc)

    def _request(self, speech: Speech) -> tuple[Request, list[dict[str, Any]]]:
        """The request for ``speech``'s rendered greeting, and the events that make it."""
        assert speech.rendered is not None
        greeting = speech.rendered[0]
        events = greeting_events(greeting, self._ids)
        request = Request(
            events[-1]["event_id"],
            owner=speech,
            spoken_text=greeting.text if greeting.mode is GreetingMode.SPOKEN else None,
            item_event_id=events[0]["event_id"] if len(events) > 1 else None,
            protected=not speech.interruptible or self._echo_guard_s > 0,
            yield_to_user=speech.interruptible and speech.if_user_speaking != "speak",
        )
        return request, events

    async def _send(self, speech: Speech) -> None:
        request, events = speech.prepared or self._request(speech)
        speech.prepared = None
        self._floor.request_sent(request)  # before awaiting: nothing else may start now
        speech.request = request
        speech.phase = Phase.REQUESTED
        speech.metrics.greeting_sent = self._timers.now()
        send = self._conn.send
        try:
            if request.protected:
                update = self._turns.forbid()
                if update is not None:
                    await send(update)
            for event in events:
                await send(event)
        except Exception as exc:
            log.warning("voicelive-proactive: could not send %r: %s", speech, exc)
            self._floor.request_lost(request)
            speech.request = None
            self._record_rendered(speech)
            self._fail(speech, "it could not be sent: the connection failed", exc)
            return
        self._record_rendered(speech)  # after the send: the greeting goes out sooner

    def _record_rendered(self, speech: Speech) -> None:
        assert speech.rendered is not None
        greeting, strategy = speech.rendered
        speech.update(greeting=greeting, strategy=strategy, attempts=speech.next_alternative)

    async def _send_outbox(self) -> None:
        """Best-effort events (cancel, truncate, session.update): a failure fails nothing."""
        while self._outbox:
            event = self._outbox.pop(0)
            try:
                await self._conn.send(event)
            except Exception as exc:
                log.warning("voicelive-proactive: could not send %s: %s", event["type"], exc)

    # ------------------------------------------------------------------ audio and playout

    def _on_speech_audio(self, speech: Speech, n_bytes: int) -> None:
        metrics = speech.metrics
        metrics.audio_bytes += n_bytes
        if not speech.started:
            speech.started = True
            metrics.first_audio = self._timers.now()
            self._maybe_sent(speech.response)
            self._emit(SpeechStarted(speech))
            if self._echo_guard_s and speech.interruptible and speech.request is not None:
                request = speech.request
                self._timers.call_later(self._echo_guard_s, lambda: self._echo_over(request))

    def _on_played(self, position: int) -> None:
        """Everything queued before ``position`` has been heard (on the session's loop)."""
        if self._closed:
            return
        self._floor.played_through(position)
        now = self._timers.now()
        for speech in list(self._unsettled):
            marker = speech.playout_marker
            if marker is not None and marker <= position:
                speech.metrics.played_out = now
                self._settle(speech)
        self._restore_interruptions()
        self._idle.update()  # now: idleness counts from the moment playout ended
        self._spawn(self._pump())

    def _settle(self, speech: Speech) -> None:
        if speech in self._unsettled:
            self._unsettled.remove(speech)
        already = speech.outcome.settled
        speech.settle()
        if not already and not speech.outcome.interrupted:
            self._emit(SpeechFinished(speech))
        if not self._floor.protected:
            self._restore_interruptions()

    def _echo_over(self, request: Request) -> None:
        speech = _owner(request)
        if speech is not None and speech.interruptible:
            request.protected = False
            self._restore_interruptions()
            self._spawn(self._pump())

    # ------------------------------------------------------------------ interruptions

    def _restore_interruptions(self) -> None:
        """Give the app its ``interrupt_response`` back once no protected speech remains."""
        if not self._turns.overriding or self._floor.protected:
            return
        if any(
            s.phase in (Phase.REQUESTED, Phase.SPEAKING) and not s.interruptible
            for s in self._queue
        ):
            return
        update = self._turns.restore()
        if update is not None:
            self._outbox.append(update)

    def _learn_formats(self, session: Mapping[str, Any]) -> None:
        raw = (
            session.get("output_audio_format"),
            session.get("input_audio_format"),
            session.get("input_audio_sampling_rate"),
        )
        if raw == self._raw_formats or raw == (None, None, None):
            return  # unchanged (every session.updated repeats them)
        self._raw_formats = raw
        try:
            output, input_ = AudioFormat.from_session(session)
        except ConfigurationError as exc:
            self._health.record("malformed_events", exc, "session.updated has an unknown format")
            return
        self._speaker.configure(output, input_)
        self._floor.bytes_per_second = output.bytes_per_second

    # ------------------------------------------------------------------ idle nudges

    def _conversation_idle(self) -> bool:
        """Nobody speaks or is about to (see :mod:`voicelive_proactive.nudge`)."""
        return (
            self._ready
            and not self._closed
            and not self._tool_running
            and self._head() is None
            and self._floor.may_speak()
            and not self._floor.playing
        )

    def _nudge_due(self, count: int) -> None:
        nudge = self._nudge
        assert nudge is not None
        speech = Speech(
            SpeechKind.NUDGE,
            nudge.nudge_strategy.alternatives(),
            interruptible=nudge.interruptible,
            if_user_speaking="skip",
            canceller=self._cancel_from_any_thread,
        )
        log.info("voicelive-proactive: idle for %s s: nudge %d", nudge.after, count)
        self._emit(NudgeFired(speech, count))
        self._enqueue_and_pump(speech)

    def _nudges_exhausted(self, count: int) -> None:
        log.info("voicelive-proactive: %d nudge(s) went unanswered", count)
        self._emit(NudgesExhausted(count))
        nudge = self._nudge
        if nudge is not None and nudge.on_exhausted is not None:
            self._run_callback(nudge.on_exhausted)

    def _reply_not_coming(self) -> None:
        self._reply_timer = None
        self._floor.reply_not_coming()
        self._tool_running = False
        self._spawn(self._pump())

    def _cancel_reply_timer(self) -> None:
        if self._reply_timer is not None:
            self._reply_timer.cancel()
            self._reply_timer = None

    def _run_callback(self, callback: Callable[[], Awaitable[None] | None]) -> None:
        try:
            result = callback()
        except Exception as exc:
            self._health.record("callback_errors", exc, "on_exhausted raised")
            return
        if inspect.isawaitable(result):

            async def wait_for_it() -> None:
                try:
                    await result
                except Exception as exc:
                    self._health.record("callback_errors", exc, "on_exhausted raised")

            self._spawn(wait_for_it())

    # ------------------------------------------------------------------ settling

    def _maybe_sent(self, view: Any) -> None:
        """A proven response of ours produced content: its speech was sent (it speaks)."""
        if view is None or not view.ours or not view.spoke or view.muted:
            return
        speech = _owner(view.request)
        if speech is not None and speech.outcome.status is GreetingStatus.PENDING:
            speech.update(status=GreetingStatus.SENT)

    def _skip(self, speech: Speech, reason: str) -> None:
        if speech.phase is Phase.DONE:
            return
        log.info("voicelive-proactive: %r skipped: %s", speech, reason)
        speech.update(status=GreetingStatus.SKIPPED, reason=reason)
        speech.finish()
        self._emit(SpeechSkipped(speech, reason))

    def _fail(self, speech: Speech, reason: str, error: BaseException | None = None) -> None:
        if speech.phase is Phase.DONE:
            return
        log.warning("voicelive-proactive: %r failed: %s", speech, reason)
        speech.update(status=GreetingStatus.FAILED, reason=reason, error=error)
        speech.finish()
        self._emit(SpeechFailed(speech, reason, error))
        if self._raise_errors and error is not None and speech is self._greeting:
            raise GreetingFailedError(reason) from error

    def _fail_all(self, speech: Speech) -> None:
        errors = speech.errors
        error = errors[-1] if errors else None
        reasons = "; ".join(str(e) for e in errors) or "no strategy produced a greeting"
        speech.update(attempts=speech.next_alternative)
        reason = f"every greeting strategy failed: {reasons}"
        if speech.phase is Phase.DONE:
            return
        log.warning("voicelive-proactive: %r failed: %s", speech, reason)
        speech.update(status=GreetingStatus.FAILED, reason=reason, error=error)
        speech.finish()
        self._emit(SpeechFailed(speech, reason, error))
        if self._raise_errors and speech is self._greeting:
            raise GreetingFailedError(reason) from error

    def _connection_lost(self, why: str, error: BaseException | None = None) -> None:
        """The connection ended: what is not delivered now never will be."""
        self._end_all(why, error)

    def _end_all(self, why: str, error: BaseException | None = None) -> None:
        """``why`` ("the connection closed"): fail what is pending, settle the rest."""
        raise_errors, self._raise_errors = self._raise_errors, False
        try:
            for speech in [self._greeting, *self._queue, *self._unsettled]:
                if speech.outcome.status is GreetingStatus.PENDING:
                    self._fail(speech, f"{why} before {speech.noun} was sent", error)
                else:
                    speech.settle()
            self._unsettled.clear()
        finally:
            self._raise_errors = raise_errors

    def _log_done(self, speech: Speech) -> None:
        outcome = speech.outcome
        log.info(
            "voicelive-proactive: %r done%s (%s bytes of audio)",
            speech,
            f", interrupted after {outcome.played_ms} ms" if outcome.interrupted else "",
            speech.metrics.audio_bytes,
        )

    # ------------------------------------------------------------------ cancelling

    def _cancel_from_any_thread(self, speech: Speech) -> None:
        self._call_in_loop(self._cancel, speech)

    def _cancel(self, speech: Speech) -> None:
        speech.cancelled = True
        view = speech.response
        if speech.phase is Phase.DONE:
            # Done on the service, maybe still playing: stop the speaker, unless a later
            # response's audio is queued behind it (the speaker cannot drop only a part).
            if view is not None and speech in self._unsettled and self._floor.last_heard(view):
                self._apply(self._floor.barge_in(self._speaker.flush()))
            return
        if speech.phase in (Phase.WAITING, Phase.QUEUED, Phase.PREPARING, Phase.READY):
            self._skip(speech, "cancelled by the app")
            self._spawn(self._pump())
            return
        if view is not None and view.ours and view.active:
            self._outbox.append(cancel_event(next(self._ids), view.id))
            self._apply(self._floor.barge_in(self._speaker.flush()))
        elif speech.request is not None:
            # Not answered yet: once the service starts it, it is stopped and never heard.
            speech.request.user_spoke_after = speech.request.yield_to_user = True
        self._spawn(self._pump())

    # ------------------------------------------------------------------ plumbing

    def _emit(self, event: ProactiveEvent) -> None:
        if self._events.active:
            self._events.emit(event, self._loop)

    def _spawn(self, coro: Any) -> None:
        loop = self._loop
        if loop is None or self._closed:
            coro.close()
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._thread_lock:
            if self._loop is None:
                self._loop = loop
                self._timers.bind(loop)
                self._speaker.bind(loop)
            greet, self._greet_requested = self._greet_requested, False
            early = [s for s in self._queue if s.phase is Phase.QUEUED]
        for speech in early:
            self._emit(SpeechQueued(speech))
        if greet and loop is self._loop:
            self._make_greeting_due()
        if (greet or early) and loop is self._loop and loop.is_running():
            self._spawn(self._pump())

    def _session_loop(self) -> asyncio.AbstractEventLoop | None:
        with self._thread_lock:
            return self._loop

    def _call_in_loop(self, func: Callable[..., None], *args: Any) -> None:
        loop = self._session_loop()
        if loop is None or loop is _running_loop():
            func(*args)
            if loop is not None:
                self._spawn(self._pump())
            return
        with contextlib.suppress(RuntimeError):  # the session's loop has closed: nobody to tell
            loop.call_soon_threadsafe(func, *args)

    def _start_microphone(self) -> None:
        audio = self._audio
        if audio is None or self._closed or self._loop is None:
            return
        try:
            self._microphone.start(audio, self._loop)
        except Exception as exc:
            self._microphone.stop()
            self._health.record("microphone_errors", exc, "the microphone failed to start")

    def _warn_not_ready(self) -> None:
        self._ready_timer = None
        if not self._ready and not self._closed:
            log.warning(
                "voicelive-proactive: session.created arrived %s s ago but no session.updated "
                "has; the greeting waits for it. Send a session.update (for example "
                "`await conn.session.update(session={...})`), or pass greet_on_ready=False "
                "and call greet() yourself.",
                _READY_WARNING_AFTER,
            )

    def _context_for_render(self) -> GreetingContext:
        return GreetingContext(
            self._context,
            session_id=self._session_id,
            now=self._now() if self._now is not None else None,
        )

    def _check_fields(self, available: frozenset[str]) -> None:
        missing = missing_fields(self._strategy, available)
        if missing:
            raise MissingContextFieldError(
                f"The greeting {self._strategy!r} needs context field(s) {sorted(missing)}; "
                f"the context has {sorted(available)}. Add them to context=..., add a "
                "fallback (`TemplateGreeting(...) | StaticGreeting(...)`), or pass "
                "context=None if the values only arrive later.",
                fields=missing,
            )

    def _ensure_open(self) -> None:
        if self._closed:
            raise SessionClosedError(_CLOSED_MESSAGE)


_CLOSED_MESSAGE: Final = (
    "This ProactiveSession is closed (aclose() or the end of `async with`); create a new one "
    "for a new connection."
)


class _Malformed(Exception):
    """A server event lacks something the session needs: it is skipped."""


def _session_of(event: Any) -> Mapping[str, Any]:
    session = _get(event, "session")
    if type(session) is not dict and not isinstance(session, Mapping):
        raise _Malformed("session.updated without a session object")
    return session


def _get(event: Any, key: str) -> Any:
    try:
        return event[key]
    except (KeyError, TypeError, IndexError):
        raise _Malformed(f"the event has no {key!r}") from None


if sys.version_info >= (3, 11):

    def _decode_audio(data: str) -> bytes:
        # Strict: a chunk with stray characters is malformed, not silently re-aligned audio.
        return binascii.a2b_base64(data, strict_mode=True)

else:

    def _decode_audio(data: str) -> bytes:
        return base64.b64decode(data, validate=True)


def _owner(request: Request | None) -> Speech | None:
    if request is None:
        return None
    owner = request.owner
    return owner if isinstance(owner, Speech) else None


def _ended_in_function_call(response: Mapping[str, Any]) -> bool:
    output = response.get("output")
    if not isinstance(output, list) or not output:
        return False
    kinds = {item.get("type") for item in output if isinstance(item, Mapping)}
    return "function_call" in kinds and "message" not in kinds


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (TimeoutError, asyncio.TimeoutError))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _session_id(event: Any) -> str | None:
    session = event.get("session")
    if isinstance(session, Mapping):
        value = session.get("id")
        return value if isinstance(value, str) else None
    return None


_HANDLERS: dict[str, Callable[[ProactiveSession, Any], bool]] = {
    "session.created": ProactiveSession._on_session_created,
    "session.updated": ProactiveSession._on_session_updated,
    "response.created": ProactiveSession._on_response_created,
    "response.output_item.added": ProactiveSession._on_output_item_added,
    "response.audio.delta": ProactiveSession._on_audio_delta,
    "response.audio_transcript.delta": ProactiveSession._on_transcript_delta,
    "response.audio_transcript.done": ProactiveSession._on_transcript_done,
    "response.function_call_arguments.done": ProactiveSession._on_function_call_done,
    "response.done": ProactiveSession._on_response_done,
    "input_audio_buffer.speech_started": ProactiveSession._on_speech_started,
    "input_audio_buffer.speech_stopped": ProactiveSession._on_speech_stopped,
    "conversation.item.created": ProactiveSession._on_item_created,
    "error": ProactiveSession._on_error,
}
