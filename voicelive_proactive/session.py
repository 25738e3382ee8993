"""``ProactiveSession``: greets once, at the right moment, on an existing Voice Live connection."""

from __future__ import annotations

import asyncio
import base64
import enum
import inspect
import itertools
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from azure.ai.voicelive.models import (
    ClientEvent,
    ClientEventConversationItemTruncate,
    ClientEventResponseCancel,
)

from .audio.base import BYTES_PER_MS, AudioIO
from .errors import ConfigurationError, GreetingFailedError, MissingContextFieldError
from .greetings import (
    Greeting,
    GreetingContext,
    GreetingStrategy,
    StrategyLike,
    as_strategy,
    missing_fields,
    render_greeting,
)
from .guard import GuardLike, OnceGuard
from .microphone import MicrophoneUplink
from .outcome import GreetingMetrics, GreetingOutcome, GreetingStatus
from .wire import greeting_events

if TYPE_CHECKING:
    from azure.ai.voicelive.aio import VoiceLiveConnection

__all__ = ["DEFAULT", "ProactiveSession"]

log = logging.getLogger("voicelive_proactive")


class _Default(enum.Enum):
    DEFAULT = "DEFAULT"

    def __repr__(self) -> str:
        return "DEFAULT"


#: Use the default sound device (``SounddeviceAudioIO()``) for audio.
DEFAULT: Final = _Default.DEFAULT

_ACTIVE_RESPONSE_CODE = "conversation_already_has_active_response"


class _Phase(enum.Enum):
    WAITING = "waiting"  # not due yet (no session.updated, or manual trigger)
    DEFERRED = "deferred"  # due, but a response is active: retried on response.done
    RENDERING = "rendering"  # acquiring the guard / rendering / sending
    SENT = "sent"  # on the wire, waiting for response.created (or an error)
    SPEAKING = "speaking"  # the greeting's response is in progress
    FINISHED = "finished"  # settled: spoken, skipped or failed


class ProactiveSession:
    """Makes the agent speak first on a Voice Live connection, exactly once.

    Feed it every server event, in the app's own loop::

        proactive = ProactiveSession(conn, greeting=TemplateGreeting("Hi {name}!"),
                                     context={"name": "Lisa"})
        async for event in conn:
            await proactive.handle(event)

    or let it drive the loop with :meth:`run`, or trigger the greeting yourself with
    :meth:`greet`. See the module docs for the rules it follows.

    Args:
        conn: An ``azure.ai.voicelive.aio.VoiceLiveConnection`` (or a ``FakeConnection``).
        greeting: A strategy, a ``str`` (spoken as is) or ``(GreetingContext) -> Greeting``.
        context: Values for templates and strategies (``context["name"]``). A template
            field missing from it raises :class:`MissingContextFieldError` here, unless a
            fallback alternative can do without. ``None`` means "not known yet": fields
            are then checked at render time.
        audio: Where sound goes: ``DEFAULT`` opens the default sound device, ``None``
            leaves audio to the app, or any :class:`AudioIO`.
        guard: Decides "once". Share an :class:`OnceGuard` to greet once across sessions.
        greet_on_ready: Greet when the session is ready (first ``session.updated``).
            ``False`` waits for :meth:`greet`.
        skip_if_user_spoke: Skip the greeting when the user started speaking first.
        truncate_on_barge_in: Tell the service how much of an interrupted greeting was
            heard (``conversation.item.truncate``).
        raise_errors: Let greeting failures escape from :meth:`handle` and :meth:`greet`
            as :class:`GreetingFailedError`. Off by default: the app's loop never sees them.
        clock: Monotonic clock for :attr:`metrics` (seconds).
        now: Wall clock for :attr:`GreetingContext.now`.
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
    ) -> None:
        if not callable(getattr(conn, "send", None)):
            raise ConfigurationError(
                f"conn must be a VoiceLiveConnection (or a FakeConnection); got {conn!r}."
            )
        self._conn = conn
        self._strategy = as_strategy(greeting)
        self._alternatives = self._strategy.alternatives()
        self._context: dict[str, Any] | None = None if context is None else dict(context)
        if self._context is not None:
            self._check_fields(frozenset(self._context))
        if isinstance(audio, _Default):
            from .audio.device import SounddeviceAudioIO

            self._audio: AudioIO | None = SounddeviceAudioIO()
        else:
            self._audio = audio
        self._guard: GuardLike = guard if guard is not None else OnceGuard()
        self._greet_on_ready = greet_on_ready
        self._skip_if_user_spoke = skip_if_user_spoke
        self._truncate_on_barge_in = truncate_on_barge_in
        self._raise_errors = raise_errors
        self._clock = clock
        self._now = now

        self._ids = map(f"vp_{secrets.token_hex(4)}_{{}}".format, itertools.count(1))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_lock = threading.Lock()
        self._phase = _Phase.WAITING
        self._outcome = GreetingOutcome()
        self._metrics = GreetingMetrics()
        self._settled = asyncio.Event()
        self._closed = False
        self._running = False

        self._session_id: str | None = None
        self._ready = False
        self._user_spoke = False
        self._next_alternative = 0
        self._errors: list[BaseException] = []
        self._rendered: tuple[Greeting, GreetingStrategy] | None = None
        self._greeting_ids: frozenset[str] = frozenset()

        # Who is talking: responses the service has started, and our response.create
        # events it has not answered yet (both block a new response).
        self._active_response: str | None = None
        self._pending_creates: deque[str] = deque()
        self._greeting_response: str | None = None
        self._greeting_item: str | None = None
        self._greeting_done = False
        self._audio_owner_is_greeting = False
        self._muted_response: str | None = None
        self._user_spoke_after_send = False

        self._microphone = MicrophoneUplink(conn.send, self._ids)

    # ------------------------------------------------------------------ public state

    @property
    def outcome(self) -> GreetingOutcome:
        """What happened to the greeting so far."""
        return self._outcome

    @property
    def metrics(self) -> GreetingMetrics:
        """Timestamps of the greeting's milestones and the delays between them."""
        return self._metrics

    @property
    def audio(self) -> AudioIO | None:
        """The audio backend in use (``None`` when the app handles audio)."""
        return self._audio

    @property
    def session_id(self) -> str | None:
        """The service's session id, once known."""
        return self._session_id

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
        """The greeting is over: it finished (or was cut off) on the service, or was skipped
        or failed. :meth:`wait` returns at this point."""
        return self._settled.is_set()

    def update_context(self, **values: Any) -> None:
        """Add or change context values before the greeting renders."""
        self._context = {**(self._context or {}), **values}

    # ------------------------------------------------------------------ entry points

    async def handle(self, event: Any) -> None:
        """Process one server event. Call it for every event, in order; it returns quickly.

        Events the session does not care about cost one dictionary lookup. Errors are
        recorded in :attr:`outcome` and logged, and never raised unless ``raise_errors``.
        """
        try:
            event_type = event["type"]  # SDK models are mappings; this skips the slow getattr
        except (TypeError, KeyError):
            event_type = getattr(event, "type", None)
        handler = _HANDLERS.get(event_type)
        if handler is None:
            return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        try:
            result = handler(self, event)
            if result is not None:
                await result
        except GreetingFailedError:
            raise
        except Exception as exc:
            # A bug or a broken connection must not take the app's loop down with it.
            log.exception("voicelive-proactive failed handling %s", event_type)
            self._fail(f"internal error while handling {event_type}", exc)
            if self._raise_errors:
                raise GreetingFailedError(str(exc)) from exc

    async def run(
        self, *, on_event: Callable[[Any], Awaitable[None] | None] | None = None
    ) -> GreetingOutcome:
        """Iterate the connection until it closes, handling every event; return the outcome.

        ``on_event`` (sync or async) sees every event after the session has. A dropped
        connection or an unreadable frame ends the run; it is recorded, not raised.
        """
        if self._running:
            raise RuntimeError("run() is already iterating this connection.")
        self._ensure_open()
        self._running = True
        try:
            async for event in self._conn:
                await self.handle(event)
                if on_event is not None:
                    result = on_event(event)
                    if inspect.isawaitable(result):
                        await result
        except Exception as exc:
            from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError

            if not isinstance(exc, SdkConnectionError):
                raise
            log.warning("voicelive-proactive: connection ended: %s", exc)
            self._fail("the connection failed before the greeting was sent", exc)
        finally:
            self._running = False
            self._microphone.stop()
        self._fail("the connection closed before the greeting was sent")
        return self._outcome

    async def greet(self) -> GreetingOutcome:
        """Greet now (still at most once, and never over an active response).

        Safe to call from any thread: calls from a thread other than the session's loop are
        handed to that loop. Returns the outcome after the attempt (``pending`` if it had
        to wait for an active response to finish).
        """
        self._ensure_open()
        caller_loop = asyncio.get_running_loop()
        with self._thread_lock:
            if self._loop is None:
                self._loop = caller_loop
            loop = self._loop
        if loop is not caller_loop:
            if not loop.is_running():
                raise RuntimeError(
                    "greet() was called from another thread, but the event loop this session "
                    "runs on has stopped; call greet() while the session's loop is running."
                )
            future = asyncio.run_coroutine_threadsafe(self._greet_here(), loop)
            return await asyncio.wrap_future(future)
        return await self._greet_here()

    async def wait(self, *, timeout: float | None = None) -> GreetingOutcome:
        """Wait until the greeting has finished playing, was skipped or failed.

        Raises ``TimeoutError`` when ``timeout`` seconds pass first.
        """
        await asyncio.wait_for(self._settled.wait(), timeout)
        return self._outcome

    async def aclose(self) -> None:
        """Stop capture and playback and release the audio device. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        task = self._microphone.stop()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        if self._audio is not None:
            self._audio.close()
        self._fail("the session was closed before the greeting was sent")

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
        return (
            f"<ProactiveSession {self._phase.value} outcome={self._outcome.status.value} "
            f"greeting={self._strategy!r}>"
        )

    # ------------------------------------------------------------------ event handlers

    def _on_session_created(self, event: Any) -> None:
        self._session_id = self._session_id or _session_id(event)

    def _on_session_updated(self, event: Any) -> Awaitable[None] | None:
        if self._ready:
            return None  # after every session.update; the guard makes this harmless anyway
        self._ready = True
        self._metrics.session_ready = self._clock()
        self._session_id = _session_id(event) or self._session_id
        if self._audio is not None and not self._closed:
            assert self._loop is not None  # handle() set it before dispatching
            self._microphone.start(self._audio, self._loop)
        if self._greet_on_ready:
            return self._attempt()
        return None

    def _on_response_created(self, event: Any) -> Awaitable[None] | None:
        response_id = event["response"]["id"]
        self._active_response = response_id
        if self._pending_creates:
            self._pending_creates.popleft()
        if self._phase is not _Phase.SENT:
            return None
        self._phase = _Phase.SPEAKING
        self._greeting_response = response_id
        self._metrics.response_created = self._clock()
        if self._user_spoke_after_send:
            # The user started talking while the greeting was on its way; the service only
            # cancels responses that were already active then, so stop this one ourselves.
            self._muted_response = response_id
            self._outcome = replace(self._outcome, interrupted=True, played_ms=0)
            return self._send_quietly(ClientEventResponseCancel(event_id=next(self._ids)))
        return None

    def _on_output_item_added(self, event: Any) -> None:
        if event.get("response_id") == self._greeting_response and self._greeting_item is None:
            self._greeting_item = event["item"]["id"]

    def _on_audio_delta(self, event: Any) -> None:
        audio = self._audio
        if self._muted_response is not None and event.get("response_id") == self._muted_response:
            return  # a late chunk of a response the user interrupted
        try:
            pcm: bytes = event.delta
        except AttributeError:  # a plain wire dict rather than an SDK model
            pcm = base64.b64decode(event["delta"])
        if self._phase is _Phase.SPEAKING:
            metrics = self._metrics
            if metrics.first_audio is None:
                metrics.first_audio = self._clock()
            metrics.audio_bytes += len(pcm)
            self._audio_owner_is_greeting = True
        elif self._audio_owner_is_greeting:
            self._audio_owner_is_greeting = False
        if audio is not None:
            audio.queue_audio(pcm)

    def _on_response_done(self, event: Any) -> Awaitable[None] | None:
        response = event["response"]
        response_id = response.get("id")
        # Voice Live runs one response at a time, so any response.done means none is active.
        self._active_response = None
        if response_id == self._muted_response:
            self._muted_response = None
        if response_id is not None and response_id == self._greeting_response:
            self._greeting_done = True
            self._metrics.done = self._clock()
            if response.get("status") == "cancelled":
                self._outcome = replace(self._outcome, interrupted=True)
            self._finish()
        if self._phase is _Phase.DEFERRED and not self._busy():
            return self._attempt()
        return None

    def _on_speech_started(self, event: Any) -> Awaitable[None] | None:
        self._user_spoke = True
        if self._active_response is not None:
            self._muted_response = self._active_response
        dropped = self._audio.skip_pending_audio() if self._audio is not None else 0
        due = self._phase is _Phase.DEFERRED or (self._phase is _Phase.WAITING and self._ready)
        if due and self._skip_if_user_spoke:
            self._skip("the user started speaking before the greeting")
        elif self._phase is _Phase.SENT:
            self._user_spoke_after_send = True
        return self._barge_in(dropped)

    def _on_error(self, event: Any) -> Awaitable[None] | None:
        error = event.get("error") or {}
        event_id = error.get("event_id")
        if event_id is None:
            log.debug("voicelive-proactive: service error not about us: %s", error)
            return None
        if event_id in self._pending_creates:
            self._pending_creates.remove(event_id)
        if event_id not in self._greeting_ids or self._phase is not _Phase.SENT:
            return None
        code = error.get("code")
        message = error.get("message") or code or "unknown error"
        self._outcome = replace(self._outcome, status=GreetingStatus.PENDING)
        self._metrics.greeting_sent = None
        if code == _ACTIVE_RESPONSE_CODE:
            # Another response started first (e.g. server VAD). Same greeting, sent later.
            log.info("voicelive-proactive: a response is active; the greeting waits for it")
            # We may have missed its response.created; wait for the next response.done.
            self._phase = _Phase.DEFERRED
            self._active_response = self._active_response or "unknown"
            return None
        log.warning("voicelive-proactive: the service rejected the greeting: %s", message)
        self._errors.append(GreetingFailedError(f"the service rejected the greeting: {message}"))
        self._rendered = None
        self._phase = _Phase.RENDERING
        return self._render_and_send()

    # ------------------------------------------------------------------ the greeting

    async def _greet_here(self) -> GreetingOutcome:
        if self._phase is _Phase.WAITING:
            await self._attempt()
        return self._outcome

    def _busy(self) -> bool:
        return self._active_response is not None or bool(self._pending_creates)

    async def _attempt(self) -> None:
        """The greeting is due: skip it, defer it, or render and send it."""
        if self._phase not in (_Phase.WAITING, _Phase.DEFERRED) or self._closed:
            return
        if self._user_spoke and self._skip_if_user_spoke:
            self._skip("the user started speaking before the greeting")
            return
        if self._busy():
            self._phase = _Phase.DEFERRED
            return
        first_try = self._phase is _Phase.WAITING
        self._phase = _Phase.RENDERING
        if first_try:
            acquired = self._guard.try_acquire()
            if inspect.isawaitable(acquired):
                acquired = await acquired
            if not acquired:
                self._skip("the guard says this greeting was already given")
                return
        await self._render_and_send()

    async def _render_and_send(self) -> None:
        while self._rendered is None:
            if self._next_alternative >= len(self._alternatives):
                self._fail_all()
                return
            strategy = self._alternatives[self._next_alternative]
            self._next_alternative += 1
            try:
                greeting = await render_greeting(strategy, self._greeting_context())
            except Exception as exc:
                log.info("voicelive-proactive: %r could not render: %s", strategy, exc)
                self._errors.append(exc)
                continue
            self._rendered = (greeting, strategy)
        # An async render gives the world time to change; look again before speaking.
        if self._closed or self._phase is not _Phase.RENDERING:
            return
        if self._user_spoke and self._skip_if_user_spoke:
            self._skip("the user started speaking before the greeting")
            return
        if self._busy():
            self._phase = _Phase.DEFERRED
            return
        await self._send(*self._rendered)

    async def _send(self, greeting: Greeting, strategy: GreetingStrategy) -> None:
        events = greeting_events(greeting, self._ids)
        self._greeting_ids = frozenset(e["event_id"] for e in events)
        create_id = events[-1]["event_id"]
        self._pending_creates.append(create_id)
        self._phase = _Phase.SENT
        self._outcome = GreetingOutcome(
            GreetingStatus.SENT,
            greeting=greeting,
            strategy=strategy,
            attempts=self._next_alternative,
        )
        self._metrics.greeting_sent = self._clock()
        try:
            for event in events:
                await self._conn.send(event)
        except Exception as exc:
            log.warning("voicelive-proactive: could not send the greeting: %s", exc)
            if create_id in self._pending_creates:
                self._pending_creates.remove(create_id)
            self._phase = _Phase.RENDERING
            self._outcome = replace(self._outcome, status=GreetingStatus.PENDING)
            self._fail("the greeting could not be sent: the connection failed", exc)

    def _greeting_context(self) -> GreetingContext:
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

    # ------------------------------------------------------------------ barge-in

    async def _barge_in(self, dropped: int) -> None:
        if self._audio is None or not self._truncate_on_barge_in:
            return
        if self._greeting_item is None or not self._audio_owner_is_greeting:
            return
        cut_off = dropped > 0 or not self._greeting_done
        if not cut_off:
            return
        self._audio_owner_is_greeting = False
        played_ms = max(0, self._metrics.audio_bytes - dropped) // BYTES_PER_MS
        self._outcome = replace(self._outcome, interrupted=True, played_ms=played_ms)
        await self._send_quietly(
            ClientEventConversationItemTruncate(
                event_id=next(self._ids),
                item_id=self._greeting_item,
                content_index=0,
                audio_end_ms=played_ms,
            )
        )

    async def _send_quietly(self, event: ClientEvent) -> None:
        """Send a best-effort event: failing to send it must not fail the greeting."""
        try:
            await self._conn.send(event)
        except Exception as exc:
            log.warning("voicelive-proactive: could not send %s: %s", event.get("type"), exc)

    # ------------------------------------------------------------------ settling

    def _skip(self, reason: str) -> None:
        log.info("voicelive-proactive: greeting skipped: %s", reason)
        self._outcome = replace(self._outcome, status=GreetingStatus.SKIPPED, reason=reason)
        self._finish()

    def _fail_all(self) -> None:
        error = self._errors[-1] if self._errors else None
        reasons = "; ".join(str(e) for e in self._errors) or "no strategy produced a greeting"
        log.warning("voicelive-proactive: the greeting failed: %s", reasons)
        self._outcome = GreetingOutcome(
            GreetingStatus.FAILED,
            reason=f"every greeting strategy failed: {reasons}",
            error=error,
            attempts=self._next_alternative,
        )
        self._finish()
        if self._raise_errors:
            raise GreetingFailedError(self._outcome.reason) from error

    def _fail(self, reason: str, error: BaseException | None = None) -> None:
        """Record a failure and settle, unless the greeting was already sent or settled."""
        if self._phase is _Phase.FINISHED:
            return
        if self._phase in (_Phase.SENT, _Phase.SPEAKING):
            self._finish()  # it was sent; the outcome stays "sent"
            return
        self._outcome = replace(
            self._outcome, status=GreetingStatus.FAILED, reason=reason, error=error
        )
        self._finish()
        if self._raise_errors and error is not None:
            raise GreetingFailedError(reason) from error

    def _finish(self) -> None:
        self._phase = _Phase.FINISHED
        self._settled.set()

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError(
                "This ProactiveSession is closed; create a new one for a new connection."
            )


# One table for every session: dispatch is a dict lookup and costs no memory per session.
_HANDLERS: dict[str, Callable[[ProactiveSession, Any], Awaitable[None] | None]] = {
    "session.created": ProactiveSession._on_session_created,
    "session.updated": ProactiveSession._on_session_updated,
    "response.created": ProactiveSession._on_response_created,
    "response.output_item.added": ProactiveSession._on_output_item_added,
    "response.audio.delta": ProactiveSession._on_audio_delta,
    "response.done": ProactiveSession._on_response_done,
    "input_audio_buffer.speech_started": ProactiveSession._on_speech_started,
    "error": ProactiveSession._on_error,
}


def _session_id(event: Any) -> str | None:
    session = event.get("session")
    if isinstance(session, Mapping):
        value = session.get("id")
        return value if isinstance(value, str) else None
    return None
