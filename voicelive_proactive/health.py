"""``SessionHealth``: faults the session absorbed instead of passing them to the app's loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

__all__ = ["SessionHealth"]

log = logging.getLogger("voicelive_proactive")


@dataclass
class SessionHealth:
    """Counts of faults isolated by the session, by concern; each kind is logged once.

    None of them settles or fails a proactive speech: a broken speaker still lets the greeting
    go out and be truncated correctly, and a malformed event is skipped.
    """

    audio_errors: int = 0
    """The audio backend raised while queueing, flushing or reporting playout."""
    microphone_errors: int = 0
    """``start_capture`` raised, or sending microphone audio failed."""
    malformed_events: int = 0
    """Server events missing fields the session needs, or with undecodable audio."""
    callback_errors: int = 0
    """Event callbacks (``proactive.on(...)``) or ``on_exhausted`` raised."""
    internal_errors: int = 0
    """Bugs in the library itself (please report them)."""
    last_error: BaseException | None = field(default=None, compare=False, repr=False)

    def record(self, kind: str, error: BaseException, what: str) -> None:
        """Count a fault of ``kind`` (a field name); log the first of each kind."""
        count = getattr(self, kind) + 1
        setattr(self, kind, count)
        self.last_error = error
        if count == 1:
            log.warning(
                "voicelive-proactive: %s (%s: %s); further %s are counted in "
                "proactive.health, not logged",
                what,
                type(error).__name__,
                error,
                kind.replace("_", " "),
            )
        else:
            log.debug("voicelive-proactive: %s: %s", what, error)

    @property
    def ok(self) -> bool:
        """No fault of any kind so far."""
        return not (
            self.audio_errors
            or self.microphone_errors
            or self.malformed_events
            or self.callback_errors
            or self.internal_errors
        )
