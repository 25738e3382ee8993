"""Coughs are not turns: a short noise over the greeting pauses it, and it goes on.

With `interruptions=vp.InterruptionPolicy(...)`, user speech over proactive speech pauses it
instead of cutting it off. When the service's VAD says the sound was shorter than
`min_duration_ms`, playout resumes where it paused and the greeting is still heard in full.

The caller is a WAV file played into the microphone in real time: a second of silence, a
150 ms cough, silence. The agent's audio plays in real time into another WAV file. This app
answers turns itself (`create_response: false`): a service that answers the cough as a turn
starts a reply, and then the greeting does stop there (see docs/how-to/coughs.md).

python examples/cough.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

SILENCE = b"\0\0" * 24_000  # one second of 24 kHz PCM16


def caller_wav(path: Path) -> Path:
    """Silence, a 150 ms burst of noise (a cough), then silence."""
    cough = np.random.default_rng(7).normal(0, 6_000, 24 * 150).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(24_000)
        wav.writeframes(SILENCE + cough + SILENCE * 3)
    return path


class Speaker(vp.WavAudioIO):
    """A WAV file that plays in real time and counts its pauses. WavAudioIO can pause
    (``vp.audio.Pausable``), as can the sound card and ``MemoryAudioIO``."""

    pauses = 0

    def pause_audio(self) -> int:
        self.pauses += 1
        return super().pause_audio()


async def main() -> vp.GreetingOutcome:
    heard = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
    with tempfile.TemporaryDirectory() as tmp:
        audio = Speaker(heard, mic=caller_wav(Path(tmp, "caller.wav")), realtime=True)
        async with voicelive_connection() as conn:
            turns = {"type": "server_vad", "silence_duration_ms": 500, "create_response": False}
            await conn.session.update(session={"turn_detection": turns})
            async with vp.ProactiveSession(
                conn,
                greeting=(
                    "Welcome to Contoso Outdoor. Calls may be recorded for quality and "
                    "training. Our summer sale has started: tents, sleeping bags and boots."
                ),
                audio=audio,
                interruptions=vp.InterruptionPolicy(min_duration_ms=300, resume_within_ms=2000),
            ) as proactive:
                settled = asyncio.Event()  # heard to the end, or cut off
                proactive.on(vp.SpeechFinished, lambda event: settled.set())
                proactive.on(vp.SpeechInterrupted, lambda event: settled.set())
                runner = asyncio.create_task(proactive.run())
                await asyncio.wait_for(settled.wait(), 60)
                outcome = proactive.outcome
                runner.cancel()
    print(f"the cough paused it {audio.pauses} time(s); it went on")
    print(f"interrupted: {outcome.interrupted}; delivered: {outcome.delivered}")
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
    raise SystemExit(0 if result.delivered and not result.interrupted else 1)
