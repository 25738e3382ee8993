"""A fallback chain: a personal greeting from a (slow, failing) CRM, then a template, then a
fixed line. The first alternative that works is spoken; the outcome says which.

python examples/fallback_chain.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp


async def from_crm(context: vp.GreetingContext) -> vp.Greeting:
    """Stands in for a CRM lookup that is down today."""
    await asyncio.sleep(0.05)
    raise ConnectionError("CRM unreachable")


async def main() -> vp.GreetingOutcome:
    greeting = (
        vp.CallableGreeting(from_crm)  # raises: the next alternative renders
        | vp.TemplateGreeting("Hi {name}, welcome back!")  # needs a name we may not have
        | vp.StaticGreeting("Hello! How can I help you today?")  # always works
    )
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting=greeting,
            context={"name": "Lisa"},
            render_timeout=2.0,
            audio=example_audio(),
        ) as proactive,
    ):
        async for event in conn:
            await proactive.handle(event)
            if proactive.finished:
                break
    outcome = proactive.outcome
    assert outcome.greeting is not None
    print(f"said: {outcome.greeting.text!r} by {outcome.strategy!r}")
    print(f"alternatives tried: {outcome.attempts}")
    return outcome


if __name__ == "__main__":
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
