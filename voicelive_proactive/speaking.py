"""Speech on the service and in the speaker: attribution, tool calls, cut-offs, receipts.

Part of the engine (no I/O). The floor says what happened to a response (whose it is, that
it ended, how much of it was heard); this module says what that means for the speech it
belongs to, and what to send or play because of it:

* a response proven ours (by its tag) may be cancelled, and its item truncated once, to what
  was really heard, in the item's own format; one only presumed ours is never touched;
* a speech the user talked over before it was heard is said again later or skipped, and its
  unheard item is deleted from the conversation (the model must not believe it spoke);
* ``cancel()`` stops a speech in any phase, dropping only its own unplayed audio;
* the ``interrupt_response`` override is held exactly while speech the user cannot cut off
  is on the service or playing, and given back on every exit path.
"""

from __future__ import annotations

import logging
from typing import Any

from .actions import FlushAudio, QueueAudio, WatchPlayout
from .agenda import Agenda
from .core import Core
from .errors import GreetingFailedError
from .events import FunctionCallRequested
from .floor import Heard, Owner, Proof, Refuted, Rejected, ResponseEnded, ResponseView, UserTurn
from .lifecycle import NOT_STARTED, ON_THE_SERVICE, Phase, SpeechState, Trigger, move
from .local_play import replace_heard
from .outcome import FunctionCall, GreetingStatus
from .wire import cancel_event, delete_item_event, truncate_event

__all__ = ["Speaking"]

log = logging.getLogger("voicelive_proactive")


def owner(view: ResponseView | None) -> SpeechState | None:
    if view is None or view.request is None:
        return None
    speech = view.request.owner
    return speech if isinstance(speech, SpeechState) else None


class Speaking:
    """What responses mean for the speeches they belong to."""

    def __init__(self, core: Core, agenda: Agenda) -> None:
        self.core = core
        self.agenda = agenda
        self._echo: list[tuple[int, SpeechState]] = []  # first positions awaiting their echo guard

    # -- audio

    def play(self, key: str, pcm: bytes, now: float) -> None:
        """Hand a chunk of response ``key`` to the speaker, and account for it."""
        core = self.core
        floor = core.floor
        view = floor.response(key)
        if view is not None:
            if view.first_audio_at is None:
                view.first_audio_at = now
                view.first_position = floor.playout_position
            if view.owner is Owner.OURS:
                speech = owner(view)
                if speech is not None and speech.response is view:
                    speech.metrics.audio_bytes += len(pcm)
                    if not speech.started:  # before it is queued: its start is watched
                        self.agenda.started(speech, now, floor.playout_position)
        floor.queued(key, pcm)
        core.out.add(QueueAudio(pcm))

    def spoke(self, view: ResponseView | None) -> None:
        """A response of ours produced content: its speech was sent (the service speaks it)."""
        if view is None or not view.ours or view.muted:
            return
        speech = owner(view)
        if speech is not None and speech.response is view:
            speech.update(status=GreetingStatus.SENT)

    def function_called(self, view: ResponseView, call: tuple[Any, Any, str]) -> None:
        view.calls.append(FunctionCall(call[0], call[1], call[2]))
        if view.ours:
            self._announce_calls(view)

    def _announce_calls(self, view: ResponseView) -> None:
        speech = owner(view)
        if speech is None or speech.phase is Phase.DONE:
            view.calls.clear()
            return
        for call in view.calls:
            speech.update(function_calls=(*speech.outcome.function_calls, call))
            self.agenda.emit(FunctionCallRequested(speech.handle, call))
        view.calls.clear()

    # -- attribution

    def attributed(
        self, view: ResponseView, proof: Proof, now: float, released: tuple[bytes, ...] = ()
    ) -> None:
        speech = owner(view)
        cancelled = view.cancel_due and view.active
        if cancelled:
            view.cancel_due = False
            self.core.out.send(cancel_event(next(self.core.ids), view.id))
        if speech is None or speech.phase is Phase.DONE:
            return
        if view.request is not speech.request:
            # The answer to a request this speech gave up on (the service's own reply took
            # its place, and it was asked for again): the newer request speaks, this one
            # must not. Proven ours by its tag, so it may be cancelled; it leaves the
            # conversation when it ends (see ended()).
            if view.active and view.strong and not cancelled:
                self.core.out.send(cancel_event(next(self.core.ids), view.id))
            view.muted = True
            if view.queued_bytes:
                self.core.out.add(FlushAudio(only=view))
            return
        if (
            speech.response is not None
            and speech.response is not view
            and speech.phase
            not in (
                Phase.REQUESTED,
                Phase.AWAITING_TOOL,
            )
        ):
            return  # a late answer to a request settled on a guess: it plays, as ours
        speech.response = view
        speech.update(proof=proof.value)
        if speech.phase is Phase.REQUESTED:
            move(speech, Trigger.ATTRIBUTED)
        elif speech.phase is Phase.AWAITING_TOOL:
            move(speech, Trigger.CONTINUED)
        if speech.cancelled and not view.muted:
            self._stop(speech, view)
            return
        for pcm in released:  # held back until it was proven ours: it plays now
            self.play(view.id, pcm, now)
        if view.queued_bytes:  # it reached the speaker while only presumed ours
            speech.metrics.audio_bytes += view.queued_bytes
            self.agenda.started(speech, view.first_audio_at or now, view.first_position or 0)
        if view.calls:
            self._announce_calls(view)
        if view.spoke and not view.muted:
            speech.update(status=GreetingStatus.SENT)

    def refuted(self, fact: Refuted, now: float) -> None:
        view = fact.response
        for pcm in fact.released:  # somebody else's reply, held back while presumed ours
            self.play(view.id, pcm, now)

    def rejected(self, fact: Rejected, now: float) -> None:
        request = fact.request
        speech = owner_of(request.owner)
        if speech is None or speech.phase is Phase.DONE:
            return
        speech.request = speech.response = None
        speech.metrics.greeting_sent = speech.metrics.response_created = None
        if speech.cancelled:
            self.agenda.skip(speech, "cancelled by the app")
            return
        if fact.busy and not request.item_rejected:
            # Another response started first (e.g. server VAD): the same speech, sent later.
            log.info("voicelive-proactive: a response is active; %r waits for it", speech)
            move(speech, Trigger.BUSY)
            core = self.core
            if speech.if_user_speaking == "skip" and (
                core.user_spoke or core.floor.user is not UserTurn.SILENT
            ):
                self.agenda.skip(speech, "the user started speaking before it could be sent")
            return
        log.warning("voicelive-proactive: the service rejected %r: %s", speech, fact.message)
        speech.errors.append(GreetingFailedError(f"the service rejected it: {fact.message}"))
        speech.rendered = None
        move(speech, Trigger.REJECTED)  # on to the next alternative

    def ended(self, fact: ResponseEnded, now: float) -> None:
        view = fact.response
        speech = owner(view)
        if not view.ours:
            return
        if view.muted and view.played_ms == 0 and not view.truncated:
            self._forget_item(view)  # cut before its item appeared: nobody heard any of it
        if speech is None or speech.phase is Phase.DONE or speech.response is not view:
            # A response of ours that came after its speech had ended (its tag proved it
            # late): nobody heard it, so it leaves the conversation too.
            if view.muted and not view.queued_bytes:
                self._forget_item(view)
            return
        speech.metrics.done = now
        core = self.core
        if core.floor.awaiting_tool is view:
            move(speech, Trigger.TOOL_CALL)  # the app answers the tool; then it speaks
            return
        request = view.request
        assert request is not None
        if request.item_rejected:
            self._forget_item(view)
            speech.errors.append(
                GreetingFailedError("the service rejected the greeting's instructions")
            )
            speech.rendered = speech.request = speech.response = None
            move(speech, Trigger.REJECTED)  # its response never reached the user: fall back
            return
        unheard = view.queued_bytes == 0 and speech.outcome.status is GreetingStatus.PENDING
        cut_short = fact.status == "cancelled" and not view.spoke
        if unheard and (speech.cancelled or request.user_spoke_after or cut_short):
            self._forget_item(view)
            if speech.cancelled:
                self.agenda.skip(speech, "cancelled by the app")
            elif speech.if_user_speaking == "wait" and request.yield_to_user:
                speech.request = speech.response = None
                move(speech, Trigger.RESEND)  # say it again after the user's turn
            else:
                self.agenda.skip(speech, "the user started speaking before it could be heard")
            return
        transcript = view.transcript or None
        speech.words = list(view.words)
        if fact.status == "cancelled" and view.played_ms is None and not view.muted:
            # Cut short on the service without a cut here (the app or the service cancelled
            # it): what was received still plays (unless it is cut here later), and that is
            # all there will be. The outcome says so once it has played.
            speech.cut_short = True
        speech.update(status=GreetingStatus.SENT, transcript=transcript)
        self.agenda.over_on_service(speech, now)

    def continuation_not_coming(self, now: float) -> None:
        """The app answered the tool call of our response, but no response followed in time
        (its ``response.create`` was refused, or never sent): the speech is over with what
        it said before the call, and later speech no longer waits for it."""
        floor = self.core.floor
        view = floor.awaiting_tool
        if view is None:
            return
        floor.awaiting_tool = None
        self.tool_wait_over(view, now)

    def tool_wait_over(self, view: ResponseView, now: float) -> None:
        """No continuation of ``view``'s tool call will be taken as ours (it did not come in
        time, or another response started first, which ends the floor's wait)."""
        speech = owner(view)
        if speech is None or speech.phase is not Phase.AWAITING_TOOL or speech.response is not view:
            return
        if not view.spoke:
            self.agenda.fail(speech, "its tool call was answered but no response followed")
            return
        speech.update(status=GreetingStatus.SENT, transcript=view.transcript or None)
        self.agenda.over_on_service(speech, now)

    def heard(self, fact: Heard, now: float) -> None:
        """Our response was cut off after ``played_ms``."""
        view = fact.response
        speech = owner(view)
        core = self.core
        if fact.truncate and core.config.truncate:
            if view.item_id is not None:
                # Its item says what was heard, whatever became of its speech.
                core.out.send(truncate_event(next(core.ids), view.item_id, fact.played_ms))
            else:
                # Cut before its item appeared, so before any of its audio: nothing was
                # heard, and the item is deleted once it exists (see ended()).
                view.truncated = False
        if speech is None or speech.phase is Phase.DONE or speech.response is not view:
            return
        if (
            not view.queued_bytes
            and view.proof is not Proof.LOCAL
            and speech.outcome.status is GreetingStatus.PENDING
        ):
            # None of it reached the speaker: it was not interrupted, it was never heard.
            # Its response's end decides (ended()): said again after the user's turn, or
            # skipped; reporting a cut-off now would make a second one possible.
            return
        if view.proof is Proof.LOCAL:
            replace_heard(self.core, speech, view, fact.played_ms)
        self._interrupted(speech, view, fact.played_ms)
        if speech.phase is Phase.PLAYING:
            self.agenda.settle(speech, now)

    def _interrupted(self, speech: SpeechState, view: ResponseView, played_ms: int) -> None:
        self.agenda.interrupted(speech, view, played_ms)

    def _forget_item(self, view: ResponseView) -> None:
        """An item of ours nobody heard is deleted, when it is certainly ours."""
        if view.strong and view.item_id is not None and not view.truncated:
            view.truncated = True
            self.core.out.send(delete_item_event(next(self.core.ids), view.item_id))

    def cut_by_connection(self, now: float) -> None:
        """The connection ended: a response being spoken ends here, with what has come."""
        for speech in list(self.agenda.queue):
            view = speech.response
            if (
                speech.phase is Phase.SPEAKING
                and view is not None
                and view.ours
                and speech.outcome.status is GreetingStatus.SENT
            ):
                view.active = False
                speech.cut_short = True
                speech.words = list(view.words)
                speech.update(transcript=view.transcript or None)
                self.agenda.over_on_service(speech, now)

    def cut_by_close(self, now: float) -> None:
        """The session or the connection ended while speech was spoken or playing: what was
        not heard by now never will be (the outcome must not claim it was)."""
        ledger = self.core.floor.ledger
        for speech in (*self.agenda.queue, *self.agenda.playing):
            view = speech.response
            if (
                view is None
                or speech.phase not in (Phase.SPEAKING, Phase.PLAYING)
                or speech.outcome.status is not GreetingStatus.SENT
                or speech.outcome.interrupted
            ):
                continue
            unheard = ledger.pending_of(view.id)
            if unheard or speech.phase is Phase.SPEAKING:
                if view.played_ms is None:
                    view.played_ms = view.ms(max(0, view.queued_bytes - unheard))
                speech.words = speech.words or list(view.words)
                self._interrupted(speech, view, view.played_ms)
            else:
                self.agenda.settle(speech, now)

    # -- cancel

    def cancel(self, speech: SpeechState, now: float) -> None:
        phase = speech.phase
        if phase is Phase.DONE:
            return
        speech.cancelled = True
        if phase in NOT_STARTED:
            self.agenda.skip(speech, "cancelled by the app")
            return
        view = speech.response
        if phase is Phase.REQUESTED and (view is None or view.owner is Owner.PRESUMED):
            # Not known to be ours yet: once it is, it is stopped (and cancelled on the
            # service if its tag proves it ours). A presumed response keeps further audio
            # aside meanwhile, and what it already queued is dropped: the app asked for
            # silence, and the audio is, as far as anyone knows, this speech's.
            request = speech.request
            if request is not None:
                request.user_spoke_after = request.yield_to_user = True
            if view is not None and view.queued_bytes:
                self.core.out.add(FlushAudio(only=view))
            return
        if phase is Phase.AWAITING_TOOL:
            request = speech.request
            if request is not None:
                request.user_spoke_after = request.yield_to_user = True
            self.agenda.skip(speech, "cancelled by the app")
            return
        if view is not None:
            self._stop(speech, view)

    def _stop(self, speech: SpeechState, view: ResponseView) -> None:
        """Stop ``view`` (ours) now: cancel it on the service if it is certainly ours and
        still active, and drop its unplayed audio (others' audio plays on)."""
        if view.active and view.strong:
            self.core.out.send(cancel_event(next(self.core.ids), view.id))
        view.muted = True
        self.core.out.add(FlushAudio(only=view))

    def flushed(self, only: ResponseView | None, dropped: int, now: float) -> None:
        facts, requeue = self.core.floor.cut(dropped, only=only)
        out = self.core.out
        for _, audio in requeue:
            out.add(QueueAudio(audio))
        if requeue:
            # Queued again, it ends further on: the speech it belongs to settles once that
            # has played (what was watched for before the flush has come with it).
            out.add(WatchPlayout(self.core.floor.playout_position))
        from_engine = self.agenda  # facts about our speech
        for fact in facts:
            if isinstance(fact, Heard):
                self.heard(fact, now)
        if only is not None:
            speech = owner(only)
            if (
                speech is not None
                and speech.phase is Phase.PLAYING
                and not speech.outcome.interrupted
            ):
                from_engine.settle(speech, now)

    # -- the echo guard

    def echo_heard(self, position: int, now: float) -> None:
        """Playout reached ``position``: echo guards of speech that starts there begin."""
        guard = self.core.config.echo_guard_ms
        if not guard:
            return
        for speech in list(self.agenda.playing) + list(self.agenda.queue):
            if (
                speech.protected
                and speech.interruptible
                and speech.first_position is not None
                and speech.first_position <= position
                and ("echo", speech) not in self.core.deadlines
                and not speech.echo_started
            ):
                speech.echo_started = True
                self.core.deadlines.set(("echo", speech), now + guard / 1000)

    def echo_over(self, speech: SpeechState) -> None:
        if speech.interruptible:
            speech.protected = False
            if speech.request is not None:
                speech.request.protected = False

    # -- the interrupt_response override

    def keep_override(self) -> None:
        """Hold ``interrupt_response: false`` exactly while it is needed; give it back after."""
        core = self.core
        settings = core.settings
        needed = self._needs_hold()
        if needed == settings.forcing("interrupt_response"):
            return
        if needed:
            return  # forced when the speech is sent (before its response.create)
        update = settings.release("interrupt_response")
        if update is not None:
            core.out.send(update)

    def _needs_hold(self) -> bool:
        paces = self.core.config.paces_interruptions
        for speech in (*self.agenda.queue, *self.agenda.playing):
            phase = speech.phase
            on = phase in ON_THE_SERVICE or (phase is Phase.PLAYING and not _played_out(speech))
            if on and (speech.protected or (paces and speech.interruptible)):
                return True
        return False

    def override_rejected(self, message: str) -> None:
        log.warning(
            "voicelive-proactive: the service refused the session.update that keeps user "
            "speech from cutting proactive speech off: %s",
            message,
        )


def owner_of(value: object) -> SpeechState | None:
    return value if isinstance(value, SpeechState) else None


def _played_out(speech: SpeechState) -> bool:
    view = speech.response
    return view is None or view.muted
