"""Speech the caller cannot cut off: a notice that must be heard in full.

With ``interruptible=False`` the service is told not to cancel the response on user speech
(``interrupt_response: false``), and the session does not flush or truncate it. What the
caller says meanwhile is still heard and answered afterwards. The app's own setting comes back
once the notice has finished playing.

python examples/uninterruptible_notice.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp

NOTICE = "This call may be recorded for quality and training purposes."


async def main() -> bool:
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn,
            greeting=vp.StaticGreeting(NOTICE),
            interruptible=False,
            audio=example_audio(),
        ) as proactive,
    ):
        runner = asyncio.create_task(proactive.run())
        outcome = await proactive.wait(timeout=30)
        runner.cancel()
    print(f"said: {outcome.transcript!r}; interrupted: {outcome.interrupted}")
    return outcome.status is vp.GreetingStatus.SENT and not outcome.interrupted


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
