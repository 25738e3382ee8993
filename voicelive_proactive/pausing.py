"""The pause gate of an :class:`~voicelive_proactive.InterruptionPolicy`: is it a cough or a
turn? Part of the engine (no I/O).

States, as data::

    IDLE ──user speaks over our speech──> PAUSED ──the speech was under min_duration_ms──> BLIPPED
    PAUSED ──it was longer, or resume_within_ms passed with the user still speaking,
             or the service starts a reply──> IDLE (a turn: cancel, flush, truncate)
    BLIPPED ──the service starts a reply while our audio is still playing──> IDLE (a turn)
    BLIPPED ──user speaks over our speech again──> PAUSED
    BLIPPED ──our speech has finished playing──> IDLE

How long the speech was comes from the service's VAD: ``speech_stopped.audio_end_ms`` minus
``speech_started.audio_start_ms``, less the ``prefix_padding_ms`` and ``silence_duration_ms``
those include (the wall clock when they are missing). The VAD reports the
end ``silence_duration_ms`` after it happened, so a cough pauses our speech for about that
long plus the cough, however short the cough.

A blip the service commits as a user turn and answers (``create_response``) is a turn after
all: the moment its reply starts, what is left of our speech is dropped and its item
truncated to what was heard (the reply then plays). Before that reply, nothing is lost.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final

from .actions import FlushAudio, PauseAudio, ResumeAudio
from .core import Core
from .floor import Owner
from .wire import cancel_event

if TYPE_CHECKING:
    from .agenda import Agenda

__all__ = ["GateState", "PauseGate"]

LIMIT: Final = "pause limit"


class GateState(enum.Enum):
    __hash__ = object.__hash__  # identity, as in Phase (a C-level hash)
    IDLE = "idle"
    PAUSED = "paused"
    BLIPPED = "blipped"


class PauseGate:
    """Pauses our speech when the user starts speaking over it, and decides what it was."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.state = GateState.IDLE
        self.started_at = 0.0
        self.audio_start_ms: float | None = None
        self.pending = 0
        self.blips = 0
        """Blips that did not cut our speech off (for tests and logs)."""

    @property
    def active(self) -> bool:
        """Our speech is paused while the gate decides."""
        return self.state is GateState.PAUSED

    def _ours_playing(self) -> bool:
        floor = self.core.floor
        for key in floor.ledger.pending_keys():
            view = floor.response(key)
            if view is not None and view.owner is Owner.OURS and not view.muted:
                return True
        active = floor.active
        return active is not None and active.owner is Owner.OURS and not active.muted

    def wants_pause(self, now: float, audio_start_ms: float | None = None) -> bool:
        """The user started speaking: pause (True) instead of flushing, if the policy says so."""
        config = self.core.config
        policy = config.interruptions
        if policy is None or not config.can_pause:
            return False
        if self.state is GateState.PAUSED:
            return True
        if not self._ours_playing():
            return False
        self.state = GateState.PAUSED
        self.started_at = now
        self.audio_start_ms = audio_start_ms
        self.core.out.add(PauseAudio())
        self.core.deadlines.set(LIMIT, now + policy.resume_within_ms / 1000)
        return True

    def paused(self, pending: int) -> None:
        self.pending = pending

    def user_stopped(self, now: float, audio_end_ms: float | None = None) -> None:
        if self.state is not GateState.PAUSED:
            return
        policy = self.core.config.interruptions
        assert policy is not None
        if audio_end_ms is not None and self.audio_start_ms is not None:
            # By the VAD, whose start includes prefix_padding_ms of audio before the speech
            # and whose end includes the silence_duration_ms that ended it.
            spoken_ms = audio_end_ms - self.audio_start_ms - self._vad_margins_ms()
        else:
            spoken_ms = (now - self.started_at) * 1000
        if spoken_ms < policy.min_duration_ms:
            self.state = GateState.BLIPPED
            self.blips += 1
            self._cancel_deadlines()
            self.core.out.add(ResumeAudio())
        else:
            self.turn()

    def _vad_margins_ms(self) -> float:
        td = self.core.settings.turn_detection or {}
        total = 0.0
        for name, default in (("prefix_padding_ms", 300), ("silence_duration_ms", 500)):
            value = td.get(name, default)
            total += value if isinstance(value, (int, float)) else default
        return total

    def deadline(self, name: object, now: float) -> None:
        if name == LIMIT and self.state is GateState.PAUSED:
            self.turn()  # still speaking: a turn

    def service_took_floor(self) -> None:
        """A response not ours started."""
        if self.state is GateState.PAUSED or (
            self.state is GateState.BLIPPED and self._ours_playing()
        ):
            self.turn()

    def turn(self) -> None:
        """It was a turn: stop our speech (cancel, flush, truncate at the pause point)."""
        core = self.core
        was_paused = self.state is GateState.PAUSED
        self.state = GateState.IDLE
        self._cancel_deadlines()
        active = core.floor.active
        if active is not None and active.ours and active.strong and not active.muted:
            core.out.send(cancel_event(next(core.ids), active.id))
        core.out.add(FlushAudio())
        if was_paused:
            core.out.add(ResumeAudio())  # the speaker plays whatever comes next

    def forget_blip(self, agenda: Agenda) -> None:
        if self.state is GateState.BLIPPED and not self._ours_playing():
            self.state = GateState.IDLE

    def reset(self) -> None:
        self.state = GateState.IDLE
        self._cancel_deadlines()

    def _cancel_deadlines(self) -> None:
        self.core.deadlines.cancel(LIMIT)
