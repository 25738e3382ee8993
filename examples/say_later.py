"""Speak again later in the conversation: ``say()`` queues proactive speech at any time.

python examples/say_later.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp


async def main() -> bool:
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn, greeting=vp.StaticGreeting("Welcome to Chez Lisa!"), audio=example_audio()
        ) as proactive,
    ):
        runner = asyncio.create_task(proactive.run())
        await proactive.wait(timeout=30)
        # Later, when the app learns something worth saying. Both wait their turn,
        # in order, and never talk over another response.
        ready = await proactive.say("Your table is ready.")
        dessert = await proactive.say(
            vp.LLMGreeting("Tell the guest that dessert is on the house tonight."),
            interruptible=False,
        )
        outcomes = [await ready.wait(timeout=30), await dessert.wait(timeout=30)]
        runner.cancel()
    for outcome in outcomes:
        print(f"said: {outcome.transcript!r} ({outcome.status.value})")
    return all(o.status is vp.GreetingStatus.SENT for o in outcomes)


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
