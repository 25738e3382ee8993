"""The checks on what a session is given: each wrong value fails when given, saying the fix."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

import voicelive_proactive as vp
from voicelive_proactive._validation import (
    check_callback,
    check_clock,
    check_guard,
    resolve_audio,
)
from voicelive_proactive.testing import FakeConnection, ManualClock, MemoryAudioIO


class TestAudioClassesAreRefused:
    @pytest.mark.parametrize(
        "cls", [vp.NullAudioIO, MemoryAudioIO, vp.SounddeviceAudioIO, vp.WavAudioIO]
    )
    def test_an_audio_class_without_parentheses(self, cls: type) -> None:
        message = rf"audio={cls.__name__} is the class; pass an instance: audio={cls.__name__}\(\)"
        with pytest.raises(vp.ConfigurationError, match=message):
            vp.ProactiveSession(FakeConnection(), greeting="Hi!", audio=cls)  # type: ignore[arg-type]
        with pytest.raises(vp.ConfigurationError, match=message):
            resolve_audio(cls)

    def test_instances_are_accepted(self) -> None:
        null = vp.NullAudioIO()
        assert resolve_audio(null) is null
        assert resolve_audio(None) is None
        memory = MemoryAudioIO()
        proactive = vp.ProactiveSession(FakeConnection(), greeting="Hi!", audio=memory)
        assert proactive.audio is memory


def on_event(event: object) -> None:
    """One argument: what ``on()`` and ``run(on_event=...)`` call with."""


def with_default(event: object, extra: int = 1) -> None:
    """One argument plus a defaulted one."""


def variadic(*args: object) -> None:
    """Anything goes."""


def two(a: object, b: object) -> None:
    """Two arguments."""


def keyword_only(event: object, *, required: int) -> None:
    """A required keyword-only parameter cannot be filled."""


async def async_on_event(event: object) -> None:
    """Async, one argument."""


class Handler:
    def __call__(self, event: object) -> None:
        """A callable object."""

    def method(self, event: object) -> None:
        """A bound method."""


class AsyncHandler:
    async def __call__(self) -> float:
        return 0.0


class TestCheckCallback:
    @pytest.mark.parametrize(
        "func",
        [
            on_event,
            with_default,
            variadic,
            async_on_event,
            Handler(),
            Handler().method,
            functools.partial(two, 1),
            lambda event: None,
            print,  # a builtin: its signature may not be readable; accepted either way
            len,
        ],
    )
    def test_one_argument_callables_are_accepted(self, func: Callable[..., Any]) -> None:
        check_callback("on_event", func, 1, what="the event")

    @pytest.mark.parametrize(
        ("func", "shown"),
        [
            (lambda: None, "takes ()"),
            (two, "takes (a: 'object', b: 'object')"),
            (keyword_only, "required"),
            (functools.partial(two, 1, 2), "takes ()"),
        ],
    )
    def test_the_wrong_arity_names_the_signature(
        self, func: Callable[..., Any], shown: str
    ) -> None:
        with pytest.raises(vp.ConfigurationError) as info:
            check_callback("on(SpeechQueued, ...)", func, 1, what="the event")
        message = str(info.value)
        assert message.startswith(
            "on(SpeechQueued, ...) must be a function taking one argument (the event)"
        )
        assert shown in message and "def callback(event): ..." in message

    def test_no_argument_callbacks(self) -> None:
        check_callback("IdleNudge(on_exhausted=...)", lambda: None, 0)
        check_callback("IdleNudge(on_exhausted=...)", variadic, 0)
        with pytest.raises(vp.ConfigurationError, match="taking no arguments, but") as info:
            check_callback("IdleNudge(on_exhausted=...)", on_event, 0)
        assert "on_event takes (event: 'object')" in str(info.value)

    def test_classes_and_non_callables_are_refused(self) -> None:
        with pytest.raises(vp.ConfigurationError, match="not the class Handler"):
            check_callback("on_event", Handler, 1)
        with pytest.raises(vp.ConfigurationError, match="not 'print'"):
            check_callback("on_event", "print", 1)

    @pytest.mark.parametrize(
        "func", [async_on_event, functools.partial(async_on_event), AsyncHandler()]
    )
    def test_async_is_refused_where_it_cannot_be_awaited(self, func: Callable[..., Any]) -> None:
        with pytest.raises(vp.ConfigurationError, match="plain \\(not async\\) function"):
            check_callback(
                "now", func, 0 if isinstance(func, AsyncHandler) else 1, allow_async=False
            )


class TestCheckClock:
    @pytest.mark.parametrize("clock", [time.monotonic, time.perf_counter, ManualClock(), lambda: 3])
    def test_clocks_returning_seconds_are_accepted(self, clock: Callable[[], float]) -> None:
        check_clock(clock)

    def test_the_manual_clock_class_is_refused(self) -> None:
        with pytest.raises(vp.ConfigurationError, match=r"clock=ManualClock\(\)"):
            check_clock(ManualClock)

    def test_an_async_clock_is_refused(self) -> None:
        async def now() -> float:
            return 0.0

        with pytest.raises(vp.ConfigurationError, match="plain \\(not async\\)"):
            check_clock(now)
        with pytest.raises(vp.ConfigurationError, match="plain \\(not async\\)"):
            check_clock(AsyncHandler())

    def test_a_clock_returning_an_awaitable_is_refused_without_a_warning(self) -> None:
        async def later() -> float:
            return 0.0

        with pytest.raises(vp.ConfigurationError, match="returned an awaitable"):
            check_clock(lambda: later())  # under -W error, a leaked coroutine would fail here

    @pytest.mark.parametrize("clock", [datetime.now, lambda: "12:00", lambda: float("nan")])
    def test_a_clock_must_return_a_number(self, clock: Callable[[], object]) -> None:
        with pytest.raises(vp.ConfigurationError, match="must return seconds as a number"):
            check_clock(clock)

    def test_arity_and_failures(self) -> None:
        with pytest.raises(vp.ConfigurationError, match="taking no arguments"):
            check_clock(lambda now: now)
        with pytest.raises(vp.ConfigurationError, match="clock\\(\\) raised"):
            check_clock(lambda: 1 / 0)


class TestCheckGuard:
    def test_guards_are_accepted(self) -> None:
        check_guard(None)
        check_guard(vp.OnceGuard())

    def test_the_class_is_refused(self) -> None:
        with pytest.raises(vp.ConfigurationError, match=r"guard=OnceGuard\(\)"):
            check_guard(vp.OnceGuard)

    def test_something_without_try_acquire_is_refused(self) -> None:
        with pytest.raises(vp.ConfigurationError, match="must have a try_acquire"):
            check_guard(object())

    def test_a_try_acquire_taking_arguments_is_refused(self) -> None:
        class Guard:
            def try_acquire(self, key: str) -> bool:
                return True

        with pytest.raises(vp.ConfigurationError, match=r"Guard\.try_acquire must be a function"):
            check_guard(Guard())
