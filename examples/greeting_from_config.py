"""The greeting comes from a file, so its copy and its languages change without a deploy.

python examples/greeting_from_config.py            # the caller's locale: de-AT
python examples/greeting_from_config.py fr-CA
python examples/greeting_from_config.py en-US      # no entry: the default chain

Check the file first with ``voicelive-proactive check examples/greeting.toml``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp

CONFIG = Path(__file__).with_name("greeting.toml")


async def main(locale: str) -> vp.GreetingOutcome:
    # Load (and validate) at start-up: a bad file fails here, not in front of a caller.
    greeting = vp.load_greeting(CONFIG)
    async with voicelive_connection() as conn:
        proactive = vp.ProactiveSession(
            conn,
            greeting=greeting,  # a normal strategy: the session needs nothing special
            context={"name": "Lisa", "locale": locale},
            audio=example_audio(),
        )
        async with proactive:
            runner = asyncio.create_task(proactive.run())
            outcome = await proactive.wait(timeout=30)
            runner.cancel()
    assert outcome.greeting is not None
    print(f"said ({locale}): {outcome.greeting.text!r}")
    return outcome


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "de-AT"))
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
