"""Redis down, frozen or refusing: the guard answers per ``on_error``, within its timeout,
and the password never shows."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

import voicelive_proactive as vp

from .conftest import RedisServer

PASSWORD = "hunter2-s3cret"
# Generous: only proves the call returns (never hangs); the guard's own timeout is far shorter.
NO_HANG = 20.0

Factory = Callable[..., RedisServer]


async def acquire(guard: vp.RedisOnceGuard) -> vp.GuardResult:
    return await asyncio.wait_for(guard.try_acquire(), NO_HANG)


@pytest.mark.parametrize(
    ("on_error", "expected"),
    [("greet", vp.GuardResult.ACQUIRED), ("skip", vp.GuardResult.UNAVAILABLE)],
)
async def test_redis_stopped_mid_test(
    redis_factory: Factory,
    key: str,
    on_error: vp.redis_guard.OnError,
    expected: vp.GuardResult,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = redis_factory(password=PASSWORD)
    guard = vp.RedisOnceGuard.from_url(server.url, key=key, ttl=60, on_error=on_error)
    async with guard:
        other = vp.RedisOnceGuard.from_url(server.url, key=key + "-b", ttl=60, on_error=on_error)
        async with other:
            assert await acquire(other) is vp.GuardResult.ACQUIRED  # its connection is pooled
            server.stop()
            with caplog.at_level(logging.WARNING, logger="voicelive_proactive"):
                assert await acquire(guard) is expected
                # Asked again, the same guard does not guess yes twice.
                again = vp.GuardResult.TAKEN if on_error == "greet" else expected
                assert await acquire(guard) is again
            # A guard that already said yes knows the conversation was greeted.
            assert await acquire(other) is vp.GuardResult.TAKEN
    warnings = [r for r in caplog.records if r.name == "voicelive_proactive"]
    assert warnings, "a Redis failure is logged"
    text = "\n".join(r.getMessage() for r in warnings)
    assert key in text and on_error in text
    assert f"127.0.0.1:{server.port}" in text
    assert PASSWORD not in text


@pytest.mark.parametrize(
    ("on_error", "expected"),
    [("greet", vp.GuardResult.ACQUIRED), ("skip", vp.GuardResult.UNAVAILABLE)],
)
async def test_redis_frozen_answers_within_the_timeout(
    redis_factory: Factory, key: str, on_error: vp.redis_guard.OnError, expected: vp.GuardResult
) -> None:
    server = redis_factory()
    client = server.client()
    async with client:
        guard = vp.RedisOnceGuard(client, key=key, ttl=60, on_error=on_error, timeout=0.2)
        await client.ping()  # a pooled connection that will now get no answer
        server.pause()
        try:
            assert await acquire(guard) is expected
            fresh = vp.RedisOnceGuard.from_url(server.url, key=key, ttl=60, on_error=on_error)
            async with fresh:  # a new connection: the kernel accepts it, Redis never answers
                assert await acquire(fresh) is expected
        finally:
            server.resume()
        # Redis answers again. (The timed-out SET may still land then: it was on the wire.)
        late = vp.RedisOnceGuard(client, key=key, ttl=60, on_error=on_error)
        assert await acquire(late) in (vp.GuardResult.ACQUIRED, vp.GuardResult.TAKEN)
        assert await client.exists(key)


async def test_nothing_listening(key: str, redis_factory: Factory) -> None:
    server = redis_factory()
    url = server.url
    server.stop()
    async with vp.RedisOnceGuard.from_url(url, key=key, ttl=60, on_error="skip") as guard:
        assert await acquire(guard) is vp.GuardResult.UNAVAILABLE
    async with vp.RedisOnceGuard.from_url(url, key=key, ttl=60) as guard:
        assert await acquire(guard) is vp.GuardResult.ACQUIRED


async def test_wrong_password_is_a_failure_not_a_crash(
    redis_factory: Factory, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_factory(password=PASSWORD)
    url = f"redis://:wrong-{PASSWORD}@127.0.0.1:{server.port}/0"
    async with vp.RedisOnceGuard.from_url(url, key=key, ttl=60, on_error="skip") as guard:
        with caplog.at_level(logging.WARNING, logger="voicelive_proactive"):
            assert await acquire(guard) is vp.GuardResult.UNAVAILABLE
    assert PASSWORD not in caplog.text


async def test_reset_and_holder_raise_a_typed_error_without_the_password(
    redis_factory: Factory, key: str
) -> None:
    server = redis_factory(password=PASSWORD)
    async with vp.RedisOnceGuard.from_url(server.url, key=key, ttl=60) as guard:
        server.stop()
        for method in (guard.reset, guard.holder):
            with pytest.raises(vp.GuardUnavailableError) as caught:
                await asyncio.wait_for(method(), NO_HANG)
            shown = "".join(traceback.format_exception(caught.value))
            assert key in str(caught.value)
            assert f"127.0.0.1:{server.port}" in str(caught.value)
            assert PASSWORD not in shown


async def test_repr_never_shows_the_password(redis_factory: Factory, key: str) -> None:
    server = redis_factory(password=PASSWORD)
    async with vp.RedisOnceGuard.from_url(server.url, key=key, ttl=60) as guard:
        assert await guard.try_acquire() is vp.GuardResult.ACQUIRED
        text = repr(guard)
        assert PASSWORD not in text
        assert f"redis://127.0.0.1:{server.port}/0" in text and key in text
    client = aioredis.Redis(port=server.port, password=PASSWORD)
    async with client:
        assert PASSWORD not in repr(vp.RedisOnceGuard(client, key=key, ttl=60))


async def test_a_guard_that_said_yes_and_was_reset_guesses_again(
    redis_factory: Factory, key: str
) -> None:
    server = redis_factory()
    async with vp.RedisOnceGuard.from_url(server.url, key=key, ttl=60, on_error="greet") as guard:
        assert await acquire(guard) is vp.GuardResult.ACQUIRED
        await guard.reset()  # a new conversation under the same key
        server.stop()
        assert await acquire(guard) is vp.GuardResult.ACQUIRED  # on_error="greet" again
