"""Idle nudges: speak up when the conversation has gone quiet.

**Idle**, precisely: the session is ready, nothing is being said or about to be (no response
active, none of our requests unanswered, no proactive speech queued), the agent's audio has
finished playing *locally* (not merely ``response.done``: audio arrives faster than real
time), the user is not speaking, no tool call is outstanding, and nudges are not paused. The
timer runs only while all of that holds, and restarts from zero whenever it stops holding.

* User speech, any new response, ``say()`` and ``proactive.activity()`` each stop the timer;
  it starts again once the conversation is idle again.
* The user spoke but nothing answered (VAD fired, no reply came): idle starts when the
  service's reply is no longer expected (the user's turn ended and no response started
  within the session's reply grace), so the nudge re-engages a conversation both sides left
  silent.
* A tool call is running (a response ended in a function call): not idle until the next
  response starts; the user is waiting for the app, not absent.
* The user is muted, typing DTMF digits, or busy on screen: the app knows, the library does
  not. Call ``proactive.activity()`` for each sign of life (a key press, a digit, a chat
  message), or ``pause_nudges()``/``resume_nudges()`` around a stretch (a mute).

User speech or ``activity()`` also resets the count: ``max_nudges`` counts nudges in a row
that nobody answered. After the last one, one more idle period calls ``on_exhausted`` (once).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ._validation import check_callback
from .actions import Emit, Exhausted
from .deadlines import Deadlines
from .errors import ConfigurationError
from .events import NudgeFired, NudgesExhausted
from .greetings import GreetingStrategy, LLMGreeting, StrategyLike, as_strategy
from .lifecycle import Phase, SpeechKind, SpeechState

if TYPE_CHECKING:
    from .agenda import Agenda
    from .core import Core
    from .pausing import PauseGate

__all__ = ["DEFAULT_NUDGE", "IdleNudge", "IdleWatch", "Nudger"]

log = logging.getLogger("voicelive_proactive")

#: What a nudge says unless told otherwise.
DEFAULT_NUDGE = (
    "The user has been quiet for a while. Briefly and kindly ask whether they are still there."
)


@dataclass(frozen=True)
class IdleNudge:
    """Speak up after ``after`` seconds of silence, at most ``max_nudges`` times in a row.

    ``strategy`` is what to say (anything ``say()`` accepts; by default the model asks whether
    the user is still there). ``on_exhausted`` (sync or async, no arguments) runs once when the
    last nudge also went unanswered, e.g. to hang up. ``interruptible=False`` makes the nudges
    impossible to cut off.
    """

    after: float
    max_nudges: int = 1
    strategy: StrategyLike = field(default_factory=lambda: LLMGreeting(DEFAULT_NUDGE))
    on_exhausted: Callable[[], Awaitable[None] | None] | None = None
    interruptible: bool = True

    def __post_init__(self) -> None:
        after = self.after
        if isinstance(after, bool) or not isinstance(after, (int, float)):
            raise ConfigurationError(f"IdleNudge(after=...) must be seconds, not {after!r}")
        if not math.isfinite(after) or after <= 0:
            raise ConfigurationError(
                f"IdleNudge(after=...) must be a positive number of seconds, not {after!r}"
            )
        count = self.max_nudges
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigurationError(
                f"IdleNudge(max_nudges=...) must be an int >= 0 (0: only on_exhausted), "
                f"not {count!r}"
            )
        if self.on_exhausted is not None:
            check_callback("IdleNudge(on_exhausted=...)", self.on_exhausted, 0)
        if not isinstance(self.interruptible, bool):
            raise ConfigurationError(
                f"IdleNudge(interruptible=...) must be True or False, not {self.interruptible!r}"
            )
        object.__setattr__(self, "strategy", as_strategy(self.strategy))

    @property
    def nudge_strategy(self) -> GreetingStrategy:
        """``strategy`` as a :class:`GreetingStrategy`."""
        assert isinstance(self.strategy, GreetingStrategy)  # __post_init__ made it one
        return self.strategy


class IdleWatch:
    """The idle timer of an :class:`IdleNudge` and the count of nudges nobody answered.

    No clock here: :meth:`update` is told whether the conversation is idle right now (see the
    module docs) and the time, and sets or cancels the ``"idle"`` deadline. When it passes,
    :meth:`expired` says whether a nudge is due (``"nudge"``), the nudges are exhausted
    (``"exhausted"``, once), or neither.
    """

    __slots__ = ("exhausted", "in_a_row", "nudge", "paused")

    def __init__(self, nudge: IdleNudge | None) -> None:
        self.nudge = nudge
        self.in_a_row = 0
        self.exhausted = False
        self.paused = False

    def update(self, idle: bool, now: float, deadlines: Deadlines) -> None:
        """Start the timer if the conversation just became idle; stop it if it is not."""
        nudge = self.nudge
        if nudge is None:
            return
        if not idle or self.paused or self.exhausted:
            deadlines.cancel(IDLE)
        elif IDLE not in deadlines:
            deadlines.set(IDLE, now + nudge.after)

    def user_active(self, deadlines: Deadlines) -> None:
        """The user is there (spoke, pressed a key): the count and the timer start over."""
        self.in_a_row = 0
        deadlines.cancel(IDLE)

    def pause(self, paused: bool, deadlines: Deadlines) -> None:
        self.paused = paused
        deadlines.cancel(IDLE)

    def expired(self, idle: bool) -> str | None:
        """The idle deadline passed: ``"nudge"`` (the n-th is :attr:`in_a_row`),
        ``"exhausted"`` or ``None`` (no longer idle)."""
        nudge = self.nudge
        if nudge is None or not idle or self.paused or self.exhausted:
            return None
        if self.in_a_row < nudge.max_nudges:
            self.in_a_row += 1
            return "nudge"
        self.exhausted = True
        return "exhausted"


#: The name of the idle deadline.
IDLE: Final = "idle"


class Nudger:
    """The engine's side of idle nudges (no I/O): it tells an :class:`IdleWatch` whether
    the conversation is idle, and queues the nudge (or reports the end of them) when the
    idle deadline passes."""

    __slots__ = ("agenda", "core", "gate", "watch")

    def __init__(self, core: Core, agenda: Agenda, gate: PauseGate, watch: IdleWatch) -> None:
        self.core = core
        self.agenda = agenda
        self.gate = gate
        self.watch = watch

    def idle(self) -> bool:
        """Whether the conversation is idle right now, as the module docs define it."""
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

    def update(self, now: float) -> None:
        """After every input: start or stop the idle timer."""
        if self.watch.nudge is not None:
            self.watch.update(self.idle(), now, self.core.deadlines)

    def expired(self, now: float) -> None:
        """The idle deadline passed."""
        watch = self.watch
        verdict = watch.expired(self.idle())
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
            log.info("voicelive-proactive: idle for %s s: nudge %d", nudge.after, watch.in_a_row)
            core.out.add(Emit(NudgeFired(speech.handle, watch.in_a_row)))
            self.agenda.add(speech, now)
        elif verdict == "exhausted":
            log.info("voicelive-proactive: %d nudge(s) went unanswered", watch.in_a_row)
            core.out.add(Emit(NudgesExhausted(watch.in_a_row)))
            core.out.add(Exhausted())
