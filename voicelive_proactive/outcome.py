"""What happened to a proactive speech (``GreetingOutcome``) and how long it took (metrics)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .greetings import Greeting, GreetingStrategy

__all__ = ["FunctionCall", "GreetingMetrics", "GreetingOutcome", "GreetingStatus"]


class GreetingStatus(str, enum.Enum):
    """Where a greeting (or any proactive speech) stands.

    ``PENDING`` changes exactly once, to one of the other three, which are final.
    """

    PENDING = "pending"
    """Not delivered yet: waiting for its turn, rendering, or sent and not yet answered."""
    SENT = "sent"
    """The service accepted it and started speaking it (see ``interrupted`` for the rest)."""
    SKIPPED = "skipped"
    """Deliberately not spoken: the user spoke first, the guard said another greeted, or the
    app cancelled it."""
    FAILED = "failed"
    """Could not be delivered: every strategy failed, the service rejected it, or the link
    broke."""


@dataclass(frozen=True)
class FunctionCall:
    """A tool call the model made in a proactive response, before speaking."""

    name: str | None
    call_id: str | None
    arguments: str | None
    """The arguments as the model wrote them (a JSON string)."""


@dataclass(frozen=True)
class GreetingOutcome:
    """What happened to a greeting (or a ``say()``/nudge): status, what was said, and why.

    An outcome only ever moves forward. ``status`` leaves ``PENDING`` once and is then final,
    and so are ``greeting``, ``strategy``, ``attempts``, ``reason``, ``error`` and ``resumed``.
    What the listener heard (``interrupted``, ``played_ms``, ``transcript``) is filled in while
    the speech plays; once ``settled`` is true, nothing about the outcome changes again.
    """

    status: GreetingStatus = GreetingStatus.PENDING
    greeting: Greeting | None = None
    strategy: GreetingStrategy | None = None
    reason: str | None = None
    error: BaseException | None = field(default=None, compare=False)
    attempts: int = 0
    """How many strategies were tried (a fallback chain may try several)."""
    interrupted: bool = False
    """The user barged in (or the service cancelled it) before it finished playing."""
    played_ms: int | None = None
    """When interrupted: how much of it the listener heard (what it was truncated to), in
    milliseconds of its own audio format."""
    transcript: str | None = None
    """What the service actually said (``response.audio_transcript.done``); for an
    instructed greeting this is the model's wording, not the instruction."""
    resumed: bool = False
    """The guard said this conversation was already greeted, so ``resume_greeting`` was
    spoken instead of ``greeting``."""
    function_calls: tuple[FunctionCall, ...] = ()
    """Tool calls the model made before speaking (the app answers them; see the guide)."""
    heard_text: str = ""
    """The words the caller heard before any cut: exact from word timestamps (or a
    prerecorded greeting's words file), otherwise estimated from the transcript in proportion
    to the audio played (see ``heard_estimated``). ``""`` when nothing was heard."""
    heard_estimated: bool = False
    """``heard_text`` is an estimate: the service sent no word timestamps for this speech."""
    delivered: bool = False
    """Every word was heard: it played to the end (or was cut off only after its last word)."""
    proof: str | None = None
    """How the service's response was known to be this speech's: ``"tag"`` (the service
    echoed the request's ``response.metadata``: certain), ``"elimination"`` (it finished with
    no error naming the request) or ``"continuation"`` (it followed the speech's own tool
    call): both almost always right but not certain, so the session did not cancel or
    truncate on them. ``"local"`` for a prerecorded greeting; ``None`` while unknown."""
    settled: bool = False
    """Nothing about this outcome will change any more: it was skipped or failed, or it was
    spoken and its audio has finished playing (or was cut off)."""

    def __post_init__(self) -> None:
        if self.status in (GreetingStatus.SKIPPED, GreetingStatus.FAILED):
            object.__setattr__(self, "settled", True)


def _ms(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start) * 1000.0


@dataclass
class GreetingMetrics:
    """Monotonic timestamps (seconds, from the session's clock) and the delays between them."""

    session_ready: float | None = None
    greeting_sent: float | None = None
    response_created: float | None = None
    first_audio: float | None = None
    done: float | None = None
    played_out: float | None = None
    """When its audio finished playing locally (or was cut off)."""
    audio_bytes: int = 0
    """Bytes of its audio received (in the negotiated output format)."""

    @property
    def ready_to_sent_ms(self) -> float | None:
        """From ``session.updated`` to the greeting on the wire: the library's own delay."""
        return _ms(self.session_ready, self.greeting_sent)

    @property
    def sent_to_created_ms(self) -> float | None:
        """From sending the greeting to the service's ``response.created``."""
        return _ms(self.greeting_sent, self.response_created)

    @property
    def sent_to_first_audio_ms(self) -> float | None:
        """From sending the greeting to its first audio chunk."""
        return _ms(self.greeting_sent, self.first_audio)

    @property
    def ready_to_first_audio_ms(self) -> float | None:
        """From ``session.updated`` to the first audio chunk: what the caller waits for."""
        return _ms(self.session_ready, self.first_audio)

    @property
    def ready_to_done_ms(self) -> float | None:
        """From ``session.updated`` to the greeting's ``response.done``."""
        return _ms(self.session_ready, self.done)

    @property
    def done_to_played_out_ms(self) -> float | None:
        """From ``response.done`` to the end of local playout: audio arrives faster than real
        time, so this is how long the listener still hears it after the service is done."""
        return _ms(self.done, self.played_out)

    def as_dict(self) -> dict[str, float | int | None]:
        """Timestamps and derived milliseconds, for logs and JSON."""
        return {
            "session_ready": self.session_ready,
            "greeting_sent": self.greeting_sent,
            "response_created": self.response_created,
            "first_audio": self.first_audio,
            "done": self.done,
            "played_out": self.played_out,
            "audio_bytes": self.audio_bytes,
            "ready_to_sent_ms": self.ready_to_sent_ms,
            "sent_to_created_ms": self.sent_to_created_ms,
            "sent_to_first_audio_ms": self.sent_to_first_audio_ms,
            "ready_to_first_audio_ms": self.ready_to_first_audio_ms,
            "ready_to_done_ms": self.ready_to_done_ms,
            "done_to_played_out_ms": self.done_to_played_out_ms,
        }
