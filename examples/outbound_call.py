"""Outbound calls: the callee says "Hello?" first; the agent greets right after, and the
service never answers the hello itself.

The callee is a WAV file played into the microphone in real time: a short silence, "Hello?",
then silence. The agent's audio plays into another WAV file.

python examples/outbound_call.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import wave
from collections.abc import AsyncIterator
from pathlib import Path

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator, synthesize

SILENCE = b"\0\0" * 12_000  # half a second of 24 kHz PCM16


def callee_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24_000)
        wav.writeframes(SILENCE + synthesize("Hello?") + SILENCE * 4)
    return path


async def main() -> vp.GreetingOutcome:
    heard = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
    with tempfile.TemporaryDirectory() as tmp:
        audio = vp.WavAudioIO(heard, mic=callee_wav(Path(tmp, "callee.wav")), realtime=True)
        async with (
            voicelive_connection() as conn,
            vp.ProactiveSession(
                conn,
                greeting="Hi, this is Ava from Contoso, calling about your delivery.",
                audio=audio,
                greet_when=vp.AfterHello(max_wait=4.0),
            ) as proactive,
        ):
            runner = asyncio.create_task(proactive.run())
            outcome = await proactive.wait(timeout=30)
            runner.cancel()
    print(f"greeted after the callee's hello: {outcome.status.value}")
    return outcome


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
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
