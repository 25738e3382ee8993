"""What the engine asks its shell to do: the engine's outputs, as plain data.

The engine never sends, plays, sleeps or runs user code. It appends actions to an
:class:`Outbox`; the shell (``ProactiveSession``) performs them in order and reports back
where an action has an answer (a flush says how many bytes it dropped, a preparation what the
guard or the strategy returned). h2's ``data_to_send()`` and aioquic's ``datagrams_to_send()``
are the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .audio.formats import AudioFormat
    from .floor import ResponseView
    from .lifecycle import SpeechState

__all__ = [
    "Abandon",
    "Action",
    "ConfigureAudio",
    "Emit",
    "Exhausted",
    "Finished",
    "FlushAudio",
    "Outbox",
    "PauseAudio",
    "Prepare",
    "QueueAudio",
    "Raise",
    "ReleaseGuard",
    "ResumeAudio",
    "Send",
    "StartMicrophone",
    "WatchPlayout",
]


@dataclass(frozen=True, slots=True)
class Send:
    """Put ``event`` on the wire. With ``speech``, failing to send it fails that speech."""

    event: dict[str, Any]
    speech: SpeechState | None = None


@dataclass(frozen=True, slots=True)
class QueueAudio:
    """Hand ``pcm`` (the negotiated output format) to the speaker."""

    pcm: bytes


@dataclass(frozen=True, slots=True)
class FlushAudio:
    """Drop every unplayed byte now, then tell the engine how many (``Engine.flushed``).

    ``only``: the response being cut off; the engine queues the others' audio again.
    ``None``: a barge-in, which cuts off everything.
    """

    only: ResponseView | None = None
    closing: bool = False
    """The session is closing: the engine finishes closing once it knows what was heard."""


@dataclass(frozen=True, slots=True)
class PauseAudio:
    """Stop playing, keeping what is queued; report the bytes still unplayed
    (``Engine.paused``)."""


@dataclass(frozen=True, slots=True)
class ResumeAudio:
    """Play on from where the speaker paused."""


@dataclass(frozen=True, slots=True)
class WatchPlayout:
    """Call ``Engine.played(position)`` once everything queued before ``position`` was heard."""

    position: int


@dataclass(frozen=True, slots=True)
class Prepare:
    """Run user code for ``speech``: the guard (``index`` is None) or alternative ``index``'s
    ``render(context)``. Answer with ``Engine.prepared(token, result)`` (or ``error=``).

    ``ahead``: a rendering before it is due; only a synchronous answer is wanted.
    """

    speech: SpeechState
    token: int
    index: int | None
    ahead: bool = False


@dataclass(frozen=True, slots=True)
class Abandon:
    """The preparation ``token`` is no longer wanted (timed out, cancelled, closed)."""

    token: int


@dataclass(frozen=True, slots=True)
class Emit:
    """Deliver an app event (a :class:`~voicelive_proactive.events.ProactiveEvent`)."""

    event: Any


@dataclass(frozen=True, slots=True)
class Finished:
    """The service is done with ``speech``: wake whoever waits for it."""

    speech: SpeechState


@dataclass(frozen=True, slots=True)
class ConfigureAudio:
    """The session negotiated these formats: tell the audio backend."""

    output: AudioFormat
    input: AudioFormat


@dataclass(frozen=True, slots=True)
class StartMicrophone:
    """The session is ready: start streaming the microphone."""


@dataclass(frozen=True, slots=True)
class Exhausted:
    """Call the idle nudge's ``on_exhausted``."""


@dataclass(frozen=True, slots=True)
class ReleaseGuard:
    """The greeting the guard said yes to failed before any of it was heard: give the yes
    back (``guard.release()``, if the guard has one)."""


@dataclass(frozen=True, slots=True)
class Raise:
    """``raise_errors``: raise ``error`` into the app's call that caused it."""

    error: BaseException


Action = (
    Send
    | QueueAudio
    | FlushAudio
    | PauseAudio
    | ResumeAudio
    | WatchPlayout
    | Prepare
    | Abandon
    | Emit
    | Finished
    | ConfigureAudio
    | StartMicrophone
    | Exhausted
    | ReleaseGuard
    | Raise
)


@dataclass(slots=True)
class Outbox:
    """The actions the engine produced and the shell has not taken yet, oldest first."""

    actions: list[Action] = field(default_factory=list)
    sealed: bool = False
    """After close: nothing is put on the wire any more (the rest still flows)."""

    def add(self, action: Action) -> None:
        if self.sealed and type(action) is Send:
            return
        self.actions.append(action)

    def send(self, event: dict[str, Any], speech: SpeechState | None = None) -> None:
        if not self.sealed:
            self.actions.append(Send(event, speech))

    def take(self) -> list[Action]:
        """Everything produced so far, and an empty outbox."""
        actions, self.actions = self.actions, []
        return actions
