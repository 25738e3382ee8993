"""Where each word of a text lies in its synthesized speech, from the synthesizer's own marks.

The voice reports where each word *starts* (eSpeak NG's word events; the synthetic voice
knows where it put each syllable). A word's audio then runs until the next word starts;
the silence at either end of that stretch (a comma's pause, a stop's closure before the
word) is not the word, so each span is trimmed to its audible samples. The transcript's
words are its whitespace-separated pieces (``"Hi,"``, ``"Contoso."``): what the service's
``response.audio_timestamp.delta`` reports, and what ``heard_text`` joins back together.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from .animation import Word

__all__ = ["AUDIBLE", "WordSpan", "align", "spans_to_words"]

AUDIBLE: Final = 64
"""Samples at or below this magnitude (-54 dBFS) are silence for trimming a word."""

_PIECES: Final = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class WordSpan:
    """One transcript word and its audible samples ``[start, end)`` in the speech."""

    text: str
    start: int
    end: int


def align(
    text: str, samples: npt.NDArray[np.int16], starts: Sequence[tuple[int, int]]
) -> tuple[WordSpan, ...]:
    """Every whitespace-separated word of ``text``, where ``samples`` say it.

    ``starts`` are ``(character index, sample)`` marks in order: a word starts at its
    first mark. A mark that falls in the spaces between words belongs to the next word. A
    word with no mark (a dash, a lone symbol the voice does not speak) gets no audio: it
    sits, zero-long, where the word before it ended.
    """
    pieces = [(match.start(), match.end(), match.group()) for match in _PIECES.finditer(text)]
    ends = [end for _, end, _ in pieces]
    first: dict[int, int] = {}
    latest = 0
    for char, sample in starts:
        index = bisect.bisect_right(ends, char)  # the first word that ends after the mark
        if index >= len(pieces) or index in first or sample < latest:
            continue  # a later mark of a word already placed, or one out of order
        first[index] = latest = min(max(sample, 0), samples.size)
    if pieces and not first:
        first[0] = 0  # no marks at all: whatever is audible is the first word
    marked = sorted(first)
    stops = {index: first[following] for index, following in itertools.pairwise(marked)}
    spans: list[WordSpan] = []
    previous_end = 0
    for index, (_, _, word) in enumerate(pieces):
        if index not in first:
            spans.append(WordSpan(word, previous_end, previous_end))
            continue
        begin, stop = first[index], stops.get(index, samples.size)
        loud = np.flatnonzero(np.abs(samples[begin:stop].astype(np.int32)) > AUDIBLE)
        if loud.size:
            span = WordSpan(word, begin + int(loud[0]), begin + int(loud[-1]) + 1)
        else:
            span = WordSpan(word, begin, begin)
        spans.append(span)
        previous_end = span.end
    return tuple(spans)


def spans_to_words(spans: Sequence[WordSpan], sample_rate: int) -> list[Word]:
    """The spans in whole milliseconds: each word's audio within its span, never overlapping.

    The start rounds down and the end up, so a word counts as heard only once all of it
    played; where two words touch within a millisecond the later one starts where the
    earlier ends.
    """
    words: list[Word] = []
    previous_end = 0
    for span in spans:
        start = max(span.start * 1000 // sample_rate, previous_end)
        end = max(-(-span.end * 1000 // sample_rate), start)
        words.append(Word(span.text, start, end - start))
        previous_end = end
    return words
