"""The apps under test: the library's ways to greet, and the strongest hand-written loops.

The **bare** loop is the best code a competent user would write for the same job, with the
same transport choices as the library: the greeting is a plain wire dict identical to what
the library sends, ``response.metadata`` tag included (checked by :func:`same_dicts`, so the
two put the same bytes on the wire), built before ``session.updated`` arrives
(rendering off the event path), the event type read as a mapping key (``event["type"]``,
~1 µs, instead of the SDK's ``event.type`` attribute, ~7 µs), audio handed to the same
player, microphone frames sent as plain dicts with the same fields. **bare_models** is the
loop as the SDK samples write it (typed SDK models, ``event.type``); it is an extra row only.

Library variants: ``dropin`` (``await proactive.handle(event)`` in the app's loop),
``run`` (``proactive.run(on_event=...)``) and ``dropin_audio`` (the library owns audio).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    ClientEventConversationItemCreate,
    Modality,
    OutputAudioFormat,
    OutputTextContentPart,
    RequestSession,
    ResponseCreateParams,
    ServerEventType,
    SystemMessageItem,
)
from azure.core.credentials import AzureKeyCredential

from benchmarks.wiretap import Wiretap
from voicelive_proactive import Greeting, LLMGreeting, ProactiveSession, StaticGreeting
from voicelive_proactive.audio.base import AudioIO

SPOKEN_TEXT = "Hi Lisa, welcome back! How can I assist you today?"
INSTRUCTED_TEXT = "Greet the caller warmly in one short sentence."
MODES = ("spoken", "instructed")
# The library tags each response.create's ``response.metadata`` with its event id, so that the
# service's echo in response.created proves the response is its own. A hand-written loop that
# wants the same proof sends the same tag; the bare loop does, so both send the same bytes.
TAG_KEY = "voicelive_proactive"
SESSION = RequestSession(
    modalities=[Modality.TEXT, Modality.AUDIO], output_audio_format=OutputAudioFormat.PCM16
)

# ------------------------------------------------------------------------ greeting payloads


def strategy(mode: str, text: str | None = None) -> Any:
    """What the library is given: a spoken line, or an instruction for the model."""
    if mode == "spoken":
        return StaticGreeting(text or SPOKEN_TEXT)
    return LLMGreeting(text or INSTRUCTED_TEXT)


def event_ids() -> Iterator[str]:
    """Ids shaped like the library's (``vp_<8 hex>_<n>``), so payloads have the same length."""
    return map(f"vp_{secrets.token_hex(4)}_{{}}".format, itertools.count(1))


def delta_pcm(event: Any) -> bytes:
    """A ``response.audio.delta``'s audio, decoded the fastest way a hand-written loop can: the
    raw base64 string (a mapping key), straight into ``binascii`` (the SDK's ``event.delta``
    attribute does the same decode through its model machinery, several µs slower). The
    library decodes it this way too, so both pay the same for the bytes."""
    return binascii.a2b_base64(event["delta"])


def bare_events(mode: str, ids: Iterator[str], text: str | None = None) -> list[dict[str, Any]]:
    """The greeting as a user writes it by hand: plain dicts, the last is ``response.create``."""
    if mode == "spoken":
        message = {
            "content": [{"text": text or SPOKEN_TEXT, "type": "text"}],
            "type": "message",
            "role": "assistant",
        }
        create_id = next(ids)
        return [
            {
                "event_id": create_id,
                "response": {
                    "pre_generated_assistant_message": message,
                    "metadata": {TAG_KEY: create_id},
                },
                "type": "response.create",
            }
        ]
    item = {
        "content": [{"text": text or INSTRUCTED_TEXT, "type": "input_text"}],
        "type": "message",
        "role": "system",
    }
    item_id, create_id = next(ids), next(ids)
    return [
        {"event_id": item_id, "item": item, "type": "conversation.item.create"},
        {
            "event_id": create_id,
            "response": {"metadata": {TAG_KEY: create_id}},
            "type": "response.create",
        },
    ]


def _ids_as_positions(frames: list[str]) -> list[str]:
    """The frames as sent, with each frame's ``event_id`` (wherever that string appears, the
    metadata tag included) replaced by the frame's position: equal when only the ids differ."""
    out = []
    for frame in frames:
        for position, other in enumerate(frames):
            event_id = json.loads(other).get("event_id")
            if isinstance(event_id, str):
                frame = frame.replace(json.dumps(event_id), json.dumps(f"<id {position}>"))
        out.append(frame)
    return out


async def same_dicts() -> dict[str, bool]:
    """Whether the bare loop's greeting frames equal the library's, character for character
    once each event id is replaced by its frame's position (ids are random; where they appear
    is not).

    Read from what the library really sends through a ``FakeConnection``, so this keeps
    holding (or visibly stops holding) whatever the library does inside.
    """
    from voicelive_proactive.testing import FakeConnection

    out = {}
    for mode in MODES:
        fake = FakeConnection()
        proactive = ProactiveSession(fake, greeting=strategy(mode), audio=None)
        fake.push({"type": "session.updated", "session": {"id": "sess_1"}})
        await proactive.handle(await fake.recv())
        sent = list(fake._socket.outgoing)  # the exact frames
        await proactive.aclose()
        mine = [json.dumps(e) for e in bare_events(mode, event_ids())]  # as conn.send() does
        out[mode] = _ids_as_positions(sent) == _ids_as_positions(mine)
    return out


def _typed_greeting(conn: VoiceLiveConnection, mode: str) -> Awaitable[None]:
    """The SDK-sample way: typed models, built when the greeting is due."""
    if mode == "spoken":
        return conn.response.create(
            response=ResponseCreateParams(
                pre_generated_assistant_message=AssistantMessageItem(
                    content=[OutputTextContentPart(text=SPOKEN_TEXT)]
                )
            )
        )

    async def instructed() -> None:
        from azure.ai.voicelive.models import InputTextContentPart

        await conn.send(
            ClientEventConversationItemCreate(
                item=SystemMessageItem(content=[InputTextContentPart(text=INSTRUCTED_TEXT)])
            )
        )
        await conn.response.create()

    return instructed()


# ------------------------------------------------------------------------ microphone (bare)


class BareMicrophone:
    """The hand-written uplink: frames from the audio thread, one task sending plain dicts.

    The same hop as the library's (``call_soon_threadsafe`` per frame, a bounded deque, one
    sender task), so both variants carry the same microphone load.
    """

    def __init__(self, conn: VoiceLiveConnection, ids: Iterator[str]) -> None:
        self._conn = conn
        self._ids = ids
        self._queue: deque[bytes] = deque(maxlen=500)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0

    def on_frame_factory(self, loop: asyncio.AbstractEventLoop) -> Callable[[bytes], None]:
        queue, wake = self._queue, self._wake

        def enqueue(pcm: bytes) -> None:
            queue.append(pcm)
            wake.set()

        def on_frame(pcm: bytes) -> None:  # on the audio thread
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(enqueue, pcm)

        return on_frame

    def start(self, source: AudioIO) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._pump())
        source.start_capture(self.on_frame_factory(loop))

    async def _pump(self) -> None:
        queue, wake, send, ids = self._queue, self._wake, self._conn.send, self._ids
        while True:
            while not queue:
                wake.clear()
                await wake.wait()
            pcm = queue.popleft()
            await send(
                {
                    "type": "input_audio_buffer.append",
                    "audio": base64.b64encode(pcm).decode("ascii"),
                    "event_id": next(ids),
                }
            )
            self.sent += 1

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# ------------------------------------------------------------------------ the loops


async def _hold(run: Run) -> None:
    """Stay connected (the microphone streaming) until ``hold_s`` after ``session.updated``."""
    if run.hold_s and run.ready_at is not None:
        await asyncio.sleep(max(0.0, run.ready_at + run.hold_s - time.monotonic()))


class Run:
    """What one variant needs besides the connection."""

    def __init__(
        self,
        mode: str = "spoken",
        *,
        text: str | None = None,
        player: AudioIO | None = None,
        mic: AudioIO | None = None,
        guard: Any = None,
    ) -> None:
        self.mode = mode
        self.text = text  # the greeting's words (spoken) or instruction; None: the default
        self.player = player  # where the agent's voice goes (None: the app's own list)
        self.mic = mic  # a capture source (None: no microphone)
        self.guard = guard  # library variants only
        self.hold_s = 0.0  # keep the session (and its mic) open this long after session.updated
        self.ready_at: float | None = None  # when the loop saw session.updated
        self.responded = False  # the loop saw its greeting's response.done
        self.greeted = False
        self.audio_bytes = 0


async def bare(conn: VoiceLiveConnection, run: Run) -> None:
    """The strongest hand-written loop (see the module docstring)."""
    ids = event_ids()
    greeting = bare_events(run.mode, ids, run.text)  # built before it is due
    player, kept = run.player, deque[bytes]()
    mic = BareMicrophone(conn, ids) if run.mic is not None else None
    greeted = False
    try:
        async for event in conn:
            kind = event["type"]
            if kind == "response.audio.delta":
                pcm = delta_pcm(event)
                run.audio_bytes += len(pcm)
                if player is not None:
                    player.queue_audio(pcm)
                else:
                    kept.append(pcm)
            elif kind == "session.updated" and not greeted:
                greeted = True
                for payload in greeting:
                    await conn.send(payload)
                run.ready_at = time.monotonic()
                if mic is not None and run.mic is not None:
                    mic.start(run.mic)
            elif kind == "input_audio_buffer.speech_started" and player is not None:
                player.skip_pending_audio()
            elif kind == "response.done":
                break
        run.responded = True
        await _hold(run)
    finally:
        if mic is not None:
            await mic.stop()
    run.greeted = greeted


async def bare_models(conn: VoiceLiveConnection, run: Run) -> None:
    """The loop as the SDK samples write it: typed models, ``event.type``."""
    greeted = False
    kept: deque[bytes] = deque()
    async for event in conn:
        if event.type == ServerEventType.SESSION_UPDATED and not greeted:
            greeted = True
            await _typed_greeting(conn, run.mode)
        elif event.type == ServerEventType.RESPONSE_AUDIO_DELTA:
            pcm = delta_pcm(event)
            run.audio_bytes += len(pcm)
            kept.append(pcm)
        elif event.type == ServerEventType.RESPONSE_DONE:
            break
    run.greeted = greeted


def _library_audio(run: Run) -> AudioIO | None:
    if run.player is None and run.mic is None:
        return None
    if run.mic is None or run.mic is run.player:
        return run.player
    from benchmarks.devices import DuplexAudio

    return DuplexAudio(run.player, run.mic)


def _session(conn: VoiceLiveConnection, run: Run, audio: AudioIO | None) -> ProactiveSession:
    options: dict[str, Any] = {} if run.guard is None else {"guard": run.guard}
    return ProactiveSession(conn, greeting=strategy(run.mode, run.text), audio=audio, **options)


async def dropin(conn: VoiceLiveConnection, run: Run) -> None:
    """The app's loop with ``await proactive.handle(event)`` added; the app keeps its audio
    when it has no player, otherwise the library plays (and captures) through it."""
    audio = _library_audio(run)
    proactive = _session(conn, run, audio)
    kept: deque[bytes] = deque()
    try:
        async for event in conn:
            await proactive.handle(event)
            kind = event["type"]
            if kind == "session.updated" and run.ready_at is None:
                run.ready_at = time.monotonic()
            elif kind == "response.audio.delta" and audio is None:
                pcm = delta_pcm(event)
                run.audio_bytes += len(pcm)
                kept.append(pcm)
            elif kind == "response.done":
                break
        run.responded = True
        await _hold(run)
    finally:
        await proactive.aclose()
    run.greeted = proactive.metrics.greeting_sent is not None


async def managed(conn: VoiceLiveConnection, run: Run) -> None:
    """``proactive.run(on_event=...)``; the app's audio handling moves into ``on_event``."""
    proactive = _session(conn, run, _library_audio(run))
    kept: deque[bytes] = deque()

    async def on_event(event: Any) -> None:
        kind = event["type"]
        if kind == "response.audio.delta":
            kept.append(event.delta)
        elif kind == "response.done":
            await conn.close()

    try:
        await proactive.run(on_event=on_event)
    finally:
        await proactive.aclose()
    run.greeted = proactive.metrics.greeting_sent is not None


async def dropin_audio(conn: VoiceLiveConnection, run: Run) -> None:
    """Drop-in with the library owning audio (``NullAudioIO`` unless a player is given)."""
    from voicelive_proactive.audio import NullAudioIO

    if run.player is None:
        run.player = NullAudioIO()
    await dropin(conn, run)


LOOPS: dict[str, Callable[[VoiceLiveConnection, Run], Awaitable[None]]] = {
    "bare": bare,
    "bare_models": bare_models,
    "dropin": dropin,
    "run": managed,
    "dropin_audio": dropin_audio,
}
LIBRARY_VARIANTS = frozenset({"dropin", "run", "dropin_audio"})


async def session(
    endpoint: str,
    api_key: str,
    variant: str,
    run: Run,
    *,
    gate: asyncio.Semaphore | None = None,
    connected: Callable[[], None] | None = None,
    go: asyncio.Event | None = None,
    loop_fn: Callable[[VoiceLiveConnection, Run], Awaitable[None]] | None = None,
) -> Wiretap:
    """One session: connect, (wait for ``go``), ``session.update``, the variant's loop.

    ``gate`` limits how many handshakes run at once; ``connected`` is called once the
    socket is open.
    """
    manager = connect(
        endpoint=endpoint, credential=AzureKeyCredential(api_key), model="gpt-realtime"
    )
    if gate is not None:
        async with gate:
            conn = await manager.__aenter__()
    else:
        conn = await manager.__aenter__()
    try:
        tap = Wiretap(conn)
        if connected is not None:
            connected()
        if go is not None:
            await go.wait()
        await conn.session.update(session=SESSION)
        await (loop_fn or LOOPS[variant])(conn, run)
    finally:
        await manager.__aexit__(None, None, None)
    return tap


def greeting_of(mode: str) -> Greeting:
    return (
        Greeting.spoken(SPOKEN_TEXT) if mode == "spoken" else Greeting.instructed(INSTRUCTED_TEXT)
    )
