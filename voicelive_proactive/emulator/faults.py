"""Faults the emulator can inject, so tests can see how a client copes with a bad service."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

__all__ = ["MAX_COUGH_MS", "MIN_COUGH_MS", "Faults"]

MIN_COUGH_MS: Final = 20
MAX_COUGH_MS: Final = 10_000


@dataclass
class Faults:
    """What should go wrong. Each connection takes a copy when it opens.

    Change ``Emulator.faults`` (or its fields) between connections; a connection that is
    already open keeps the faults it started with, so a test is never racing itself.
    """

    drop_after_events: int | None = None
    """Abort the TCP connection (no close frame) right after this many server events."""

    drop_after: tuple[str, int] | None = None
    """Abort the TCP connection (no close frame) right after the Nth server event of this type
    (1-based): ``("response.audio.delta", 3)`` drops three chunks into the first response's
    audio, ``("response.function_call_arguments.done", 1)`` while the app runs its tool."""

    session_updated_delay: float = 0.0
    """Seconds to wait before answering a ``session.update``."""

    session_updated_repeat: int = 0
    """Send ``session.updated`` this many extra times for each ``session.update``."""

    response_errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Answer the Nth ``response.create`` of a connection (1-based) with ``(code, message)``."""

    response_created_delay: float = 0.0
    """Seconds between ``response.create`` and ``response.created`` (the service takes ~0.3 s)."""

    stall_audio_after_chunks: int | None = None
    """Pause a response's audio after this many ``response.audio.delta`` chunks..."""

    stall_audio_seconds: float = 0.0
    """...for this long (a cancel or barge-in still ends the pause at once)."""

    reject_status: int | None = None
    """Refuse every WebSocket upgrade with this HTTP status (e.g. 503), after auth passes."""

    cough_after_chunks: int | None = None
    """Once per connection, right after a response has sent this many audio chunks, a
    noise burst of ``cough_ms`` reaches the service as user audio (a cough while the agent
    speaks: see ``EmulatedConnection.cough``)."""

    cough_ms: int = 250
    """How long that burst lasts (20 to 10,000 ms)."""

    vad_response_before_create: int | None = None
    """Just before handling the Nth ``response.create`` of a connection (1-based), start a
    response of the service's own, as server VAD does after a user turn (``response.created``
    with ``metadata: null``, audio, ``response.done``). That create then gets
    ``conversation_already_has_active_response`` after the other response's
    ``response.created``: the race a client must survive. Nothing happens if a response is
    already active then."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError when a field cannot work."""
        if self.drop_after_events is not None and self.drop_after_events < 1:
            raise ValueError("drop_after_events must be None or at least 1")
        if self.drop_after is not None and not _is_drop_after(self.drop_after):
            raise ValueError(
                "drop_after must be None or (server event type, N) with N at least 1 (1-based)"
            )
        if self.vad_response_before_create is not None and self.vad_response_before_create < 1:
            raise ValueError("vad_response_before_create must be None or at least 1 (1-based)")
        if self.stall_audio_after_chunks is not None and self.stall_audio_after_chunks < 0:
            raise ValueError("stall_audio_after_chunks must be None or at least 0")
        if self.cough_after_chunks is not None and self.cough_after_chunks < 1:
            raise ValueError("cough_after_chunks must be None or at least 1")
        if not MIN_COUGH_MS <= self.cough_ms <= MAX_COUGH_MS:
            raise ValueError(f"cough_ms must be from {MIN_COUGH_MS} to {MAX_COUGH_MS}")
        for name in ("session_updated_delay", "response_created_delay", "stall_audio_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.session_updated_repeat < 0:
            raise ValueError("session_updated_repeat must not be negative")
        for index, error in self.response_errors.items():
            if index < 1 or len(error) != 2:
                raise ValueError("response_errors maps a 1-based index to (code, message)")
        if self.reject_status is not None and not 400 <= self.reject_status <= 599:
            raise ValueError("reject_status must be an HTTP error status (400-599)")

    def snapshot(self) -> Faults:
        """A validated copy, taken when a connection opens."""
        self.validate()
        return replace(self, response_errors=dict(self.response_errors))


def _is_drop_after(value: object) -> bool:
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    kind, count = value
    whole = isinstance(count, int) and not isinstance(count, bool)
    return isinstance(kind, str) and bool(kind) and whole and count >= 1
