"""``RedisOnceGuard`` against a real redis-server: once per key, TTL, reset, ownership."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone

import pytest
import redis.asyncio as aioredis

import voicelive_proactive as vp

from .conftest import RedisServer

ACQUIRED, TAKEN = vp.GuardResult.ACQUIRED, vp.GuardResult.TAKEN
# Tests that read what the guard wrote, not how fast: a stall of the shared machine past the
# guard's 0.5 s default made one of them read a key that was never written.
SLOW_MACHINE = 5.0


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Poll a condition in Redis (expiry, a closed connection) with a generous deadline."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_first_caller_acquires_every_other_is_told_taken(
    redis_client: aioredis.Redis, key: str
) -> None:
    first = vp.RedisOnceGuard(redis_client, key=key, ttl=60)
    second = vp.RedisOnceGuard(redis_client, key=key, ttl=60)
    assert await first.try_acquire() is ACQUIRED
    assert await second.try_acquire() is TAKEN
    assert await first.try_acquire() is TAKEN  # the same guard asked again: still once
    other = vp.RedisOnceGuard(redis_client, key=key + "-2", ttl=60)
    assert await other.try_acquire() is ACQUIRED


async def test_the_result_works_as_a_bool(redis_client: aioredis.Redis, key: str) -> None:
    guard = vp.RedisOnceGuard(redis_client, key=key, ttl=60)
    assert isinstance(guard, vp.GuardLike)
    assert await guard.try_acquire()
    assert not await guard.try_acquire()


async def test_the_value_says_who_greeted_and_when(redis_client: aioredis.Redis, key: str) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    guard = vp.RedisOnceGuard(redis_client, timeout=SLOW_MACHINE, key=key, ttl=60, owner="worker-7")
    assert await guard.holder() is None
    assert await guard.try_acquire() is ACQUIRED
    record = json.loads(await redis_client.get(key))
    assert record["by"] == "worker-7"
    assert datetime.fromisoformat(record["at"]) >= before
    assert await vp.RedisOnceGuard(redis_client, key=key, ttl=60).holder() == "worker-7"


async def test_default_owner_is_host_and_pid(redis_client: aioredis.Redis, key: str) -> None:
    import os
    import socket

    guard = vp.RedisOnceGuard(redis_client, timeout=SLOW_MACHINE, key=key, ttl=60)
    assert await guard.try_acquire() is ACQUIRED
    assert await guard.holder() == f"{socket.gethostname()}:{os.getpid()}"


async def test_int_ttl_is_set_in_seconds(redis_client: aioredis.Redis, key: str) -> None:
    guard = vp.RedisOnceGuard(redis_client, timeout=SLOW_MACHINE, key=key, ttl=24 * 3600)
    assert await guard.try_acquire() is ACQUIRED
    assert 23 * 3600 < await redis_client.ttl(key) <= 24 * 3600


async def test_timedelta_ttl(redis_client: aioredis.Redis, key: str) -> None:
    guard = vp.RedisOnceGuard(
        redis_client, timeout=SLOW_MACHINE, key=key, ttl=timedelta(minutes=90, milliseconds=500)
    )
    assert guard.ttl == timedelta(minutes=90, milliseconds=500)
    assert await guard.try_acquire() is ACQUIRED
    assert 89 * 60_000 < await redis_client.pttl(key) <= 90 * 60_000 + 500


async def test_after_the_ttl_the_conversation_can_be_greeted_again(
    redis_client: aioredis.Redis, key: str
) -> None:
    guard = vp.RedisOnceGuard(redis_client, key=key, ttl=timedelta(milliseconds=300))
    assert await guard.try_acquire() is ACQUIRED
    assert await guard.try_acquire() is TAKEN

    async def expired() -> bool:
        return not await redis_client.exists(key)

    await until(expired)
    assert await vp.RedisOnceGuard(redis_client, key=key, ttl=1).try_acquire() is ACQUIRED


async def test_expiry_with_whole_seconds(redis_client: aioredis.Redis, key: str) -> None:
    guard = vp.RedisOnceGuard(redis_client, key=key, ttl=1)
    assert await guard.try_acquire() is ACQUIRED

    async def expired() -> bool:
        return not await redis_client.exists(key)

    await until(expired)
    assert await guard.try_acquire() is ACQUIRED  # the same guard, a new conversation


async def test_reset_deletes_the_key(redis_client: aioredis.Redis, key: str) -> None:
    guard = vp.RedisOnceGuard(redis_client, key=key, ttl=60)
    assert await guard.try_acquire() is ACQUIRED
    await guard.reset()
    assert not await redis_client.exists(key)
    assert await vp.RedisOnceGuard(redis_client, key=key, ttl=60).try_acquire() is ACQUIRED
    await guard.reset()
    await guard.reset()  # nothing to delete: still fine


async def test_many_tasks_racing_get_one_yes(redis_client: aioredis.Redis, key: str) -> None:
    guards = [vp.RedisOnceGuard(redis_client, key=key, ttl=60) for _ in range(64)]
    results = await asyncio.gather(*(g.try_acquire() for g in guards))
    assert results.count(ACQUIRED) == 1
    assert results.count(TAKEN) == 63


async def test_a_key_someone_else_wrote_is_taken(redis_client: aioredis.Redis, key: str) -> None:
    await redis_client.set(key, "not json")
    guard = vp.RedisOnceGuard(redis_client, key=key, ttl=60)
    assert await guard.try_acquire() is TAKEN
    assert await guard.holder() == "not json"


async def test_works_with_decoded_responses(redis_server: RedisServer, key: str) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=redis_server.port, decode_responses=True)
    async with client:
        guard = vp.RedisOnceGuard(client, key=key, ttl=60, owner="w1")
        assert await guard.try_acquire() is ACQUIRED
        assert await vp.RedisOnceGuard(client, key=key, ttl=60).try_acquire() is TAKEN
        assert await guard.holder() == "w1"


async def test_a_guard_never_closes_the_apps_client(redis_client: aioredis.Redis, key: str) -> None:
    async with vp.RedisOnceGuard(redis_client, key=key, ttl=60) as guard:
        await guard.try_acquire()
    assert guard.closed
    assert await redis_client.ping()
    assert await redis_client.exists(key)


async def test_from_url_owns_its_client_and_closes_it(
    redis_server: RedisServer, redis_client: aioredis.Redis, key: str
) -> None:
    name = f"guard-{key[-8:]}"
    guard = vp.RedisOnceGuard.from_url(redis_server.url, key=key, ttl=60, client_name=name)
    assert await guard.try_acquire() is ACQUIRED

    async def connected() -> bool:
        return any(c.get("name") == name for c in await redis_client.client_list())

    assert await connected()
    await guard.aclose()
    await guard.aclose()  # twice is fine

    async def disconnected() -> bool:
        return not await connected()

    await until(disconnected)
    assert guard.closed
    for method in (guard.try_acquire, guard.reset, guard.holder):
        with pytest.raises(RuntimeError, match="closed"):
            await method()


async def test_from_url_sets_socket_timeouts(redis_server: RedisServer, key: str) -> None:
    guard = vp.RedisOnceGuard.from_url(redis_server.url, key=key, ttl=60, timeout=0.25)
    async with guard:
        assert guard.timeout == 0.25
        pool = guard._client.connection_pool  # the client is private; its settings are the point
        assert pool.connection_kwargs["socket_timeout"] == 0.25
        assert pool.connection_kwargs["socket_connect_timeout"] == 0.25
        assert await guard.try_acquire() is ACQUIRED


async def test_a_retried_set_whose_reply_was_lost_still_acquires(
    redis_client: aioredis.Redis, key: str
) -> None:
    # redis-py retries a command when the connection breaks; if the first SET landed but its
    # reply was lost, the retry finds the key holding this attempt's own token.
    guard = vp.RedisOnceGuard(redis_client, key=key, ttl=60)
    assert await guard._acquire("token-1") is ACQUIRED
    assert await guard._acquire("token-1") is ACQUIRED  # the retry of the same attempt
    assert await guard._acquire("token-2") is TAKEN  # any other attempt


def test_the_benchmark_smoke_run(redis_server: RedisServer) -> None:
    from benchmarks.redis_guard_bench import run

    result = run(quick=True, url=redis_server.url)
    for series in (result["once_guard"]["acquired"], *result["redis_once_guard"].values()):
        assert series["n"] == result["n"]
        assert 0 < series["p50_us"] <= series["p99_us"]
    assert "loopback" in result["setup"]
