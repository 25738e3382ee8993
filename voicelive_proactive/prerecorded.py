"""``PrerecordedGreeting``: the first words play the instant the session starts.

A spoken greeting costs a round trip and the service's synthesis before the first sample
plays (hundreds of milliseconds, more on a busy region). A prerecorded greeting has its audio
already: it goes to the ``AudioIO`` the moment the session starts, before ``session.updated``,
and its text goes into the conversation as an assistant message, so the model knows what it
said. No ``response.create`` is sent.

Record the service's own voice once with ``voicelive-proactive record "TEXT" -o hello.wav``
(which also writes ``hello.words.json``, the timing of every word): the caller then hears the
same voice as the rest of the call, and on barge-in the conversation keeps exactly the words
the caller heard.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from .errors import ConfigurationError
from .greetings import Greeting, GreetingContext, GreetingStrategy, _check_text
from .words import WordTiming, read_words_file

__all__ = ["PrerecordedGreeting"]

# WAV sample rates (PCM16 mono) and the Voice Live output format each one is.
_WAV_FORMATS = {24_000: "pcm16", 16_000: "pcm16_16000hz", 8_000: "pcm16_8000hz"}
_BYTE_RATES = {
    "pcm16": 48_000,
    "pcm16_16000hz": 32_000,
    "pcm16_8000hz": 16_000,
    "g711_ulaw": 8_000,
    "g711_alaw": 8_000,
}
_HINT = (
    'Record it with `voicelive-proactive record "TEXT" -o hello.wav`, or convert it with '
    "`sox in.wav -r 24000 -c 1 -b 16 out.wav`."
)


class PrerecordedGreeting(GreetingStrategy):
    """Play ``audio`` at once when the session starts, and put ``text`` in the conversation.

    ``audio`` is a WAV file (16-bit mono PCM at 24, 16 or 8 kHz) or bytes in ``format`` (an
    ``output_audio_format`` name: ``pcm16`` is 24 kHz, also ``pcm16_16000hz``,
    ``pcm16_8000hz``, ``g711_ulaw``, ``g711_alaw``). ``words`` are the timings of its words:
    a ``*.words.json`` file, a sequence of :class:`~voicelive_proactive.words.WordTiming`, or
    ``None``, which reads ``hello.words.json`` beside ``hello.wav`` when it exists. With
    them, what the caller heard before a barge-in is exact to the word; without, it is
    estimated.

    Everything is read and checked here, so a missing or malformed file fails at
    construction, not mid-call.
    """

    def __init__(
        self,
        text: str,
        audio: str | os.PathLike[str] | bytes,
        *,
        words: str | os.PathLike[str] | Sequence[WordTiming] | None = None,
        format: str = "pcm16",
    ) -> None:
        self._text = _check_text(text, "The prerecorded greeting's text")
        if isinstance(audio, (bytes, bytearray, memoryview)):
            if format not in _BYTE_RATES:
                raise ConfigurationError(
                    f"format must be one of {', '.join(_BYTE_RATES)}, not {format!r}"
                )
            pcm, self._format, self._source = bytes(audio), format, "bytes"
            if format.startswith("pcm16") and len(pcm) % 2:
                raise ConfigurationError("PCM16 audio must have an even number of bytes")
        elif isinstance(audio, (str, os.PathLike)):
            pcm, self._format = _read_wav(audio)
            self._source = os.fspath(audio)
        else:
            raise ConfigurationError(
                f"audio must be a WAV file's path or bytes, not {type(audio).__name__}"
            )
        if not pcm:
            raise ConfigurationError("the prerecorded greeting has no audio")
        self._audio = pcm
        self._words = _words(words, audio)
        duration = self.duration_ms
        for word in self._words:
            if word.end_ms > duration + 50:
                raise ConfigurationError(
                    f"the word {word.text!r} ends at {word.end_ms} ms, after the audio "
                    f"({duration} ms): the words file does not belong to this audio"
                )
        self._greeting = Greeting.prerecorded(
            self._text, self._audio, audio_format=self._format, words=self._words
        )

    @property
    def text(self) -> str:
        return self._text

    @property
    def format(self) -> str:
        """The audio's ``output_audio_format`` name."""
        return self._format

    @property
    def words(self) -> tuple[WordTiming, ...]:
        return self._words

    @property
    def duration_ms(self) -> int:
        return len(self._audio) * 1000 // _BYTE_RATES[self._format]

    def render(self, context: GreetingContext) -> Greeting:
        return self._greeting

    def __repr__(self) -> str:
        return (
            f"PrerecordedGreeting({self._text!r}, audio={self._source!r}, "
            f"{self.duration_ms} ms {self._format}, {len(self._words)} words)"
        )


def is_prerecorded(strategy: object) -> bool:
    """The strategy plays local audio (so it may start before the session is ready)."""
    return isinstance(strategy, PrerecordedGreeting)


def _read_wav(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    import wave  # only when a file is read: keeps `import voicelive_proactive` light

    name = os.fspath(path)
    try:
        with wave.open(name, "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            pcm = wav.readframes(wav.getnframes())
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"the prerecorded greeting's WAV file {name!r} is missing"
        ) from exc
    except (wave.Error, EOFError, OSError) as exc:
        raise ConfigurationError(f"{name!r} is not a PCM WAV file ({exc}). {_HINT}") from exc
    if channels != 1 or width != 2 or rate not in _WAV_FORMATS:
        raise ConfigurationError(
            f"{name!r} is {rate} Hz, {channels} channel(s), {8 * width}-bit; a prerecorded "
            f"greeting must be mono 16-bit PCM at 24000, 16000 or 8000 Hz. {_HINT}"
        )
    return pcm, _WAV_FORMATS[rate]


def _words(
    words: str | os.PathLike[str] | Sequence[WordTiming] | None,
    audio: str | os.PathLike[str] | bytes,
) -> tuple[WordTiming, ...]:
    if words is None:
        if isinstance(audio, (str, os.PathLike)):
            stem, _ = os.path.splitext(os.fspath(audio))
            sibling = stem + ".words.json"
            if os.path.exists(sibling):
                return read_words_file(sibling).words
        return ()
    if isinstance(words, (str, os.PathLike)):
        return read_words_file(words).words
    result = tuple(words)
    for word in result:
        if not isinstance(word, WordTiming):
            raise ConfigurationError(
                f"words must be WordTiming values or a *.words.json path, not {word!r}"
            )
    return result
