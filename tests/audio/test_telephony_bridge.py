"""examples/telephony_bridge.py: the ACS-style media bridge, against a real local WebSocket.

The test plays the phone (Azure Communication Services' side): it connects to an aiohttp
server whose handler runs ``CallAudioBridge.pump()``, and checks the JSON frames on the wire.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import json
import random
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web

from tests.conftest import EXAMPLES, copy_example, run_python
from voicelive_proactive.audio import AudioFormat, FormatAware, PlayoutAware

WIDE = AudioFormat.from_input("pcm16", 16_000)


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "telephony_bridge", EXAMPLES / "telephony_bridge.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = load_example()


def noise(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


Phone = aiohttp.ClientWebSocketResponse


@contextlib.asynccontextmanager
async def call() -> AsyncIterator[tuple[Any, Phone]]:
    """A media server running the bridge, and the phone connected to it."""
    bridges: asyncio.Queue[Any] = asyncio.Queue()

    async def media(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        bridge = example.CallAudioBridge(ws)
        await bridges.put(bridge)
        await bridge.pump()
        return ws

    app = web.Application()
    app.router.add_get("/media", media)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://{host}:{port}/media") as phone,
        ):
            bridge = await asyncio.wait_for(bridges.get(), 10)
            yield bridge, phone
    finally:
        await runner.cleanup()


async def next_frame(phone: Phone) -> dict[str, Any]:
    message = await asyncio.wait_for(phone.receive(), 10)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    frame: dict[str, Any] = json.loads(message.data)
    return frame


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def send_metadata(phone: Phone, rate: int) -> None:
    meta = {"subscriptionId": "s", "encoding": "PCM", "sampleRate": rate, "channels": 1}
    await phone.send_str(json.dumps({"kind": "AudioMetadata", "audioMetadata": meta}))


async def send_audio(phone: Phone, data: bytes, *, silent: bool = False) -> None:
    frame = {
        "timestamp": "2024-11-15T19:16:12.925Z",
        "participantRawID": "4:+15550100",
        "data": b64(data),
        "silent": silent,
    }
    await phone.send_str(json.dumps({"kind": "AudioData", "audioData": frame}))


async def test_the_agent_s_audio_reaches_the_call_byte_for_byte() -> None:
    async with call() as (bridge, phone):
        assert isinstance(bridge, FormatAware) and isinstance(bridge, PlayoutAware)
        chunks = [noise(2400, seed) for seed in range(5)]
        for chunk in chunks:
            bridge.queue_audio(chunk)
        frames = [await next_frame(phone) for _ in chunks]
        assert frames == [
            {"kind": "AudioData", "audioData": {"data": b64(chunk)}, "stopAudio": None}
            for chunk in chunks
        ]
        assert not bridge.transcoding and bridge.queued_bytes == 12_000
        await until(lambda: bridge.frames_sent == 5)


async def test_barge_in_sends_stop_audio_and_counts_what_the_call_had_not_played() -> None:
    async with call() as (bridge, phone):
        for seed in range(40):  # 2 s, much faster than the call plays it
            bridge.queue_audio(noise(2400, seed))
        played = threading.Event()
        bridge.notify_when_played(played.set)
        for _ in range(40):
            assert (await next_frame(phone))["kind"] == "AudioData"

        dropped = bridge.skip_pending_audio()
        assert 48_000 < dropped <= 96_000, "most of the 2 s had not been played yet"
        assert bridge.skipped_bytes == dropped and bridge.pending_bytes == 0
        assert bridge.played_bytes == 96_000 - dropped
        assert await next_frame(phone) == {"kind": "StopAudio", "audioData": None, "stopAudio": {}}
        await until(played.is_set)  # dropped audio counts as played
        assert bridge.stops_sent == 1

        after = noise(2400, 99)
        bridge.queue_audio(after)  # the next response plays normally
        assert (await next_frame(phone))["audioData"]["data"] == b64(after)


async def test_the_callers_audio_reaches_on_frame_and_bad_frames_do_not_end_the_call() -> None:
    async with call() as (bridge, phone):
        got: list[bytes] = []
        bridge.start_capture(got.append)
        await send_metadata(phone, 24_000)
        talk = [noise(960, seed) for seed in range(3)]
        await send_audio(phone, talk[0])
        await phone.send_str("this is not JSON")
        await phone.send_str(json.dumps({"kind": "AudioData", "audioData": {"data": "@@@"}}))
        await phone.send_str(json.dumps({"kind": "DtmfData", "dtmfData": {"data": "5"}}))
        await send_audio(phone, talk[1])
        await send_audio(phone, bytes(960), silent=True)  # silence is audio for the VAD too
        await send_audio(phone, talk[2])
        await until(lambda: len(got) == 4)
        assert got == [talk[0], talk[1], bytes(960), talk[2]]
        assert bridge.bad_frames == 2 and bridge.frames_received == 4


async def test_a_16khz_call_is_transcoded_both_ways_and_matching_formats_pass_through() -> None:
    async with call() as (bridge, phone):
        got: list[bytes] = []
        bridge.start_capture(got.append)
        await send_metadata(phone, 16_000)
        await until(lambda: bridge.line_format == WIDE)
        assert bridge.transcoding, "the session still speaks 24 kHz"

        t = np.arange(24_000) / 24_000
        tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes()
        for i in range(0, len(tone), 4800):
            bridge.queue_audio(tone[i : i + 4800])
        bridge.notify_when_played(lambda: None)  # the end of the response: flush
        heard = b""
        while len(heard) < 32_000:
            heard += base64.b64decode((await next_frame(phone))["audioData"]["data"])
        assert len(heard) == 32_000, "one second of 16 kHz PCM16"
        pcm = np.frombuffer(heard, "<i2").astype(np.float64)
        assert abs(np.argmax(np.abs(np.fft.rfft(pcm))) * 16_000 / pcm.size - 440) < 2

        for seed in range(10):
            await send_audio(phone, noise(640, seed))  # 20 ms at 16 kHz each
        await until(lambda: sum(map(len, got)) >= 9 * 960)  # resampled to 24 kHz

        bridge.configure_formats(output=WIDE, input=WIDE)
        assert not bridge.transcoding
        chunk = noise(1600, 7)
        bridge.queue_audio(chunk)
        assert (await next_frame(phone))["audioData"]["data"] == b64(chunk)


async def test_playout_is_estimated_from_the_byte_rate() -> None:
    async with call() as (bridge, _phone):
        start = time.monotonic()
        bridge.queue_audio(bytes(14_400))  # 300 ms
        done = threading.Event()
        at: list[float] = []
        bridge.notify_when_played(lambda: (at.append(time.monotonic()), done.set()))
        await until(done.is_set)
        assert at[0] - start >= 0.3, "not before the call can have played it"
        assert bridge.pending_bytes == 0 and bridge.played_bytes == 14_400
        now: list[bool] = []
        bridge.notify_when_played(lambda: now.append(True))
        assert now == [True], "nothing pending: at once"


def test_the_example_greets_a_caller_against_the_emulator(tmp_path: Path) -> None:
    script = copy_example("telephony_bridge", tmp_path / "project")  # alone, as a user copies it
    result = run_python(["-W", "error", str(script)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "using the local emulator" in result.stdout
    assert "greeting sent; the phone heard" in result.stdout
    heard_ms = int(result.stdout.split("the phone heard ")[1].split(" ms")[0])
    assert heard_ms > 500, "the greeting's audio reached the phone"
