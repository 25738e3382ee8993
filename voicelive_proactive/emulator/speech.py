"""Speech ready for the wire: base64 chunks per text, synthesized once and shared.

A benchmark opens a thousand sessions that all say the same greeting at the same moment, so
the cache is single-flight: the first caller synthesizes (in a worker thread, off the event
loop) and everyone else awaits that same result.
"""

from __future__ import annotations

import asyncio
import base64
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from .voice import SAMPLE_RATE, VoiceName, synthesize

__all__ = ["CHUNK_MS", "Speech", "SpeechCache", "build_speech"]

CHUNK_MS: Final = 100
"""Audio per ``response.audio.delta``: the largest the service uses, so the fewest events."""


@dataclass(frozen=True, slots=True)
class Speech:
    """One text's audio, cut into equal base64 chunks of ``chunk_ms`` each."""

    text: str
    chunks: tuple[str, ...]
    chunk_ms: int = CHUNK_MS

    @property
    def duration_ms(self) -> int:
        return len(self.chunks) * self.chunk_ms


def build_speech(text: str, voice: VoiceName = "auto", chunk_ms: int = CHUNK_MS) -> Speech:
    """Synthesize and chunk; the tail is padded with silence to a whole chunk."""
    pcm = synthesize(text, voice)
    size = SAMPLE_RATE * 2 * chunk_ms // 1000
    pcm += bytes(-len(pcm) % size)
    chunks = tuple(
        base64.b64encode(pcm[start : start + size]).decode("ascii")
        for start in range(0, len(pcm), size)
    )
    return Speech(text, chunks, chunk_ms)


class SpeechCache:
    """Bounded LRU of :class:`Speech` by text, with one synthesis in flight per text."""

    def __init__(self, voice: VoiceName = "auto", capacity: int = 128) -> None:
        self._voice: VoiceName = voice
        self._capacity = capacity
        self._done: OrderedDict[str, Speech] = OrderedDict()
        self._pending: dict[str, asyncio.Task[Speech]] = {}

    async def get(self, text: str) -> Speech:
        speech = self._done.get(text)
        if speech is not None:
            self._done.move_to_end(text)
            return speech
        task = self._pending.get(text)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(build_speech, text, self._voice))
            self._pending[text] = task
            task.add_done_callback(lambda done: self._settle(text, done))
        # shield: one cancelled waiter (a barge-in) must not cancel everybody's synthesis.
        return await asyncio.shield(task)

    def _settle(self, text: str, task: asyncio.Task[Speech]) -> None:
        self._pending.pop(text, None)
        if task.cancelled() or task.exception() is not None:
            return
        self._done[text] = task.result()
        while len(self._done) > self._capacity:
            self._done.popitem(last=False)

    async def aclose(self) -> None:
        """Wait for syntheses in flight (threads cannot be cancelled; they are short)."""
        pending = list(self._pending.values())
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
