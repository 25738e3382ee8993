"""Input audio transcription: what was heard in a committed user item, and its events.

The text comes from a test's own ``transcriber`` when it gives one, else from the registry
of synthesized utterances (:mod:`.hearing`). The stand-in model hears it either way; the
``conversation.item.input_audio_transcription.*`` events and the item's ``transcript`` only
appear when the session sets ``input_audio_transcription``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Final

from .hearing import REGISTRY, Heard, Transcriber

__all__ = ["MAX_FILLER_MS", "Recognition", "is_filler", "recognize", "transcription_events"]

log = logging.getLogger(__name__)

_WORDS: Final = re.compile(r"\S+\s*")
_FILLERS: Final = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "hmm", "hm", "mm", "mmm", "er", "erm", "ah", "eh"}
)
MAX_FILLER_MS: Final = 1_000
"""With ``remove_filler_words``, speech longer than this is a turn whatever it says."""
_ONE_DELTA_MODELS: Final = frozenset({"whisper-1"})
"""Models that send the whole transcript in one delta; the others stream it word by word."""


@dataclass(frozen=True, slots=True)
class Recognition:
    text: str | None
    """None: nothing recognized (the service then completes with an empty transcript)."""
    error: str | None = None
    """Why the transcriber failed: the item gets ``...transcription.failed``."""


async def recognize(heard: Heard, transcriber: Transcriber | None) -> Recognition:
    """Ask the transcriber (in a worker thread), then the registry."""
    if transcriber is not None and heard.pcm is not None:
        try:
            text = await asyncio.to_thread(transcriber, heard.pcm, heard.sample_rate)
        except Exception as exc:  # the test's recognizer failing is a transcription failure
            log.info("the emulator's transcriber failed: %r", exc)
            return Recognition(None, f"{type(exc).__name__}: {exc}")
        if text is not None:
            return Recognition(str(text))
    # Off the loop: a large registry takes milliseconds to search.
    return Recognition(await asyncio.to_thread(REGISTRY.recognize, heard.levels))


def transcription_events(
    item_id: str, recognition: Recognition, options: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The events for one item: deltas then ``completed``, or ``failed``."""
    where = {"item_id": item_id, "content_index": 0}
    if recognition.error is not None:
        error = {
            "type": "transcription_error",
            "code": "transcription_failed",
            "message": f"Input audio transcription failed: {recognition.error}",
            "param": None,
        }
        return [("conversation.item.input_audio_transcription.failed", {**where, "error": error})]
    text = recognition.text or ""
    model = options.get("model")
    pieces = [text] if model in _ONE_DELTA_MODELS else _WORDS.findall(text)
    events: list[tuple[str, dict[str, Any]]] = [
        ("conversation.item.input_audio_transcription.delta", {**where, "delta": piece})
        for piece in pieces
        if piece
    ]
    events.append(
        ("conversation.item.input_audio_transcription.completed", {**where, "transcript": text})
    )
    return events


def is_filler(text: str | None) -> bool:
    """True for a recognized text made only of filler words ("Um.", "uh, hmm")."""
    words = re.findall(r"[a-z]+", (text or "").lower())
    return bool(words) and all(word in _FILLERS for word in words)
