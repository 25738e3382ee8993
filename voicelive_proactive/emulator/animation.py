"""Word timestamps and visemes for a spoken text, spread evenly over its audio.

The emulator's voice does not report where each word falls, so words share the audio evenly
(the transcript deltas follow the same timeline). Viseme ids are Azure's 22 (0 = silence),
picked per letter: a rough mouth, not a phonetic transcription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Word", "viseme_ids", "word_timeline"]

_WORDS: Final = re.compile(r"\S+")
_LETTER_VISEMES: Final = {
    **dict.fromkeys("a", 1),
    **dict.fromkeys("e", 4),
    **dict.fromkeys("iy", 6),
    **dict.fromkeys("o", 8),
    **dict.fromkeys("uw", 7),
    "h": 12,
    "r": 13,
    "l": 14,
    **dict.fromkeys("szc", 15),
    "j": 16,
    **dict.fromkeys("fv", 18),
    **dict.fromkeys("dtn", 19),
    **dict.fromkeys("kgqx", 20),
    **dict.fromkeys("pbm", 21),
}
SILENCE: Final = 0


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    offset_ms: int
    duration_ms: int


def word_timeline(text: str, total_ms: int) -> list[Word]:
    """Each word of ``text`` with an equal share of ``total_ms``."""
    words = _WORDS.findall(text)
    if not words:
        return []
    bounds = [index * total_ms // len(words) for index in range(len(words) + 1)]
    return [
        Word(word, bounds[index], bounds[index + 1] - bounds[index])
        for index, word in enumerate(words)
    ]


def viseme_ids(word: Word) -> list[tuple[int, int]]:
    """``(audio_offset_ms, viseme_id)`` pairs for one word, spread over its duration."""
    ids: list[int] = []
    for letter in word.text.lower():
        viseme = _LETTER_VISEMES.get(letter)
        if viseme is not None and (not ids or ids[-1] != viseme):
            ids.append(viseme)
    if not ids:
        return []
    step = word.duration_ms / len(ids)
    return [(word.offset_ms + int(index * step), viseme) for index, viseme in enumerate(ids)]
