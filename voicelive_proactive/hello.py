"""``AfterHello``: on outbound calls, greet right after the callee's "hello".

Someone who answers the phone says "Hello?" first. An agent that greets the moment the call
connects talks over it; one that lets the service answer the hello sounds like a machine
replying to a machine. ``greet_when=AfterHello(max_wait=4.0)`` waits for the callee's first
utterance to end and greets at once: the greeting *is* the answer. If the callee says nothing,
it greets after ``max_wait`` seconds of silence; if they are still talking then, it waits for
the end of that utterance.

The service must not answer the hello itself, so until the greeting is out the session runs
with ``turn_detection.create_response: false`` (the app's own setting goes back once the
greeting is sent). A reply the service starts anyway (its ``session.update`` crossed the
hello) is cancelled by name and never reaches the speaker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from .errors import ConfigurationError
from .lifecycle import NOT_STARTED, Phase
from .wire import cancel_event

if TYPE_CHECKING:
    from .agenda import Agenda
    from .core import Core

__all__ = ["HELLO", "AfterHello", "GreetWhen", "HelloWait"]


@dataclass(frozen=True)
class AfterHello:
    """Greet when the callee's first utterance ends, or after ``max_wait`` seconds of
    silence (measured from the moment the session is ready)."""

    max_wait: float = 4.0

    def __post_init__(self) -> None:
        value = self.max_wait
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(f"AfterHello(max_wait=...) must be seconds, not {value!r}")
        if not math.isfinite(value) or not 0 < value <= 120:
            raise ConfigurationError(
                f"AfterHello(max_wait=...) must be more than 0 and at most 120 seconds, "
                f"not {value!r}"
            )


#: When the greeting is due: ``"ready"`` (the session is ready: the default), ``"manual"``
#: (only when :meth:`~voicelive_proactive.ProactiveSession.greet` is called) or
#: :class:`AfterHello` (outbound calls).
GreetWhen: TypeAlias = Literal["ready", "manual"] | AfterHello


def check_greet_when(value: object) -> GreetWhen:
    if isinstance(value, AfterHello) or value in ("ready", "manual"):
        return value
    if value is AfterHello:
        raise ConfigurationError(
            "greet_when=vp.AfterHello needs parentheses: greet_when=vp.AfterHello(max_wait=4.0)"
        )
    raise ConfigurationError(
        f'greet_when must be "ready", "manual" or vp.AfterHello(max_wait=...), not {value!r}'
    )


#: The name of the deadline for ``max_wait``.
HELLO: Final = "hello"


class HelloWait:
    """The engine's side of :class:`AfterHello` (no I/O): wait for the callee's hello,
    greet the moment it ends, and keep the service from answering it meanwhile.

    States, as data (``off`` throughout unless ``greet_when`` is an :class:`AfterHello`)::

        off ──the session is ready──> waiting ──the callee speaks──> hearing
        waiting ──max_wait passed──> done (greet)
        hearing ──the callee stops──> done (greet)
        hearing ──max_wait passed──> late ──the callee stops──> done (greet)
        any but off ──greet() was called──> done

    Until the greeting is out the session runs with ``create_response: false``; once it is
    out (``done`` and the greeting sent), the app's own setting goes back.
    """

    __slots__ = ("agenda", "core", "state")

    def __init__(self, core: Core, agenda: Agenda) -> None:
        self.core = core
        self.agenda = agenda
        self.state = "off"  # off | waiting | hearing | late | done

    def start(self, max_wait: float, now: float) -> None:
        """The session is ready: listen for the hello, and stop the service answering it."""
        core = self.core
        self.state = "waiting"
        core.deadlines.set(HELLO, now + max_wait)
        update = core.settings.force("create_response", False)
        if update is not None:
            core.out.send(update)

    def greeted(self) -> None:
        """``greet()`` was called: the wait is over (the greeting is due already)."""
        self.state = "done" if self.state != "off" else "off"

    def user_started(self) -> None:
        if self.state == "waiting":
            self.state = "hearing"

    def user_stopped(self) -> None:
        if self.state in ("hearing", "late"):
            self._greet()

    def timeout(self) -> None:
        """``max_wait`` passed."""
        if self.state == "waiting":
            self._greet()
        elif self.state == "hearing":
            self.state = "late"  # the callee is still talking: greet when they stop

    def _greet(self) -> None:
        self.state = "done"
        self.core.deadlines.cancel(HELLO)
        self.agenda.make_due(self.agenda.greeting)

    def swallows_replies(self) -> bool:
        """Greeting after the hello, not spoken yet: the service must not answer the hello."""
        return self.state != "off" and self.agenda.greeting.phase in (
            *NOT_STARTED,
            Phase.REQUESTED,
        )

    def swallow(self, view: Any) -> None:
        """The service's own reply to the callee's hello: cancelled by name, never heard."""
        view.muted = True
        view.held.clear()
        if view.active:
            self.core.out.send(cancel_event(next(self.core.ids), view.id))

    def give_back(self) -> None:
        """Once the greeting is out, the app's own ``create_response`` goes back."""
        core = self.core
        if (
            self.state == "done"
            and core.settings.forcing("create_response")
            and self.agenda.greeting.phase not in NOT_STARTED
        ):
            update = core.settings.release("create_response")
            if update is not None:
                core.out.send(update)
