"""Greet once per conversation, not once per socket: a call that reconnects is not greeted again.

A phone call outlives its WebSocket. Here one call connects, is greeted, drops, and
reconnects (as if to another worker): the second connection asks Redis, learns the call was
already greeted, and says "welcome back" instead of the greeting.

Needs a Redis server: ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``); start one with
``redis-server --save '' --appendonly no``. Needs ``pip install 'voicelive-proactive[redis]'``.
Talks to the local emulator unless ``AZURE_VOICELIVE_ENDPOINT`` is set (see the end of the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential
from redis.exceptions import RedisError

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

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
            runner.cancel()  # leaving voicelive_connection() closes the socket (the call goes on)
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


# -- the connection: the same in every example --------------------------------------------
# Azure when AZURE_VOICELIVE_ENDPOINT is set (with AZURE_VOICELIVE_API_KEY, or signed in for
# DefaultAzureCredential without it); otherwise the bundled emulator, so it runs anywhere.

SESSION = {
    "modalities": ["text", "audio"],
    "instructions": "You are a helpful, concise assistant.",
    "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
    "turn_detection": {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500},
}


@contextlib.asynccontextmanager
async def voicelive_connection() -> AsyncIterator[VoiceLiveConnection]:
    """A connected Voice Live session, configured with SESSION."""
    async with contextlib.AsyncExitStack() as stack:
        endpoint = os.environ.get("AZURE_VOICELIVE_ENDPOINT")
        key = os.environ.get("AZURE_VOICELIVE_API_KEY")
        if not endpoint:
            emulator = await stack.enter_async_context(Emulator())
            endpoint, key = emulator.endpoint, emulator.api_key
            print(f"(no AZURE_VOICELIVE_ENDPOINT set: using the local emulator at {endpoint})")
        credential: AzureKeyCredential | AsyncTokenCredential
        if key:
            credential = AzureKeyCredential(key)
        else:
            credential = await stack.enter_async_context(DefaultAzureCredential())
        model = os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime")
        conn = await stack.enter_async_context(
            connect(endpoint=vp.check_endpoint(endpoint), credential=credential, model=model)
        )
        await conn.session.update(session=SESSION)
        yield conn


def example_audio() -> vp.AudioIO:
    """The sound card when there is one; otherwise a WAV file (a server has no sound card)."""
    try:
        return vp.SounddeviceAudioIO()
    except vp.AudioUnavailableError:
        path = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
        print(f"(no sound device: writing the agent's audio to {path})")
        return vp.WavAudioIO(path)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
