"""What the emulator can understand of a user's audio: speech it synthesized itself.

The emulator is no speech recognizer. It keeps a registry of the utterances it has
synthesized (every :func:`~voicelive_proactive.emulator.synthesize` call, the emulator's own
replies, ``Emulator(phrases=...)`` and a session's ``input_audio_transcription.phrase_list``)
and recognizes committed audio as one of them when their loudness contours match.

The contour is a 10 ms log-energy envelope, trimmed to the voiced span, so matching survives
what a client does to audio on the way: resampling to 8, 16 or 44.1 kHz, G.711 coding, a gain
change, added silence, and a uniform change of speed (the client's envelope is stretched to
the registered length before comparing). Two envelopes match when their normalized
cross-correlation is at least :data:`MATCH_THRESHOLD` (0.95 for utterances under half a
second) and no other text comes within 0.02. Audio that was not synthesized, several
registered utterances run together in one turn, or two registered texts that sound alike in
loudness alone (one-syllable words), are not recognized.
"""

from __future__ import annotations

import array
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from .utterance_store import UtteranceStore, default_directory

__all__ = [
    "ENVELOPE_MS",
    "MATCH_THRESHOLD",
    "REGISTRY",
    "Heard",
    "Listener",
    "Transcriber",
    "UtteranceRegistry",
    "envelope",
]

Transcriber = Callable[[bytes, int], "str | None"]
"""``transcriber(pcm16, sample_rate) -> text or None``: a test's own speech recognizer."""

ENVELOPE_MS: Final = 10
MATCH_THRESHOLD: Final = 0.9
_SHORT_FRAMES: Final = 50  # under half a second a contour is a bump or two: be stricter
_SHORT_THRESHOLD: Final = 0.95
_MARGIN: Final = 0.02  # a runner-up this close (another text) makes the match ambiguous
_FLOOR_DB: Final = -100.0
_BAND_HZ: Final = (100.0, 3_400.0)
_TRIMS_DB: Final = (18.0, 24.0, 30.0, 36.0)
"""The voiced span starts and ends this close to the peak. A quiet first or last syllable
falls in or out of a span depending on what the audio went through, so contours are cut
at several depths and the best-matching pair counts."""
_ACTIVE_MIN_DB: Final = -75.0
_RANGE_DB: Final = 40.0  # compare contours over this range below their peaks
_MIN_FRAMES: Final = 12  # 120 ms of voiced audio at least
_SPEED_RANGE: Final = (0.6, 1.6)
_SHORT_SPEED_RANGE: Final = (0.9, 1.11)  # a bump stretched far fits any other bump
_SMOOTH: Final = np.ones(3) / 3
_MEDIAN_FRAMES: Final = 3
_CLICK_DB: Final = 6.0
_BATCH_MS: Final = 500

FloatArray = npt.NDArray[np.float64]


def envelope(pcm: bytes, sample_rate: int) -> FloatArray:
    """Per 10 ms frame, the telephone-band (100-3,400 Hz) level in dB; partial frames dropped.

    Only that band is measured so that 8 kHz and G.711 audio, which lose everything above
    4 kHz, keep the same contour as the original.
    """
    frame = sample_rate * ENVELOPE_MS // 1000
    samples = np.frombuffer(pcm, dtype="<i2")
    count = samples.size // frame
    if count == 0:
        return np.zeros(0)
    blocks = samples[: count * frame].astype(np.float64).reshape(count, frame) / 32768.0
    spectrum = np.fft.rfft(blocks, axis=1)
    hertz = np.fft.rfftfreq(frame, 1.0 / sample_rate)
    band = (hertz >= _BAND_HZ[0]) & (hertz <= _BAND_HZ[1])
    power = np.sum(np.abs(spectrum[:, band]) ** 2, axis=1) * 2.0 / (frame * frame)
    levels: FloatArray = 10.0 * np.log10(np.maximum(power, 10 ** (_FLOOR_DB / 10)))
    return levels


def _contours(levels: FloatArray) -> tuple[FloatArray, ...]:
    """The voiced span at each trim depth, smoothed, relative to the peak, clipped."""
    if levels.size < _MEDIAN_FRAMES:
        return ()
    # A lone loud frame is a click (a WAV header sent as audio, say), not speech: it would
    # pass for the loudest moment and shift the whole contour. Bring it down to its
    # neighbours' level; everything else stays as it was.
    median = np.median(sliding_window_view(np.pad(levels, 1, constant_values=_FLOOR_DB), 3), axis=1)
    levels = np.where(levels > median + _CLICK_DB, median, levels)
    peak = float(levels.max())
    found = []
    for depth in _TRIMS_DB:
        active = np.flatnonzero((levels >= peak - depth) & (levels >= _ACTIVE_MIN_DB))
        if active.size == 0:
            continue
        span = levels[active[0] : active[-1] + 1]
        if span.size < _MIN_FRAMES:
            continue
        smooth = np.convolve(span, _SMOOTH, mode="same")
        found.append(np.maximum(smooth - peak, -_RANGE_DB))
    return tuple(found)


def _best(heard: tuple[FloatArray, ...], known: tuple[FloatArray, ...]) -> float:
    # Lengths first: most registered utterances are far too long or short to compare.
    shortest, longest = min(k.size for k in known), max(k.size for k in known)
    lengths = [h.size for h in heard]
    if max(lengths) < shortest * _SPEED_RANGE[0] or min(lengths) > longest * _SPEED_RANGE[1]:
        return -1.0
    return max((_similarity(h, k) for h in heard for k in known), default=-1.0)


def _similarity(heard: FloatArray, known: FloatArray) -> float:
    """Normalized cross-correlation once ``heard`` is stretched to ``known``'s length."""
    ratio = heard.size / known.size
    low, high = _SPEED_RANGE if known.size >= _SHORT_FRAMES else _SHORT_SPEED_RANGE
    if not low <= ratio <= high:
        return -1.0
    positions = np.linspace(0, heard.size - 1, known.size)
    stretched = np.interp(positions, np.arange(heard.size), heard)
    a = stretched - stretched.mean()
    b = known - known.mean()
    scale = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b) / scale) if scale > 0 else -1.0


@dataclass(frozen=True, slots=True)
class _Entry:
    text: str
    contours: tuple[FloatArray, ...]


class UtteranceRegistry:
    """Synthesized utterances by (text, voice), bounded LRU; safe to use from any thread.

    With a ``directory``, utterances are also shared with other processes through it
    (see :mod:`.utterance_store`).
    """

    def __init__(self, capacity: int = 512, directory: Path | None = None) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._store = UtteranceStore(directory) if directory is not None else None

    @property
    def directory(self) -> Path | None:
        return self._store.directory if self._store is not None else None

    def use_directory(self, directory: Path | None) -> None:
        """Share through ``directory`` from now on (None: this process only)."""
        with self._lock:
            self._store = UtteranceStore(directory) if directory is not None else None

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(self, text: str, pcm: bytes, sample_rate: int, voice: str = "") -> None:
        """Remember ``text`` as spoken in ``pcm`` (PCM16 mono)."""
        key = (text, voice)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return
        contours = _contours(envelope(pcm, sample_rate))
        if not contours:
            return
        with self._lock:
            self._remember(key, contours)
            store = self._store
        if store is not None:
            store.write(text, voice, [contour.tolist() for contour in contours])

    def _remember(self, key: tuple[str, str], contours: tuple[FloatArray, ...]) -> None:
        self._entries[key] = _Entry(key[0], contours)
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def recognize(self, levels: FloatArray) -> str | None:
        """The registered text whose contour best matches ``levels``, if one matches well."""
        heard = _contours(levels)
        if not heard:
            return None
        with self._lock:
            if self._store is not None:
                for text, voice, shared in self._store.read_new():
                    if (text, voice) not in self._entries:
                        arrays = tuple(np.asarray(each, dtype=np.float64) for each in shared)
                        self._remember((text, voice), arrays)
            entries = list(self._entries.values())
        scores: dict[str, float] = {}
        for entry in entries:
            score = _best(heard, entry.contours)
            scores[entry.text] = max(score, scores.get(entry.text, -1.0))
        ranked = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
        if not ranked:
            return None
        text, score = ranked[0]
        needed = _SHORT_THRESHOLD if heard[0].size < _SHORT_FRAMES else MATCH_THRESHOLD
        if score < needed or (len(ranked) > 1 and ranked[1][1] > score - _MARGIN):
            return None
        return text

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


REGISTRY: Final = UtteranceRegistry(directory=default_directory())
"""Every utterance synthesized in this process (and, shared, by others on this machine)."""


@dataclass(frozen=True, slots=True)
class Heard:
    """One committed stretch of user audio, as the emulator kept it."""

    levels: FloatArray
    pcm: bytes | None
    sample_rate: int


class Listener:
    """Keeps the uncommitted audio's envelope (and its PCM when a transcriber needs it)."""

    def __init__(self, *, keep_pcm: bool = False) -> None:
        self.keep_pcm = keep_pcm
        self._levels = array.array("d")
        self._first_frame = 0  # the session frame (10 ms) that _levels[0] is
        self._carry = bytearray()
        self._pcm = bytearray()
        self._rate = 24_000

    def feed(self, pcm: bytes, sample_rate: int) -> None:
        if sample_rate != self._rate:
            self._flush()
            self._carry, self._pcm = bytearray(), bytearray()
            self._rate = sample_rate
        self._carry += pcm
        if self.keep_pcm:
            self._pcm += pcm
        # The envelope is computed in batches: numpy's per-call cost dwarfs 100 ms of audio.
        if len(self._carry) >= sample_rate * 2 * _BATCH_MS // 1000:
            self._flush()

    def _flush(self) -> None:
        frame_bytes = self._rate * ENVELOPE_MS // 1000 * 2
        whole = len(self._carry) - len(self._carry) % frame_bytes
        if whole:
            self._levels.extend(envelope(bytes(self._carry[:whole]), self._rate).tolist())
            del self._carry[:whole]

    def take(self, until_ms: float | None = None) -> Heard:
        """The audio up to ``until_ms`` on the session timeline (None: all of it)."""
        self._flush()
        count = len(self._levels)
        if until_ms is not None:
            count = max(0, min(count, round(until_ms / ENVELOPE_MS) - self._first_frame))
        levels = np.array(self._levels[:count], dtype=np.float64)
        del self._levels[:count]
        self._first_frame += count
        pcm = None
        if self.keep_pcm:
            cut = len(self._pcm) if until_ms is None else count * self._rate // 100 * 2
            pcm, self._pcm = bytes(self._pcm[:cut]), self._pcm[cut:]
        if until_ms is None and self._carry:
            # Under 10 ms that went with this commit: the timeline moves on a whole frame.
            self._carry.clear()
            self._first_frame += 1
        return Heard(levels, pcm, self._rate)

    def clear(self) -> None:
        self.take()
