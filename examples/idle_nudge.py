"""Speak up when the caller goes quiet, then give up politely: ``IdleNudge``.

The timer starts when the agent's audio has finished playing, not when the service is done
sending it. Here a nudge comes after 1 s of silence, twice, then ``on_exhausted`` hangs up.

python examples/idle_nudge.py
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


async def main() -> bool:
    hung_up = asyncio.Event()

    async def hang_up() -> None:
        print("nobody there: hanging up")
        hung_up.set()

    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting=vp.StaticGreeting("Hello! This is your pharmacy calling."),
            nudge=vp.IdleNudge(
                after=1.0,
                max_nudges=2,
                strategy=vp.StaticGreeting("Are you still there?"),
                on_exhausted=hang_up,
            ),
            audio=example_audio(),
        ) as proactive,
    ):

        @proactive.on(vp.NudgeFired)
        def show(event: vp.NudgeFired) -> None:
            print(f"nudge {event.count}")

        runner = asyncio.create_task(proactive.run())
        await asyncio.wait_for(hung_up.wait(), timeout=60)
        runner.cancel()
    return True


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
    raise SystemExit(0 if asyncio.run(main()) else 1)
