"""Events about proactive speech, for apps that react instead of polling ``outcome``.

Subscribe with :meth:`ProactiveSession.on`, passing the event class and a callback (plain or
``async``); subscribing to :class:`ProactiveEvent` receives every event::

    @proactive.on(vp.SpeechInterrupted)
    def log_cut_off(event: vp.SpeechInterrupted) -> None:
        print(f"{event.speech.kind} cut off after {event.played_ms} ms")

Callbacks never run inside ``handle()``: they are scheduled on the session's event loop right
after it, in the order the events happened (see :mod:`voicelive_proactive.callbacks`). A
callback that raises is logged and counted in ``proactive.health.callback_errors``; it never
breaks the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .outcome import FunctionCall
    from .speech import Speech

__all__ = [
    "FunctionCallRequested",
    "NudgeFired",
    "NudgesExhausted",
    "ProactiveEvent",
    "SpeechFailed",
    "SpeechFinished",
    "SpeechInterrupted",
    "SpeechQueued",
    "SpeechSkipped",
    "SpeechStarted",
]


@dataclass(frozen=True)
class ProactiveEvent:
    """Base class of every event; subscribe to it to receive them all."""


@dataclass(frozen=True)
class SpeechQueued(ProactiveEvent):
    """A speech (the greeting, a ``say()`` or a nudge) is waiting for its turn."""

    speech: Speech


@dataclass(frozen=True)
class SpeechStarted(ProactiveEvent):
    """The first audio of the speech arrived and was handed to the speaker."""

    speech: Speech


@dataclass(frozen=True)
class SpeechFinished(ProactiveEvent):
    """The speech was heard in full: its audio finished playing locally."""

    speech: Speech


@dataclass(frozen=True)
class SpeechInterrupted(ProactiveEvent):
    """The user (or a cancel) cut the speech off after ``played_ms`` had been heard;
    ``heard_text`` is what the caller heard of it (see ``GreetingOutcome.heard_text``)."""

    speech: Speech
    played_ms: int
    heard_text: str = ""


@dataclass(frozen=True)
class SpeechSkipped(ProactiveEvent):
    """The speech will not be spoken: the user spoke first, the guard said no, or the app
    cancelled it. ``reason`` says which."""

    speech: Speech
    reason: str


@dataclass(frozen=True)
class SpeechFailed(ProactiveEvent):
    """The speech could not be delivered (every strategy failed, or the service or the
    connection refused it)."""

    speech: Speech
    reason: str
    error: BaseException | None


@dataclass(frozen=True)
class FunctionCallRequested(ProactiveEvent):
    """The model called a tool before speaking the speech. Answer it as usual (send the
    ``function_call_output`` item and ``response.create``); the speech is delivered by the
    response that follows."""

    speech: Speech
    call: FunctionCall


@dataclass(frozen=True)
class NudgeFired(ProactiveEvent):
    """The user was idle for ``IdleNudge.after`` seconds: nudge number ``count`` is queued."""

    speech: Speech
    count: int


@dataclass(frozen=True)
class NudgesExhausted(ProactiveEvent):
    """``max_nudges`` nudges went unanswered; ``on_exhausted`` is being called."""

    count: int
