"""What ``ProactiveSession`` is built with, checked once: wrong values fail at construction,
saying what to pass. Returns the engine's configuration."""

from __future__ import annotations

import warnings
from typing import Any

from ._validation import check_bool, check_timeout
from .core import EngineConfig
from .errors import ConfigurationError
from .greetings import GreetingStrategy
from .hello import GreetWhen, check_greet_when
from .interruptions import InterruptionPolicy
from .nudge import IdleNudge

__all__ = ["UNSET", "engine_config"]

#: A parameter the caller did not pass (to tell a deprecated one from its default).
UNSET: Any = object()


def greet_when_from(greet_when: object, greet_on_ready: object) -> GreetWhen:
    if greet_on_ready is not UNSET:
        warnings.warn(
            'greet_on_ready is deprecated: use greet_when="ready" (the default) or '
            'greet_when="manual" instead of greet_on_ready=False',
            DeprecationWarning,
            stacklevel=3,
        )
        check_bool("greet_on_ready", greet_on_ready)
        if greet_when != "ready":
            raise ConfigurationError("pass greet_when or greet_on_ready, not both")
        return "ready" if greet_on_ready else "manual"
    return check_greet_when(greet_when)


def engine_config(
    *,
    greet_when: GreetWhen,
    skip_if_user_spoke: object,
    truncate_on_barge_in: object,
    raise_errors: object,
    render_timeout: object,
    interruptible: object,
    resume: GreetingStrategy | None,
    nudge: object,
    echo_guard_ms: object,
    interruptions: object,
    word_timestamps: object,
) -> EngineConfig:
    """The engine's configuration (``can_pause`` is the audio backend's to say: the shell
    sets it)."""
    for name, flag in (
        ("skip_if_user_spoke", skip_if_user_spoke),
        ("truncate_on_barge_in", truncate_on_barge_in),
        ("raise_errors", raise_errors),
        ("interruptible", interruptible),
        ("word_timestamps", word_timestamps),
    ):
        check_bool(name, flag)
    timeout = check_timeout(render_timeout)
    if nudge is not None and not isinstance(nudge, IdleNudge):
        hint = " (with its arguments)" if nudge is IdleNudge else ""
        raise ConfigurationError(f"nudge must be a vp.IdleNudge(...){hint}, not {nudge!r}")
    if isinstance(echo_guard_ms, bool) or not isinstance(echo_guard_ms, int):
        raise ConfigurationError(f"echo_guard_ms must be an int (ms), not {echo_guard_ms!r}")
    if not 0 <= echo_guard_ms <= 10_000:
        raise ConfigurationError(f"echo_guard_ms must be 0..10000 ms, not {echo_guard_ms}")
    if interruptions is not None and not isinstance(interruptions, InterruptionPolicy):
        hint = " (with its arguments)" if interruptions is InterruptionPolicy else ""
        raise ConfigurationError(
            f"interruptions must be a vp.InterruptionPolicy(...){hint} or None, "
            f"not {interruptions!r}"
        )
    return EngineConfig(
        interruptible=bool(interruptible),
        skip_if_user_spoke=bool(skip_if_user_spoke),
        truncate=bool(truncate_on_barge_in),
        echo_guard_ms=echo_guard_ms,
        render_timeout=timeout,
        greet_when=greet_when,
        word_timestamps=bool(word_timestamps),
        interruptions=interruptions,
        nudge=nudge,
        nudge_alternatives=nudge.nudge_strategy.alternatives() if nudge is not None else (),
        resume_alternatives=resume.alternatives() if resume is not None else None,
        raise_errors=bool(raise_errors),
    )
