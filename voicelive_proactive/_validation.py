"""Checks on what ``ProactiveSession`` is built with: wrong types fail here, saying what to pass.

Every value is checked when it is given (the constructor, ``on()``, ``run()``), so a mistake
surfaces at start-up with the fix in the message, not as a ``TypeError`` mid-call.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

from .audio.base import AudioIO
from .errors import ConfigurationError

__all__ = [
    "check_bool",
    "check_callback",
    "check_clock",
    "check_connection",
    "check_context",
    "check_guard",
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


def resolve_audio(audio: object, *, default: bool = False) -> AudioIO | None:
    """``audio`` as an AudioIO, or None; anything else is a ConfigurationError. ``default``:
    the caller asked for the default sound device (imported only then: it needs PortAudio)."""
    if default:
        from .audio.device import SounddeviceAudioIO

        return SounddeviceAudioIO()
    if audio is None:
        return None
    if isinstance(audio, type):  # the class has the methods too, but every call would fail
        raise ConfigurationError(_class_given("audio", audio))
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


def _class_given(name: str, cls: type) -> str:
    return (
        f"{name}={cls.__name__} is the class; pass an instance: {name}={cls.__name__}() "
        "(with its arguments, if it takes any)."
    )


def _label(func: object) -> str:
    """How to name a callable in a message: its qualified name, or its repr."""
    return str(getattr(func, "__qualname__", None) or repr(func))


def _is_async(func: object) -> bool:
    """An ``async def`` function, method, partial of one, or object with ``async __call__``."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004 (a callable object with async __call__)
    )


def _arguments(n_args: int, what: str) -> str:
    if n_args == 0:
        return "no arguments"
    count = "one argument" if n_args == 1 else f"{n_args} arguments"
    return f"{count} ({what})" if what else count


def check_callback(
    name: str, func: object, n_args: int, *, allow_async: bool = True, what: str = ""
) -> None:
    """Check that ``func`` can be called with ``n_args`` positional arguments.

    ``name`` is how the caller wrote it (``"on_event"``, ``"IdleNudge(on_exhausted=...)"``)
    and ``what`` names the arguments (``"the event"``). Builtins and other callables whose
    signature cannot be read are accepted (they fail, if at all, when called); defaults,
    ``*args``, ``functools.partial`` and objects with ``__call__`` are read correctly.
    """
    if isinstance(func, type):
        raise ConfigurationError(
            f"{name} must be a function, not the class {func.__name__}; pass a function "
            f"taking {_arguments(n_args, what)}."
        )
    if not callable(func):
        raise ConfigurationError(
            f"{name} must be a function taking {_arguments(n_args, what)}, not {func!r}."
        )
    if not allow_async and _is_async(func):
        raise ConfigurationError(
            f"{name} must be a plain (not async) function taking {_arguments(n_args, what)}; "
            f"{_label(func)} is async."
        )
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # a builtin or C function without a signature: trust it
        return
    try:
        signature.bind(*([None] * n_args))
    except TypeError:
        example = ", ".join(["event"] if n_args == 1 else [f"arg{i}" for i in range(n_args)])
        raise ConfigurationError(
            f"{name} must be a function taking {_arguments(n_args, what)}, but "
            f"{_label(func)} takes {signature}. Write `def callback({example}): ...` (give any "
            "other parameter a default value)."
        ) from None


def check_clock(clock: object) -> None:
    """A clock is a plain function returning seconds as a number, like ``time.monotonic``.

    It is read once here: a clock that returns a datetime or an awaitable fails now.
    """
    if isinstance(clock, type):
        raise ConfigurationError(_class_given("clock", clock))
    check_callback("clock", clock, 0, allow_async=False)
    assert callable(clock)  # checked above
    try:
        now = clock()
    except Exception as exc:
        raise ConfigurationError(f"clock() raised {exc!r}; pass a working clock") from exc
    if inspect.isawaitable(now):
        close = getattr(now, "close", None)
        if callable(close):  # no "coroutine was never awaited" warning for the caller's mistake
            close()
        raise ConfigurationError(
            f"clock must return seconds at once, like time.monotonic; {_label(clock)}() "
            "returned an awaitable."
        )
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
        raise ConfigurationError(
            f"clock must return seconds as a number, like time.monotonic; {_label(clock)}() "
            f"returned {type(now).__name__} {now!r}."
        )


def check_guard(guard: object) -> None:
    """A guard is an object with ``try_acquire()`` (None: the session makes its own)."""
    if guard is None:
        return
    if isinstance(guard, type):
        raise ConfigurationError(_class_given("guard", guard))
    try_acquire = getattr(guard, "try_acquire", None)
    if not callable(try_acquire):
        raise ConfigurationError(
            f"guard must have a try_acquire() method (a vp.OnceGuard, a vp.RedisOnceGuard "
            f"or your own GuardLike), not {guard!r}"
        )
    check_callback(f"{type(guard).__name__}.try_acquire", try_acquire, 0)
