from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

SESSION = {"modalities": ["text", "audio"], "voice": "en-US-AvaNeural"}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(pace=0) as emulator:
        yield emulator


def sdk_connect(emu: Emulator, **kwargs: Any) -> Any:
    """The real SDK client, pointed at the emulator."""
    return connect(
        endpoint=emu.endpoint,
        credential=AzureKeyCredential(emu.api_key),
        model="gpt-realtime",
        **kwargs,
    )


async def until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition the test cannot await directly (it lives in another task)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


async def run_until_settled(
    p: vp.ProactiveSession, conn: VoiceLiveConnection, timeout: float = 10.0
) -> vp.GreetingOutcome:
    """Run the session until its greeting settles, then hang up and return the outcome."""
    runner = asyncio.create_task(p.run())
    await p.wait(timeout=timeout)
    await conn.close()
    return await runner


async def configure(conn: VoiceLiveConnection) -> None:
    await conn.session.update(session=SESSION)
