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
:class:`~voicelive_proactive.pausing.PauseGate` (coughs are not turns), deadlines, and three
that each own one stretch of the session: :class:`~voicelive_proactive.readiness.Readiness`
(before ``session.updated``), :class:`~voicelive_proactive.hello.HelloWait` (an outbound
call's hello) and :class:`~voicelive_proactive.closing.Closing` (the end).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from .actions import Action, ConfigureAudio, FlushAudio, Send, StartMicrophone
from .agenda import Agenda
from .audio.formats import AudioFormat
from .closing import Closing
from .core import Core, EngineConfig
from .errors import ConfigurationError
from .first_update import GreetFirst
from .floor import Attributed, Fact, Heard, Refuted, Rejected, ResponseEnded, UserTurn
from .hello import HELLO, AfterHello, HelloWait
from .lifecycle import NOT_STARTED, IfUserSpeaking, Phase, SpeechKind, SpeechState
from .nudge import IDLE, IdleWatch, Nudger
from .pausing import PauseGate
from .readiness import READY_WARNING, Readiness
from .receiving import HANDLERS, Receiver
from .speaking import Speaking

__all__ = ["Engine", "EngineConfig", "Malformed"]

log = logging.getLogger("voicelive_proactive")

_REPLY_GRACE: Final = "reply grace"
# Its own deadline, not the user's reply grace: the user speaking again cancels that one, and
# must not leave a tool answer waiting forever for a response.create that was refused.
_TOOL_GRACE: Final = "tool reply grace"


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
            needs_guard=config.asks_guard,
        )
        speech.handle = core.make_handle(speech)
        self.agenda = Agenda(core, speech)
        self.speaking = Speaking(core, self.agenda)
        self.gate = PauseGate(core)
        self.idle = IdleWatch(config.nudge)
        self.nudger = Nudger(core, self.agenda, self.gate, self.idle)
        self.receiver = Receiver(self)
        self.readiness = Readiness(core, self.agenda)
        self.hello = HelloWait(core, self.agenda)
        moot = (IDLE, _REPLY_GRACE, _TOOL_GRACE, READY_WARNING, HELLO)
        self.closing = Closing(core, self.agenda, self.speaking, self.gate, moot)
        self._started = False
        # The common start sends the greeting before the rest of session.updated is read.
        self.first = GreetFirst(self, config)

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

    @property
    def behind(self) -> bool:
        """The greeting went out first: the shell calls :meth:`catch_up` once it has put the
        actions taken so far on the wire (:mod:`~voicelive_proactive.first_update`)."""
        return self.first.later is not None

    def catch_up(self) -> None:
        """Do what the first ``session.updated`` put off to send the greeting first (every
        other input does it first anyway). Raises :class:`Malformed` for unknown formats."""
        self.first.catch_up()

    def _keep_up(self) -> None:
        """Another input came before :meth:`catch_up`: catch up first."""
        try:
            self.catch_up()
        except Malformed as exc:  # the shell's catch_up() would have recorded it
            log.warning("voicelive-proactive: skipped part of a session.updated: %s", exc)

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` wants to run next (on the session's clock)."""
        return self.core.deadlines.next()

    # -- app commands

    def start(self, now: float) -> None:
        """The session started (its loop is known): things that need no service go now."""
        if self.first.later is not None:
            self._keep_up()
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
        if self.first.later is not None:
            self._keep_up()
        if self.core.closed:
            return
        self.hello.greeted()
        self.agenda.make_due(self.agenda.greeting)
        self._after(now)

    def say(self, speech: SpeechState, now: float) -> None:
        """Queue a ``say()``; it goes out in order when its turn comes."""
        if self.first.later is not None:
            self._keep_up()
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
        if self.first.later is not None:
            self._keep_up()
        if self.core.closed:
            return
        self.speaking.cancel(speech, now)
        self._after(now)

    def activity(self, now: float) -> None:
        """The user is there (a key press, a digit): the idle timer and count start over."""
        if self.first.later is not None:
            self._keep_up()
        self.idle.user_active(self.core.deadlines)
        self._after(now)

    def pause_nudges(self, paused: bool, now: float) -> None:
        if self.first.later is not None:
            self._keep_up()
        self.idle.pause(paused, self.core.deadlines)
        self._after(now)

    def context_changed(self) -> None:
        """New context values: a greeting rendered ahead is rendered again when due."""
        if self.first.later is not None:
            self._keep_up()
        greeting = self.agenda.greeting
        if greeting.phase is Phase.WAITING and greeting.rendered is not None:
            greeting.rendered = greeting.ahead = None
            greeting.next_alternative = 0

    def close(self, why: str, now: float, error: BaseException | None = None) -> None:
        """The session or the connection ended: settle everything, send nothing more."""
        if self.first.later is not None:
            self._keep_up()
        self.closing.close(why, now, error)

    def connection_lost(self, why: str, now: float, error: BaseException | None = None) -> None:
        """The connection ended (``why``: "the connection closed"): what is not on its way to
        the speaker fails; what the speaker already has plays on, and settles when heard."""
        if self.first.later is not None:
            self._keep_up()
        if self.closing.connection_lost(why, now, error):
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
        if self.first.later is not None:
            self._keep_up()
        if self.core.closed:
            return
        self.agenda.preparation.prepared(token, result, error, now)
        self._after(now)

    def flushed(self, action: FlushAudio, dropped: int, now: float) -> None:
        """The speaker performed ``action`` and dropped ``dropped`` unplayed bytes."""
        if self.first.later is not None:
            self._keep_up()
        self.speaking.flushed(action.only, dropped, now)
        if not self.closing.flushed(action, now):
            self._after(now)

    def paused(self, pending: int, now: float) -> None:
        """The speaker paused with ``pending`` bytes unplayed."""
        if self.first.later is not None:
            self._keep_up()
        self.gate.paused(pending)

    def played(self, position: int, now: float) -> None:
        """Everything queued before ``position`` has been heard."""
        if self.first.later is not None:
            self._keep_up()
        if self.core.closed:
            return
        self.core.floor.played_through(position)
        self.speaking.echo_heard(position, now)
        self.agenda.played(position, now)
        self._after(now)

    def send_failed(self, action: Send, error: BaseException, now: float) -> None:
        """Putting ``action.event`` on the wire failed: the connection is gone."""
        if self.first.later is not None:
            self._keep_up()
        self.core.link_down = True
        if action.speech is not None:
            self.agenda.send_failed(action.speech, error)
        self._after(now)

    # -- time

    def handle_timer(self, now: float) -> None:
        """Run every deadline that has passed."""
        if self.first.later is not None:
            self._keep_up()
        core = self.core
        if core.closed:
            return
        for name in core.deadlines.due(now):
            if name == IDLE:
                self.nudger.expired(now)
            elif name == _REPLY_GRACE:
                core.floor.reply_not_coming()
                core.tools.reply_not_coming()
            elif name == _TOOL_GRACE:
                core.tools.reply_not_coming()
                self.speaking.continuation_not_coming(now)
            elif name == READY_WARNING:
                self.readiness.warn()
            elif name == HELLO:
                self.hello.timeout()
            elif isinstance(name, tuple):
                what, speech = name
                if what == "prepare":
                    self.agenda.preparation.timed_out(speech, now)
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
        handler = HANDLERS.get(event_type)
        if handler is None or self.core.closed:
            return
        if self.first.later is not None:
            self._keep_up()
        if handler(self.receiver, event, now):
            self._after(now)

    def ready_now(self, event: Any, now: float) -> bool:
        """The first ``session.updated``: the session is ready."""
        first = self.first
        if first.applies and first.send(event, now):
            return False
        core = self.core
        self.readiness.ready()
        greeting = self.agenda.greeting
        greeting.metrics.session_ready = now
        config = core.config
        core.out.add(StartMicrophone())
        # What the event says is read after the greeting is on its way (reading the SDK's
        # models costs microseconds) unless the greeting needs the app's settings first.
        needs_settings = config.needs_settings_first
        if needs_settings:
            self.receiver.learn(event)
        if isinstance(config.greet_when, AfterHello):
            self.hello.start(config.greet_when.max_wait, now)
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
        self.hello.user_started()
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
        self.hello.user_stopped()

    def reply_grace(self, now: float) -> None:
        """Wait a little for a response that should follow (the app's tool answer)."""
        self.core.deadlines.set(_TOOL_GRACE, now + self.core.config.reply_grace)

    def response_started(self, view: Any) -> None:
        """A response started; cut off what it must not play over."""
        core = self.core
        core.deadlines.cancel(_REPLY_GRACE)
        if core.floor.awaiting_tool is None:
            core.deadlines.cancel(_TOOL_GRACE)
        # else: not the continuation of our tool call; if that never comes (the app's
        # response.create refused as busy), the grace ends the wait for it.
        core.tools.response_started()
        if view.owner.value != "theirs":
            return
        if self.hello.swallows_replies():
            self.hello.swallow(view)
        self.gate.service_took_floor()

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
                if self.hello.swallows_replies():
                    self.hello.swallow(fact.response)  # type: ignore[union-attr]
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
        self.hello.give_back()
        if not self.gate.active:
            self.gate.forget_blip(self.agenda)
        self.nudger.update(now)


def _prerecorded_first(speech: SpeechState) -> bool:
    from .prerecorded import is_prerecorded

    return bool(speech.alternatives) and is_prerecorded(speech.alternatives[0])


# The user turn is read through the floor; named here for readers of this module.
_USER_TURN = UserTurn
