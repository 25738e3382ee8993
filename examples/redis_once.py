"""Greet once per conversation, not once per socket: a call that reconnects is not greeted again.

A phone call outlives its WebSocket. Here one call connects, is greeted, drops, and
reconnects (as if to another worker): the second connection asks Redis, learns the call was
already greeted, and says "welcome back" instead of the greeting.

Needs a Redis server: ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); start one with
``redis-server --save '' --appendonly no``. Needs ``pip install 'voicelive-proactive[redis]'``.
Talks to the local emulator unless ``AZURE_VOICELIVE_ENDPOINT`` is set (see _connection.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from _connection import example_audio, voicelive_connection
from redis.exceptions import RedisError

import voicelive_proactive as vp

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
GREETING = vp.StaticGreeting("Hello! Thanks for calling. How can I help you today?")
WELCOME_BACK = vp.StaticGreeting("Sorry, we were cut off. I'm back; where were we?")


async def one_connection(client: aioredis.Redis, call_id: str) -> vp.GreetingOutcome:
    """One WebSocket of the call: what a worker does when the call lands on it."""
    # The key names the conversation (the call), never the socket or the session.
    guard = vp.RedisOnceGuard(client, key=f"greeted:{call_id}", ttl=24 * 3600)
    async with voicelive_connection() as conn:
        proactive = vp.ProactiveSession(
            conn,
            greeting=GREETING,
            resume_greeting=WELCOME_BACK,  # spoken instead when the call was greeted already
            guard=guard,
            audio=example_audio(),
        )
        async with proactive:
            runner = asyncio.create_task(proactive.run())
            outcome = await proactive.wait(timeout=30)
            await conn.close()  # the socket drops (the call goes on)
            await runner
    return outcome


async def main() -> int:
    # One client (one connection pool) per worker process, shared by all its calls.
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    async with client:
        try:
            await client.ping()
        except (RedisError, OSError) as exc:
            where = urlsplit(REDIS_URL)  # host and port only: a URL may hold a password
            print(
                f"No Redis reachable at {where.hostname}:{where.port or 6379} ({exc}).\n"
                "Start one (redis-server --save '' --appendonly no) or set REDIS_URL.",
                file=sys.stderr,
            )
            return 2
        call_id = uuid.uuid4().hex  # your telephony provider's call id
        first = await one_connection(client, call_id)
        text = first.greeting.text if first.greeting else None
        print(f"first connection: {first.status.value}; said: {text!r}")
        again = await one_connection(client, call_id)
        said = again.greeting.text if again.greeting else None
        print(f"after reconnecting: {again.status.value}, resumed={again.resumed}; said: {said!r}")
        guard = vp.RedisOnceGuard(client, key=f"greeted:{call_id}", ttl=24 * 3600)
        print(f"greeted by: {await guard.holder()} (the value in Redis says who and when)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
