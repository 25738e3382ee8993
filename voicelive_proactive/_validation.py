"""Checks on what ``ProactiveSession`` is built with: wrong types fail here, saying what to pass."""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

from .audio.base import AudioIO
from .errors import ConfigurationError

__all__ = [
    "check_bool",
    "check_connection",
    "check_context",
    "check_timeout",
    "resolve_audio",
]


def check_connection(conn: object) -> None:
    send = getattr(conn, "send", None)
    if not callable(send) or not hasattr(conn, "__aiter__"):
        raise ConfigurationError(
            f"conn must be a VoiceLiveConnection (from azure.ai.voicelive.aio.connect) or a "
            f"FakeConnection: something with `async def send(event)` that you iterate with "
            f"`async for`; got {conn!r}."
        )
    if not inspect.iscoroutinefunction(send) and not inspect.iscoroutinefunction(
        getattr(send, "__call__", None)  # noqa: B004 (a callable object with async __call__)
    ):
        raise ConfigurationError(
            f"conn.send must be a coroutine function (the SDK's connection is async); "
            f"{conn!r} has a synchronous send. Use azure.ai.voicelive.aio.connect."
        )


def check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, not {value!r}")


def check_timeout(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"render_timeout must be seconds (or None), not {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(
            f"render_timeout must be a positive number of seconds (or None), not {value!r}"
        )
    return float(value)


def check_context(context: object) -> dict[str, Any] | None:
    if context is None:
        return None
    if not isinstance(context, Mapping):
        raise ConfigurationError(
            f"context must be a mapping of field names to values, such as "
            f'{{"name": "Lisa"}}, or None; got {type(context).__name__}.'
        )
    bad = [key for key in context if not isinstance(key, str)]
    if bad:
        raise ConfigurationError(f"context keys must be str field names; got {bad[:3]!r}")
    return dict(context)


def resolve_audio(audio: object) -> AudioIO | None:
    """``audio`` as an AudioIO, or None; anything else is a ConfigurationError."""
    if audio is None:
        return None
    missing = [
        name
        for name in ("start_capture", "queue_audio", "skip_pending_audio", "close")
        if not callable(getattr(audio, name, None))
    ]
    if missing:
        raise ConfigurationError(
            f"audio must be an AudioIO (SounddeviceAudioIO(), WavAudioIO(...), NullAudioIO(), "
            f"MemoryAudioIO() or your own), DEFAULT or None; {audio!r} lacks "
            f"{', '.join(missing)}."
        )
    return audio  # type: ignore[return-value]
