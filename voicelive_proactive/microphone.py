"""``MicrophoneUplink``: microphone frames from the audio thread to the service."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from .audio.base import AudioIO
from .wire import append_event

__all__ = ["MicrophoneUplink"]

log = logging.getLogger("voicelive_proactive")

# Microphone blocks waiting to be sent. At 20 ms a block this is 10 s of audio; past it the
# oldest blocks are dropped so a stalled connection cannot grow memory without bound.
MAX_QUEUED_BLOCKS = 500


class MicrophoneUplink:
    """Streams an ``AudioIO``'s capture as ``input_audio_buffer.append``, one per block.

    Frames arrive on the audio driver's thread; ``call_soon_threadsafe`` hands them to the
    event loop, where one task sends them in order.
    """

    def __init__(
        self,
        send: Callable[[Any], Awaitable[None]],
        event_ids: Iterator[str],
    ) -> None:
        self._send = send
        self._ids = event_ids
        self._queue: deque[bytes] = deque(maxlen=MAX_QUEUED_BLOCKS)
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.frames_dropped = 0
        """Blocks dropped because the connection could not keep up."""

    def start(self, audio: AudioIO, loop: asyncio.AbstractEventLoop) -> None:
        """Start capture on ``audio`` and the task that sends what it captures."""
        if self._task is not None:
            return
        queue, wakeup = self._queue, self._wakeup

        def enqueue(pcm: bytes) -> None:  # on the loop's thread
            if len(queue) == queue.maxlen:
                self.frames_dropped += 1
            queue.append(pcm)
            wakeup.set()

        def on_frame(pcm: bytes) -> None:  # on the audio thread
            # RuntimeError: the loop has closed, so nobody is listening any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(enqueue, pcm)

        self._task = loop.create_task(self._pump(), name="vp-microphone")
        audio.start_capture(on_frame)

    def stop(self) -> asyncio.Task[None] | None:
        """Stop sending; returns the cancelled task so the caller may await it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        return task

    async def _pump(self) -> None:
        queue, wakeup, send = self._queue, self._wakeup, self._send
        while True:
            while not queue:
                wakeup.clear()
                await wakeup.wait()
            # A plain wire dict, in the key order the SDK's model serializes to (pinned by
            # tests/test_wire.py): building the model costs ~9 µs a block, 450 µs a second.
            event = append_event(next(self._ids), queue.popleft())
            try:
                await send(event)
            except Exception as exc:
                log.warning("voicelive-proactive: microphone stopped: %s", exc)
                return
