"""Voice Live's audio formats, and conversion between them.

The service negotiates formats in ``session.update``/``session.updated``:

* output (``output_audio_format``): ``pcm16`` (24 kHz), ``pcm16_16000hz``, ``pcm16_8000hz``,
  ``g711_ulaw`` and ``g711_alaw`` (8 kHz, one byte a sample);
* input (``input_audio_format`` plus ``input_audio_sampling_rate``): ``pcm16`` at 8, 16, 24 or
  44.1 kHz, or g711 at 8 kHz.

:class:`AudioFormat` names one of them and knows its byte rate, which is what played
milliseconds and ``audio_end_ms`` are computed from. The codec functions turn g711 into PCM16
and back (ITU-T G.711, bit-exact with the classic ``audioop`` tables) and resample PCM16 with
libsoxr.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from voicelive_proactive.errors import ConfigurationError

if TYPE_CHECKING:  # numpy is imported by the conversions only: importing formats stays light
    import numpy as np
    import numpy.typing as npt

    Int16Array: TypeAlias = npt.NDArray[np.int16]

__all__ = [
    "INPUT_SAMPLE_RATES",
    "OUTPUT_FORMAT_NAMES",
    "PCM16_24K",
    "AudioFormat",
    "Encoding",
    "Resampler",
    "alaw_to_pcm16",
    "decode_to_pcm16",
    "encode_from_pcm16",
    "pcm16_to_alaw",
    "pcm16_to_ulaw",
    "resample_pcm16",
    "silence",
    "ulaw_to_pcm16",
]

#: How samples are stored: 16-bit little-endian PCM, or 8-bit G.711 µ-law / A-law.
Encoding: TypeAlias = Literal["pcm16", "g711_ulaw", "g711_alaw"]

#: Every ``output_audio_format`` of SDK 1.3.1, with its sample rate.
OUTPUT_FORMAT_NAMES: Final[Mapping[str, tuple[Encoding, int]]] = {
    "pcm16": ("pcm16", 24_000),
    "pcm16_16000hz": ("pcm16", 16_000),
    "pcm16_8000hz": ("pcm16", 8_000),
    "g711_ulaw": ("g711_ulaw", 8_000),
    "g711_alaw": ("g711_alaw", 8_000),
}

#: ``input_audio_sampling_rate`` values the service accepts for PCM16 input.
INPUT_SAMPLE_RATES: Final = (8_000, 16_000, 24_000, 44_100)

_G711_RATE: Final = 8_000


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """One mono audio format: its encoding and sample rate.

    >>> AudioFormat.from_output("g711_ulaw")
    AudioFormat(encoding='g711_ulaw', sample_rate=8000)
    >>> PCM16_24K.bytes_per_second, PCM16_24K.duration_ms(4800)
    (48000, 100.0)
    """

    encoding: Encoding
    sample_rate: int

    def __post_init__(self) -> None:
        if self.encoding not in ("pcm16", "g711_ulaw", "g711_alaw"):
            raise ConfigurationError(
                f"encoding must be 'pcm16', 'g711_ulaw' or 'g711_alaw', not {self.encoding!r}"
            )
        rate = self.sample_rate
        if isinstance(rate, bool) or not isinstance(rate, int) or not 1_000 <= rate <= 192_000:
            raise ConfigurationError(f"sample_rate must be an int in Hz, not {rate!r}")
        if self.encoding != "pcm16" and rate != _G711_RATE:
            raise ConfigurationError(f"{self.encoding} is always 8000 Hz, not {rate}")

    @classmethod
    def from_output(cls, name: object) -> AudioFormat:
        """The format of an ``output_audio_format`` value (``None`` means the default, pcm16)."""
        if name is None:
            return PCM16_24K
        try:
            encoding, rate = OUTPUT_FORMAT_NAMES[str(name)]
        except KeyError:
            raise ConfigurationError(
                f"unknown output_audio_format {name!r}; expected one of "
                f"{', '.join(OUTPUT_FORMAT_NAMES)}"
            ) from None
        return cls(encoding, rate)

    @classmethod
    def from_input(cls, name: object, sampling_rate: object = None) -> AudioFormat:
        """The format of ``input_audio_format`` plus ``input_audio_sampling_rate``.

        g711 is always 8 kHz (the rate is ignored, as the service reports it); PCM16 defaults
        to 24 kHz.
        """
        if name in ("g711_ulaw", "g711_alaw"):
            return cls(name, _G711_RATE)
        if name not in (None, "pcm16"):
            raise ConfigurationError(
                f"unknown input_audio_format {name!r}; expected pcm16, g711_ulaw or g711_alaw"
            )
        if sampling_rate is None:
            return PCM16_24K
        if not isinstance(sampling_rate, int) or sampling_rate not in INPUT_SAMPLE_RATES:
            raise ConfigurationError(
                f"input_audio_sampling_rate must be one of {INPUT_SAMPLE_RATES}, "
                f"not {sampling_rate!r}"
            )
        return cls("pcm16", int(sampling_rate))

    @classmethod
    def from_session(cls, session: Mapping[str, Any]) -> tuple[AudioFormat, AudioFormat]:
        """``(output, input)`` as a ``session.updated`` reports them; unknown values raise."""
        return (
            cls.from_output(session.get("output_audio_format")),
            cls.from_input(
                session.get("input_audio_format"), session.get("input_audio_sampling_rate")
            ),
        )

    @property
    def bytes_per_sample(self) -> int:
        return 2 if self.encoding == "pcm16" else 1

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.bytes_per_sample

    @property
    def output_name(self) -> str:
        """The ``output_audio_format`` value for this format (ValueError if there is none)."""
        for name, spec in OUTPUT_FORMAT_NAMES.items():
            if spec == (self.encoding, self.sample_rate):
                return name
        raise ValueError(f"{self} is not a Voice Live output format")

    def duration_ms(self, n_bytes: int) -> float:
        """How long ``n_bytes`` of this format play, in milliseconds."""
        return n_bytes * 1000.0 / self.bytes_per_second

    def bytes_for_ms(self, ms: float) -> int:
        """The whole-sample byte count of ``ms`` milliseconds (rounded down)."""
        samples = int(ms * self.sample_rate / 1000)
        return samples * self.bytes_per_sample

    def __str__(self) -> str:
        return f"{self.encoding} {self.sample_rate} Hz"


#: Voice Live's default: 24 kHz mono PCM16.
PCM16_24K: Final = AudioFormat("pcm16", 24_000)


# -- G.711 -----------------------------------------------------------------------------------
# Both laws are small table lookups. The tables are built once, from the bit layout of
# ITU-T G.711 (the same arithmetic as the reference g711.c that audioop used).

_ULAW_BIAS: Final = 0x84
_ULAW_CLIP: Final = 8159  # in 14-bit units
_ULAW_SEGMENT_ENDS: Final = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEGMENT_ENDS: Final = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


@functools.cache
def _ulaw_decode_table() -> Int16Array:
    import numpy as np

    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


@functools.cache
def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    import numpy as np

    samples = np.arange(-32768, 32768, dtype=np.int32) >> 2  # 14-bit linear
    mask = np.where(samples < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(samples), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = np.searchsorted(np.array(_ULAW_SEGMENT_ENDS), magnitude)
    code = np.where(
        segment >= 8, 0x7F, (segment << 4) | ((magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F)
    )
    return ((code ^ mask) & 0xFF).astype(np.uint8)


@functools.cache
def _alaw_decode_table() -> Int16Array:
    import numpy as np

    codes = np.arange(256, dtype=np.int32) ^ 0x55
    segment = (codes & 0x70) >> 4
    value = ((codes & 0x0F) << 4) + 8
    value = np.where(segment >= 1, value + 0x100, value)
    value = np.where(segment > 1, value << np.maximum(segment - 1, 0), value)
    return np.where(codes & 0x80, value, -value).astype(np.int16)


@functools.cache
def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    import numpy as np

    samples = np.arange(-32768, 32768, dtype=np.int32) >> 3  # 13-bit linear
    mask = np.where(samples >= 0, 0xD5, 0x55)
    magnitude = np.where(samples >= 0, samples, -samples - 1)
    segment = np.searchsorted(np.array(_ALAW_SEGMENT_ENDS), magnitude)
    low = np.where(
        segment < 2, (magnitude >> 1) & 0x0F, (magnitude >> np.maximum(segment, 1)) & 0x0F
    )
    code = np.where(segment >= 8, 0x7F, (segment << 4) | low)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


def _as_int16(pcm: bytes | bytearray | memoryview) -> Int16Array:
    import numpy as np

    if len(pcm) % 2:
        raise ValueError(f"PCM16 has an even number of bytes, got {len(pcm)}")
    return np.frombuffer(pcm, dtype="<i2")


def ulaw_to_pcm16(data: bytes | bytearray | memoryview) -> bytes:
    """Decode G.711 µ-law to 16-bit little-endian PCM (twice the bytes)."""
    import numpy as np

    return _ulaw_decode_table()[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def alaw_to_pcm16(data: bytes | bytearray | memoryview) -> bytes:
    """Decode G.711 A-law to 16-bit little-endian PCM (twice the bytes)."""
    import numpy as np

    return _alaw_decode_table()[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def pcm16_to_ulaw(pcm: bytes | bytearray | memoryview) -> bytes:
    """Encode 16-bit little-endian PCM as G.711 µ-law (half the bytes)."""
    import numpy as np

    index = _as_int16(pcm).astype(np.int32) + 32768
    return _ulaw_encode_table()[index].tobytes()


def pcm16_to_alaw(pcm: bytes | bytearray | memoryview) -> bytes:
    """Encode 16-bit little-endian PCM as G.711 A-law (half the bytes)."""
    import numpy as np

    index = _as_int16(pcm).astype(np.int32) + 32768
    return _alaw_encode_table()[index].tobytes()


def decode_to_pcm16(data: bytes | bytearray | memoryview, fmt: AudioFormat) -> bytes:
    """``data`` in ``fmt`` as PCM16 at the same sample rate (PCM16 is returned as is)."""
    if fmt.encoding == "g711_ulaw":
        return ulaw_to_pcm16(data)
    if fmt.encoding == "g711_alaw":
        return alaw_to_pcm16(data)
    return bytes(data)


def encode_from_pcm16(pcm: bytes | bytearray | memoryview, fmt: AudioFormat) -> bytes:
    """PCM16 (at ``fmt``'s sample rate) encoded as ``fmt``."""
    if fmt.encoding == "g711_ulaw":
        return pcm16_to_ulaw(pcm)
    if fmt.encoding == "g711_alaw":
        return pcm16_to_alaw(pcm)
    return bytes(pcm)


# -- resampling ------------------------------------------------------------------------------


def resample_pcm16(pcm: bytes | bytearray | memoryview, src_rate: int, dst_rate: int) -> bytes:
    """Resample a whole PCM16 clip with libsoxr; streams want :class:`Resampler`."""
    if src_rate == dst_rate or not pcm:
        return bytes(pcm)
    import numpy as np
    import soxr

    out = soxr.resample(_as_int16(pcm), src_rate, dst_rate, quality="HQ")
    return np.asarray(out, dtype="<i2").tobytes()


class Resampler:
    """Resamples a PCM16 stream chunk by chunk, keeping the filter state between chunks.

    Chunks may have any even length. The filter holds back its delay (about 16 ms) until
    more input comes or :meth:`flush` pushes it out; the output of all chunks plus the flush
    equals resampling the whole stream at once. After :meth:`flush` or :meth:`reset` the
    resampler starts a new stream.
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._stream: Any = None
        if src_rate != dst_rate:
            import soxr

            self._stream = soxr.ResampleStream(src_rate, dst_rate, 1, dtype="int16", quality="HQ")

    @property
    def passthrough(self) -> bool:
        """Whether the rates are equal, so chunks come back unchanged."""
        return self._stream is None

    def process(self, pcm: bytes | bytearray | memoryview, *, last: bool = False) -> bytes:
        """Resample the next chunk (``last=True`` also flushes, like :meth:`flush`)."""
        if self._stream is None:
            return bytes(pcm)
        import numpy as np

        out = self._stream.resample_chunk(_as_int16(pcm), last=last)
        if last:
            self._stream.clear()
        return np.asarray(out, dtype="<i2").tobytes()

    def flush(self) -> bytes:
        """The samples the filter still holds; the next chunk starts a new stream."""
        return self.process(b"", last=True)

    def reset(self) -> None:
        """Drop what the filter holds (barge-in): the next chunk starts a new stream."""
        if self._stream is not None:
            self._stream.clear()


#: The byte that encodes silence in each encoding.
_SILENCE_BYTE: Final[Mapping[str, int]] = {"pcm16": 0x00, "g711_ulaw": 0xFF, "g711_alaw": 0xD5}


def silence(fmt: AudioFormat, ms: float) -> bytes:
    """``ms`` milliseconds of silence in ``fmt`` (µ-law and A-law silence is not zero bytes)."""
    return bytes([_SILENCE_BYTE[fmt.encoding]]) * fmt.bytes_for_ms(ms)
