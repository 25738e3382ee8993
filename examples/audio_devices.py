"""Audio devices and headless servers: pick the sound card when there is one, else a file.

Lists the devices PortAudio sees (if PortAudio is installed), then greets through the chosen
backend. ``--device NAME`` picks an output device by index or part of its name;
``--headless`` skips the sound card, as a server would.

python examples/audio_devices.py [--device NAME] [--headless]
"""

from __future__ import annotations

import argparse
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


def list_devices() -> None:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library itself is missing
        print(f"PortAudio is not available ({exc}); apt-get install libportaudio2")
        return
    devices = sounddevice.query_devices()
    print(f"PortAudio sees {len(devices)} device(s)")
    for index, device in enumerate(devices):
        print(f"  {index}: {device['name']} (out {device['max_output_channels']})")


def choose_audio(device: str | None, headless: bool) -> vp.AudioIO:
    """The sound card if it works, else a WAV file: never a crash at start-up."""
    if not headless:
        try:
            chosen: int | str | None = int(device) if device and device.isdigit() else device
            return vp.SounddeviceAudioIO(chosen, capture=False)
        except vp.AudioUnavailableError as exc:
            print(f"no usable sound device: {str(exc).splitlines()[0]}")
    path = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
    print(f"writing the agent's audio to {path}")
    return vp.WavAudioIO(path)


async def main(device: str | None, headless: bool) -> vp.GreetingOutcome:
    list_devices()
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn, greeting="Hello! Can you hear me?", audio=choose_audio(device, headless)
        ) as proactive,
    ):
        async for event in conn:
            await proactive.handle(event)
            if proactive.finished:
                break
    print(f"greeting {proactive.outcome.status.value} through {type(proactive.audio).__name__}")
    return proactive.outcome


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="output device: an index or part of a name")
    parser.add_argument("--headless", action="store_true", help="never open a sound card")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.device, args.headless))
    raise SystemExit(0 if outcome.status is vp.GreetingStatus.SENT else 1)
