"""``InterruptionPolicy``: a cough is not a turn.

Without a policy, the first sign of user speech over proactive speech drops its unplayed
audio at once (and the service cancels its response). Line noise, a cough or a "mm-hm" then
cuts the greeting off. With ``interruptions=InterruptionPolicy(min_duration_ms=300,
resume_within_ms=1500)``:

* the service is told not to cancel our responses itself (``interrupt_response: false``,
  while our speech is on the service or playing), so the decision is the library's;
* when the user starts speaking over our speech, local playout **pauses**; nothing is dropped;
* when the service's VAD says the speech ended (``speech_stopped``), and it lasted less than
  ``min_duration_ms`` (``audio_end_ms - audio_start_ms``), it was a blip: playout resumes where
  it paused, with no truncation, and the speech can still be delivered in full;
* if it lasted longer, or the service starts a reply (it committed the blip as a user turn and
  answers it), or ``resume_within_ms`` passes with the user still speaking: it was a turn.
  Our response is cancelled by name, the unplayed audio is dropped, and the item is truncated
  at the pause point.

The VAD reports the end of speech ``silence_duration_ms`` after it (500 ms by default), so a
cough pauses the agent for about that long; ``resume_within_ms`` must leave room for it.

Pausing needs an audio backend that can pause (:class:`~voicelive_proactive.audio.Pausable`).
Without one, the policy does nothing: barge-in flushes at once, as without a policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigurationError

__all__ = ["InterruptionPolicy"]


@dataclass(frozen=True)
class InterruptionPolicy:
    """When user speech over proactive speech counts as a turn (see the module docs)."""

    min_duration_ms: int = 300
    """User speech shorter than this (as the service's VAD measured it) is a blip: playout
    resumes."""
    resume_within_ms: int = 1500
    """If the user is still speaking this long after the pause, it is a turn: flush."""

    def __post_init__(self) -> None:
        for name in ("min_duration_ms", "resume_within_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(
                    f"InterruptionPolicy({name}=...) must be an int (ms), not {value!r}"
                )
            if not 0 < value <= 10_000:
                raise ConfigurationError(
                    f"InterruptionPolicy({name}=...) must be 1..10000 ms, not {value}"
                )
        if self.resume_within_ms < self.min_duration_ms:
            raise ConfigurationError(
                f"InterruptionPolicy(resume_within_ms={self.resume_within_ms}) must be at least "
                f"min_duration_ms={self.min_duration_ms}: a blip must be able to end before "
                "playout gives up on it"
            )
