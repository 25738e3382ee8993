"""Record the service's own rendering of a text: its audio, and where each word lies in it.

``voicelive-proactive record "TEXT" -o hello.wav`` is built on :func:`record_speech`. The
service speaks the text verbatim (``response.create`` with ``pre_generated_assistant_message``)
with word timestamps on (``output_audio_timestamp_types: ["word"]``); the audio it streams is
kept exactly as sent, and each ``response.audio_timestamp.delta`` becomes a
:class:`~voicelive_proactive.words.WordTiming`. :meth:`Recording.save` writes the audio as a
PCM WAV at the output format's rate (G.711 is decoded to 16-bit PCM at 8 kHz) and, next to
it, the ``*.words.json`` file (:func:`~voicelive_proactive.words.write_words_file`).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import wave
from pathlib import Path
from typing import Any, NamedTuple

from .audio.formats import OUTPUT_FORMAT_NAMES, AudioFormat, decode_to_pcm16
from .errors import ConfigurationError, ProactiveError
from .greetings import Greeting
from .words import WordsFile, WordTiming, write_words_file

__all__ = [
    "Recording",
    "RecordingError",
    "check_output_format",
    "check_wav_path",
    "record_speech",
    "words_path",
]

DEFAULT_TIMEOUT = 30.0
_PRE_GENERATED_HINT = (
    "pre_generated_assistant_message needs api-version 2026-01-01-preview or later "
    "(the SDK's default is later)"
)


class RecordingError(ProactiveError, RuntimeError):
    """The service did not deliver a complete rendering (the message says what it did)."""


class Recording(NamedTuple):
    """The service's rendering of a text. Unpacks as ``audio, format, words``."""

    audio: bytes
    """The audio exactly as the service streamed it, in :attr:`format`."""
    format: AudioFormat
    words: WordsFile
    """The transcript and each word's place in the audio (ms from its start)."""

    @property
    def pcm16(self) -> bytes:
        """The audio as 16-bit PCM at the format's rate (G.711 decoded)."""
        return decode_to_pcm16(self.audio, self.format)

    @property
    def duration_ms(self) -> int:
        """How long the audio plays, in whole ms (rounded up)."""
        return _ceil_ms(len(self.audio), self.format)

    def save(self, path: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``path`` (a mono 16-bit PCM WAV at the format's rate) and its words file.

        Returns both paths; the words file is :func:`words_path` of ``path``.
        """
        wav_path, json_path = Path(path), words_path(path)
        try:
            with wave.open(str(wav_path), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(self.format.sample_rate)
                wav.writeframes(self.pcm16)
            write_words_file(
                json_path,
                self.words.text,
                self.words.words,
                format=self.words.format,
                duration_ms=self.words.duration_ms,
            )
        except OSError as exc:
            raise ConfigurationError(f"cannot write the recording to {path!r}: {exc}") from exc
        return wav_path, json_path


def words_path(path: str | os.PathLike[str]) -> Path:
    """Where the words file of the WAV file ``path`` goes: ``hello.wav`` -> ``hello.words.json``."""
    wav = Path(path)
    stem = wav.stem if wav.suffix.lower() == ".wav" else wav.name
    return wav.with_name(f"{stem}.words.json")


def check_wav_path(path: str | os.PathLike[str]) -> None:
    """:class:`ConfigurationError` unless ``path`` can be a new file (its directory exists)."""
    wav = Path(path)
    if wav.is_dir():
        raise ConfigurationError(f"{os.fspath(path)!r} is a directory; name the WAV file to write")
    if not wav.resolve().parent.is_dir():
        raise ConfigurationError(f"cannot write {os.fspath(path)!r}: its directory does not exist")


def check_output_format(name: object) -> AudioFormat:
    """The format of an ``output_audio_format`` name; :class:`ConfigurationError` otherwise."""
    if not isinstance(name, str) or name not in OUTPUT_FORMAT_NAMES:
        names = ", ".join(OUTPUT_FORMAT_NAMES)
        raise ConfigurationError(f"the output format must be one of {names}, not {name!r}")
    return AudioFormat.from_output(name)


async def record_speech(
    conn: Any,
    text: str,
    *,
    output_format: str = "pcm16",
    voice: str | dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    require_words: bool = True,
) -> Recording:
    """Have the service on ``conn`` say ``text`` verbatim; return its audio and word timings.

    ``conn`` is an open ``azure.ai.voicelive.aio`` connection (or a ``FakeConnection``) that
    nothing else reads meanwhile. The session is updated first: ``output_format``, word
    timestamps on, and ``voice`` when given (a name, or a voice object such as
    ``{"type": "azure-standard", "name": "en-US-AvaNeural"}``). The text is checked like a
    greeting's (:class:`ConfigurationError` before anything is sent). Raises
    :class:`RecordingError` when the service refuses, ends the response other than
    ``completed``, sends no word timestamps (unless ``require_words=False``: then the words
    file has none), or takes longer than ``timeout`` seconds.
    """
    text = Greeting.spoken(text).text
    fmt = check_output_format(output_format)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    stem = secrets.token_hex(4)
    collector = _Collector(
        output_format, update_id=f"vp-record-session-{stem}", create_id=f"vp-record-{stem}"
    )
    from azure.ai.voicelive.aio import ConnectionClosed

    try:
        await asyncio.wait_for(collector.run(conn, text, output_format, voice), timeout)
    except asyncio.TimeoutError:
        raise RecordingError(
            f"the service did not finish saying the text within {timeout:g} s"
        ) from None
    except ConnectionClosed as exc:
        raise RecordingError(
            f"the connection closed before the recording was complete ({exc})"
        ) from exc
    words = tuple(collector.words)
    if require_words and not words:
        raise RecordingError(
            "the service sent no word timestamps (response.audio_timestamp.delta), so the "
            "recording could not say which words a caller heard. Use a voice and api-version "
            "that support output_audio_timestamp_types, or pass require_words=False."
        )
    transcript = collector.transcript if collector.transcript is not None else text
    audio = bytes(collector.audio)
    duration = _ceil_ms(len(audio), fmt)
    return Recording(audio, fmt, WordsFile(transcript, words, output_format, duration))


class _Collector:
    """Reads one recording's events off the connection."""

    def __init__(self, output_format: str, *, update_id: str, create_id: str) -> None:
        self.output_format = output_format
        self.update_id = update_id
        self.create_id = create_id
        self.audio = bytearray()
        self.words: list[WordTiming] = []
        self.transcript: str | None = None
        self.response_id: str | None = None

    async def run(self, conn: Any, text: str, output_format: str, voice: object) -> None:
        session: dict[str, Any] = {
            "modalities": ["text", "audio"],
            "output_audio_format": output_format,
            "output_audio_timestamp_types": ["word"],
        }
        if voice is not None:
            session["voice"] = voice
        await conn.session.update(session=session, event_id=self.update_id)
        while not await self._session_ready(await conn.recv()):
            pass
        await conn.send(
            {
                "type": "response.create",
                "event_id": self.create_id,
                "response": {
                    "pre_generated_assistant_message": {
                        "type": "message",
                        "role": "assistant",
                        "content": [{"type": "text", "text": text}],
                    }
                },
            }
        )
        while not self._take(await conn.recv()):
            pass

    async def _session_ready(self, event: Any) -> bool:
        kind = event.type
        if kind == "error":
            self._check_error(event)
            return False
        if kind != "session.updated":
            return False
        reported = (event.session or {}).get("output_audio_format") or "pcm16"
        if reported != self.output_format:
            raise RecordingError(
                f"the service kept output_audio_format {reported!r}; it was asked for "
                f"{self.output_format!r}"
            )
        return True

    def _check_error(self, event: Any) -> None:
        error = event.error
        if error is not None and error.event_id in (self.update_id, self.create_id):
            hint = f" ({_PRE_GENERATED_HINT})" if error.code == "unknown_parameter" else ""
            raise RecordingError(f"the service refused: {error.code}: {error.message}{hint}")

    def _take(self, event: Any) -> bool:
        """Keep what belongs to our response; True once it is done."""
        kind = event.type
        if kind == "error":
            self._check_error(event)
            return False
        if kind == "response.created" and self.response_id is None:
            self.response_id = event.response.id
            return False
        if self.response_id is None or _response_of(event) != self.response_id:
            return False
        if kind == "response.audio.delta":
            self.audio += event.delta
        elif kind == "response.audio_timestamp.delta":
            start = int(event.audio_offset_ms)
            self.words.append(WordTiming(event.text, start, start + int(event.audio_duration_ms)))
        elif kind == "response.audio_transcript.done":
            self.transcript = event.transcript
        elif kind == "response.done":
            status = str(getattr(event.response.status, "value", event.response.status))
            if status != "completed":
                details = event.response.status_details
                reason = getattr(details, "reason", None) if details is not None else None
                raise RecordingError(
                    f"the service ended the recording {status}" + (f" ({reason})" if reason else "")
                )
            return True
        return False


def _ceil_ms(n_bytes: int, fmt: AudioFormat) -> int:
    return -(-n_bytes * 1000 // fmt.bytes_per_second)


def _response_of(event: Any) -> str | None:
    if event.type in ("response.done", "response.created"):
        return str(event.response.id)
    response_id = event.get("response_id") if hasattr(event, "get") else None
    return str(response_id) if response_id is not None else None
