"""Eight worker processes, one conversation: exactly one greeting on the wire, round after round.

Each worker is its own process with its own Redis client and, every round, its own
connection to the emulator through the real SDK. All eight are connected and ready before
any is told to greet, so they greet together. The emulator counts the ``response.create``
events it received across the round's eight connections.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from voicelive_proactive.emulator import Emulator

from .conftest import RedisServer

WORKER = Path(__file__).with_name("_worker.py")
WORKERS = 8
ROUNDS = 50
TIMEOUT = 60.0  # generous: only guards against a hung test, never a timing assertion


class Worker:
    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log  # the worker's stderr, shown when it fails

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), TIMEOUT)
        assert line, f"worker exited ({await self.process.wait()}): {self.log.read_text()}"
        reply: dict[str, Any] = json.loads(line)
        return reply


@pytest.fixture
async def workers(
    redis_server: RedisServer, tmp_path: Path
) -> AsyncIterator[tuple[Emulator, list[Worker]]]:
    async with Emulator(pace=0, voice="synthetic") as emu:
        env = {
            **os.environ,
            "EMULATOR_ENDPOINT": emu.endpoint,
            "EMULATOR_API_KEY": emu.api_key,
            "REDIS_PORT": str(redis_server.port),
        }
        started = []
        for i in range(WORKERS):
            log = tmp_path / f"worker-{i}.log"
            with log.open("wb") as stderr:  # the child keeps its own copy of the descriptor
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(WORKER),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=stderr,
                    env={**env, "WORKER_NAME": f"worker-{i}"},
                )
            started.append(Worker(process, log))
        try:
            yield emu, started
        finally:
            for worker in started:
                if worker.process.returncode is None:
                    worker.process.kill()
                await worker.process.wait()


async def test_eight_processes_greet_once_per_conversation(
    workers: tuple[Emulator, list[Worker]], redis_client: aioredis.Redis
) -> None:
    emu, procs = workers
    started = time.monotonic()
    winners: set[str] = set()
    for round_no in range(ROUNDS):
        key = f"greeted:round-{round_no}-{uuid.uuid4().hex}"
        first_connection = len(emu.connections)
        await asyncio.gather(*(w.send(json.dumps({"cmd": "round", "key": key})) for w in procs))
        ready = await asyncio.gather(*(w.receive() for w in procs))
        assert all(r["ready"] for r in ready)
        await asyncio.gather(*(w.send("go") for w in procs))
        outcomes = await asyncio.gather(*(w.receive() for w in procs))

        connections = emu.connections[first_connection:]
        assert len(connections) == WORKERS
        creates = [
            event
            for connection in connections
            for event in connection.received
            if event["type"] == "response.create"
        ]
        assert len(creates) == 1, f"round {round_no}: {len(creates)} greetings on the wire"
        sent = [o for o in outcomes if o["status"] == "sent"]
        assert len(sent) == 1, outcomes
        assert sum(o["status"] == "skipped" for o in outcomes) == WORKERS - 1
        winner = sent[0]["name"]
        text = creates[0]["response"]["pre_generated_assistant_message"]["content"][0]["text"]
        assert text == f"Hello from {winner}"
        assert json.loads(await redis_client.get(key))["by"] == winner
        winners.add(winner)
    await asyncio.gather(*(w.send(json.dumps({"cmd": "quit"})) for w in procs))
    for worker in procs:
        assert await asyncio.wait_for(worker.process.wait(), TIMEOUT) == 0
    elapsed = time.monotonic() - started
    # Reported, not asserted: the machine is shared.
    print(f"\n{WORKERS} processes x {ROUNDS} rounds: {elapsed:.1f} s; winners: {sorted(winners)}")
