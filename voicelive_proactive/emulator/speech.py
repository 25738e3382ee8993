"""Speech ready for the wire: base64 chunks per text, synthesized once and shared.

A benchmark opens a thousand sessions that all say the same greeting at the same moment, so
the cache is single-flight: the first caller synthesizes (in a worker thread, off the event
loop) and everyone else awaits that same result.
"""

from __future__ import annotations

import asyncio
import base64
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from voicelive_proactive.audio.formats import (
    PCM16_24K,
    AudioFormat,
    encode_from_pcm16,
    resample_pcm16,
)

from .alignment import spans_to_words
from .animation import Word
from .voice import MAX_TEXT_CHARS, SAMPLE_RATE, VoiceName, speak, synthesize

__all__ = ["CHUNK_MS", "Speech", "SpeechCache", "build_speech"]

CHUNK_MS: Final = 100
"""Audio per ``response.audio.delta``: the largest the service uses, so the fewest events."""


@dataclass(frozen=True, slots=True)
class Speech:
    """One text's audio in one format, cut into equal base64 chunks of ``chunk_ms`` each."""

    text: str
    chunks: tuple[str, ...]
    chunk_ms: int = CHUNK_MS
    format: AudioFormat = PCM16_24K
    words: tuple[Word, ...] = ()
    """Each word of ``text`` and where its audio lies, in ms: the same in every format."""

    @property
    def duration_ms(self) -> int:
        return len(self.chunks) * self.chunk_ms


def build_speech(
    text: str, voice: VoiceName = "auto", chunk_ms: int = CHUNK_MS, fmt: AudioFormat = PCM16_24K
) -> Speech:
    """Synthesize, convert to ``fmt`` and chunk; the tail is padded with silence.

    Every chunk holds exactly ``chunk_ms`` of audio, whatever the format (100 ms is 4,800
    bytes of pcm16 and 800 bytes of g711). The word timings come from the voice itself.
    """
    samples = fmt.sample_rate * chunk_ms // 1000
    spoken = speak(text, voice)
    # Milliseconds from the 24 kHz original: every format gets the same timings.
    words = tuple(spans_to_words(spoken.words, SAMPLE_RATE))
    pcm = resample_pcm16(spoken.pcm, PCM16_24K.sample_rate, fmt.sample_rate)
    pcm += bytes(-len(pcm) % (samples * 2))  # pad in PCM: silence in every encoding
    data = encode_from_pcm16(pcm, fmt)
    size = samples * fmt.bytes_per_sample
    chunks = tuple(
        base64.b64encode(data[start : start + size]).decode("ascii")
        for start in range(0, len(data), size)
    )
    return Speech(text, chunks, chunk_ms, fmt, words)


class SpeechCache:
    """Bounded LRU of :class:`Speech` by (text, format), one synthesis in flight for each."""

    def __init__(self, voice: VoiceName = "auto", capacity: int = 128) -> None:
        self._voice: VoiceName = voice
        self._capacity = capacity
        self._done: OrderedDict[tuple[str, AudioFormat], Speech] = OrderedDict()
        self._pending: dict[tuple[str, AudioFormat], asyncio.Task[Speech]] = {}

    async def get(self, text: str, fmt: AudioFormat = PCM16_24K) -> Speech:
        key = (text, fmt)
        speech = self._done.get(key)
        if speech is not None:
            self._done.move_to_end(key)
            return speech
        task = self._pending.get(key)
        if task is None:
            task = asyncio.ensure_future(
                asyncio.to_thread(build_speech, text, self._voice, CHUNK_MS, fmt)
            )
            self._pending[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        # shield: one cancelled waiter (a barge-in) must not cancel everybody's synthesis.
        return await asyncio.shield(task)

    def _settle(self, key: tuple[str, AudioFormat], task: asyncio.Task[Speech]) -> None:
        self._pending.pop(key, None)
        if task.cancelled() or task.exception() is not None:
            return
        self._done[key] = task.result()
        while len(self._done) > self._capacity:
            self._done.popitem(last=False)

    async def learn(self, phrases: Iterable[str]) -> None:
        """Synthesize ``phrases`` (off the loop) so that their speech is recognized later."""
        voice = self._voice
        for phrase in phrases:
            if phrase.strip() and len(phrase) <= MAX_TEXT_CHARS:
                await asyncio.to_thread(synthesize, phrase, voice)

    async def aclose(self) -> None:
        """Wait for syntheses in flight (threads cannot be cancelled; they are short)."""
        pending = list(self._pending.values())
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
