"""Write your own strategy: subclass GreetingStrategy (sync or async render) or pass a function.

python examples/custom_strategy.py
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp


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


if __name__ == "__main__":
    print(f"local time {datetime.now():%H:%M}")
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
