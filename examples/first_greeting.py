"""Getting started: a first greeting in your own loop, ending by itself, audio to a WAV file.

python examples/first_greeting.py
"""

from __future__ import annotations

import asyncio
import os

from _connection import voicelive_connection

import voicelive_proactive as vp


async def main() -> vp.GreetingOutcome:
    wav = os.environ.get("VOICELIVE_PROACTIVE_WAV", "greeting.wav")
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting=vp.TemplateGreeting("Hi {name}, welcome back!"),
            context={"name": "Lisa"},
            audio=vp.WavAudioIO(wav),  # runs anywhere: no sound card needed
        ) as proactive,
    ):
        async for event in conn:  # your own loop
            await proactive.handle(event)  # the one added line
            if proactive.finished:  # the greeting is over: this program is done
                break
    print(f"greeting {proactive.outcome.status.value}: {proactive.outcome.transcript!r}")
    print(f"the agent's audio is in {wav}")
    return proactive.outcome


if __name__ == "__main__":
    outcome = asyncio.run(main())
    raise SystemExit(0 if outcome.status is vp.GreetingStatus.SENT else 1)
