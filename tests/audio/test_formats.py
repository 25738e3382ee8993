"""Audio formats: byte rates from the wire names, and G.711 bit-exact with the reference."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from voicelive_proactive.audio import formats as f
from voicelive_proactive.errors import ConfigurationError

ALL_PCM = np.arange(-32768, 32768, dtype="<i2").tobytes()
ALL_CODES = bytes(range(256))


@pytest.mark.parametrize(
    ("name", "rate", "per_second"),
    [
        ("pcm16", 24_000, 48_000),
        ("pcm16_16000hz", 16_000, 32_000),
        ("pcm16_8000hz", 8_000, 16_000),
        ("g711_ulaw", 8_000, 8_000),
        ("g711_alaw", 8_000, 8_000),
    ],
)
def test_output_formats_know_their_byte_rate(name: str, rate: int, per_second: int) -> None:
    fmt = f.AudioFormat.from_output(name)
    assert fmt.sample_rate == rate
    assert fmt.bytes_per_second == per_second
    assert fmt.duration_ms(per_second) == 1000.0
    assert fmt.bytes_for_ms(100) == per_second // 10
    assert fmt.output_name == name


def test_input_format_reads_the_sampling_rate_and_g711_is_8k() -> None:
    assert f.AudioFormat.from_input("pcm16", 44_100) == f.AudioFormat("pcm16", 44_100)
    assert f.AudioFormat.from_input(None) == f.PCM16_24K
    assert f.AudioFormat.from_input("g711_alaw", 24_000) == f.AudioFormat("g711_alaw", 8_000)
    session = {"output_audio_format": "g711_ulaw", "input_audio_sampling_rate": 16_000}
    assert f.AudioFormat.from_session(session) == (
        f.AudioFormat("g711_ulaw", 8_000),
        f.AudioFormat("pcm16", 16_000),
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: f.AudioFormat.from_output("mp3"),
        lambda: f.AudioFormat.from_input("opus"),
        lambda: f.AudioFormat.from_input("pcm16", 11_025),
        lambda: f.AudioFormat("g711_ulaw", 16_000),
        lambda: f.AudioFormat("pcm16", True),  # type: ignore[arg-type]
    ],
)
def test_unknown_formats_are_typed_errors(call: object) -> None:
    with pytest.raises(ConfigurationError):
        call()  # type: ignore[operator]


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="audioop was removed in Python 3.13")
def test_g711_matches_the_audioop_reference_for_every_value() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    assert f.pcm16_to_ulaw(ALL_PCM) == audioop.lin2ulaw(ALL_PCM, 2)
    assert f.pcm16_to_alaw(ALL_PCM) == audioop.lin2alaw(ALL_PCM, 2)
    assert f.ulaw_to_pcm16(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)
    assert f.alaw_to_pcm16(ALL_CODES) == audioop.alaw2lin(ALL_CODES, 2)


@pytest.mark.parametrize("encoding", ["g711_ulaw", "g711_alaw"])
def test_g711_round_trip_is_stable_and_halves_the_bytes(encoding: f.Encoding) -> None:
    fmt = f.AudioFormat(encoding, 8_000)
    encoded = f.encode_from_pcm16(ALL_PCM, fmt)
    assert len(encoded) == len(ALL_PCM) // 2
    decoded = f.decode_to_pcm16(encoded, fmt)
    # Decoding then encoding a code word gives it back (µ-law's "negative zero" 0x7F
    # decodes to 0, which encodes as 0xFF).
    again = f.encode_from_pcm16(f.decode_to_pcm16(ALL_CODES, fmt), fmt)
    expected = ALL_CODES.replace(b"\x7f", b"\xff") if encoding == "g711_ulaw" else ALL_CODES
    assert again == expected
    error = np.abs(np.frombuffer(decoded, "<i2").astype(np.int32) - np.frombuffer(ALL_PCM, "<i2"))
    assert error.max() <= 1024  # the coarsest G.711 step, at full scale


def test_odd_pcm_is_refused() -> None:
    with pytest.raises(ValueError, match="even"):
        f.pcm16_to_ulaw(b"\x00\x01\x02")


def test_streaming_resampler_matches_the_rate_and_keeps_a_tone() -> None:
    t = np.arange(8_000) / 8_000
    tone = (np.sin(2 * np.pi * 440 * t) * 10_000).astype("<i2").tobytes()
    stream = f.Resampler(8_000, 24_000)
    out = b"".join(stream.process(tone[i : i + 320]) for i in range(0, len(tone), 320))
    out += stream.flush()
    assert len(out) == 3 * len(tone)
    samples = np.frombuffer(out, "<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * 24_000 / samples.size
    assert abs(peak_hz - 440) < 2
    assert f.resample_pcm16(tone, 8_000, 8_000) == tone
    assert len(f.resample_pcm16(tone, 8_000, 16_000)) == 2 * len(tone)
