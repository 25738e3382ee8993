"""Word timings: which words of a speech the caller heard, given how much of it played.

With ``output_audio_timestamp_types: ["word"]`` the service sends one
``response.audio_timestamp.delta`` per spoken word, with offsets in the item's own audio. The
words heard are then exact: those whose audio ends at or before the played position. Without
timings, the heard words can only be estimated from the transcript, in proportion to the
audio played, and are flagged as an estimate.

A ``*.words.json`` file (written by ``voicelive-proactive record``) stores the timings of a
prerecorded greeting::

    {"text": "Hi, this is Contoso.", "format": "pcm16", "duration_ms": 1480,
     "words": [{"text": "Hi,", "start_ms": 50, "end_ms": 310}, ...]}

No I/O here except :func:`read_words_file` and :func:`write_words_file`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigurationError

__all__ = [
    "WordTiming",
    "WordsFile",
    "estimate_heard",
    "heard_words",
    "read_words_file",
    "write_words_file",
]


@dataclass(frozen=True, slots=True)
class WordTiming:
    """One spoken word and where its audio lies in the item (milliseconds from its start)."""

    text: str
    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ConfigurationError(f"a word's text must be a str, not {self.text!r}")
        for name in ("start_ms", "end_ms"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigurationError(f"a word's {name} must be an int >= 0, not {value!r}")
        if self.end_ms < self.start_ms:
            raise ConfigurationError(
                f"the word {self.text!r} ends ({self.end_ms} ms) before it starts "
                f"({self.start_ms} ms)"
            )


@dataclass(frozen=True, slots=True)
class WordsFile:
    """The contents of a ``*.words.json`` file."""

    text: str
    words: tuple[WordTiming, ...]
    format: str = "pcm16"
    duration_ms: int | None = None


def heard_words(words: Iterable[WordTiming], played_ms: int) -> str:
    """The words whose audio ends at or before ``played_ms``, joined by spaces."""
    return " ".join(w.text.strip() for w in words if w.end_ms <= played_ms and w.text.strip())


def estimate_heard(transcript: str, played_ms: int, total_ms: int) -> str:
    """The leading words of ``transcript`` in proportion to ``played_ms`` of ``total_ms``.

    Only whole words count, rounding down: it never claims a word the caller may not have
    heard in full. Everything, when all of it played.
    """
    text = transcript.strip()
    if not text or played_ms <= 0 or total_ms <= 0:
        return ""
    if played_ms >= total_ms:
        return " ".join(text.split())
    parts = text.split()
    # Speech time follows characters more closely than word counts (long words take longer).
    budget = len(text) * played_ms / total_ms
    heard: list[str] = []
    used = 0
    for word in parts:
        used += len(word) + (1 if heard else 0)
        if used > budget:
            break
        heard.append(word)
    return " ".join(heard)


def read_words_file(path: str | os.PathLike[str]) -> WordsFile:
    """Read and validate a ``*.words.json`` file; :class:`ConfigurationError` says what is
    wrong with it."""
    try:
        with open(path, encoding="utf-8") as f:
            data: Any = json.load(f)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the words file {os.fspath(path)!r}: {exc}") from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"the words file {os.fspath(path)!r} is not valid JSON: {exc}"
        ) from exc
    where = f"the words file {os.fspath(path)!r}"
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where} must hold a JSON object")
    text = data.get("text")
    if not isinstance(text, str):
        raise ConfigurationError(f'{where} needs a "text" string')
    raw = data.get("words")
    if not isinstance(raw, list):
        raise ConfigurationError(f'{where} needs a "words" list')
    words: list[WordTiming] = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{where}: words[{index}] must be an object")
        fields: dict[str, Any] = entry
        try:
            words.append(WordTiming(fields["text"], fields["start_ms"], fields["end_ms"]))
        except KeyError as exc:
            raise ConfigurationError(f"{where}: words[{index}] lacks {exc}") from None
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: words[{index}]: {exc}") from None
    fmt = data.get("format", "pcm16")
    duration = data.get("duration_ms")
    if not isinstance(fmt, str):
        raise ConfigurationError(f'{where}: "format" must be a string')
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
        raise ConfigurationError(f'{where}: "duration_ms" must be an int')
    return WordsFile(text, tuple(words), fmt, duration)


def write_words_file(
    path: str | os.PathLike[str],
    text: str,
    words: Sequence[WordTiming],
    *,
    format: str = "pcm16",
    duration_ms: int | None = None,
) -> None:
    """Write a ``*.words.json`` file that :func:`read_words_file` reads back."""
    data = {
        "text": text,
        "format": format,
        "duration_ms": duration_ms,
        "words": [{"text": w.text, "start_ms": w.start_ms, "end_ms": w.end_ms} for w in words],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
