"""Speech that knows when it is stale: order updates that replace each other while they wait,
and expire if they cannot be said in time.

While the agent is still talking, three updates about the same order arrive; only the newest
is said (`key=`). An update that could not start within its `expires_in` is dropped.

python examples/order_updates.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator


async def main() -> list[vp.GreetingOutcome]:
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting="Hi! I will keep you posted about your order while we talk.",
            audio=vp.NullAudioIO(),
        ) as proactive,
    ):
        runner = asyncio.create_task(proactive.run())
        updates = [
            proactive.say("Your order was received.", key="order", expires_in=30),
            proactive.say("Your order is being prepared.", key="order", expires_in=30),
            proactive.say("Your order is out for delivery.", key="order", expires_in=30),
        ]
        outcomes = [await update for update in updates]
        runner.cancel()
    for outcome in outcomes:
        print(f"{outcome.status.value:8} {outcome.reason or 'said'}")
    return outcomes


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


if __name__ == "__main__":
    results = asyncio.run(main())
    said = [r for r in results if r.status is vp.GreetingStatus.SENT]
    raise SystemExit(0 if len(said) == 1 else 1)
