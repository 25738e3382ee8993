"""``Speech``: one proactive message (the greeting, a ``say()`` or an idle nudge) and its fate."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import enum
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .outcome import GreetingMetrics, GreetingOutcome, GreetingStatus

if TYPE_CHECKING:
    from .floor import Request, ResponseView
    from .greetings import Greeting, GreetingStrategy

__all__ = ["IfUserSpeaking", "Phase", "Speech", "SpeechKind"]

#: What a speech does when the user is talking (or waiting for the service's reply) at the
#: moment it is due: ``"wait"`` until the user's turn is over and answered, ``"skip"`` it, or
#: ``"speak"`` anyway.
IfUserSpeaking: TypeAlias = Literal["wait", "skip", "speak"]

_numbers = itertools.count(1)


class SpeechKind(str, enum.Enum):
    """Why the agent speaks."""

    GREETING = "greeting"
    SAY = "say"
    NUDGE = "nudge"


class Phase(enum.Enum):
    """Where a speech is in its life (internal; the public view is ``outcome``)."""

    WAITING = "waiting"  # the greeting before it is due
    QUEUED = "queued"  # waiting for the floor
    PREPARING = "preparing"  # acquiring the guard or rendering, off the event path
    READY = "ready"  # rendered; waiting for the floor again
    REQUESTED = "requested"  # response.create sent, not answered yet
    SPEAKING = "speaking"  # its response is proven ours
    AWAITING_TOOL = "awaiting tool"  # its response called a tool; the app answers it
    DONE = "done"  # finished on the service, skipped or failed


class Speech:
    """A proactive message: the greeting, a ``say()``, or an idle nudge.

    ``await proactive.say(...)`` returns one at once. It waits its turn, then goes out under
    the same rules as the greeting. Follow it through :attr:`outcome`, :meth:`wait` and the
    session's events; stop it with :meth:`cancel`.
    """

    def __init__(
        self,
        kind: SpeechKind,
        alternatives: tuple[GreetingStrategy, ...],
        *,
        interruptible: bool,
        if_user_speaking: IfUserSpeaking,
        canceller: Callable[[Speech], None] | None = None,
    ) -> None:
        self.kind = kind
        self.number = next(_numbers)
        self.interruptible = interruptible
        self.if_user_speaking: IfUserSpeaking = if_user_speaking
        self.metrics = GreetingMetrics()
        self.phase = Phase.WAITING if kind is SpeechKind.GREETING else Phase.QUEUED
        self.alternatives = alternatives
        self.next_alternative = 0
        self.errors: list[BaseException] = []
        self.rendered: tuple[Greeting, GreetingStrategy] | None = None
        # Its request and wire events, built in advance (the greeting, at session.created).
        self.prepared: tuple[Request, list[dict[str, Any]]] | None = None
        self.request: Request | None = None
        self.response: ResponseView | None = None
        self.playout_marker: int | None = None
        self.needs_guard = kind is SpeechKind.GREETING
        self.started = False  # its first audio was queued
        self.cancelled = False  # the app called cancel()
        self._outcome = GreetingOutcome()
        self._canceller = canceller
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()

    # -- public --------------------------------------------------------------------------------

    @property
    def outcome(self) -> GreetingOutcome:
        """What happened so far (the same shape as the greeting's outcome)."""
        return self._outcome

    @property
    def done(self) -> bool:
        """The service is done with it (spoken or cut off), or it was skipped or failed."""
        return self._done.done()

    async def wait(self, *, timeout: float | None = None) -> GreetingOutcome:
        """Wait until :attr:`done`; return the outcome. Works from any thread or loop.

        Raises the built-in ``TimeoutError`` when ``timeout`` seconds pass first.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the waiting loop has closed
                loop.call_soon_threadsafe(_resolve, waiter)

        self._done.add_done_callback(wake)
        try:
            await asyncio.wait_for(waiter, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(
                f"{self!r} was not done within {timeout} s (outcome: {self._outcome.status.value})"
            ) from None
        return self._outcome

    def cancel(self) -> bool:
        """Do not speak it, or stop it now if it is being spoken.

        A speech not sent yet is skipped (reason "cancelled"); one being spoken is cancelled on
        the service and its unplayed audio is dropped (``interrupted``). Returns False when it
        was already done. Safe from any thread.
        """
        if self.done or self._canceller is None:
            return False
        self._canceller(self)
        return True

    @property
    def noun(self) -> str:
        """How messages name it: "the greeting", "the nudge" or "the speech"."""
        return "the speech" if self.kind is SpeechKind.SAY else f"the {self.kind.value}"

    def __repr__(self) -> str:
        return f"<Speech #{self.number} {self.kind.value} {self._outcome.status.value}>"

    # -- for the session -----------------------------------------------------------------------

    def update(self, **changes: Any) -> None:
        """Move the outcome forward; a settled outcome, or a final status, never changes.

        Only the session's loop calls this; readers on other threads see either the old or
        the new outcome object, never a half-made one.
        """
        current = self._outcome
        if current.settled:
            return
        if current.status is not GreetingStatus.PENDING:
            changes.pop("status", None)
        if not changes:
            return
        # A field-for-field copy: dataclasses.replace() re-runs __init__ and costs several
        # microseconds on the path that sends the greeting.
        outcome = object.__new__(GreetingOutcome)
        fields = outcome.__dict__
        fields.update(current.__dict__)
        fields.update(changes)
        if fields["status"] in (GreetingStatus.SKIPPED, GreetingStatus.FAILED):
            fields["settled"] = True
        self._outcome = outcome

    def finish(self) -> None:
        """The service is done with it: wake :meth:`wait`."""
        self.phase = Phase.DONE
        if not self._done.done():
            self._done.set_result(None)

    def settle(self) -> None:
        """Nothing about it will change again."""
        self.update(settled=True)
        self.finish()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
