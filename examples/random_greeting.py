"""One line picked at random for each conversation; ``seed`` makes the pick repeatable.

python examples/random_greeting.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp

LINES = [
    "Hello! How can I help you today?",
    "Hi there! What can I do for you?",
    "Welcome! What brings you here today?",
]


async def greet_once(strategy: vp.GreetingStrategy) -> vp.GreetingOutcome:
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(conn, greeting=strategy, audio=example_audio()) as proactive,
    ):
        async for event in conn:
            await proactive.handle(event)
            if proactive.finished:
                break
    return proactive.outcome


async def main() -> bool:
    strategy = vp.RandomGreeting(LINES, seed=7)  # one strategy serves every conversation
    outcomes = [await greet_once(strategy) for _ in range(2)]
    for outcome in outcomes:
        assert outcome.greeting is not None
        print(f"said: {outcome.greeting.text!r} ({outcome.status.value})")
    return all(o.status is vp.GreetingStatus.SENT for o in outcomes)


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
