"""Streaming conversion: same audio as converting the whole clip, and exact byte credits."""

from __future__ import annotations

import random

import numpy as np
import pytest

from voicelive_proactive.audio import formats as f
from voicelive_proactive.audio.convert import InputConverter, OutputConverter, check_formats
from voicelive_proactive.errors import ConfigurationError

OUTPUTS = ["pcm16", "pcm16_16000hz", "pcm16_8000hz", "g711_ulaw", "g711_alaw"]


def clip(fmt: f.AudioFormat, ms: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(fmt.bytes_for_ms(ms))


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.int32)


@pytest.mark.parametrize("name", OUTPUTS)
def test_chunked_output_matches_converting_the_whole_clip(name: str) -> None:
    fmt = f.AudioFormat.from_output(name)
    data = clip(fmt, 1000)
    converter = OutputConverter(fmt, 24_000)
    out, credit = bytearray(), 0
    for i in range(0, len(data), 333):  # odd-sized chunks: half samples must wait
        pcm, c = converter.convert(data[i : i + 333])
        out += pcm
        credit += c
    pcm, c = converter.flush()
    out += pcm
    credit += c

    reference = f.resample_pcm16(f.decode_to_pcm16(data, fmt), fmt.sample_rate, 24_000)
    assert len(out) == len(reference) == 48_000
    assert np.abs(samples(bytes(out)) - samples(reference)).max() <= 2  # libsoxr rounding
    assert credit == len(data), "every queued byte is accounted for, once"
    assert converter.held_bytes == 0


def test_credit_follows_the_output_and_the_filter_holds_its_delay_back() -> None:
    fmt = f.AudioFormat.from_output("g711_ulaw")
    converter = OutputConverter(fmt, 24_000)
    credited = 0
    for _ in range(10):  # 10 x 50 ms
        pcm, c = converter.convert(clip(fmt, 50))
        credited += c
        assert c * 6 <= len(pcm) + 6, "credit never runs ahead of the audio produced"
    assert 0 < converter.held_bytes <= fmt.bytes_for_ms(100)  # the delay, plus a burst
    assert credited + converter.held_bytes == 4000
    held = converter.held_bytes
    assert converter.reset() == held
    assert converter.held_bytes == 0
    pcm, c = converter.flush()
    assert (pcm, c) == (b"", 0), "after a reset there is nothing left to flush"


def test_reset_reports_what_was_dropped() -> None:
    fmt = f.AudioFormat.from_output("pcm16_16000hz")
    converter = OutputConverter(fmt, 24_000)
    _, credit = converter.convert(clip(fmt, 100) + b"\x01")  # and half a sample
    held = converter.held_bytes
    assert held == 3200 + 1 - credit and held > 1
    assert converter.reset() == held
    assert converter.held_bytes == 0


def test_24khz_pcm16_passes_through_untouched() -> None:
    converter = OutputConverter(f.PCM16_24K, 24_000)
    assert converter.passthrough and converter.ratio == 1.0
    assert converter.convert(b"\x01\x02\x03\x04") == (b"\x01\x02\x03\x04", 4)
    assert converter.flush() == (b"", 0)


def test_g711_at_8khz_into_an_8khz_file_is_only_decoded() -> None:
    fmt = f.AudioFormat.from_output("g711_alaw")
    converter = OutputConverter(fmt, 8_000)
    data = clip(fmt, 20)
    assert not converter.passthrough and converter.ratio == 2.0
    assert converter.convert(data) == (f.alaw_to_pcm16(data), len(data))


@pytest.mark.parametrize(
    ("target", "rate"),
    [("g711_ulaw", None), ("g711_alaw", None), ("pcm16", 16_000), ("pcm16", 44_100)],
)
def test_microphone_audio_is_converted_to_the_input_format(target: str, rate: int | None) -> None:
    fmt = f.AudioFormat.from_input(target, rate)
    t = np.arange(24_000) / 24_000
    tone = (np.sin(2 * np.pi * 440 * t) * 8_000).astype("<i2").tobytes()
    converter = InputConverter(24_000, fmt)
    out = b"".join(converter.convert(tone[i : i + 960]) for i in range(0, len(tone), 960))
    out += converter.flush()
    assert len(out) == fmt.bytes_per_second  # one second of the input format
    pcm = f.decode_to_pcm16(out, fmt)
    spectrum = np.abs(np.fft.rfft(samples(pcm)))
    assert abs(np.argmax(spectrum) * fmt.sample_rate / (len(pcm) // 2) - 440) < 2


def test_24khz_microphone_passes_through() -> None:
    converter = InputConverter(24_000, f.PCM16_24K)
    assert converter.passthrough
    assert converter.convert(b"\x05\x00") == b"\x05\x00"


def test_configure_formats_arguments_are_checked() -> None:
    ulaw = f.AudioFormat.from_output("g711_ulaw")
    assert check_formats(ulaw, f.PCM16_24K) == (ulaw, f.PCM16_24K)
    with pytest.raises(ConfigurationError, match="output must be an AudioFormat"):
        check_formats("g711_ulaw", f.PCM16_24K)
    with pytest.raises(ConfigurationError, match="input must be an AudioFormat"):
        check_formats(ulaw, 24_000)


@pytest.mark.parametrize(
    ("name", "byte"), [("pcm16", b"\x00"), ("g711_ulaw", b"\xff"), ("g711_alaw", b"\xd5")]
)
def test_silence_is_the_format_s_own(name: str, byte: bytes) -> None:
    fmt = f.AudioFormat.from_output(name)
    quiet = f.silence(fmt, 20)
    assert quiet == byte * fmt.bytes_for_ms(20)
    assert np.abs(samples(f.decode_to_pcm16(quiet, fmt))).max() <= 8


def test_a_transcoder_passes_equal_formats_through_and_converts_the_rest() -> None:
    from voicelive_proactive.audio.convert import Transcoder

    same = Transcoder(f.PCM16_24K, f.PCM16_24K)
    assert same.passthrough and same.convert(b"\x01\x02\x03") == b"\x01\x02\x03"

    ulaw = f.AudioFormat.from_output("g711_ulaw")
    wide = f.AudioFormat.from_input("pcm16", 16_000)
    data = clip(ulaw, 500, seed=3)
    to_wide = Transcoder(ulaw, wide)
    out = b"".join(to_wide.convert(data[i : i + 160]) for i in range(0, len(data), 160))
    out += to_wide.flush()
    reference = f.resample_pcm16(f.ulaw_to_pcm16(data), 8_000, 16_000)
    assert len(out) == len(reference)
    assert np.abs(samples(out) - samples(reference)).max() <= 2

    back = Transcoder(wide, ulaw)
    narrowed = back.convert(reference) + back.flush()
    assert len(narrowed) == len(data)
