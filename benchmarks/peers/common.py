"""What both clients share: the sink, the microphone, the wire tap, the scripts, the plumbing.

Imports only the standard library, numpy and (lazily) aiohttp and the SDK, which both venvs
have at the same versions, so the LiveKit client can use it without our package installed.

* :class:`PacedSink`: where the agent's voice goes, on both sides. A software speaker that
  plays in real time by the clock (no thread, no device): audio handed to it starts playing at
  once if it is idle, or after what is queued; ``skip()`` drops what has not played yet. Its
  ``played()`` is exact at any instant, which is what greeting latency, stale audio and
  truncation error need; and it costs next to nothing, so CPU figures are the clients'.
* :class:`MicSource`: one thread that hands every session a 20 ms frame of its own track
  every 20 ms, from a foreign thread, as a sound card's capture thread does.
* :class:`ConnTap`: stamps on the SDK's own socket, the same for both sides (both use
  ``azure.ai.voicelive.aio.VoiceLiveConnection``): when the connection opened, and, unless
  ``light``, the responses, their audio and ``speech_started`` as they arrive.
* :func:`serve`: the command loop of a client process (one JSON command per stdin line, one
  JSON answer per stdout line).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

SAMPLE_RATE = 24_000
BYTES_PER_MS = 48  # 24 kHz mono PCM16
FRAME_MS = 20
FRAME_BYTES = FRAME_MS * BYTES_PER_MS

MODEL = "gpt-realtime"
VOICE = "en-US-AvaMultilingualNeural"  # LiveKit's default voice; ours is told the same
SESSION_INSTRUCTIONS = "You are a helpful assistant."
INSTRUCTED = "Greet the caller warmly in one short sentence."
SPOKEN = "Hi Lisa, welcome back! How can I assist you today?"
PRERECORDED = "Hi, this is Contoso. How can I help you today?"
LONG_REPLY = (
    "Thanks for calling Contoso. Your order shipped this morning and should arrive on "
    "Thursday, and I can also tell you about our new loyalty programme if you like."
)
BARGE_INSTRUCTION = f'Say exactly: "{LONG_REPLY}"'
USER_UTTERANCE = "Wait, one question."


def session_config() -> dict[str, Any]:
    """What LiveKit's plugin sends in its ``session.update`` (1.8.9 defaults, read from its
    source); our client sends the same, so the emulator does the same work for both."""
    return {
        "modalities": ["text", "audio"],
        "instructions": SESSION_INSTRUCTIONS,
        "voice": {"type": "azure-standard", "name": VOICE},
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "turn_detection": {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
            "create_response": True,
        },
        "input_audio_transcription": {"model": "whisper-1"},
        "tool_choice": "auto",
        "temperature": 0.8,
        "max_response_output_tokens": 4096,
    }


# ----------------------------------------------------------------------------------- sink


class PacedSink:
    """A speaker that plays by the clock: ``played()`` is what it has played by now.

    Audio starts playing the moment it is queued into an idle sink (as a device callback
    would take it within a block), and otherwise right after what is queued. Called from the
    event loop's thread; ``played_at_now()`` may be called from any thread (the microphone
    reads it at the user's first word).
    """

    def __init__(self, clock: Callable[[], int] = time.monotonic_ns) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._done = 0  # bytes played in runs that ended
        self._run_start: int | None = None  # ns; None: idle or paused
        self._run_bytes = 0  # bytes queued in the current run (played or not)
        self._paused = False
        self.queued = 0
        self.skipped = 0
        self.first_ns: int | None = None  # when the first byte ever started playing

    def _run_played(self, now: int) -> int:
        if self._run_start is None:
            return 0
        played = (now - self._run_start) * BYTES_PER_MS // 1_000_000
        return min(self._run_bytes, played - played % 2)

    def played(self, now: int | None = None) -> int:
        """Bytes played so far (all runs)."""
        now = self._clock() if now is None else now
        with self._lock:
            return self._done + self._run_played(now)

    def played_at_now(self) -> tuple[int, int]:
        now = self._clock()
        return now, self.played(now)

    def pending(self, now: int | None = None) -> int:
        """Bytes queued but not played yet."""
        now = self._clock() if now is None else now
        with self._lock:
            if self._run_start is None:
                return self._run_bytes
            return self._run_bytes - self._run_played(now)

    def queue(self, pcm: bytes | memoryview) -> None:
        size = len(pcm)
        if not size:
            return
        now = self._clock()
        with self._lock:
            self.queued += size
            if self._paused:
                self._run_bytes += size
                return
            if self._run_start is None or self._run_played(now) >= self._run_bytes:
                self._done += self._run_played(now)  # the last run ended: a new one starts
                self._run_start, self._run_bytes = now, size
                if self.first_ns is None:
                    self.first_ns = now
            else:
                self._run_bytes += size

    def skip(self) -> int:
        """Drop everything not played yet; return how many bytes were dropped."""
        now = self._clock()
        with self._lock:
            played = self._run_played(now)
            dropped = self._run_bytes - played
            self._done += played
            self._run_start, self._run_bytes = None, 0
            self.skipped += dropped
            return dropped

    def pause(self) -> None:
        now = self._clock()
        with self._lock:
            if self._paused:
                return
            played = self._run_played(now)
            self._done += played
            self._run_bytes -= played
            self._run_start, self._paused = None, True

    def resume(self) -> None:
        now = self._clock()
        with self._lock:
            if not self._paused:
                return
            self._paused = False
            if self._run_bytes:
                self._run_start = now


# ------------------------------------------------------------------------------ microphone


def room_noise(size: int, seed: int = 7) -> bytes:
    """A quiet room (about -60 dBFS): never silent, never speech to a VAD."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return bytes(rng.integers(-30, 31, size // 2).astype("<i2").tobytes())


class Track:
    """What one session's microphone hears: quiet, the utterance when asked, or a loop."""

    def __init__(self, quiet: bytes, utterance: bytes = b"", loop: bytes | None = None) -> None:
        self._quiet = quiet
        self._utterance = utterance
        self._loop = loop
        self._position = 0
        self._speak_from: int | None = None  # byte offset into the utterance, while speaking
        self.onsets: list[int] = []  # ns: when the utterance's first frame was handed over
        self.on_onset: Callable[[int], None] | None = None

    def speak(self) -> None:
        """Start the utterance at the next frame (any thread)."""
        self._speak_from = 0

    def next_frame(self) -> bytes:
        if self._speak_from is not None:
            start = self._speak_from
            frame = self._utterance[start : start + FRAME_BYTES]
            if start == 0:
                now = time.monotonic_ns()
                self.onsets.append(now)
                if self.on_onset is not None:
                    self.on_onset(now)
            self._speak_from = start + FRAME_BYTES
            if self._speak_from >= len(self._utterance):
                self._speak_from = None
            if len(frame) == FRAME_BYTES:
                return frame
            return frame + self._quiet[: FRAME_BYTES - len(frame)]
        if self._loop is not None:
            start = self._position % len(self._loop)
            self._position += FRAME_BYTES
            frame = self._loop[start : start + FRAME_BYTES]
            if len(frame) < FRAME_BYTES:
                frame += self._loop[: FRAME_BYTES - len(frame)]
            return frame
        start = self._position % (len(self._quiet) - FRAME_BYTES)
        self._position += FRAME_BYTES
        return self._quiet[start : start + FRAME_BYTES]


class MicSource:
    """One thread handing each subscribed session a frame of its track every 20 ms."""

    def __init__(self) -> None:
        self._subscribers: dict[int, tuple[Track, Callable[[bytes], None]]] = {}
        self._lock = threading.Lock()
        self._next = 0
        self._stop = threading.Event()
        self.ticks = 0
        self.late_ticks = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="peers-mic")
        self._thread.start()

    def subscribe(self, track: Track, on_frame: Callable[[bytes], None]) -> int:
        with self._lock:
            key = self._next
            self._next += 1
            self._subscribers[key] = (track, on_frame)
        return key

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    def _run(self) -> None:
        period = FRAME_MS / 1000
        due = time.monotonic() + period
        while not self._stop.is_set():
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif -delay > period:
                self.late_ticks += 1
            with self._lock:
                subscribers = list(self._subscribers.values())
            for track, on_frame in subscribers:
                on_frame(track.next_frame())
            self.ticks += 1
            due += period

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def conversation_loop(quiet: bytes, utterance: bytes, cycle_s: float, offset_s: float) -> bytes:
    """A looped track: the utterance once per ``cycle_s``, starting ``offset_s`` in."""
    size = int(cycle_s * 1000) * BYTES_PER_MS
    track = bytearray((quiet * (size // len(quiet) + 1))[:size])
    start = int(offset_s * 1000) * BYTES_PER_MS % size
    for i, byte_index in enumerate(range(0, len(utterance), FRAME_BYTES)):
        chunk = utterance[byte_index : byte_index + FRAME_BYTES]
        at = (start + i * FRAME_BYTES) % size
        track[at : at + len(chunk)] = chunk
    return bytes(track)


# -------------------------------------------------------------------------------- wire tap


@dataclass
class Response:
    id: str
    tagged: bool  # metadata carried a client's tag: created by a client's response.create
    created_ns: int
    item_id: str | None = None
    audio_bytes: int = 0
    first_audio_ns: int | None = None
    status: str | None = None


@dataclass
class Tap:
    opened_ns: int
    light: bool
    session_id: str | None = None
    responses: list[Response] = field(default_factory=list)
    speech_started_ns: list[int] = field(default_factory=list)
    sent_truncates: list[dict[str, Any]] = field(default_factory=list)
    sent_cancels: int = 0
    sent_creates: int = 0
    sent_appends: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def response(self, response_id: str | None) -> Response | None:
        for response in reversed(self.responses):
            if response.id == response_id:
                return response
        return None

    def greeting_responses(self) -> list[Response]:
        return [r for r in self.responses if r.tagged]

    def item_audio_ms(self, item_id: str) -> float:
        return sum(r.audio_bytes for r in self.responses if r.item_id == item_id) / BYTES_PER_MS


LABEL: contextvars.ContextVar[object] = contextvars.ContextVar("peers_label", default=None)
"""Set it in a session's task before it connects: the connection's tap carries it, however
deep in a framework's own tasks the connection is opened (tasks copy the context)."""


class ConnTap:
    """Taps every ``VoiceLiveConnection`` this process opens (instrumentation only).

    ``VoiceLiveConnection`` is built by the SDK's ``connect()`` right after the WebSocket
    upgrade succeeded: that instant is "the connection opened", for both clients.
    """

    def __init__(self) -> None:
        from azure.ai.voicelive.aio import VoiceLiveConnection

        self.taps: list[Tap] = []
        self.by_label: dict[int, Tap] = {}
        self.light = False
        original = VoiceLiveConnection.__init__
        tapper = self

        def init(conn: Any, client_session: Any, ws: Any) -> None:
            original(conn, client_session, ws)
            tapper._attach(ws)

        VoiceLiveConnection.__init__ = init  # type: ignore[method-assign]

    def _attach(self, ws: Any) -> None:
        import aiohttp

        tap = Tap(time.monotonic_ns(), self.light)
        self.taps.append(tap)
        label = LABEL.get()
        if label is not None:
            self.by_label[id(label)] = tap
        if tap.light:
            return
        receive, send_str = ws.receive, ws.send_str

        async def tapped_receive(*args: Any, **kwargs: Any) -> Any:
            message = await receive(*args, **kwargs)
            if message.type is aiohttp.WSMsgType.TEXT:
                _on_server_frame(tap, message.data, time.monotonic_ns())
            return message

        async def tapped_send_str(data: str, *args: Any, **kwargs: Any) -> None:
            _on_client_frame(tap, data)
            await send_str(data, *args, **kwargs)

        ws.receive = tapped_receive
        ws.send_str = tapped_send_str

    async def of(self, label: object, timeout: float = 15.0) -> Tap:
        """The tap of the connection opened under ``label`` (waits for it to open)."""
        deadline = time.monotonic() + timeout
        while id(label) not in self.by_label:
            if time.monotonic() > deadline:
                raise TimeoutError("the session never connected")
            await asyncio.sleep(0.001)
        return self.by_label.pop(id(label))


def _on_server_frame(tap: Tap, data: str, now: int) -> None:
    head = data[:48]
    if '"response.audio.delta"' in head:
        event = json.loads(data)
        response = tap.response(event.get("response_id"))
        if response is not None:
            response.audio_bytes += len(event.get("delta") or "") * 3 // 4
            response.item_id = event.get("item_id")
            if response.first_audio_ns is None:
                response.first_audio_ns = now
        return
    if '"response.created"' in head:
        body = json.loads(data).get("response") or {}
        metadata = body.get("metadata")
        tap.responses.append(Response(str(body.get("id")), bool(metadata), now))
    elif '"response.done"' in head:
        body = json.loads(data).get("response") or {}
        response = tap.response(body.get("id"))
        if response is not None:
            response.status = body.get("status")
    elif '"input_audio_buffer.speech_started"' in head:
        tap.speech_started_ns.append(now)
    elif '"session.created"' in head or '"session.updated"' in head:
        if tap.session_id is None:
            tap.session_id = (json.loads(data).get("session") or {}).get("id")
    elif '"type":"error"' in head:
        tap.errors.append(json.loads(data).get("error") or {})


def _on_client_frame(tap: Tap, data: str) -> None:
    # The whole frame is searched: an SDK model's as_dict() may put "type" last.
    if '"input_audio_buffer.append"' in data:
        tap.sent_appends += 1
    elif '"response.create"' in data:
        tap.sent_creates += 1
    elif '"response.cancel"' in data:
        tap.sent_cancels += 1
    elif '"conversation.item.truncate"' in data:
        tap.sent_truncates.append(json.loads(data))


# ------------------------------------------------------------------------------- the process


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def versions(*names: str) -> dict[str, str | None]:
    from importlib import metadata

    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def serve(handlers: dict[str, Handler], info: dict[str, Any] | None = None) -> None:
    """Answer one JSON command per stdin line until ``quit`` or end of input.

    The first line out is ``{"ready": true, "pid": ..., **info}``.
    """

    async def main() -> None:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        def read() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=read, daemon=True, name="peers-stdin").start()
        print(json.dumps({"ready": True, "pid": os.getpid(), **(info or {})}), flush=True)
        while True:
            line = await lines.get()
            if line is None:
                return
            command = json.loads(line)
            if command.get("cmd") == "quit":
                return
            try:
                answer = await handlers[command["cmd"]](command)
            except Exception as exc:  # reported to the parent, which records it
                import traceback

                answer = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            print(json.dumps(answer), flush=True)

    asyncio.run(main())
