"""A compliance line with a receipt: "this call is recorded" is heard in full, and the
outcome proves it, word for word.

The speech cannot be cut off (`interruptible=False`) and the session asks for word
timestamps, so `outcome.heard_text` is exactly the words the caller heard and
`outcome.delivered` says whether that was all of them.

python examples/compliance_line.py
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
from voicelive_proactive.testing import MemoryAudioIO

NOTICE = "This call is recorded for quality and training purposes."


async def main() -> vp.GreetingOutcome:
    speaker = MemoryAudioIO()
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting="Hello!",
            audio=speaker,
            word_timestamps=True,
            greet_when="manual",
        ) as proactive,
    ):
        heard = asyncio.Event()  # SpeechFinished: it played to the end
        proactive.on(vp.SpeechFinished, lambda event: heard.set())
        runner = asyncio.create_task(proactive.run())
        notice = proactive.say(NOTICE, interruptible=False)
        await notice  # the service is done with it; now the caller hears it
        speaker.play_all()
        await asyncio.wait_for(heard.wait(), 10)
        runner.cancel()
    outcome = notice.outcome
    print(f"delivered: {outcome.delivered}; heard: {outcome.heard_text!r}")
    print(f"exact: {not outcome.heard_estimated}")
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
