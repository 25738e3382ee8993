"""Shared by the examples: connect to Azure when configured, else to the local emulator.

Set ``AZURE_VOICELIVE_ENDPOINT`` (and ``AZURE_VOICELIVE_API_KEY``, or sign in for
``DefaultAzureCredential``) to talk to the real service. Without them, the examples start the
bundled emulator, so they run anywhere with no Azure account.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp

SESSION = {
    "modalities": ["text", "audio"],
    "instructions": "You are a helpful, concise assistant.",
    "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
    "input_audio_format": "pcm16",
    "output_audio_format": "pcm16",
    "turn_detection": {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500},
}


@contextlib.asynccontextmanager
async def voicelive_connection() -> AsyncIterator[VoiceLiveConnection]:
    """Yield a connected, configured Voice Live connection."""
    endpoint = os.environ.get("AZURE_VOICELIVE_ENDPOINT")
    model = os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime")
    async with contextlib.AsyncExitStack() as stack:
        credential: Any
        if endpoint:
            vp.check_endpoint(endpoint)
            key = os.environ.get("AZURE_VOICELIVE_API_KEY")
            if key:
                credential = AzureKeyCredential(key)
            else:
                from azure.identity.aio import DefaultAzureCredential

                credential = await stack.enter_async_context(DefaultAzureCredential())
        else:
            from voicelive_proactive.emulator import Emulator

            emulator = await stack.enter_async_context(Emulator())
            endpoint, credential = emulator.endpoint, AzureKeyCredential(emulator.api_key)
            print(f"(no AZURE_VOICELIVE_ENDPOINT set: using the local emulator at {endpoint})")
        conn = await stack.enter_async_context(
            connect(endpoint=endpoint, credential=credential, model=model)
        )
        await conn.session.update(session=SESSION)
        yield conn


def example_audio() -> vp.AudioIO:
    """The sound device when one works; otherwise a WAV file next to the example."""
    try:
        return vp.SounddeviceAudioIO()
    except vp.AudioUnavailableError:
        path = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
        print(f"(no sound device: writing the agent's audio to {path})")
        return vp.WavAudioIO(path)
