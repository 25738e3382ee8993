"""Getting started: a first greeting in your own loop, ending by itself, audio to a WAV file.

python examples/first_greeting.py
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


async def main() -> vp.GreetingOutcome:
    wav = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting=vp.TemplateGreeting("Hi {name}, welcome back!"),
            context={"name": "Lisa"},
            audio=vp.WavAudioIO(wav),  # runs anywhere: no sound card needed
        ) as proactive,
    ):
        async for event in conn:  # your own loop
            await proactive.handle(event)  # the one added line
            if proactive.finished:  # the greeting is over: this program is done
                break
    print(f"greeting {proactive.outcome.status.value}: {proactive.outcome.transcript!r}")
    print(f"the agent's audio is in {wav}")
    return proactive.outcome


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
    outcome = asyncio.run(main())
    raise SystemExit(0 if outcome.status is vp.GreetingStatus.SENT else 1)
