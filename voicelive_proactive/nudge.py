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

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .clock import TimerHandle, Timers
from .errors import ConfigurationError
from .greetings import GreetingStrategy, LLMGreeting, StrategyLike, as_strategy

__all__ = ["DEFAULT_NUDGE", "IdleNudge", "IdleWatch"]

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
        if self.on_exhausted is not None and not callable(self.on_exhausted):
            raise ConfigurationError(
                f"IdleNudge(on_exhausted=...) must be a function taking no arguments, "
                f"not {self.on_exhausted!r}"
            )
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

    ``conversation_idle()`` says whether the conversation is idle right now (see the module
    docs); the watch calls ``nudge_due(n)`` for the n-th nudge in a row and ``exhausted(n)``
    once, after the last one also went unanswered. Call :meth:`update` whenever idleness may
    have changed: the timer starts when the conversation becomes idle and stops when it is
    not.
    """

    def __init__(
        self,
        nudge: IdleNudge | None,
        *,
        timers: Timers,
        conversation_idle: Callable[[], bool],
        nudge_due: Callable[[int], None],
        exhausted: Callable[[int], None],
    ) -> None:
        self.nudge = nudge
        self.in_a_row = 0
        self.exhausted = False
        self.paused = False
        self._timers = timers
        self._conversation_idle = conversation_idle
        self._nudge_due = nudge_due
        self._exhausted = exhausted
        self._timer: TimerHandle | None = None

    def idle(self) -> bool:
        return (
            self.nudge is not None
            and not self.paused
            and not self.exhausted
            and self._conversation_idle()
        )

    def update(self) -> None:
        """Start the timer if the conversation just became idle; stop it if it is not."""
        if self.nudge is None:
            return
        if not self.idle():
            self.stop()
        elif self._timer is None:
            self._timer = self._timers.call_later(self.nudge.after, self._expired)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def user_active(self) -> None:
        """The user is there (spoke, pressed a key): the count and the timer start over."""
        self.in_a_row = 0
        self.stop()
        self.update()

    def pause(self, paused: bool) -> None:
        self.paused = paused
        self.stop()
        self.update()

    def _expired(self) -> None:
        self._timer = None
        nudge = self.nudge
        if nudge is None or not self.idle():
            return
        if self.in_a_row < nudge.max_nudges:
            self.in_a_row += 1
            self._nudge_due(self.in_a_row)
            return
        self.exhausted = True
        self._exhausted(self.in_a_row)
