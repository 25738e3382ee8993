"""``AfterHello``: on outbound calls, greet right after the callee's "hello".

Someone who answers the phone says "Hello?" first. An agent that greets the moment the call
connects talks over it; one that lets the service answer the hello sounds like a machine
replying to a machine. ``greet_when=AfterHello(max_wait=4.0)`` waits for the callee's first
utterance to end and greets at once: the greeting *is* the answer. If the callee says nothing,
it greets after ``max_wait`` seconds of silence; if they are still talking then, it waits for
the end of that utterance.

The service must not answer the hello itself, so until the greeting is out the session runs
with ``turn_detection.create_response: false`` (the app's own setting goes back once the
greeting is sent). A reply the service starts anyway (its ``session.update`` crossed the
hello) is cancelled by name and never reaches the speaker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .errors import ConfigurationError

__all__ = ["AfterHello", "GreetWhen"]


@dataclass(frozen=True)
class AfterHello:
    """Greet when the callee's first utterance ends, or after ``max_wait`` seconds of
    silence (measured from the moment the session is ready)."""

    max_wait: float = 4.0

    def __post_init__(self) -> None:
        value = self.max_wait
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(f"AfterHello(max_wait=...) must be seconds, not {value!r}")
        if not math.isfinite(value) or not 0 < value <= 120:
            raise ConfigurationError(
                f"AfterHello(max_wait=...) must be more than 0 and at most 120 seconds, "
                f"not {value!r}"
            )


#: When the greeting is due: ``"ready"`` (the session is ready: the default), ``"manual"``
#: (only when :meth:`~voicelive_proactive.ProactiveSession.greet` is called) or
#: :class:`AfterHello` (outbound calls).
GreetWhen: TypeAlias = Literal["ready", "manual"] | AfterHello


def check_greet_when(value: object) -> GreetWhen:
    if isinstance(value, AfterHello) or value in ("ready", "manual"):
        return value
    if value is AfterHello:
        raise ConfigurationError(
            "greet_when=vp.AfterHello needs parentheses: greet_when=vp.AfterHello(max_wait=4.0)"
        )
    raise ConfigurationError(
        f'greet_when must be "ready", "manual" or vp.AfterHello(max_wait=...), not {value!r}'
    )
