"""Our client: ``vp.ProactiveSession`` on the real SDK ``connect()``, the app's loop drop-in.

``python -m benchmarks.peers.ours --utterance FILE --prerecorded FILE`` answers the same
commands as :mod:`benchmarks.peers.livekit_side`, with the same sink, microphone and scripts
(:mod:`benchmarks.peers.scenarios`). The app does what our docs say: ``connect()``, a
``ProactiveSession(conn, greeting=..., audio=...)``, ``session.update`` with the same
settings LiveKit's plugin sends, and ``async for event in conn: await proactive.handle(event)``.
Every library option is at its default.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from benchmarks.peers import common
from benchmarks.peers.common import BYTES_PER_MS, MicSource, PacedSink, Track
from benchmarks.peers.scenarios import (
    barge_script,
    measure_load,
    race_record,
    run_race,
    settle_race,
)


class SinkAudio:
    """``vp.AudioIO`` (and ``PlayoutAware``) over the shared microphone and a :class:`PacedSink`."""

    def __init__(self, sink: PacedSink, source: MicSource, track: Track) -> None:
        self._sink = sink
        self._source = source
        self._track = track
        self._key: int | None = None

    def start_capture(self, on_frame: Callable[[bytes], None]) -> None:
        if self._key is None:
            self._key = self._source.subscribe(self._track, on_frame)

    def queue_audio(self, pcm: bytes) -> None:
        self._sink.queue(pcm)

    def skip_pending_audio(self) -> int:
        return self._sink.skip()

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        delay = self._sink.pending() / (BYTES_PER_MS * 1000)
        try:
            asyncio.get_running_loop().call_later(delay, callback)
        except RuntimeError:  # not on the loop's thread
            import threading

            threading.Timer(delay, callback).start()

    def close(self) -> None:
        if self._key is not None:
            self._source.unsubscribe(self._key)
            self._key = None


def greeting_for(mode: str, prerecorded: str) -> Any:
    if mode == "spoken":
        return vp.StaticGreeting(common.SPOKEN)
    if mode == "instructed":
        return vp.LLMGreeting(common.INSTRUCTED)
    if mode == "barge":
        return vp.LLMGreeting(common.BARGE_INSTRUCTION)
    prerecorded_greeting = getattr(vp, "PrerecordedGreeting", None)
    if prerecorded_greeting is None:
        return None
    return prerecorded_greeting(common.PRERECORDED, audio=prerecorded)


class Client:
    def __init__(self, utterance: bytes, prerecorded: str) -> None:
        self.tapper = common.ConnTap()
        self.mic = MicSource()
        self.quiet = common.room_noise(48_000)
        self.utterance = utterance
        self.prerecorded = prerecorded

    async def _run(
        self,
        endpoint: str,
        api_key: str,
        greeting: Any,
        audio: SinkAudio,
        until: Callable[[], bool],
        timeout: float,
    ) -> vp.ProactiveSession:
        async with connect(
            endpoint=endpoint, credential=AzureKeyCredential(api_key), model=common.MODEL
        ) as conn:
            proactive = vp.ProactiveSession(conn, greeting=greeting, audio=audio)
            await conn.session.update(session=common.session_config())
            loop = asyncio.create_task(self._loop(conn, proactive))
            try:
                deadline = time.monotonic() + timeout
                while not until() and time.monotonic() < deadline and not loop.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
            finally:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
                await proactive.aclose()
                audio.close()
        return proactive

    @staticmethod
    async def _loop(conn: VoiceLiveConnection, proactive: vp.ProactiveSession) -> None:
        async for event in conn:
            await proactive.handle(event)

    async def greeting(self, command: dict[str, Any]) -> dict[str, Any]:
        mode = command["mode"]
        out: dict[str, Any] = {"side": "ours", "mode": mode}
        greeting = greeting_for(mode, self.prerecorded)
        if greeting is None:
            out["unsupported"] = "vp.PrerecordedGreeting does not exist yet in this build"
            return out
        sink = PacedSink()
        audio = SinkAudio(sink, self.mic, Track(self.quiet))
        began = time.monotonic_ns()
        common.LABEL.set(sink)
        await self._run(
            command["endpoint"],
            command["api_key"],
            greeting,
            audio,
            lambda: sink.first_ns is not None,
            10,
        )
        tap = await self.tapper.of(sink)
        if sink.first_ns is not None:
            out["greeting_ms"] = (sink.first_ns - tap.opened_ns) / 1e6
            out["from_start_ms"] = (sink.first_ns - began) / 1e6
        out["creates"] = tap.sent_creates
        return out

    async def barge(self, command: dict[str, Any]) -> dict[str, Any]:
        sink = PacedSink()
        track = Track(self.quiet, self.utterance)
        onset: dict[str, int] = {}

        def on_onset(now: int) -> None:  # the microphone's thread
            onset["ns"], onset["played"] = now, sink.played(now)

        track.on_onset = on_onset
        audio = SinkAudio(sink, self.mic, track)
        result: dict[str, Any] = {}

        async def script() -> None:
            tap = await self.tapper.of(sink)
            result.update(await barge_script(sink, track, onset, tap, command, "ours"))

        common.LABEL.set(sink)
        task = asyncio.create_task(script())
        await self._run(
            command["endpoint"],
            command["api_key"],
            greeting_for("barge", self.prerecorded),
            audio,
            task.done,
            30,
        )
        await task
        return result

    async def race(self, command: dict[str, Any]) -> dict[str, Any]:
        async def one(endpoint: str, api_key: str) -> dict[str, Any]:
            sink = PacedSink()
            audio = SinkAudio(sink, self.mic, Track(self.quiet))
            done = asyncio.Event()
            box: list[common.Tap] = []
            common.LABEL.set(sink)

            async def settle() -> None:
                box.append(await self.tapper.of(sink))
                await settle_race(box[0], command["wait_s"])
                done.set()

            task = asyncio.create_task(settle())
            await self._run(
                endpoint, api_key, vp.LLMGreeting(common.INSTRUCTED), audio, done.is_set, 20
            )
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return race_record(box[0], sink)

        return await run_race(one, command)

    async def load(self, command: dict[str, Any]) -> dict[str, Any]:
        n = command["n"]
        common.raise_fd_limit(8 * n + 256)
        self.tapper.light = True
        sinks = [PacedSink() for _ in range(n)]
        audios = [
            SinkAudio(
                sinks[i],
                self.mic,
                Track(
                    self.quiet,
                    loop=common.conversation_loop(
                        self.quiet,
                        self.utterance,
                        command["cycle_s"],
                        command["first_turn_s"] + i * command["cycle_s"] / n,
                    ),
                ),
            )
            for i in range(n)
        ]
        gc.collect()
        rss0 = common.rss_kb()
        taps0 = len(self.tapper.taps)
        stop = asyncio.Event()
        gate = asyncio.Semaphore(10)
        endpoints = command["endpoints"]

        async def one(i: int) -> None:
            endpoint, api_key = endpoints[i % len(endpoints)]
            async with gate:
                manager = connect(
                    endpoint=endpoint, credential=AzureKeyCredential(api_key), model=common.MODEL
                )
                conn = await manager.__aenter__()
            try:
                proactive = vp.ProactiveSession(
                    conn, greeting=vp.LLMGreeting(common.INSTRUCTED), audio=audios[i]
                )
                await conn.session.update(session=common.session_config())
                loop = asyncio.create_task(self._loop(conn, proactive))
                await stop.wait()
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
                await proactive.aclose()
            finally:
                audios[i].close()
                await manager.__aexit__(None, None, None)

        tasks = [asyncio.create_task(one(i)) for i in range(n)]
        try:
            return await measure_load(
                sinks, self.mic, command, rss0, "ours", lambda: len(self.tapper.taps) - taps0
            )
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.tapper.light = False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--utterance", required=True)
    parser.add_argument("--prerecorded", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with open(args.utterance, "rb") as file:
        utterance = file.read()
    holder: dict[str, Client] = {}

    async def dispatch(command: dict[str, Any]) -> dict[str, Any]:
        if "client" not in holder:
            holder["client"] = Client(utterance, args.prerecorded)
        result: dict[str, Any] = await getattr(holder["client"], command["cmd"])(command)
        return result

    common.serve(
        dict.fromkeys(("greeting", "barge", "race", "load"), dispatch),
        {"versions": common.versions("voicelive-proactive", "azure-ai-voicelive", "aiohttp")},
    )


if __name__ == "__main__":
    main()
