"""One worker process for the multi-process test: a call's connection per round.

Reads JSON lines on stdin. ``{"cmd": "round", "key": K}``: connect to the emulator through
the real SDK, configure the session, build a ``ProactiveSession`` guarded by a
``RedisOnceGuard`` on ``K`` (through this process's one Redis client, as an app would), print
``{"ready": true}``; then wait for a ``go`` line and greet at once, so that every worker
greets together. Print the outcome when it has settled. ``{"cmd": "quit"}`` ends it.

Configuration comes from the environment: ``EMULATOR_ENDPOINT``, ``EMULATOR_API_KEY``,
``REDIS_PORT``, ``WORKER_NAME``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import redis.asyncio as aioredis
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp

SESSION = {"modalities": ["text", "audio"], "voice": "en-US-AvaNeural"}
TIMEOUT = 60.0  # generous: only guards against a hung test, never a timing assertion


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def one_round(key: str, client: aioredis.Redis, stdin: asyncio.StreamReader) -> None:
    name = os.environ["WORKER_NAME"]
    async with connect(
        endpoint=os.environ["EMULATOR_ENDPOINT"],
        credential=AzureKeyCredential(os.environ["EMULATOR_API_KEY"]),
        model="gpt-realtime",
    ) as conn:
        await conn.session.update(session=SESSION)
        guard = vp.RedisOnceGuard(client, key=key, ttl=600, owner=name)
        proactive = vp.ProactiveSession(
            conn, greeting=f"Hello from {name}", guard=guard, audio=None, greet_when="manual"
        )
        ready = asyncio.Event()

        def on_event(event: Any) -> None:
            if event.type == "session.updated":
                ready.set()

        async with proactive:
            runner = asyncio.create_task(proactive.run(on_event=on_event))
            await asyncio.wait_for(ready.wait(), TIMEOUT)
            say({"ready": True})
            await asyncio.wait_for(stdin.readline(), TIMEOUT)  # "go"
            await proactive.greet()
            outcome = await proactive.wait(timeout=TIMEOUT)
            await conn.close()
            await asyncio.wait_for(runner, TIMEOUT)
    say({"name": name, "status": outcome.status.value, "reason": outcome.reason})


async def main() -> None:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    client = aioredis.Redis(host="127.0.0.1", port=int(os.environ["REDIS_PORT"]))
    async with client:
        while line := await stdin.readline():
            command = json.loads(line)
            if command["cmd"] == "quit":
                break
            await one_round(command["key"], client, stdin)


if __name__ == "__main__":
    asyncio.run(main())
