"""LiveKit Agents' client, used as its users use it: ``AgentSession`` + the Azure realtime plugin.

Runs in ``.venv-livekit`` (``benchmarks/peers/requirements-livekit.txt``): ``python -m
benchmarks.peers.livekit_side --utterance FILE --prerecorded FILE`` answers the commands of
:mod:`benchmarks.peers.section` (see :func:`benchmarks.peers.common.serve`).

No LiveKit server and no room: ``session.input.audio`` and ``session.output.audio`` are set to
our own ``AudioInput`` and ``AudioOutput`` (LiveKit's base classes in
``livekit.agents.voice.io``), over the shared microphone and :class:`PacedSink`. The model is
``livekit.plugins.azure.realtime.RealtimeModel(endpoint=<emulator>, api_key=<its key>)``,
every other option at LiveKit's defaults except ``AgentSession(aec_warmup_duration=None)``:
the sink has no echo path, and the default 3 s warm-up would ignore a barge-in during the
first 3 s of the agent's speech. The sink supports pause (as LiveKit's console output does),
so LiveKit's false-interruption handling is available to it.

This module imports LiveKit: it never runs in the project's own venv.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import time
import wave
from collections.abc import AsyncIterator
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, utils
from livekit.agents.voice import io
from livekit.plugins.azure.realtime import RealtimeModel

from benchmarks.peers import common
from benchmarks.peers.common import (
    BYTES_PER_MS,
    FRAME_MS,
    SAMPLE_RATE,
    MicSource,
    PacedSink,
    Track,
)
from benchmarks.peers.scenarios import (
    barge_script,
    measure_load,
    race_record,
    run_race,
    settle_race,
)

log = logging.getLogger("peers.livekit")


class SinkOutput(io.AudioOutput):
    """LiveKit's audio output contract over a :class:`PacedSink` (modelled on LiveKit's own
    console output: segments end at ``flush()``, ``clear_buffer()`` interrupts them, and
    ``playback_finished`` reports how much of the segment was really played)."""

    def __init__(self, sink: PacedSink) -> None:
        super().__init__(
            label="peers-sink",
            capabilities=io.AudioOutputCapabilities(pause=True),
            sample_rate=SAMPLE_RATE,
        )
        self._sink = sink
        self._pushed = 0  # bytes in the current segment
        self._base = 0  # where the segment starts on the sink's timeline
        self._segment = 0
        self._interrupted = asyncio.Event()
        self._flush_task: asyncio.Task[None] | None = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._flush_task is not None and not self._flush_task.done():
            await self._flush_task
        sink = self._sink
        if not self._pushed:
            self._base = sink.queued - sink.skipped
            segment = self._segment
            delay = sink.pending() / (BYTES_PER_MS * 1000)
            asyncio.get_running_loop().call_later(delay, self._started, segment)
        pcm = frame.data.cast("B")
        self._pushed += len(pcm)
        sink.queue(pcm)

    def _started(self, segment: int) -> None:
        if segment == self._segment and self._pushed:
            self.on_playback_started(created_at=time.time())

    def _segment_played(self) -> int:
        return max(0, min(self._pushed, self._sink.played() - self._base))

    def flush(self) -> None:
        super().flush()
        if self._pushed:
            self._flush_task = asyncio.create_task(self._wait_for_playout())

    def clear_buffer(self) -> None:
        self._sink.skip()
        if self._pushed:
            self._interrupted.set()

    def pause(self) -> None:
        super().pause()
        self._sink.pause()

    def resume(self) -> None:
        super().resume()
        self._sink.resume()

    async def _wait_for_playout(self) -> None:
        interrupted = False
        while True:
            remaining = self._pushed - self._segment_played()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(
                    self._interrupted.wait(), max(remaining / (BYTES_PER_MS * 1000), 0.001)
                )
            except asyncio.TimeoutError:
                continue
            interrupted = True
            break
        played = self._segment_played()
        self._pushed = 0
        self._segment += 1
        self._interrupted.clear()
        self.on_playback_finished(
            playback_position=played / (BYTES_PER_MS * 1000), interrupted=interrupted
        )


class MicInput(io.AudioInput):
    """Frames from the shared microphone thread, handed to the loop as LiveKit's console does."""

    def __init__(self, source: MicSource, track: Track) -> None:
        super().__init__(label="peers-mic")
        self._loop = asyncio.get_running_loop()
        self._channel = utils.aio.Chan[bytes]()
        self._source = source
        self._key = source.subscribe(track, self._on_frame)

    def _on_frame(self, pcm: bytes) -> None:  # the microphone's thread
        with contextlib.suppress(RuntimeError):  # the loop has closed
            self._loop.call_soon_threadsafe(self._push, pcm)

    def _push(self, pcm: bytes) -> None:
        with contextlib.suppress(utils.aio.channel.ChanClosed):
            self._channel.send_nowait(pcm)

    async def __anext__(self) -> rtc.AudioFrame:
        pcm = await self._channel.__anext__()
        return rtc.AudioFrame(
            data=pcm,
            sample_rate=SAMPLE_RATE,
            num_channels=1,
            samples_per_channel=len(pcm) // 2,
        )

    def close(self) -> None:
        self._source.unsubscribe(self._key)
        self._channel.close()


class Client:
    def __init__(self, utterance: bytes, prerecorded: str) -> None:
        self.tapper = common.ConnTap()
        self.mic = MicSource()
        self.quiet = common.room_noise(48_000)
        self.utterance = utterance
        self.prerecorded = prerecorded

    async def _session(
        self, endpoint: str, api_key: str, track: Track, sink: PacedSink
    ) -> tuple[AgentSession, MicInput]:
        model = RealtimeModel(endpoint=endpoint, api_key=api_key, model=common.MODEL)
        session: AgentSession = AgentSession(llm=model, aec_warmup_duration=None)
        mic = MicInput(self.mic, track)
        session.input.audio = mic
        session.output.audio = SinkOutput(sink)
        await session.start(agent=Agent(instructions=common.SESSION_INSTRUCTIONS))
        return session, mic

    async def _close(self, session: AgentSession, mic: MicInput) -> None:
        mic.close()
        await session.aclose()

    def _frames(self) -> AsyncIterator[rtc.AudioFrame]:
        with wave.open(self.prerecorded, "rb") as wav:
            pcm = wav.readframes(wav.getnframes())
            rate = wav.getframerate()

        async def frames() -> AsyncIterator[rtc.AudioFrame]:
            size = rate * 2 * FRAME_MS // 1000
            for start in range(0, len(pcm), size):
                chunk = pcm[start : start + size]
                yield rtc.AudioFrame(chunk, rate, 1, len(chunk) // 2)

        return frames()

    async def greeting(self, command: dict[str, Any]) -> dict[str, Any]:
        mode = command["mode"]
        sink = PacedSink()
        track = Track(self.quiet)
        began = time.monotonic_ns()
        common.LABEL.set(sink)
        session, mic = await self._session(command["endpoint"], command["api_key"], track, sink)
        out: dict[str, Any] = {"side": "livekit", "mode": mode}
        try:
            if mode == "instructed":
                session.generate_reply(instructions=common.INSTRUCTED)
            elif mode == "prerecorded":
                session.say(common.PRERECORDED, audio=self._frames())
            else:
                try:
                    session.say(common.SPOKEN)
                except RuntimeError as exc:  # no TTS, and the plugin cannot say() text
                    out["unsupported"] = str(exc)
                    return out
            deadline = time.monotonic() + 10
            while sink.first_ns is None and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.002)
            # A prerecorded greeting can play before the connection opens: keep the session
            # until it has, to know when it did.
            tap = await self.tapper.of(sink)
        finally:
            await self._close(session, mic)
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
        common.LABEL.set(sink)
        session, mic = await self._session(command["endpoint"], command["api_key"], track, sink)
        try:
            session.generate_reply(instructions=common.BARGE_INSTRUCTION)
            tap = await self.tapper.of(sink)
            return await barge_script(sink, track, onset, tap, command, "livekit")
        finally:
            await self._close(session, mic)

    async def race(self, command: dict[str, Any]) -> dict[str, Any]:
        async def one(endpoint: str, api_key: str) -> dict[str, Any]:
            sink = PacedSink()
            common.LABEL.set(sink)
            session, mic = await self._session(endpoint, api_key, Track(self.quiet), sink)
            try:
                session.generate_reply(instructions=common.INSTRUCTED)
                tap = await self.tapper.of(sink)
                await settle_race(tap, command["wait_s"])
            finally:
                await self._close(session, mic)
            return race_record(tap, sink)

        return await run_race(one, command)

    async def load(self, command: dict[str, Any]) -> dict[str, Any]:
        n = command["n"]
        common.raise_fd_limit(8 * n + 256)
        self.tapper.light = True
        sinks = [PacedSink() for _ in range(n)]
        tracks = [
            Track(
                self.quiet,
                loop=common.conversation_loop(
                    self.quiet,
                    self.utterance,
                    command["cycle_s"],
                    command["first_turn_s"] + i * command["cycle_s"] / n,
                ),
            )
            for i in range(n)
        ]
        gc.collect()
        rss0 = common.rss_kb()
        taps0 = len(self.tapper.taps)
        sessions: list[tuple[AgentSession, MicInput]] = []
        gate = asyncio.Semaphore(10)
        endpoints = command["endpoints"]

        async def start(i: int) -> None:
            endpoint, api_key = endpoints[i % len(endpoints)]
            async with gate:
                session, mic = await self._session(endpoint, api_key, tracks[i], sinks[i])
            sessions.append((session, mic))
            session.generate_reply(instructions=common.INSTRUCTED)

        try:
            await asyncio.gather(*(start(i) for i in range(n)))
            return await measure_load(
                sinks, self.mic, command, rss0, "livekit", lambda: len(self.tapper.taps) - taps0
            )
        finally:
            await asyncio.gather(*(self._close(s, m) for s, m in sessions))
            self.tapper.light = False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--utterance", required=True)
    parser.add_argument("--prerecorded", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with open(args.utterance, "rb") as file:
        utterance = file.read()

    async def make() -> Client:
        return Client(utterance, args.prerecorded)

    holder: dict[str, Client] = {}

    async def dispatch(command: dict[str, Any]) -> dict[str, Any]:
        if "client" not in holder:
            holder["client"] = await make()
        handler = getattr(holder["client"], command["cmd"])
        result: dict[str, Any] = await handler(command)
        return result

    common.serve(
        dict.fromkeys(("greeting", "barge", "race", "load"), dispatch),
        {
            "versions": common.versions(
                "livekit-agents",
                "livekit-plugins-azure",
                "livekit",
                "azure-ai-voicelive",
                "aiohttp",
            )
        },
    )


if __name__ == "__main__":
    main()
