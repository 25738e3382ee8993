"""The speech agenda: proactive speech waits its turn, is prepared, sent and settled.

Part of the engine (no I/O). Each speech follows the lifecycle table of
:mod:`voicelive_proactive.lifecycle`; this module decides *when* it moves: the queue goes
out one speech at a time, in order, never over a response, a tool call or (unless told) the
user, and every speech ends exactly once: spoken and heard (or cut off), skipped, or failed.
"""

from __future__ import annotations

import logging
from typing import Any

from .actions import Emit, Finished, Raise, ReleaseGuard, WatchPlayout
from .core import Core
from .errors import GreetingFailedError
from .events import (
    SpeechFailed,
    SpeechFinished,
    SpeechInterrupted,
    SpeechQueued,
    SpeechSkipped,
    SpeechStarted,
)
from .floor import Request, ResponseView, UserTurn
from .greetings import GreetingMode
from .lifecycle import NOT_STARTED, Phase, SpeechState, Trigger, move
from .local_play import LocalPlay
from .outcome import GreetingStatus
from .preparing import Preparation
from .receipts import receipt
from .wire import greeting_events

__all__ = ["Agenda"]

log = logging.getLogger("voicelive_proactive")


class Agenda:
    """The queue of proactive speech, and the speech over on the service still playing."""

    def __init__(self, core: Core, greeting: SpeechState) -> None:
        self.core = core
        self.greeting = greeting
        self.queue: list[SpeechState] = []  # short: a list is 700 bytes less than a deque
        self.playing: list[SpeechState] = []
        # Collaborators for two stretches of a speech's way out: user code, and local audio.
        self.preparation = Preparation(core, self)
        self.local = LocalPlay(core, self)

    # -- the queue

    def add(self, speech: SpeechState, now: float) -> None:
        """A new ``say()`` or nudge: replace a queued one with its key, and queue it."""
        core = self.core
        if speech.key is not None:
            for other in self.queue:
                if other.key == speech.key and other.phase in NOT_STARTED:
                    self.skip(other, f"replaced by a newer speech with key {speech.key!r}")
        if speech.expires_at is not None:
            core.deadlines.set(("expire", speech), speech.expires_at)
        self.queue.append(speech)
        self.emit(SpeechQueued(speech.handle))

    def make_due(self, speech: SpeechState) -> None:
        """The greeting is due: it goes first."""
        if speech.phase is not Phase.WAITING or self.core.closed:
            return
        move(speech, Trigger.DUE)
        self.queue.insert(0, speech)
        self.emit(SpeechQueued(speech.handle))
        if speech.if_user_speaking == "skip" and self.core.user_spoke:
            self.skip(speech, "the user started speaking before the greeting")

    def head(self) -> SpeechState | None:
        queue = self.queue
        while queue and (queue[0].phase is Phase.DONE or queue[0].phase is Phase.PLAYING):
            queue.pop(0)
        return queue[0] if queue else None

    def pending(self) -> tuple[SpeechState, ...]:
        return tuple(s for s in self.queue if s.phase is not Phase.DONE)

    def may_start(self, speech: SpeechState) -> bool:
        core = self.core
        greeting = speech is self.greeting
        if not (greeting or core.ready):
            return False
        if (
            not greeting
            and self.greeting.phase is Phase.WAITING
            and (core.config.greet_when != "manual")
        ):
            return False  # the greeting comes first
        floor = core.floor
        policy = speech.if_user_speaking
        if policy == "skip" and (
            floor.user is not UserTurn.SILENT or (greeting and core.user_spoke)
        ):
            self.skip(
                speech,
                "the user started speaking before the greeting"
                if greeting
                else "the user was speaking",
            )
            return False
        if core.tools.blocking:
            return False
        return floor.may_speak(policy != "speak")

    def pump(self, now: float) -> None:
        """Move the queue: prepare the head, and send it when the floor is free."""
        core = self.core
        while not (core.closed or core.link_down):
            speech = self.head()
            if speech is None:
                return
            phase = speech.phase
            if phase is Phase.QUEUED:
                if not self.may_start(speech):
                    if speech.phase is not Phase.DONE:
                        return
                    continue
                self.preparation.prepare(speech, now)
                if speech.phase is Phase.PREPARING:
                    return  # user code is working on it
                continue
            if phase is not Phase.READY:
                return  # preparing, or on the service
            if not self.may_start(speech):
                if speech.phase is not Phase.DONE:
                    return
                continue
            self.send(speech, now)

    # -- sending

    def request_for(self, speech: SpeechState) -> tuple[Request, list[dict[str, Any]]]:
        """The request for ``speech``'s rendered greeting, and the events that make it."""
        greeting = speech.rendered
        assert greeting is not None
        events = greeting_events(greeting, self.core.ids)
        request = Request(
            events[-1]["event_id"],
            owner=speech,
            item_event_id=events[0]["event_id"] if len(events) > 1 else None,
            protected=not speech.interruptible or self.core.config.echo_guard_ms > 0,
            yield_to_user=speech.interruptible and speech.if_user_speaking != "speak",
            hold_until_proven=speech is self.greeting
            and not isinstance(self.core.config.greet_when, str),
        )
        return request, events

    def send(self, speech: SpeechState, now: float) -> None:
        greeting = speech.rendered
        assert greeting is not None
        if greeting.mode is GreetingMode.PRERECORDED:
            self.local.play(speech, greeting, now)
            return
        self.transmit(speech, now)
        self.record_rendered(speech)

    def transmit(self, speech: SpeechState, now: float, trigger: Trigger = Trigger.SEND) -> None:
        """Put the request for ``speech`` (rendered) on the floor and on the wire."""
        request, events = speech.ahead or self.request_for(speech)
        speech.ahead = None
        core = self.core
        core.floor.request_sent(request)
        speech.request = request
        speech.protected = request.protected
        move(speech, trigger)
        speech.metrics.greeting_sent = now
        self.hold_service(speech)
        out = core.out
        for event in events:
            out.send(event, speech)

    def hold_service(self, speech: SpeechState) -> None:
        """Before a speech the service must not cut off, tell it so (``interrupt_response``)."""
        core = self.core
        if speech.protected or (core.config.paces_interruptions and speech.interruptible):
            event = core.settings.force("interrupt_response", False)
            if event is not None:
                core.out.send(event)

    def record_rendered(self, speech: SpeechState) -> None:
        speech.update(
            greeting=speech.rendered, strategy=speech.rendered_by, attempts=speech.next_alternative
        )

    def send_failed(self, speech: SpeechState, error: BaseException) -> None:
        """Sending one of ``speech``'s events failed: the connection is gone."""
        self.core.link_down = True
        if speech.request is not None:
            self.core.floor.request_lost(speech.request)
        if speech.phase in (Phase.REQUESTED, Phase.READY):
            self.fail(speech, "it could not be sent: the connection failed", error)

    # -- speaking

    def started(self, speech: SpeechState, now: float, position: int) -> None:
        """The first audio of ``speech`` reached the speaker (at ledger ``position``)."""
        if speech.started:
            return
        speech.started = True
        speech.first_position = position
        speech.metrics.first_audio = now
        speech.update(status=GreetingStatus.SENT)
        self.emit(SpeechStarted(speech.handle))
        if self.core.config.echo_guard_ms and speech.interruptible:
            # The guard counts from the first sample *heard*, not the first one received.
            self.core.out.add(WatchPlayout(position))

    def over_on_service(self, speech: SpeechState, now: float) -> None:
        """The service is done with ``speech``: it plays out locally, then settles."""
        if speech.phase is not Phase.PLAYING:
            move(speech, Trigger.SERVICE_DONE)
        self.playing.append(speech)
        self.finish(speech)
        view = speech.response
        if view is None or view.muted or self._played_out(speech):
            self.settle(speech, now)
        else:
            self.core.out.add(WatchPlayout(self.core.floor.playout_position))

    def _played_out(self, speech: SpeechState) -> bool:
        """None of its audio is left in the speaker: all of it was heard or dropped.

        Asked of the ledger, not of a position taken when the service was done: a flush
        that stops another response queues this one's unplayed audio again, further on.
        """
        view = speech.response
        return view is None or not self.core.floor.ledger.pending_of(view.id)

    def played(self, position: int, now: float) -> None:
        """Playout reached ``position`` (the ledger has been told): settle what played out."""
        for speech in list(self.playing):
            if self._played_out(speech):
                self.settle(speech, now)

    # -- ending

    def emit(self, event: object) -> None:
        self.core.out.add(Emit(event))

    def finish(self, speech: SpeechState) -> None:
        """Wake whoever waits for ``speech`` (once)."""
        if not speech.finished:
            speech.finished = True
            self.core.out.add(Finished(speech))

    def settle(self, speech: SpeechState, now: float) -> None:
        if speech.phase is Phase.DONE:
            return
        if speech in self.playing:
            self.playing.remove(speech)
        view = speech.response
        if speech.cut_short and view is not None and not speech.outcome.interrupted:
            # The response was cut short (the connection ended mid-way): all of what came
            # was heard, and that is all there is.
            view.played_ms = view.ms(view.queued_bytes)
            self.interrupted(speech, view, view.played_ms)
        outcome = speech.outcome
        speech.metrics.played_out = now
        if not outcome.interrupted and outcome.status is GreetingStatus.SENT:
            view = speech.response
            transcript = outcome.transcript or (view.transcript if view else "") or ""
            heard, estimated, delivered = receipt(
                speech.words, transcript, played_ms=None, total_ms=0
            )
            speech.update(heard_text=heard, heard_estimated=estimated, delivered=delivered)
        move(speech, Trigger.PLAYED_OUT if speech.phase is Phase.PLAYING else Trigger.END)
        speech.update(settled=True)
        self.finish(speech)
        if not outcome.interrupted and outcome.status is GreetingStatus.SENT:
            self.emit(SpeechFinished(speech.handle))

    def _give_back_guard(self, speech: SpeechState) -> None:
        """A greeting that failed before any of it reached the speaker was never heard: the
        next connection of the conversation should greet, not resume."""
        maybe_heard = speech.response is not None and speech.response.queued_bytes > 0
        if speech.guard_acquired and not speech.metrics.audio_bytes and not maybe_heard:
            speech.guard_acquired = False
            self.core.out.add(ReleaseGuard())

    def _end(self, speech: SpeechState) -> None:
        self.preparation.abandon(speech)
        self.core.deadlines.cancel(("expire", speech))
        self.core.deadlines.cancel(("echo", speech))
        if speech in self.playing:
            self.playing.remove(speech)
        move(speech, Trigger.END)
        speech.update(settled=True)
        self.finish(speech)

    def skip(self, speech: SpeechState, reason: str) -> None:
        if speech.phase is Phase.DONE:
            return
        log.info("voicelive-proactive: %r skipped: %s", speech, reason)
        speech.update(status=GreetingStatus.SKIPPED, reason=reason)
        self._end(speech)
        self.emit(SpeechSkipped(speech.handle, reason))

    def fail(
        self,
        speech: SpeechState,
        reason: str,
        error: BaseException | None = None,
        *,
        raise_without_error: bool = False,
    ) -> None:
        if speech.phase is Phase.DONE:
            return
        log.warning("voicelive-proactive: %r failed: %s", speech, reason)
        speech.update(status=GreetingStatus.FAILED, reason=reason, error=error)
        self._end(speech)
        self._give_back_guard(speech)
        self.emit(SpeechFailed(speech.handle, reason, error))
        raises = error is not None or raise_without_error
        if self.core.config.raise_errors and raises and speech is self.greeting:
            failure = GreetingFailedError(reason)
            failure.__cause__ = error
            self.core.out.add(Raise(failure))

    def fail_all(self, speech: SpeechState) -> None:
        """Every alternative failed: the greeting fails (and raises, with ``raise_errors``,
        even when no alternative left an error behind)."""
        errors = speech.errors
        reasons = "; ".join(str(e) for e in errors) or "no strategy produced a greeting"
        speech.update(attempts=speech.next_alternative)
        error = errors[-1] if errors else None
        reason = f"every greeting strategy failed: {reasons}"
        self.fail(speech, reason, error, raise_without_error=True)

    def end_all(
        self, why: str, error: BaseException | None = None, *, keep_playing: bool = False
    ) -> None:
        """The session or the connection ended: what is not delivered never will be.

        ``keep_playing``: speech already in the speaker plays on (the connection ended, the
        session did not) and settles once heard.
        """
        for speech in [self.greeting, *self.queue, *self.playing]:
            if speech.phase is Phase.DONE:
                continue
            if keep_playing and speech.phase is Phase.PLAYING:
                continue
            if speech.outcome.status is GreetingStatus.PENDING:
                self.fail(speech, f"{why} {_before(speech)}", error)
            else:
                self._end(speech)
        if not keep_playing:
            self.playing.clear()

    def interrupted(self, speech: SpeechState, view: ResponseView, played_ms: int) -> None:
        """``speech`` was cut off after ``played_ms`` of its audio was heard."""
        words = speech.words or view.words
        transcript = speech.outcome.transcript or view.transcript
        total = view.ms(view.received_bytes or view.queued_bytes)
        heard, estimated, delivered = receipt(
            words, transcript, played_ms=played_ms, total_ms=total
        )
        speech.update(
            interrupted=True,
            played_ms=played_ms,
            heard_text=heard,
            heard_estimated=estimated,
            delivered=delivered,
        )
        self.emit(SpeechInterrupted(speech.handle, played_ms, heard))


def _before(speech: SpeechState) -> str:
    """Where a pending speech was when the session ended, for its reason."""
    if speech.phase in NOT_STARTED:
        return f"before {speech.noun} was sent"
    if speech.phase is Phase.AWAITING_TOOL:
        return f"while {speech.noun} waited for its tool call to be answered"
    return f"before the service spoke {speech.noun}"
