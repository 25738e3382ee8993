"""The session's audio formats, on the emulator's side of the wire.

Output: ``pcm16`` (24 kHz), ``pcm16_8000hz``, ``pcm16_16000hz``, ``g711_ulaw``, ``g711_alaw``,
and the other ``pcm16_<rate>hz`` values the SDK's live tests use with Azure voices (22,050,
24,000, 44,100 and 48,000 Hz). Input: ``pcm16`` at ``input_audio_sampling_rate`` (8, 16, 24 or
44.1 kHz), or g711 (always 8 kHz, which ``session.updated`` then reports). Every conversion goes
through :mod:`voicelive_proactive.audio.formats` (G.711 bit-exact with audioop, libsoxr).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from voicelive_proactive.audio.formats import (
    INPUT_SAMPLE_RATES,
    OUTPUT_FORMAT_NAMES,
    PCM16_24K,
    AudioFormat,
    decode_to_pcm16,
    encode_from_pcm16,
    resample_pcm16,
)

from .checks import Problem

__all__ = [
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "effective_rate",
    "input_format",
    "input_problem",
    "output_format",
    "output_format_problem",
    "to_output",
    "to_pcm16",
]

_EXTRA_PCM_RATES: Final = (22_050, 24_000, 44_100, 48_000)
OUTPUT_FORMATS: Final[Mapping[str, AudioFormat]] = {
    **{name: AudioFormat(*spec) for name, spec in OUTPUT_FORMAT_NAMES.items()},
    **{f"pcm16_{rate}hz": AudioFormat("pcm16", rate) for rate in _EXTRA_PCM_RATES},
}
INPUT_FORMATS: Final = ("pcm16", "g711_ulaw", "g711_alaw")
_G711_RATE: Final = 8_000


def output_format_problem(value: object, param: str) -> Problem | None:
    if value is None or (isinstance(value, str) and value in OUTPUT_FORMATS):
        return None
    supported = ", ".join(f"'{name}'" for name in OUTPUT_FORMATS)
    return Problem(
        "invalid_value", f"Invalid value: {value!r}. Supported values are: {supported}.", param
    )


def input_problem(session: Mapping[str, Any]) -> Problem | None:
    kind = session.get("input_audio_format")
    if kind is not None and kind not in INPUT_FORMATS:
        return Problem(
            "invalid_value",
            f"Invalid value: {kind!r}. Supported values are: 'pcm16', 'g711_ulaw', 'g711_alaw'.",
            "session.input_audio_format",
        )
    rate = session.get("input_audio_sampling_rate")
    if kind in (None, "pcm16") and rate is not None and rate not in INPUT_SAMPLE_RATES:
        rates = ", ".join(str(each) for each in INPUT_SAMPLE_RATES)
        return Problem(
            "invalid_value",
            f"input_audio_sampling_rate must be one of {rates}; got {rate!r}.",
            "session.input_audio_sampling_rate",
        )
    return None


def output_format(name: object) -> AudioFormat:
    """The format of a (checked) ``output_audio_format``; None means pcm16."""
    return OUTPUT_FORMATS.get(name, PCM16_24K) if isinstance(name, str) else PCM16_24K


def input_format(session: Mapping[str, Any]) -> AudioFormat:
    """The format of a (checked) session's input audio."""
    kind = session.get("input_audio_format")
    if kind in ("g711_ulaw", "g711_alaw"):
        return AudioFormat(kind, _G711_RATE)
    rate = session.get("input_audio_sampling_rate")
    return AudioFormat("pcm16", rate) if isinstance(rate, int) else PCM16_24K


def effective_rate(session: Mapping[str, Any]) -> int:
    """What ``session.updated`` reports as ``input_audio_sampling_rate``."""
    return input_format(session).sample_rate


def to_output(pcm24k: bytes, fmt: AudioFormat) -> bytes:
    """24 kHz PCM16 speech in ``fmt`` (resampled with soxr, then encoded)."""
    return encode_from_pcm16(resample_pcm16(pcm24k, PCM16_24K.sample_rate, fmt.sample_rate), fmt)


def to_pcm16(data: bytes, fmt: AudioFormat) -> bytes:
    """Client audio in ``fmt`` as PCM16 at ``fmt``'s rate (g711 decoded)."""
    return decode_to_pcm16(data, fmt)
