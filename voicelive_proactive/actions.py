"""What the engine asks its shell to do: the engine's outputs, as plain data.

The engine never sends, plays, sleeps or runs user code. It appends actions to an
:class:`Outbox`; the shell (``ProactiveSession``) performs them in order and reports back
where an action has an answer (a flush says how many bytes it dropped, a preparation what the
guard or the strategy returned). h2's ``data_to_send()`` and aioquic's ``datagrams_to_send()``
are the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

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


class _Data:
    """Plain value objects, compared and shown by their fields.

    Written out rather than ``@dataclass(frozen=True, slots=True)``: every event the engine
    handles creates a few of these, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field) costs several times a plain one; a dozen generated
    classes also added milliseconds to ``import voicelive_proactive``. Treat them as
    read-only.
    """

    __slots__: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # equal by value, like the dataclasses were

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Send(_Data):
    """Put ``event`` on the wire. With ``speech``, failing to send it fails that speech."""

    __slots__ = ("event", "speech")

    def __init__(self, event: dict[str, Any], speech: SpeechState | None = None) -> None:
        self.event = event
        self.speech = speech


class QueueAudio(_Data):
    """Hand ``pcm`` (the negotiated output format) to the speaker."""

    __slots__ = ("pcm",)

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm


class FlushAudio(_Data):
    """Drop every unplayed byte now, then tell the engine how many (``Engine.flushed``).

    ``only``: the response being cut off; the engine queues the others' audio again.
    ``None``: a barge-in, which cuts off everything. ``closing``: the session is closing;
    the engine finishes closing once it knows what was heard.
    """

    __slots__ = ("closing", "only")

    def __init__(self, only: ResponseView | None = None, closing: bool = False) -> None:
        self.only = only
        self.closing = closing


class PauseAudio(_Data):
    """Stop playing, keeping what is queued; report the bytes still unplayed
    (``Engine.paused``)."""

    __slots__ = ()


class ResumeAudio(_Data):
    """Play on from where the speaker paused."""

    __slots__ = ()


class WatchPlayout(_Data):
    """Call ``Engine.played(position)`` once everything queued before ``position`` was heard."""

    __slots__ = ("position",)

    def __init__(self, position: int) -> None:
        self.position = position


class Prepare(_Data):
    """Run user code for ``speech``: the guard (``index`` is None) or alternative ``index``'s
    ``render(context)``. Answer with ``Engine.prepared(token, result)`` (or ``error=``).

    ``ahead``: a rendering before it is due; only a synchronous answer is wanted.
    """

    __slots__ = ("ahead", "index", "speech", "token")

    def __init__(
        self, speech: SpeechState, token: int, index: int | None, ahead: bool = False
    ) -> None:
        self.speech = speech
        self.token = token
        self.index = index
        self.ahead = ahead


class Abandon(_Data):
    """The preparation ``token`` is no longer wanted (timed out, cancelled, closed)."""

    __slots__ = ("token",)

    def __init__(self, token: int) -> None:
        self.token = token


class Emit(_Data):
    """Deliver an app event (a :class:`~voicelive_proactive.events.ProactiveEvent`)."""

    __slots__ = ("event",)

    def __init__(self, event: Any) -> None:
        self.event = event


class Finished(_Data):
    """The service is done with ``speech``: wake whoever waits for it."""

    __slots__ = ("speech",)

    def __init__(self, speech: SpeechState) -> None:
        self.speech = speech


class ConfigureAudio(_Data):
    """The session negotiated these formats: tell the audio backend."""

    __slots__ = ("input", "output")

    def __init__(self, output: AudioFormat, input: AudioFormat) -> None:
        self.output = output
        self.input = input


class StartMicrophone(_Data):
    """The session is ready: start streaming the microphone."""

    __slots__ = ()


class Exhausted(_Data):
    """Call the idle nudge's ``on_exhausted``."""

    __slots__ = ()


class ReleaseGuard(_Data):
    """The greeting the guard said yes to failed before any of it was heard: give the yes
    back (``guard.release()``, if the guard has one)."""

    __slots__ = ()


class Raise(_Data):
    """``raise_errors``: raise ``error`` into the app's call that caused it."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


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


class Outbox:
    """The actions the engine produced and the shell has not taken yet, oldest first."""

    __slots__ = ("actions", "sealed")

    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.sealed = False
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
