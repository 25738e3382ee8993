"""React to proactive speech as it happens, instead of polling ``outcome``.

Subscribe with ``proactive.on(EventClass, callback)`` (sync or async callbacks, also usable
as a decorator); ``vp.ProactiveEvent`` receives every event.

python examples/speech_events.py
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
    seen: list[str] = []
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn, greeting=vp.StaticGreeting("Hi, welcome back!"), audio=example_audio()
        ) as proactive,
    ):

        @proactive.on(vp.ProactiveEvent)
        def log_every_event(event: vp.ProactiveEvent) -> None:
            seen.append(type(event).__name__)
            print(f"event: {type(event).__name__}")

        async def on_finished(event: vp.SpeechFinished) -> None:
            print(f"{event.speech.kind.value} heard in full")

        proactive.on(vp.SpeechFinished, on_finished)
        runner = asyncio.create_task(proactive.run())
        await proactive.wait(timeout=30)
        proactive.say("By the way, your order shipped today.")
        for _ in range(300):  # until the second speech has finished playing
            if seen.count("SpeechFinished") == 2:
                break
            await asyncio.sleep(0.1)
        runner.cancel()
    return seen.count("SpeechFinished") == 2


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
