"""What happened to the greeting (``GreetingOutcome``) and how long it took (metrics)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .greetings import Greeting, GreetingStrategy

__all__ = ["GreetingMetrics", "GreetingOutcome", "GreetingStatus"]


class GreetingStatus(str, enum.Enum):
    """Where the greeting stands. Only ``PENDING`` ever changes."""

    PENDING = "pending"
    """Not sent yet: waiting for the session, for an active response to end, or rendering."""
    SENT = "sent"
    """Sent to the service (it may since have been interrupted; see ``interrupted``)."""
    SKIPPED = "skipped"
    """Deliberately not sent: the user spoke first, or the guard said another greeted."""
    FAILED = "failed"
    """Could not be sent: every strategy failed, the service rejected it, or the link broke."""


@dataclass(frozen=True)
class GreetingOutcome:
    """The greeting's status, the greeting itself and why it ended as it did."""

    status: GreetingStatus = GreetingStatus.PENDING
    greeting: Greeting | None = None
    strategy: GreetingStrategy | None = None
    reason: str | None = None
    error: BaseException | None = field(default=None, compare=False)
    attempts: int = 0
    """How many strategies were tried (a fallback chain may try several)."""
    interrupted: bool = False
    """The user barged in before the greeting finished playing."""
    played_ms: int | None = None
    """When interrupted: how much of the greeting was played (what it was truncated to)."""

    @property
    def settled(self) -> bool:
        """True once the status can no longer change from pending."""
        return self.status is not GreetingStatus.PENDING


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
    audio_bytes: int = 0
    """Bytes of greeting audio received."""

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

    def as_dict(self) -> dict[str, float | int | None]:
        """Timestamps and derived milliseconds, for logs and JSON."""
        return {
            "session_ready": self.session_ready,
            "greeting_sent": self.greeting_sent,
            "response_created": self.response_created,
            "first_audio": self.first_audio,
            "done": self.done,
            "audio_bytes": self.audio_bytes,
            "ready_to_sent_ms": self.ready_to_sent_ms,
            "sent_to_created_ms": self.sent_to_created_ms,
            "sent_to_first_audio_ms": self.sent_to_first_audio_ms,
            "ready_to_first_audio_ms": self.ready_to_first_audio_ms,
            "ready_to_done_ms": self.ready_to_done_ms,
        }
