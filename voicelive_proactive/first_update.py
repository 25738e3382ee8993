"""The greeting first: the common start sends it before the rest of ``session.updated``.

Part of the engine (no I/O). In the common case the greeting is due when the session is
ready (``greet_when="ready"``), there is no guard to ask (the session's own says yes the first
time), nothing reads the app's settings first (interruptible, no echo guard, no paced
interruptions), and it was rendered at ``session.created`` with its request built. Then the
first ``session.updated`` has one thing to decide before the greeting can go: that nothing
stands in its way. Everything else it means (the ready warning cancelled, the microphone
started, ``SpeechQueued``, the session's settings and formats read, the queue decided again)
the send does not depend on, so it is put off until the shell has put the greeting on the
wire (:meth:`Engine.catch_up <voicelive_proactive.engine.Engine.catch_up>`), or until the
engine's next input, whichever comes first. The effects are those of the usual way, in the
same order for everything but the wire, where the greeting comes first.

In any other case (the user spoke, a response is open, the greeting is not rendered) the
event takes the usual way, which also decides what to do about the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .actions import StartMicrophone
from .events import SpeechQueued
from .lifecycle import Phase, Trigger

if TYPE_CHECKING:
    from .core import EngineConfig
    from .engine import Engine

__all__ = ["GreetFirst"]


class GreetFirst:
    """Sends the greeting on the first ``session.updated``, and catches up afterwards."""

    __slots__ = ("applies", "engine", "later")

    def __init__(self, engine: Engine, config: EngineConfig) -> None:
        self.engine = engine
        self.applies = (
            config.greet_when == "ready"
            and not config.asks_guard
            and not config.needs_settings_first
        )
        self.later: tuple[Any, float] | None = None
        """The ``session.updated`` whose bookkeeping waits, and its time."""

    def send(self, event: Any, now: float) -> bool:
        """Send the greeting now, if nothing stands in its way; False: take the usual way."""
        engine = self.engine
        core = engine.core
        agenda = engine.agenda
        greeting = agenda.greeting
        if (
            greeting.phase is not Phase.WAITING
            or greeting.ahead is None  # not rendered ahead, or rendered again (new context)
            or core.user_spoke
            or core.link_down
            or core.tools.blocking
            or not core.floor.may_speak()  # nothing active, nothing asked, the user silent
        ):
            return False
        core.ready = True
        agenda.queue.insert(0, greeting)
        agenda.transmit(greeting, now, Trigger.SEND_AT_ONCE)
        self.later = (event, now)
        return True

    def catch_up(self) -> None:
        """Everything the usual way does besides sending, with the event's time."""
        later, self.later = self.later, None
        if later is None:
            return
        event, now = later
        engine = self.engine
        agenda = engine.agenda
        greeting = agenda.greeting
        engine.readiness.ready()
        greeting.metrics.session_ready = now
        engine.core.out.add(StartMicrophone())
        agenda.emit(SpeechQueued(greeting.handle))
        agenda.record_rendered(greeting)
        engine._after(now)
        engine.receiver.learn(event)  # may raise Malformed: the usual way would, too
