"""A call that reconnects (to another worker) is greeted once: real SDK, emulator, Redis."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

from .conftest import RedisServer

SESSION = {"modalities": ["text", "audio"], "voice": "en-US-AvaNeural"}
HELLO = "Hello, thanks for calling!"
WELCOME_BACK = "Welcome back!"
# Generous: proves the greeting settles (never hangs); Redis's own timeout is far shorter.
SETTLE = 20.0


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(pace=0, voice="synthetic") as emulator:
        yield emulator


async def call(
    emu: Emulator, guard: vp.GuardLike, **kwargs: Any
) -> tuple[vp.ProactiveSession, list[str]]:
    """One connection of a call: greet as the session decides, hang up once it settles.

    Returns the session and the texts of the ``response.create`` events the emulator got.
    """
    async with connect(
        endpoint=emu.endpoint, credential=AzureKeyCredential(emu.api_key), model="gpt-realtime"
    ) as conn:
        await conn.session.update(session=SESSION)
        proactive = vp.ProactiveSession(conn, greeting=HELLO, guard=guard, audio=None, **kwargs)
        async with proactive:
            runner = asyncio.create_task(proactive.run())
            await proactive.wait(timeout=SETTLE)
            await conn.close()
            await asyncio.wait_for(runner, SETTLE)
    received = emu.received[-1]
    creates = [e for e in received if e["type"] == "response.create"]
    return proactive, [
        c["response"]["pre_generated_assistant_message"]["content"][0]["text"] for c in creates
    ]


async def test_a_reconnect_on_another_worker_is_not_greeted_again(
    emu: Emulator, redis_server: RedisServer, key: str
) -> None:
    worker_a, worker_b = redis_server.client(), redis_server.client()  # two processes' pools
    async with worker_a, worker_b:
        first, said = await call(emu, vp.RedisOnceGuard(worker_a, key=key, ttl=3600))
        assert first.outcome.status is vp.GreetingStatus.SENT
        assert said == [HELLO]

        again, said = await call(emu, vp.RedisOnceGuard(worker_b, key=key, ttl=3600))
        assert again.outcome.status is vp.GreetingStatus.SKIPPED
        assert said == []

        # Another call (another key) on the same worker is greeted.
        _, said = await call(emu, vp.RedisOnceGuard(worker_b, key=key + "-2", ttl=3600))
        assert said == [HELLO]


@pytest.mark.skipif(
    "resume_greeting" not in inspect.signature(vp.ProactiveSession).parameters,
    reason="needs the session's resume_greeting",
)
async def test_a_reconnect_speaks_the_resume_greeting(
    emu: Emulator, redis_server: RedisServer, key: str
) -> None:
    resume = {"resume_greeting": vp.StaticGreeting(WELCOME_BACK)}
    worker_a, worker_b = redis_server.client(), redis_server.client()
    async with worker_a, worker_b:
        first, said = await call(emu, vp.RedisOnceGuard(worker_a, key=key, ttl=3600), **resume)
        assert said == [HELLO]
        assert first.outcome.status is vp.GreetingStatus.SENT
        assert first.outcome.resumed is False

        again, said = await call(emu, vp.RedisOnceGuard(worker_b, key=key, ttl=3600), **resume)
        assert said == [WELCOME_BACK]
        assert again.outcome.status is vp.GreetingStatus.SENT
        assert again.outcome.resumed is True


@pytest.mark.parametrize("fault", ["stopped", "frozen"])
@pytest.mark.parametrize(("on_error", "greeted"), [("greet", True), ("skip", False)])
async def test_redis_fails_between_calls_the_greeting_settles_per_policy(
    emu: Emulator,
    redis_factory: Callable[..., RedisServer],
    key: str,
    fault: str,
    on_error: vp.redis_guard.OnError,
    greeted: bool,
) -> None:
    server = redis_factory()
    client = server.client()
    async with client:
        guard = vp.RedisOnceGuard(client, key=key, ttl=3600, on_error=on_error, timeout=0.2)
        _, said = await call(emu, guard)
        assert said == [HELLO]
        if fault == "stopped":
            server.stop()  # refused at once
        else:
            server.pause()  # accepted, never answered: only the guard's timeout ends it
        try:
            # A new conversation; call() waits at most SETTLE seconds for it to settle.
            guard = vp.RedisOnceGuard(client, key=f"{key}-next", ttl=3600, on_error=on_error)
            proactive, said = await call(emu, guard)
        finally:
            server.resume()
    assert said == ([HELLO] if greeted else [])
    expected = vp.GreetingStatus.SENT if greeted else vp.GreetingStatus.SKIPPED
    assert proactive.outcome.status is expected


async def test_the_apps_client_survives_the_session(
    emu: Emulator, redis_client: aioredis.Redis, key: str
) -> None:
    async with vp.RedisOnceGuard(redis_client, key=key, ttl=60) as guard:
        await call(emu, guard)
    assert await redis_client.exists(key)
