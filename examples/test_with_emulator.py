"""The emulator in your CI: the real SDK, a real WebSocket, no Azure account.

Copy this file into your project's tests. It needs ``pip install voicelive-proactive pytest
pytest-asyncio``; the ``emulator`` fixture comes with voicelive-proactive's pytest plugin.

    pytest examples/test_with_emulator.py      (or: python examples/test_with_emulator.py)
"""

from __future__ import annotations

import asyncio

import pytest
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

pytestmark = pytest.mark.asyncio  # works whatever your project's asyncio_mode is


async def greet(conn: VoiceLiveConnection, greeting: vp.StrategyLike) -> vp.GreetingOutcome:
    """Your code under test: how your app greets on a fresh connection."""
    await conn.session.update(session={"modalities": ["text", "audio"]})
    async with vp.ProactiveSession(conn, greeting=greeting, audio=None) as proactive:
        runner = asyncio.create_task(proactive.run())
        outcome = await proactive.wait(timeout=10)
        runner.cancel()  # stop reading: the caller's `async with connect(...)` closes it
    return outcome


async def test_the_greeting_goes_out_once(emulator: Emulator) -> None:
    async with connect(
        endpoint=emulator.endpoint,
        credential=AzureKeyCredential(emulator.api_key),
        model="gpt-realtime",
    ) as conn:
        outcome = await greet(conn, vp.StaticGreeting("Hi, welcome back!"))

    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.transcript == "Hi, welcome back!"
    creates = [e for e in emulator.received[0] if e["type"] == "response.create"]
    assert len(creates) == 1


async def test_a_rejected_greeting_falls_back(emulator: Emulator) -> None:
    # Fault injection: the service rejects the first response.create of the next connection.
    emulator.faults.response_errors = {1: ("unknown_parameter", "not in this api-version")}
    async with connect(
        endpoint=emulator.endpoint,
        credential=AzureKeyCredential(emulator.api_key),
        model="gpt-realtime",
    ) as conn:
        outcome = await greet(
            conn, vp.StaticGreeting("Hi!") | vp.LLMGreeting("Greet the user, whose name is Lisa.")
        )

    assert outcome.status is vp.GreetingStatus.SENT
    assert outcome.attempts == 2
    assert outcome.transcript is not None and "Lisa" in outcome.transcript


if __name__ == "__main__":
    import subprocess
    import sys

    # A fresh interpreter, so pytest can rewrite the plugin's asserts.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__]
    raise SystemExit(subprocess.call(command))
