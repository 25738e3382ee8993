"""The model writes the greeting itself from an instruction (system item + response.create).

python examples/llm_greeting.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp


async def main() -> vp.GreetingOutcome:
    async with voicelive_connection() as conn:
        transcript: list[str] = []

        def show(event: object) -> None:
            if getattr(event, "type", None) == "response.audio_transcript.delta":
                transcript.append(getattr(event, "delta", ""))

        async with vp.ProactiveSession(
            conn,
            greeting=vp.LLMGreeting(
                "Greet the user, whose name is {name}, warmly and briefly explain how you can help."
            ),
            context={"name": "Lisa"},
            audio=example_audio(),
        ) as proactive:
            runner = asyncio.create_task(proactive.run(on_event=show))
            outcome = await proactive.wait(timeout=30)
            runner.cancel()
    print(f"agent: {''.join(transcript)}")
    print(f"greeting {outcome.status.value} in {proactive.metrics.ready_to_done_ms:.0f} ms")
    return outcome


if __name__ == "__main__":
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
