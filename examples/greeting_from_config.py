"""The greeting comes from a file, so its copy and its languages change without a deploy.

python examples/greeting_from_config.py            # the caller's locale: de-AT
python examples/greeting_from_config.py fr-CA
python examples/greeting_from_config.py en-US      # no entry: the default chain

Check the file first with ``voicelive-proactive check examples/greeting.toml``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator

CONFIG = Path(__file__).with_name("greeting.toml")


async def main(locale: str) -> vp.GreetingOutcome:
    # Load (and validate) at start-up: a bad file fails here, not in front of a caller.
    greeting = vp.load_greeting(CONFIG)
    async with voicelive_connection() as conn:
        proactive = vp.ProactiveSession(
            conn,
            greeting=greeting,  # a normal strategy: the session needs nothing special
            context={"name": "Lisa", "locale": locale},
            audio=example_audio(),
        )
        async with proactive:
            runner = asyncio.create_task(proactive.run())
            outcome = await proactive.wait(timeout=30)
            runner.cancel()
    assert outcome.greeting is not None
    print(f"said ({locale}): {outcome.greeting.text!r}")
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


def example_audio() -> vp.AudioIO:
    """The sound card when there is one; otherwise a WAV file (a server has no sound card)."""
    try:
        return vp.SounddeviceAudioIO()
    except vp.AudioUnavailableError:
        path = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
        print(f"(no sound device: writing the agent's audio to {path})")
        return vp.WavAudioIO(path)


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "de-AT"))
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
