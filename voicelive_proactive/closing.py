"""The end: the session or its connection closes, and every speech settles.

Part of the engine (no I/O). There are two ends, and they differ in what the speaker keeps:

* The session closes (``aclose()``): everything ends and nothing more is sent. If audio is
  playing, the speaker is stopped first and the close completes when the shell reports the
  flush, because what the speaker dropped tells exactly what was heard.
* Only the connection ends: what is not on its way to the speaker fails at once; what the
  speaker already has plays on, and settles when it has been heard.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from .actions import FlushAudio

if TYPE_CHECKING:
    from .agenda import Agenda
    from .core import Core
    from .pausing import PauseGate
    from .speaking import Speaking

__all__ = ["Closing"]


class Closing:
    """Closes the engine's parts in order, once. ``moot``: the deadlines that mean nothing
    once the connection is gone (the speaker's own, such as the echo guard, run on)."""

    __slots__ = ("agenda", "core", "gate", "moot", "pending", "speaking")

    def __init__(
        self,
        core: Core,
        agenda: Agenda,
        speaking: Speaking,
        gate: PauseGate,
        moot: tuple[Hashable, ...],
    ) -> None:
        self.core = core
        self.agenda = agenda
        self.speaking = speaking
        self.gate = gate
        self.moot = moot
        self.pending: tuple[str, BaseException | None] | None = None
        """A close waiting for the speaker's flush: (why, error)."""

    def close(self, why: str, now: float, error: BaseException | None) -> None:
        core = self.core
        if core.closed or self.pending is not None:
            return
        if core.floor.playing:
            # Closing stops the speaker: what it drops tells exactly what was heard.
            core.out.sealed = True
            self.pending = (why, error)
            core.out.add(FlushAudio(closing=True))
            return
        self._finish(why, now, error)

    def flushed(self, action: FlushAudio, now: float) -> bool:
        """The speaker performed ``action``: True if that completed a close."""
        if not action.closing or self.pending is None:
            return False
        why, error = self.pending
        self.pending = None
        self._finish(why, now, error)
        return True

    def _finish(self, why: str, now: float, error: BaseException | None) -> None:
        core = self.core
        self.speaking.cut_by_close(now)
        self.agenda.end_all(why, error)
        core.closed = True
        core.out.sealed = True
        core.deadlines.clear()
        self.gate.reset()

    def connection_lost(self, why: str, now: float, error: BaseException | None) -> bool:
        """True if this ended the connection (not already closed or lost)."""
        core = self.core
        if core.closed or core.link_lost is not None:
            return False
        core.link_lost = why
        core.link_down = True
        core.out.sealed = True
        for name in self.moot:
            core.deadlines.cancel(name)
        self.speaking.cut_by_connection(now)
        self.agenda.end_all(why, error, keep_playing=True)
        if self.gate.active:
            # Our speech is paused over the user's, and no VAD will ever say whether that was
            # a cough: take it as a turn (stop at the pause point) rather than talk over them.
            self.gate.turn()
        self.gate.reset()
        return True
