"""The agent speaks a fixed line first, word for word (``pre_generated_assistant_message``).

python examples/pregenerated_greeting.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection
from azure.ai.voicelive.models import ServerEventResponseAudioTranscriptDone

import voicelive_proactive as vp


async def main() -> vp.GreetingOutcome:
    async with voicelive_connection() as conn:
        proactive = vp.ProactiveSession(
            conn,
            greeting=vp.TemplateGreeting("Hi {name}, welcome back! How can I help you today?")
            | vp.StaticGreeting("Hi, welcome! How can I help you today?"),
            context={"name": "Lisa"},
            audio=example_audio(),
        )
        async with proactive:
            # The app's own loop stays as it was; one line hands each event to the library.
            async for event in conn:
                await proactive.handle(event)
                if isinstance(event, ServerEventResponseAudioTranscriptDone):
                    print(f"agent: {event.transcript}")
                if proactive.finished:  # greeted (or skipped/failed): this demo is done
                    break
    print(f"greeting {proactive.outcome.status.value}: {proactive.metrics.as_dict()}")
    return proactive.outcome


if __name__ == "__main__":
    outcome = asyncio.run(main())
    raise SystemExit(0 if outcome.status is vp.GreetingStatus.SENT else 1)
