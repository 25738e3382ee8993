"""Audio devices and headless servers: pick the sound card when there is one, else a file.

Lists the devices PortAudio sees (if PortAudio is installed), then greets through the chosen
backend. ``--device NAME`` picks an output device by index or part of its name;
``--headless`` skips the sound card, as a server would.

python examples/audio_devices.py [--device NAME] [--headless]
"""

from __future__ import annotations

import argparse
import asyncio
import os

from _connection import voicelive_connection

import voicelive_proactive as vp


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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="output device: an index or part of a name")
    parser.add_argument("--headless", action="store_true", help="never open a sound card")
    args = parser.parse_args()
    outcome = asyncio.run(main(args.device, args.headless))
    raise SystemExit(0 if outcome.status is vp.GreetingStatus.SENT else 1)
