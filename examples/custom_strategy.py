"""Write your own strategy: subclass GreetingStrategy (sync or async render) or pass a function.

python examples/custom_strategy.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import datetime

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.emulator import Emulator


class TimeOfDayGreeting(vp.GreetingStrategy):
    """Good morning / afternoon / evening, by the (injectable) clock in the context."""

    def render(self, context: vp.GreetingContext) -> vp.Greeting:
        hour = context.now.astimezone().hour
        part = "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
        return vp.Greeting.spoken(f"Good {part}, {context['name']}! How can I help?")

    def required_fields(self) -> frozenset[str]:
        return frozenset({"name"})  # checked when the session is built


async def vip_lookup(context: vp.GreetingContext) -> vp.Greeting:
    """A plain async function works too: here it stands in for a CRM call."""
    await asyncio.sleep(0.01)
    if context.get("tier") != "gold":
        raise LookupError("not a VIP")  # falls through to the next strategy
    return vp.Greeting.spoken(f"Welcome back, {context['name']}, our valued gold member!")


async def main() -> vp.GreetingOutcome:
    async with voicelive_connection() as conn:
        greeting = vp.CallableGreeting(vip_lookup) | TimeOfDayGreeting()
        async with vp.ProactiveSession(
            conn, greeting=greeting, context={"name": "Lisa"}, audio=example_audio()
        ) as proactive:
            runner = asyncio.create_task(proactive.run())
            outcome = await proactive.wait(timeout=30)
            runner.cancel()
    assert outcome.greeting is not None
    print(f"said: {outcome.greeting.text!r} ({outcome.attempts} strategies tried)")
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
    print(f"local time {datetime.now():%H:%M}")
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
