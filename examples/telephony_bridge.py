"""Answer a phone call with a greeting: an ``AudioIO`` over a telephony media WebSocket.

Azure Communication Services (ACS) bidirectional audio streaming connects to a WebSocket
server of yours and exchanges JSON frames with it:

* from the call: ``{"kind": "AudioMetadata", "audioMetadata": {"subscriptionId": ...,
  "encoding": "PCM", "sampleRate": 24000, "channels": 1, "length": 960}}`` once, then
  ``{"kind": "AudioData", "audioData": {"timestamp": ..., "participantRawID": ...,
  "data": "<base64>", "silent": false}}`` for every 20 ms of the caller's audio;
* to the call: ``{"kind": "AudioData", "audioData": {"data": "<base64>"}, "stopAudio": null}``
  to play audio, and ``{"kind": "StopAudio", "audioData": null, "stopAudio": {}}`` to drop
  what the call has not played yet (barge-in).

:class:`CallAudioBridge` is the ``AudioIO`` for such a socket. The agent's audio goes to the
call byte for byte when the formats match (configure Voice Live's ``output_audio_format``
to the call's: ``pcm16`` for ACS's 24 kHz PCM, ``pcm16_16000hz`` for 16 kHz) and is
transcoded only when they do not. The phone plays in real time, so the bridge estimates
playout from the byte rate.

Run ``python examples/telephony_bridge.py``: it starts the media server, lets a tiny
in-process "phone" call it (standing in for ACS), greets the caller through Voice Live (or
the bundled emulator) and prints what the phone heard.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
from aiohttp import web
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import DefaultAzureCredential

import voicelive_proactive as vp
from voicelive_proactive.audio import PCM16_24K, AudioFormat
from voicelive_proactive.audio.convert import Transcoder, check_formats
from voicelive_proactive.audio.formats import Encoding
from voicelive_proactive.audio.playout import PlayoutNotifier, run_callback
from voicelive_proactive.emulator import Emulator

logger = logging.getLogger("telephony_bridge")

#: What a peer's socket must offer: aiohttp's server and client WebSockets both do.
MediaSocket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse

STOP_AUDIO = json.dumps({"kind": "StopAudio", "audioData": None, "stopAudio": {}})


def audio_data(payload: bytes) -> str:
    """The outbound ``AudioData`` frame that plays ``payload`` into the call."""
    data = base64.b64encode(payload).decode("ascii")
    return json.dumps({"kind": "AudioData", "audioData": {"data": data}, "stopAudio": None})


class CallAudioBridge:
    """An ``AudioIO`` (``FormatAware``, ``PlayoutAware``) over an ACS media WebSocket.

    Build it on the event loop that serves the socket and run :meth:`pump` there until
    the call hangs up. ``line_format`` is the call's audio (ACS: PCM at 16 or 24 kHz; an
    ``AudioMetadata`` frame updates it). The session's formats come through
    :meth:`configure_formats`; while they equal the line's, bytes pass untouched.
    """

    def __init__(self, ws: MediaSocket, *, line_format: AudioFormat = PCM16_24K) -> None:
        self._ws = ws
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._line = line_format
        self._output = self._input = PCM16_24K
        self._to_line = Transcoder(self._output, self._line)
        self._from_line = Transcoder(self._line, self._input)
        self._outbox: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._on_frame: Callable[[bytes], None] | None = None
        self._notifier = PlayoutNotifier("call-playout")
        self._play_end = 0.0  # when the call will have played everything sent (monotonic)
        self._skips = 0
        self._skipped_at = 0.0
        self._closed = False
        self.queued_bytes = 0
        self.skipped_bytes = 0
        self.frames_sent = 0
        self.stops_sent = 0
        self.frames_received = 0
        self.bad_frames = 0

    # -- formats ------------------------------------------------------------------------

    def configure_formats(self, *, output: AudioFormat, input: AudioFormat) -> None:
        """The session's formats: what ``queue_audio`` gets and ``on_frame`` must give."""
        output, input = check_formats(output, input)
        with self._lock:
            self._output, self._input = output, input
            self._rebuild()

    @property
    def line_format(self) -> AudioFormat:
        return self._line

    @property
    def transcoding(self) -> bool:
        """Whether audio is converted on its way to or from the call."""
        return not (self._to_line.passthrough and self._from_line.passthrough)

    def _rebuild(self) -> None:
        self._to_line = Transcoder(self._output, self._line)
        self._from_line = Transcoder(self._line, self._input)

    # -- playback -----------------------------------------------------------------------

    def queue_audio(self, pcm: bytes) -> None:
        """Send the agent's audio to the call (from any thread; never blocks)."""
        with self._lock:
            if self._closed or not pcm:
                return
            self.queued_bytes += len(pcm)
            now = time.monotonic()
            seconds = len(pcm) / self._output.bytes_per_second
            self._play_end = max(self._play_end, now) + seconds  # the call plays in real time
            payload = self._to_line.convert(pcm)
        if payload:
            self._send(audio_data(payload))

    def skip_pending_audio(self) -> int:
        """Tell the call to drop what it has not played; return that, in queued bytes."""
        with self._lock:
            now = time.monotonic()
            fmt = self._output
            left = max(0.0, self._play_end - now)
            dropped = min(fmt.bytes_for_ms(left * 1000), self.queued_bytes - self.skipped_bytes)
            self.skipped_bytes += dropped
            self._play_end = now
            self._skips += 1
            self._skipped_at = now
            self._to_line.reset()
        self._send(STOP_AUDIO, replace_queued=True)
        self._notifier.poke()
        return dropped

    def notify_when_played(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the call has played what was queued so far."""
        with self._lock:
            tail = self._to_line.flush()  # the end of a response: send the resampler's tail
            end, skips = self._play_end, self._skips
            idle = self._closed or end <= time.monotonic()
        if tail:
            self._send(audio_data(tail))
        if idle:
            run_callback(callback)
            return

        def due() -> tuple[float, bool]:
            return (self._skipped_at if self._skips != skips else end), True

        self._notifier.add(callback, due)

    @property
    def pending_bytes(self) -> int:
        """Queued bytes the call has not played yet (estimated from the byte rate)."""
        left = max(0.0, self._play_end - time.monotonic())
        return self._output.bytes_for_ms(left * 1000)

    @property
    def played_bytes(self) -> int:
        return self.queued_bytes - self.skipped_bytes - self.pending_bytes

    def _send(self, frame: str, *, replace_queued: bool = False) -> None:
        def put() -> None:
            if replace_queued:
                self._outbox.clear()  # not sent yet: never played
            self._outbox.append(frame)
            self._wakeup.set()

        if _on_loop(self._loop):
            put()
        else:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the call is over
                self._loop.call_soon_threadsafe(put)

    # -- capture ------------------------------------------------------------------------

    def start_capture(self, on_frame: Callable[[bytes], None]) -> None:
        """Deliver the caller's audio (in the session's input format) to ``on_frame``."""
        if self._on_frame is None:
            self._on_frame = on_frame

    # -- the socket ---------------------------------------------------------------------

    async def pump(self) -> None:
        """Exchange frames with the call until it hangs up (or :meth:`close`)."""
        sender = asyncio.create_task(self._send_frames())
        try:
            async for message in self._ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self._receive(message.data)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            self.close()

    async def _send_frames(self) -> None:
        while True:
            while not self._outbox:
                self._wakeup.clear()
                await self._wakeup.wait()
            frame = self._outbox.popleft()
            try:
                await self._ws.send_str(frame)
            except ConnectionError:  # the call hung up; pump() sees the close
                return
            if frame is STOP_AUDIO:
                self.stops_sent += 1
            else:
                self.frames_sent += 1

    def _receive(self, text: str) -> None:
        try:
            frame = json.loads(text)
            kind = frame.get("kind")
            if kind == "AudioMetadata":
                self._on_metadata(frame["audioMetadata"])
            elif kind == "AudioData":
                self._on_audio(base64.b64decode(frame["audioData"]["data"], validate=True))
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            self.bad_frames += 1  # a malformed frame must not end the call
            if self.bad_frames == 1:
                logger.warning("ignoring a malformed media frame", exc_info=True)

    def _on_metadata(self, meta: dict[str, Any]) -> None:
        encoding = str(meta.get("encoding", "PCM")).upper()
        rate = int(meta.get("sampleRate", self._line.sample_rate))
        names: dict[str, Encoding] = {"PCM": "pcm16", "PCMU": "g711_ulaw", "PCMA": "g711_alaw"}
        line = AudioFormat(names[encoding], rate if encoding == "PCM" else 8_000)
        with self._lock:
            if line != self._line:
                self._line = line
                self._rebuild()

    def _on_audio(self, payload: bytes) -> None:
        self.frames_received += 1
        with self._lock:
            pcm = self._from_line.convert(payload)
        on_frame = self._on_frame
        if on_frame is not None and pcm:
            on_frame(pcm)

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop sending; pending notifications run (the call will not play the rest)."""
        with self._lock:
            self._closed = True
            self._outbox.clear()
        self._notifier.close()

    async def played(self) -> None:
        """Wait until the call has played everything queued so far."""
        done = asyncio.Event()

        def played() -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(done.set)

        self.notify_when_played(played)
        await done.wait()


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


# -- the demo -----------------------------------------------------------------------------

OUTCOMES = web.AppKey("outcomes", list[vp.GreetingOutcome])


async def answer_call(request: web.Request) -> web.WebSocketResponse:
    """The media WebSocket endpoint: greet the caller, then hang up (a demo)."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    bridge = CallAudioBridge(ws)
    pump = asyncio.create_task(bridge.pump())
    async with voicelive_connection() as conn:
        proactive = vp.ProactiveSession(
            conn,
            greeting=vp.StaticGreeting("Thanks for calling! How can I help you today?"),
            audio=bridge,
        )
        async with proactive:
            async for event in conn:
                await proactive.handle(event)
                if proactive.finished:
                    break
        await asyncio.wait_for(bridge.played(), timeout=30)  # let the caller hear it all
        request.app[OUTCOMES].append(proactive.outcome)
    await ws.close()
    await pump
    return ws


async def phone(url: str) -> tuple[int, int]:
    """Stand in for ACS: call the media endpoint, talk silence, count what is heard."""
    heard = frames = 0
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        meta = {"subscriptionId": "demo", "encoding": "PCM", "sampleRate": 24000, "channels": 1}
        await ws.send_str(json.dumps({"kind": "AudioMetadata", "audioMetadata": meta}))

        async def talk() -> None:
            silence = base64.b64encode(bytes(960)).decode("ascii")  # 20 ms
            while True:
                frame = {"data": silence, "silent": True, "participantRawID": "4:+15550100"}
                await ws.send_str(json.dumps({"kind": "AudioData", "audioData": frame}))
                await asyncio.sleep(0.02)

        talking = asyncio.create_task(talk())
        async for message in ws:
            frame = json.loads(message.data)
            if frame["kind"] == "AudioData":
                heard += len(base64.b64decode(frame["audioData"]["data"]))
                frames += 1
        talking.cancel()
    return heard, frames


async def main() -> vp.GreetingOutcome:
    app = web.Application()
    app[OUTCOMES] = []
    app.router.add_get("/media", answer_call)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        heard, frames = await phone(f"ws://{host}:{port}/media")
    finally:
        await runner.cleanup()
    (outcome,) = app[OUTCOMES]
    print(f"greeting {outcome.status.value}; the phone heard {heard // 48} ms in {frames} frames")
    return outcome


# -- the connection: the same in every example --------------------------------------------
# Azure when AZURE_VOICELIVE_ENDPOINT is set (with AZURE_VOICELIVE_API_KEY, or signed in for
# DefaultAzureCredential without it); otherwise the bundled emulator, so it runs anywhere.

SESSION = {
    "modalities": ["text", "audio"],
    "instructions": "You are a helpful, concise assistant.",
    "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
    "turn_detection": {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 500},
}


@contextlib.asynccontextmanager
async def voicelive_connection() -> AsyncIterator[VoiceLiveConnection]:
    """A connected Voice Live session, configured with SESSION."""
    async with contextlib.AsyncExitStack() as stack:
        endpoint = os.environ.get("AZURE_VOICELIVE_ENDPOINT")
        key = os.environ.get("AZURE_VOICELIVE_API_KEY")
        if not endpoint:
            emulator = await stack.enter_async_context(Emulator())
            endpoint, key = emulator.endpoint, emulator.api_key
            print(f"(no AZURE_VOICELIVE_ENDPOINT set: using the local emulator at {endpoint})")
        credential: AzureKeyCredential | AsyncTokenCredential
        if key:
            credential = AzureKeyCredential(key)
        else:
            credential = await stack.enter_async_context(DefaultAzureCredential())
        model = os.environ.get("AZURE_VOICELIVE_MODEL", "gpt-realtime")
        conn = await stack.enter_async_context(
            connect(endpoint=vp.check_endpoint(endpoint), credential=credential, model=model)
        )
        await conn.session.update(session=SESSION)
        yield conn


if __name__ == "__main__":
    result = asyncio.run(main())
    raise SystemExit(0 if result.status is vp.GreetingStatus.SENT else 1)
