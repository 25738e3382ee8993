"""A fallback chain: a personal greeting from a (slow, failing) CRM, then a template, then a
fixed line. The first alternative that works is spoken; the outcome says which.

python examples/fallback_chain.py
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


async def from_crm(context: vp.GreetingContext) -> vp.Greeting:
    """Stands in for a CRM lookup that is down today."""
    await asyncio.sleep(0.05)
    raise ConnectionError("CRM unreachable")


async def main() -> vp.GreetingOutcome:
    greeting = (
        vp.CallableGreeting(from_crm)  # raises: the next alternative renders
        | vp.TemplateGreeting("Hi {name}, welcome back!")  # needs a name we may not have
        | vp.StaticGreeting("Hello! How can I help you today?")  # always works
    )
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting=greeting,
            context={"name": "Lisa"},
            render_timeout=2.0,
            audio=example_audio(),
        ) as proactive,
    ):
        async for event in conn:
            await proactive.handle(event)
            if proactive.finished:
                break
    outcome = proactive.outcome
    assert outcome.greeting is not None
    print(f"said: {outcome.greeting.text!r} by {outcome.strategy!r}")
    print(f"alternatives tried: {outcome.attempts}")
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
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
