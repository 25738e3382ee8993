"""React to proactive speech as it happens, instead of polling ``outcome``.

Subscribe with ``proactive.on(EventClass, callback)`` (sync or async callbacks, also usable
as a decorator); ``vp.ProactiveEvent`` receives every event.

python examples/speech_events.py
"""

from __future__ import annotations

import asyncio

from _connection import example_audio, voicelive_connection

import voicelive_proactive as vp


async def main() -> bool:
    seen: list[str] = []
    async with (
        voicelive_connection() as conn,
        vp.ProactiveSession(
            conn, greeting=vp.StaticGreeting("Hi, welcome back!"), audio=example_audio()
        ) as proactive,
    ):

        @proactive.on(vp.ProactiveEvent)
        def log_every_event(event: vp.ProactiveEvent) -> None:
            seen.append(type(event).__name__)
            print(f"event: {type(event).__name__}")

        async def on_finished(event: vp.SpeechFinished) -> None:
            print(f"{event.speech.kind.value} heard in full")

        proactive.on(vp.SpeechFinished, on_finished)
        runner = asyncio.create_task(proactive.run())
        await proactive.wait(timeout=30)
        await proactive.say("By the way, your order shipped today.")
        for _ in range(300):  # until the second speech has finished playing
            if seen.count("SpeechFinished") == 2:
                break
            await asyncio.sleep(0.1)
        runner.cancel()
    return seen.count("SpeechFinished") == 2


if __name__ == "__main__":
    raise SystemExit(0 if asyncio.run(main()) else 1)
