"""Speak up when the caller goes quiet, then give up politely: ``IdleNudge``.

The timer starts when the agent's audio has finished playing, not when the service is done
sending it. Here a nudge comes after 1 s of silence, twice, then ``on_exhausted`` hangs up.

python examples/idle_nudge.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp


async def main() -> bool:
    hung_up = asyncio.Event()

    async def hang_up() -> None:
        print("nobody there: hanging up")
        hung_up.set()

    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting=vp.StaticGreeting("Hello! This is your pharmacy calling."),
            nudge=vp.IdleNudge(
                after=1.0,
                max_nudges=2,
                strategy=vp.StaticGreeting("Are you still there?"),
                on_exhausted=hang_up,
            ),
            audio=example_audio(),
        ) as proactive,
    ):

        @proactive.on(vp.NudgeFired)
        def show(event: vp.NudgeFired) -> None:
            print(f"nudge {event.count}")

        runner = asyncio.create_task(proactive.run())
        await asyncio.wait_for(hung_up.wait(), timeout=60)
        runner.cancel()
    return True


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
