"""An instant greeting: the service's own voice, recorded once, plays the moment the call
connects. Its words go into the conversation, so the model knows what it said.

First the greeting is recorded (what `voicelive-proactive record` does), then a call uses it
and we measure how long the caller waits for its first sample.

python examples/instant_greeting.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator
from voicelive_proactive.recording import record_speech
from voicelive_proactive.testing import MemoryAudioIO

TEXT = "Hi, this is Contoso. How can I help you today?"


class FirstSample(MemoryAudioIO):
    """A speaker that notes when the first sample reached it."""

    first: float | None = None

    def queue_audio(self, pcm: bytes, *, generation: int | None = None) -> None:
        if self.first is None:
            self.first = time.perf_counter()
        super().queue_audio(pcm, generation=generation)


async def main() -> vp.GreetingOutcome:
    with tempfile.TemporaryDirectory() as tmp:
        async with voicelive_connection() as conn:  # once, ahead of time
            (await record_speech(conn, TEXT)).save(Path(tmp, "hello.wav"))
        greeting = vp.PrerecordedGreeting(TEXT, audio=Path(tmp, "hello.wav"))
        speaker = FirstSample()
        async with voicelive_connection() as conn:
            opened = time.perf_counter()
            async with vp.ProactiveSession(conn, greeting=greeting, audio=speaker) as proactive:
                assert speaker.first is not None
                print(f"first sample {1000 * (speaker.first - opened):.1f} ms after connecting")
                runner = asyncio.create_task(proactive.run())
                speaker.play_all()  # the caller listens to all of it
                await asyncio.sleep(0.1)
                outcome = proactive.outcome
                runner.cancel()
    print(f"greeting {outcome.status.value} ({outcome.proof}); heard: {outcome.heard_text!r}")
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
    raise SystemExit(0 if result.delivered else 1)
