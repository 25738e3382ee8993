"""Preparing a speech: the guard, then the strategies, one alternative after another.

Part of the engine (no I/O). Both are user code, so the engine never runs them: it asks the
shell with a :class:`~voicelive_proactive.actions.Prepare` that carries a token, and the
shell answers through :meth:`Engine.prepared <voicelive_proactive.engine.Engine.prepared>`
(at once when the code answered synchronously, later from a task). The token is what makes
late answers harmless: a speech that was cancelled, skipped, timed out or closed meanwhile
has dropped its token, so its answer changes nothing.

The guard comes first (the greeting's "once"); then each alternative renders in turn until
one gives a :class:`~voicelive_proactive.greetings.Greeting`. A greeting due at
``session.updated`` is rendered ahead, at ``session.created``, off the path that sends it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .actions import Abandon, Prepare
from .core import Core
from .errors import GreetingRenderError
from .greetings import Greeting, GreetingMode
from .guard import GuardResult
from .lifecycle import Phase, SpeechState, Trigger, move

if TYPE_CHECKING:
    from .agenda import Agenda

__all__ = ["Preparation"]

log = logging.getLogger("voicelive_proactive")


class Preparation:
    """The guard's answers and the strategies' renderings, matched to speeches by token."""

    def __init__(self, core: Core, agenda: Agenda) -> None:
        self.core = core
        self.agenda = agenda
        self._tokens: dict[int, SpeechState] = {}
        self._next_token = 0

    def prepare(self, speech: SpeechState, now: float) -> None:
        move(speech, Trigger.PREPARE)
        if speech.needs_guard:
            speech.needs_guard = False
            speech.guarding = True
            self._ask(speech, None, now)
            return
        self._render_next(speech, now)

    def _ask(self, speech: SpeechState, index: int | None, now: float, ahead: bool = False) -> None:
        self._next_token += 1
        token = speech.token = self._next_token
        self._tokens[token] = speech
        timeout = self.core.config.render_timeout
        if timeout is not None and not ahead:
            self.core.deadlines.set(("prepare", speech), now + timeout)
        self.core.out.add(Prepare(speech, token, index, ahead))

    def _render_next(self, speech: SpeechState, now: float) -> None:
        if speech.rendered is not None:
            move(speech, Trigger.PREPARED)
            return
        if speech.next_alternative >= len(speech.alternatives):
            self.agenda.fail_all(speech)
            return
        index = speech.next_alternative
        speech.next_alternative += 1
        self._ask(speech, index, now)

    def render_ahead(self, speech: SpeechState, now: float) -> None:
        """Render the greeting before it is due (off the path that sends it)."""
        if speech.phase is Phase.WAITING and speech.rendered is None and speech.alternatives:
            self._ask(speech, 0, now, ahead=True)

    def prepared(self, token: int, result: object, error: BaseException | None, now: float) -> None:
        """The shell's answer to :class:`Prepare` ``token``: a guard's answer or a rendering."""
        speech = self._tokens.pop(token, None)
        if speech is None or speech.token != token:
            return  # abandoned, superseded or closed: a late answer changes nothing
        speech.token = 0
        self.core.deadlines.cancel(("prepare", speech))
        if speech.phase is Phase.WAITING:  # rendered ahead: only a synchronous result is kept
            if error is None and isinstance(result, Greeting) and speech.rendered is None:
                self._accept(speech, speech.alternatives[0], result)
                speech.next_alternative = 1
                if result.mode is not GreetingMode.PRERECORDED:
                    speech.ahead = self.agenda.request_for(speech)
            return
        if speech.phase is not Phase.PREPARING:
            return
        if speech.guarding:
            speech.guarding = False
            if error is not None:
                what = "did not answer in time" if _timeout(error) else f"failed: {error}"
                self.agenda.fail(speech, f"the guard {what}", error)
            elif self._guard_says_go(speech, result):
                self._render_next(speech, now)
            return
        strategy = speech.alternatives[speech.next_alternative - 1]
        if error is not None:
            self._render_failed(speech, strategy, error)
        elif isinstance(result, Greeting):
            self._accept(speech, strategy, result)
        else:
            self._render_failed(
                speech,
                strategy,
                GreetingRenderError(
                    f"{strategy!r}.render() returned {type(result).__name__}; it must return "
                    "a Greeting (Greeting.spoken(...) or Greeting.instructed(...))."
                ),
            )
        if speech.rendered is None:
            move(speech, Trigger.RETRY)
        self._render_next(speech, now)

    def timed_out(self, speech: SpeechState, now: float) -> None:
        """A preparation took longer than ``render_timeout``."""
        if speech.phase is not Phase.PREPARING or not speech.token:
            return
        self.abandon(speech)
        if speech.guarding:
            speech.guarding = False
            self.agenda.fail(speech, "the guard did not answer in time", TimeoutError())
            return
        strategy = speech.alternatives[speech.next_alternative - 1]
        timeout = self.core.config.render_timeout
        self._render_failed(
            speech, strategy, GreetingRenderError(f"{strategy!r} did not render within {timeout} s")
        )
        move(speech, Trigger.RETRY)
        self._render_next(speech, now)

    def _guard_says_go(self, speech: SpeechState, answer: object) -> bool:
        if answer is GuardResult.UNAVAILABLE:
            self.agenda.skip(
                speech, "the guard could not tell whether this conversation was greeted"
            )
            return False
        if answer:
            speech.guard_acquired = True
            return True
        resume = self.core.config.resume_alternatives
        if resume is None:
            self.agenda.skip(speech, "the guard says this greeting was already given")
            return False
        speech.rendered = speech.ahead = None
        speech.next_alternative = 0
        speech.alternatives = resume
        speech.update(resumed=True)
        return True

    def _accept(self, speech: SpeechState, strategy: Any, greeting: Greeting) -> None:
        speech.rendered, speech.rendered_by = greeting, strategy

    def _render_failed(self, speech: SpeechState, strategy: Any, error: BaseException) -> None:
        log.info("voicelive-proactive: %r could not render: %s", strategy, error)
        speech.errors.append(error)

    def abandon(self, speech: SpeechState) -> None:
        """Stop caring about ``speech``'s preparation (cancelled, skipped, closed)."""
        if speech.token:
            self._tokens.pop(speech.token, None)
            self.core.out.add(Abandon(speech.token))
            speech.token = 0
        self.core.deadlines.cancel(("prepare", speech))


def _timeout(error: BaseException) -> bool:
    return isinstance(error, TimeoutError) or type(error).__name__ == "TimeoutError"
