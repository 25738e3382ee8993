"""Receipts of what was heard: the words the caller heard, and whether all of them were.

Pure functions of what the engine knows about a speech's audio: its word timings (exact),
its transcript (an estimate in proportion to the audio played), how much of it played and
how long it is.
"""

from __future__ import annotations

from collections.abc import Sequence

from .words import WordTiming, estimate_heard, heard_words

__all__ = ["Receipt", "receipt"]

Receipt = tuple[str, bool, bool]
"""``(heard_text, estimated, delivered)``."""


def receipt(
    words: Sequence[WordTiming],
    transcript: str,
    *,
    played_ms: int | None,
    total_ms: int,
) -> Receipt:
    """What was heard of a speech. ``played_ms`` is ``None`` when it played to the end."""
    if played_ms is None:
        if words:
            return heard_words(words, words[-1].end_ms), False, True
        return " ".join(transcript.split()), True, True
    if words:
        heard = heard_words(words, played_ms)
        return heard, False, all(w.end_ms <= played_ms for w in words)
    heard = estimate_heard(transcript, played_ms, total_ms)
    return heard, True, bool(transcript.strip()) and played_ms >= total_ms > 0
