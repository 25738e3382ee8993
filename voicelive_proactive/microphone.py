"""``MicrophoneUplink``: microphone frames from the audio thread to the service.

The uplink is adaptive. Blocks are gathered for up to ``BATCH_S`` (100 ms, what LiveKit's
plugin sends) and sent as one ``input_audio_buffer.append``: the service's VAD works on the
audio stream, not on message boundaries, so only the moment each sample arrives moves, by at
most ``BATCH_S``. While the agent's voice is playing (and for ``HANGOVER_S`` after its
estimated end), a block that may be the caller's voice is sent the moment it arrives, with
everything gathered before it: a barge-in reaches the service's VAD as soon as it is spoken.
Only near-silence waits then (PCM16 with every sample within ±256, a peak below -42 dBFS;
the VAD's default threshold is an RMS of -35 dBFS), and it carries no barge-in.

A 20 ms uplink costs 50 messages a second (each a base64 encode, a ``json.dumps``, a
WebSocket frame and a ``send()`` system call, plus a loop wakeup from the audio thread);
gathered, it costs 10.

Wakeups from audio threads are shared per event loop: when one capture thread delivers a
block to many sessions on the same loop (a telephony gateway, a load test), the loop is woken
once per burst, not once per session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from .audio.base import AudioIO
from .audio.formats import AudioFormat
from .wire import append_event

__all__ = ["MicrophoneUplink"]

log = logging.getLogger("voicelive_proactive")

# Microphone blocks waiting to be sent. At 20 ms a block this is 10 s of audio; past it the
# oldest blocks are dropped so a stalled connection cannot grow memory without bound.
MAX_QUEUED_BLOCKS = 500

BATCH_S = 0.1
"""While the agent is silent, a block waits at most this long to be sent with the next ones."""

HANGOVER_S = 0.5
"""Blocks go out one by one until this long after the agent's audio is estimated to have
played (devices buffer beyond the estimate, which starts when the audio arrives)."""

DEFAULT_BYTES_PER_SECOND = 48_000  # PCM16 mono at 24 kHz, until the session says otherwise


class _Handoff:
    """Calls from foreign threads onto one event loop, with one wakeup per burst.

    ``call_soon_threadsafe`` writes to the loop's self-pipe on every call (a system call,
    and a loop iteration each); the calls made while a wakeup is already pending ride on it.
    """

    __slots__ = ("__weakref__", "_items", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)  # the registry's value must not keep its key alive
        self._items: deque[Callable[[], None]] = deque()
        self._scheduled = False

    def call(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop soon (any thread). RuntimeError: the loop closed."""
        self._items.append(callback)
        if not self._scheduled:
            # Read after the append: a run that cleared the flag before our append either
            # sees the item or left the flag clear for us to schedule another run.
            self._scheduled = True
            loop = self._loop()
            if loop is None:
                raise RuntimeError("the event loop is gone")
            loop.call_soon_threadsafe(self._run)

    def _run(self) -> None:
        self._scheduled = False
        items = self._items
        while items:
            callback = items.popleft()
            try:
                callback()
            except Exception:  # one session's fault stays its own
                log.exception("voicelive-proactive: microphone hand-off failed")


_handoffs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Handoff] = (
    weakref.WeakKeyDictionary()
)


def _handoff_for(loop: asyncio.AbstractEventLoop) -> _Handoff:
    handoff = _handoffs.get(loop)
    if handoff is None:
        handoff = _handoffs[loop] = _Handoff(loop)
    return handoff


class MicrophoneUplink:
    """Streams an ``AudioIO``'s capture as ``input_audio_buffer.append``, in order.

    Frames arrive on the audio driver's thread and are queued there; the thread wakes the
    event loop only when a block is due (every block while the agent is audible, otherwise
    once per ``BATCH_S``), and one task on the loop sends what is queued.
    """

    def __init__(
        self,
        send: Callable[[Any], Awaitable[None]],
        event_ids: Iterator[str],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send = send
        self._ids = event_ids
        self._clock = clock
        self._queue: deque[bytes] = deque(maxlen=MAX_QUEUED_BLOCKS)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batch_bytes = int(DEFAULT_BYTES_PER_SECOND * BATCH_S)
        self._immediate = False  # read by the audio thread: every block goes out at once
        self._audible_until = 0.0  # clock seconds: the agent's audio estimated played by then
        self._armed = False  # the audio thread asked the loop for a send of what is queued
        self._timer: asyncio.TimerHandle | None = None
        self.frames_dropped = 0
        """Blocks dropped because the connection could not keep up."""
        self.messages_sent = 0
        """``input_audio_buffer.append`` messages sent."""

    def start(
        self,
        audio: AudioIO,
        loop: asyncio.AbstractEventLoop,
        input_format: AudioFormat | None = None,
    ) -> None:
        """Start capture on ``audio`` and the task that sends what it captures.

        ``input_format`` is the negotiated microphone format (PCM16 at 24 kHz if not given):
        it sizes the gathered blocks, and with PCM16 near-silence is told from a voice.
        """
        if self._task is not None:
            return
        pcm16 = input_format is None or input_format.encoding == "pcm16"
        if input_format is not None:
            self._batch_bytes = max(1, int(input_format.bytes_per_second * BATCH_S))
        self._loop = loop
        queue = self._queue
        handoff = _handoff_for(loop)
        release, arm = self._release, self._arm

        def on_frame(pcm: bytes) -> None:  # on the audio thread
            if len(queue) == queue.maxlen:
                self.frames_dropped += 1
            queue.append(pcm)
            # PCM16 little-endian: every sample within ±256 has a high byte of 0x00 or 0xFF.
            if self._immediate and not (pcm16 and not pcm[1::2].translate(None, b"\x00\xff")):
                callback = release
            elif self._armed:
                return  # the batch this block joins is already on its way
            else:
                self._armed = True
                callback = arm
            # RuntimeError: the loop has closed, so nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                handoff.call(callback)

        self._task = loop.create_task(self._pump(), name="vp-microphone")
        audio.start_capture(on_frame)

    def agent_audio(self, seconds: float) -> None:
        """The agent's voice was queued for playback (``seconds`` of it; on the loop)."""
        now = self._clock()
        self._audible_until = max(now, self._audible_until) + seconds
        if not self._immediate:
            self._immediate = True
            if self._queue:  # what was gathered goes out now: the user may barge in
                self._release()

    def _arm(self) -> None:  # on the loop: the first block of a batch is queued
        if self._task is None:
            self._release()
        elif self._timer is None:
            assert self._loop is not None
            self._timer = self._loop.call_later(BATCH_S, self._release)

    def _release(self) -> None:  # on the loop: send what is queued
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._immediate and self._clock() > self._audible_until + HANGOVER_S:
            self._immediate = False
        self._armed = False
        self._wakeup.set()

    def stop(self) -> asyncio.Task[None] | None:
        """Stop sending; returns the cancelled task so the caller may await it."""
        task, self._task = self._task, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if task is not None:
            task.cancel()
        return task

    def _block(self) -> bytes:
        """Everything queued, up to a gathered block's size, as one block."""
        queue = self._queue
        first = queue.popleft()
        if not queue or len(first) >= self._batch_bytes:
            return first
        parts, size, limit = [first], len(first), self._batch_bytes
        while queue and size < limit:
            part = queue.popleft()
            parts.append(part)
            size += len(part)
        return b"".join(parts)

    async def _pump(self) -> None:
        queue, wakeup, send = self._queue, self._wakeup, self._send
        while True:
            await wakeup.wait()  # a release: what is queued is due
            wakeup.clear()
            while queue:
                # A plain wire dict, in the key order the SDK's model serializes to (pinned
                # by tests/test_wire.py): building the model costs ~9 µs a block.
                event = append_event(next(self._ids), self._block())
                try:
                    await send(event)
                except Exception as exc:
                    log.warning("voicelive-proactive: microphone stopped: %s", exc)
                    return
                self.messages_sent += 1
