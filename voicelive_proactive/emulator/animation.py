"""A spoken word's place in its audio, and the visemes for it.

Where each word lies comes from the voice (see :mod:`.alignment`). Viseme ids are Azure's
22 (0 = silence), picked per letter and spread over the word's audio: a rough mouth, not a
phonetic transcription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["Word", "viseme_ids"]

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
    """A word of a response's transcript and its audio, in ms from the item's start."""

    text: str
    offset_ms: int
    duration_ms: int


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
