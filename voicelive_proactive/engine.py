"""The engine: every rule of proactive speech in one place, with no I/O.

Four kinds of input go in:

* server events (:meth:`Engine.receive`);
* app commands (:meth:`~Engine.greet`, :meth:`~Engine.say`, :meth:`~Engine.cancel`,
  :meth:`~Engine.activity`, nudge pauses, :meth:`~Engine.close`);
* the time (every input carries ``now``; :meth:`~Engine.next_deadline` says when the engine
  wants to be woken, :meth:`~Engine.handle_timer` wakes it);
* reports from the shell (:meth:`~Engine.played`, :meth:`~Engine.flushed`,
  :meth:`~Engine.paused`, :meth:`~Engine.prepared`, :meth:`~Engine.send_failed`).

What to do comes out as actions (:mod:`voicelive_proactive.actions`, drained with
:meth:`Engine.take`): wire events, audio commands, app events, user code to run. The engine
never sends, plays, sleeps, spawns or calls user code, so Hypothesis can drive it through
thousands of conversations a second (``tests/engine``), and ``ProactiveSession`` is only the
I/O around it.

Its parts: the :class:`~voicelive_proactive.floor.Floor` (who may speak, whose response is
whose, what was heard), the :class:`~voicelive_proactive.agenda.Agenda` (each speech's
lifecycle), :class:`~voicelive_proactive.override.SessionSettings` (temporary changes to the
app's settings), :class:`~voicelive_proactive.tools.ToolCalls`, the
:class:`~voicelive_proactive.pausing.PauseGate` (coughs are not turns), and deadlines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from .actions import Action, ConfigureAudio, Emit, FlushAudio, Send, StartMicrophone
from .agenda import Agenda
from .audio.formats import AudioFormat
from .core import Core, EngineConfig
from .errors import ConfigurationError
from .events import NudgeFired, NudgesExhausted
from .floor import Attributed, Fact, Heard, Refuted, Rejected, ResponseEnded, UserTurn
from .hello import AfterHello
from .lifecycle import NOT_STARTED, IfUserSpeaking, Phase, SpeechKind, SpeechState
from .nudge import IDLE, IdleWatch
from .pausing import PauseGate
from .receiving import Receiver
from .speaking import Speaking
from .wire import cancel_event

__all__ = ["Engine", "EngineConfig", "Malformed"]

log = logging.getLogger("voicelive_proactive")

_READY_WARNING: Final = "ready warning"
_REPLY_GRACE: Final = "reply grace"
_HELLO: Final = "hello"


class Malformed(Exception):
    """A server event lacks something the engine needs: it is skipped."""


class Engine:
    """Proactive speech on one Voice Live session, as a state machine with no I/O."""

    def __init__(
        self,
        config: EngineConfig,
        *,
        ids: Iterator[str],
        greeting: tuple[Any, ...],
        make_handle: Callable[[SpeechState], Any] | None = None,
    ) -> None:
        core = self.core = Core(config, ids)
        if make_handle is not None:
            core.make_handle = make_handle
        # After the callee's hello, their speech is expected: the greeting waits for it to
        # end instead of giving up because somebody spoke first.
        policy: IfUserSpeaking = "skip" if config.skip_if_user_spoke else "speak"
        if isinstance(config.greet_when, AfterHello):
            policy = "wait"
        speech = SpeechState(
            SpeechKind.GREETING,
            greeting,
            interruptible=config.interruptible,
            if_user_speaking=policy,
            phase=Phase.WAITING,
            needs_guard=True,
        )
        speech.handle = core.make_handle(speech)
        self.agenda = Agenda(core, speech)
        self.speaking = Speaking(core, self.agenda)
        self.gate = PauseGate(core)
        self.idle = IdleWatch(config.nudge)
        self.receiver = Receiver(self)
        self._hello = "off"  # off | waiting | hearing | late | done
        self._started = False
        self._service_error: str | None = None  # an error about no request of ours, pre-ready
        self._closing: tuple[str, BaseException | None] | None = None

    # -- state

    @property
    def greeting(self) -> SpeechState:
        return self.agenda.greeting

    @property
    def ready(self) -> bool:
        return self.core.ready

    @property
    def closed(self) -> bool:
        return self.core.closed

    @property
    def floor(self) -> Any:
        return self.core.floor

    def take(self) -> list[Action]:
        """The actions produced since the last call, oldest first."""
        return self.core.out.take()

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` wants to run next (on the session's clock)."""
        return self.core.deadlines.next()

    # -- app commands

    def start(self, now: float) -> None:
        """The session started (its loop is known): things that need no service go now."""
        if self._started or self.core.closed:
            return
        self._started = True
        core = self.core
        for event in core.settings.first_events():
            core.out.send(event)
        greeting = self.agenda.greeting
        if core.config.greet_when == "ready" and _prerecorded_first(greeting):
            self.agenda.make_due(greeting)  # its audio needs no round trip: play it now
        self._after(now)

    def greet(self, now: float) -> None:
        """Make the greeting due now (still at most once, and never over a response)."""
        if self.core.closed:
            return
        self._hello = "done" if self._hello != "off" else "off"
        self.agenda.make_due(self.agenda.greeting)
        self._after(now)

    def say(self, speech: SpeechState, now: float) -> None:
        """Queue a ``say()``; it goes out in order when its turn comes."""
        core = self.core
        if speech.handle is None:
            speech.handle = core.make_handle(speech)
        if core.closed or core.link_lost is not None:
            why = core.link_lost or "the session was closed"
            self.agenda.fail(speech, f"{why} before it was sent")
            return
        self.core.deadlines.cancel(IDLE)
        self.agenda.add(speech, now)
        self._after(now)

    def cancel(self, speech: SpeechState, now: float) -> None:
        """Do not speak ``speech``, or stop it now if it is being spoken or playing."""
        if self.core.closed:
            return
        self.speaking.cancel(speech, now)
        self._after(now)

    def activity(self, now: float) -> None:
        """The user is there (a key press, a digit): the idle timer and count start over."""
        self.idle.user_active(self.core.deadlines)
        self._after(now)

    def pause_nudges(self, paused: bool, now: float) -> None:
        self.idle.pause(paused, self.core.deadlines)
        self._after(now)

    def context_changed(self) -> None:
        """New context values: a greeting rendered ahead is rendered again when due."""
        greeting = self.agenda.greeting
        if greeting.phase is Phase.WAITING and greeting.rendered is not None:
            greeting.rendered = greeting.ahead = None
            greeting.next_alternative = 0

    def close(self, why: str, now: float, error: BaseException | None = None) -> None:
        """The session or the connection ended: settle everything, send nothing more."""
        core = self.core
        if core.closed or self._closing is not None:
            return
        if core.floor.playing:
            # Closing stops the speaker: what it drops tells exactly what was heard.
            core.out.sealed = True
            self._closing = (why, error)
            core.out.add(FlushAudio(closing=True))
            return
        self._finish_close(why, now, error)

    def _finish_close(self, why: str, now: float, error: BaseException | None) -> None:
        core = self.core
        self.speaking.cut_by_close(now)
        self.agenda.end_all(why, error)
        core.closed = True
        core.out.sealed = True
        core.deadlines.clear()
        self.gate.reset()

    def connection_lost(self, why: str, now: float, error: BaseException | None = None) -> None:
        """The connection ended (``why``: "the connection closed"): what is not on its way to
        the speaker fails; what the speaker already has plays on, and settles when heard."""
        core = self.core
        if core.closed or core.link_lost is not None:
            return
        core.link_lost = why
        core.link_down = True
        core.out.sealed = True
        for name in (IDLE, _REPLY_GRACE, _READY_WARNING, _HELLO):
            core.deadlines.cancel(name)
        self.speaking.cut_by_connection(now)
        self.agenda.end_all(why, error, keep_playing=True)
        self.gate.reset()
        self._after(now)

    # -- reports from the shell

    def prepared(
        self,
        token: int,
        result: object = None,
        *,
        error: BaseException | None = None,
        now: float,
    ) -> None:
        """The answer to a :class:`~voicelive_proactive.actions.Prepare` (``error`` if the
        guard or the strategy raised)."""
        if self.core.closed:
            return
        self.agenda.prepared(token, result, error, now)
        self._after(now)

    def flushed(self, action: FlushAudio, dropped: int, now: float) -> None:
        """The speaker performed ``action`` and dropped ``dropped`` unplayed bytes."""
        self.speaking.flushed(action.only, dropped, now)
        if action.closing and self._closing is not None:
            why, error = self._closing
            self._closing = None
            self._finish_close(why, now, error)
            return
        self._after(now)

    def paused(self, pending: int, now: float) -> None:
        """The speaker paused with ``pending`` bytes unplayed."""
        self.gate.paused(pending)

    def played(self, position: int, now: float) -> None:
        """Everything queued before ``position`` has been heard."""
        if self.core.closed:
            return
        self.core.floor.played_through(position)
        self.speaking.echo_heard(position, now)
        self.agenda.played(position, now)
        self._after(now)

    def send_failed(self, action: Send, error: BaseException, now: float) -> None:
        """Putting ``action.event`` on the wire failed: the connection is gone."""
        self.core.link_down = True
        if action.speech is not None:
            self.agenda.send_failed(action.speech, error)
        self._after(now)

    # -- time

    def handle_timer(self, now: float) -> None:
        """Run every deadline that has passed."""
        core = self.core
        if core.closed:
            return
        for name in core.deadlines.due(now):
            if name == IDLE:
                self._idle_expired(now)
            elif name == _REPLY_GRACE:
                core.floor.reply_not_coming()
                core.tools.reply_not_coming()
            elif name == _READY_WARNING:
                self._warn_not_ready()
            elif name == _HELLO:
                self._hello_timeout(now)
            elif isinstance(name, tuple):
                what, speech = name
                if what == "prepare":
                    self.agenda.timed_out(speech, now)
                elif what == "expire":
                    self._expire(speech)
                elif what == "echo":
                    self.speaking.echo_over(speech)
            else:
                self.gate.deadline(name, now)
        self._after(now)

    def _expire(self, speech: SpeechState) -> None:
        if speech.phase in NOT_STARTED and speech.expires_at is not None:
            self.agenda.skip(speech, "expired: it could not start before its expires_in deadline")

    # -- server events

    def receive(self, event: Any, now: float) -> None:
        """One server event, in order. Raises :class:`Malformed` for one that lacks what the
        engine needs (nothing changed); events the engine does not use cost a dict lookup."""
        try:
            event_type = event["type"]  # SDK models are mappings; this skips the slow getattr
        except (TypeError, KeyError):
            event_type = getattr(event, "type", None)
        handler = self.receiver.handlers.get(event_type)
        if handler is None or self.core.closed:
            return
        if handler(event, now):
            self._after(now)

    def ready_now(self, event: Any, now: float) -> bool:
        """The first ``session.updated``: the session is ready."""
        core = self.core
        core.ready = True
        core.deadlines.cancel(_READY_WARNING)
        greeting = self.agenda.greeting
        greeting.metrics.session_ready = now
        config = core.config
        core.out.add(StartMicrophone())
        # What the event says is read after the greeting is on its way (reading the SDK's
        # models costs microseconds) unless the greeting needs the app's settings first.
        needs_settings = (
            not config.interruptible
            or config.echo_guard_ms
            or config.paces_interruptions
            or isinstance(config.greet_when, AfterHello)
        )
        if needs_settings:
            self.receiver.learn(event)
        if isinstance(config.greet_when, AfterHello):
            self._hello = "waiting"
            core.deadlines.set(_HELLO, now + config.greet_when.max_wait)
            update = core.settings.force("create_response", False)
            if update is not None:
                core.out.send(update)
        elif config.greet_when == "ready":
            self.agenda.make_due(greeting)
        self._after(now)
        if not needs_settings:
            self.receiver.learn(event)
        return False

    def learn_formats(self, session: Mapping[str, Any]) -> None:
        try:
            output, input_ = AudioFormat.from_session(session)
        except ConfigurationError as exc:
            raise Malformed(f"session.updated has an unknown format: {exc}") from None
        self.core.floor.bytes_per_second = output.bytes_per_second
        self.core.formats = (output, input_)
        self.core.out.add(ConfigureAudio(output, input_))

    def user_started(self, now: float, audio_start_ms: float | None = None) -> None:
        """``input_audio_buffer.speech_started``."""
        core = self.core
        core.floor.speech_started()
        core.user_spoke = True
        core.deadlines.cancel(_REPLY_GRACE)
        self.idle.user_active(core.deadlines)
        greeting = self.agenda.greeting
        if (
            greeting.if_user_speaking == "skip"
            and greeting.phase in (Phase.QUEUED, Phase.READY)
            and (core.ready or greeting in self.agenda.queue)
        ):
            self.agenda.skip(greeting, "the user started speaking before the greeting")
        if self._hello == "waiting":
            self._hello = "hearing"
        if core.floor.protected:
            return  # speech the user cannot cut off plays on
        if self.gate.wants_pause(now, audio_start_ms):
            return
        core.out.add(FlushAudio())

    def user_stopped(self, now: float, audio_end_ms: float | None = None) -> None:
        """``input_audio_buffer.speech_stopped``."""
        core = self.core
        reply = core.settings.reply_expected
        core.floor.speech_stopped(reply_expected=reply)
        if reply:
            core.deadlines.set(_REPLY_GRACE, now + core.config.reply_grace)
        self.gate.user_stopped(now, audio_end_ms)
        if self._hello in ("hearing", "late"):
            self._greet_after_hello()

    def reply_grace(self, now: float) -> None:
        """Wait a little for a response that should follow (the app's tool answer)."""
        self.core.deadlines.set(_REPLY_GRACE, now + self.core.config.reply_grace)

    def response_started(self, view: Any) -> None:
        """A response started; cut off what it must not play over."""
        core = self.core
        core.deadlines.cancel(_REPLY_GRACE)
        core.tools.response_started()
        if view.owner.value != "theirs":
            return
        if self._swallows_replies():
            self._swallow(view)
        self.gate.service_took_floor()

    def _swallows_replies(self) -> bool:
        """Greeting after the hello, not spoken yet: the service must not answer the hello."""
        return self._hello != "off" and self.agenda.greeting.phase in (
            *NOT_STARTED,
            Phase.REQUESTED,
        )

    def _swallow(self, view: Any) -> None:
        """The service's own reply to the callee's hello: cancelled by name, never heard."""
        view.muted = True
        view.held.clear()
        if view.active:
            self.core.out.send(cancel_event(next(self.core.ids), view.id))

    def service_error(self, message: str) -> None:
        if not self.core.ready:
            self._service_error = message
            log.warning(
                "voicelive-proactive: the service refused something before the session was "
                "ready: %s (the greeting waits for session.updated)",
                message,
            )

    def apply(self, facts: list[Fact], now: float) -> None:
        speaking = self.speaking
        for fact in facts:
            kind = type(fact)
            if kind is Attributed:
                speaking.attributed(
                    fact.response,  # type: ignore[union-attr]
                    fact.proof,  # type: ignore[union-attr]
                    now,
                    fact.released,  # type: ignore[union-attr]
                )
            elif kind is Refuted:
                if self._swallows_replies():
                    self._swallow(fact.response)  # type: ignore[union-attr]
                else:
                    speaking.refuted(fact, now)  # type: ignore[arg-type]
            elif kind is Rejected:
                speaking.rejected(fact, now)  # type: ignore[arg-type]
            elif kind is ResponseEnded:
                speaking.ended(fact, now)  # type: ignore[arg-type]
            elif kind is Heard:
                speaking.heard(fact, now)  # type: ignore[arg-type]

    # -- after every input

    def _after(self, now: float) -> None:
        core = self.core
        if core.closed:
            return
        self.agenda.pump(now)
        self.speaking.keep_override()
        if (
            self._hello == "done"
            and core.settings.forcing("create_response")
            and not self._greeting_not_out()
        ):
            # The greeting is out: the app's own create_response goes back.
            update = core.settings.release("create_response")
            if update is not None:
                core.out.send(update)
        if not self.gate.active:
            self.gate.forget_blip(self.agenda)
        if self.idle.nudge is not None:
            self.idle.update(self._conversation_idle(), now, core.deadlines)

    def _greeting_not_out(self) -> bool:
        return self.agenda.greeting.phase in (*NOT_STARTED,)

    # -- greeting after hello

    def _hello_timeout(self, now: float) -> None:
        if self._hello == "waiting":
            self._greet_after_hello()
        elif self._hello == "hearing":
            self._hello = "late"  # the callee is still talking: greet when they stop

    def _greet_after_hello(self) -> None:
        self._hello = "done"
        self.core.deadlines.cancel(_HELLO)
        self.agenda.make_due(self.agenda.greeting)

    # -- idle nudges

    def _conversation_idle(self) -> bool:
        core = self.core
        greeting = self.agenda.greeting
        return (
            core.ready
            and not core.closed
            and not core.link_down
            and not core.tools.blocking
            and self.agenda.head() is None
            and not (greeting.phase is Phase.WAITING and core.config.greet_when != "manual")
            and core.floor.may_speak()
            and not core.floor.playing
            and not self.gate.active
        )

    def _idle_expired(self, now: float) -> None:
        verdict = self.idle.expired(self._conversation_idle())
        core = self.core
        config = core.config
        if verdict == "nudge":
            nudge = config.nudge
            assert nudge is not None
            speech = SpeechState(
                SpeechKind.NUDGE,
                config.nudge_alternatives,
                interruptible=nudge.interruptible,
                if_user_speaking="skip",
            )
            speech.handle = core.make_handle(speech)
            log.info(
                "voicelive-proactive: idle for %s s: nudge %d", nudge.after, self.idle.in_a_row
            )
            core.out.add(Emit(NudgeFired(speech.handle, self.idle.in_a_row)))
            self.agenda.add(speech, now)
        elif verdict == "exhausted":
            from .actions import Exhausted

            log.info("voicelive-proactive: %d nudge(s) went unanswered", self.idle.in_a_row)
            core.out.add(Emit(NudgesExhausted(self.idle.in_a_row)))
            core.out.add(Exhausted())

    def _warn_not_ready(self) -> None:
        if self.core.ready or self.core.closed:
            return
        said = (
            f" The service said: {self._service_error}."
            if self._service_error is not None
            else " Send a session.update (for example `await conn.session.update(session={...})`),"
            ' or pass greet_when="manual" and call greet() yourself.'
        )
        log.warning(
            "voicelive-proactive: session.created arrived %s s ago but no session.updated has; "
            "the greeting waits for it.%s",
            self.core.config.ready_warning_after,
            said,
        )

    def session_created(self, now: float) -> None:
        core = self.core
        if core.ready or _READY_WARNING in core.deadlines:
            return
        if core.config.greet_when == "ready":
            core.deadlines.set(_READY_WARNING, now + core.config.ready_warning_after)
            self.agenda.render_ahead(self.agenda.greeting, now)


def _prerecorded_first(speech: SpeechState) -> bool:
    from .prerecorded import is_prerecorded

    return bool(speech.alternatives) and is_prerecorded(speech.alternatives[0])


# The user turn is read through the floor; named here for readers of this module.
_USER_TURN = UserTurn
