"""``OnceGuard``: the single yes that makes a greeting happen at most once."""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Awaitable
from typing import Protocol, runtime_checkable

__all__ = ["GuardLike", "GuardResult", "OnceGuard"]


class GuardResult(enum.Enum):
    """A guard's answer, when it has more to say than yes or no.

    It is truthy only for :attr:`ACQUIRED`, so it works wherever a ``bool`` answer does.
    """

    ACQUIRED = "acquired"
    """This caller may greet: nobody has before."""
    TAKEN = "taken"
    """Somebody already greeted (the session speaks ``resume_greeting`` if it has one)."""
    UNAVAILABLE = "unavailable"
    """The guard could not tell (its store failed) and was configured not to guess yes."""

    def __bool__(self) -> bool:
        return self is GuardResult.ACQUIRED


@runtime_checkable
class GuardLike(Protocol):
    """What a session needs from a guard.

    This is the seam for a shared backend (one greeting per caller across processes, say):
    ``try_acquire`` may return ``bool`` or an awaitable of ``bool``, or a :class:`GuardResult`
    (or an awaitable of one) to tell "already greeted" from "could not tell".
    """

    def try_acquire(self) -> bool | GuardResult | Awaitable[bool | GuardResult]:
        """Return True to exactly one caller, ever (until reset); False to all others.

        A guard may also have ``release()`` (sync or async): the session calls it when a
        greeting it said yes to failed before any of it reached the caller, so that the next
        connection of the conversation greets instead of resuming.
        """
        ...


class OnceGuard:
    """Says yes exactly once, whichever thread or task asks first.

    >>> guard = OnceGuard()
    >>> guard.try_acquire(), guard.try_acquire()
    (True, False)

    Share one guard between sessions to greet once across them (for example, one greeting
    per phone call even when the call reconnects).
    """

    __slots__ = ("_taken",)

    def __init__(self) -> None:
        # A lock that is acquired once and never released is the whole guard: a
        # non-blocking acquire() is one atomic check-and-set, true for exactly one caller
        # whichever thread it runs on (and cheaper than taking a lock to guard a flag).
        self._taken = threading.Lock()

    def try_acquire(self) -> bool:
        """Return True the first time it is called, False ever after (until :meth:`reset`)."""
        return self._taken.acquire(blocking=False)

    @property
    def done(self) -> bool:
        """Whether the guard has said yes."""
        return self._taken.locked()

    def release(self) -> None:
        """Give back a yes that was never used: the greeting failed before it was heard."""
        self.reset()

    def reset(self) -> None:
        """Allow one more acquisition (for example, at the start of a new conversation)."""
        if self._taken.locked():
            with contextlib.suppress(RuntimeError):  # a racing reset() released it first
                self._taken.release()

    def __repr__(self) -> str:
        return f"OnceGuard(done={self.done})"
