"""The energy VAD on its own."""

from __future__ import annotations

import numpy as np
import pytest
from emulator_helpers import silence, tone
from hypothesis import given, settings
from hypothesis import strategies as st

from voicelive_proactive.emulator.vad import (
    EnergyVad,
    SpeechStarted,
    SpeechStopped,
    VadConfig,
    threshold_to_rms,
)


def feed_all(vad: EnergyVad, pcm: bytes, chunk: int = 4800) -> list[object]:
    events: list[object] = []
    for start in range(0, len(pcm), chunk):
        events += vad.feed(pcm[start : start + chunk])
    return events


def test_threshold_mapping_is_documented_log_scale() -> None:
    assert threshold_to_rms(0.5) == pytest.approx(582.7, rel=1e-3)
    assert threshold_to_rms(0.0) == pytest.approx(32.77, rel=1e-3)
    assert threshold_to_rms(1.0) == pytest.approx(10_362, rel=1e-3)


def test_loud_tone_starts_and_silence_stops_a_turn() -> None:
    vad = EnergyVad(VadConfig())
    events = feed_all(vad, silence(500) + tone(150) + silence(600))
    assert events == [SpeechStarted(200), SpeechStopped(1160)]
    assert not vad.in_speech


def test_loud_noise_counts_as_speech() -> None:
    noise = np.random.default_rng(7).normal(0, 8000, 24_000 // 5).clip(-32768, 32767)
    events = EnergyVad(VadConfig()).feed(noise.astype("<i2").tobytes())
    assert events and isinstance(events[0], SpeechStarted)


def test_silence_and_a_click_are_not_speech() -> None:
    vad = EnergyVad(VadConfig())
    assert feed_all(vad, silence(2000)) == []
    assert feed_all(vad, tone(40) + silence(1000)) == []


def test_prefix_padding_and_silence_duration_are_obeyed() -> None:
    vad = EnergyVad(VadConfig(prefix_padding_ms=0, silence_duration_ms=200))
    events = feed_all(vad, silence(1000) + tone(300) + silence(300))
    assert events == [SpeechStarted(1000), SpeechStopped(1500)]


def test_a_short_pause_does_not_end_the_turn() -> None:
    vad = EnergyVad(VadConfig(silence_duration_ms=500))
    events = feed_all(vad, tone(300) + silence(300) + tone(300) + silence(600))
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]


def test_reset_forgets_a_turn_and_reconfigure_keeps_the_timeline() -> None:
    vad = EnergyVad(VadConfig())
    feed_all(vad, tone(200))
    assert vad.in_speech
    vad.reset()
    assert not vad.in_speech
    vad.reconfigure(VadConfig(threshold=0.99))
    assert feed_all(vad, tone(300, amplitude=3000)) == []
    assert vad.position_ms == 500


def test_from_turn_detection() -> None:
    assert VadConfig.from_turn_detection(None) is None
    config = VadConfig.from_turn_detection(
        {"type": "server_vad", "threshold": 0.2, "silence_duration_ms": 800}, 16_000
    )
    assert config == VadConfig(0.2, 300, 800, 16_000)


def test_other_sample_rates() -> None:
    rate = 16_000
    t = np.arange(rate // 5) / rate
    loud = (8000 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes()
    events = EnergyVad(VadConfig(prefix_padding_ms=0, sample_rate=rate)).feed(bytes(rate) + loud)
    assert events == [SpeechStarted(500)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=30))
def test_chunking_never_changes_the_events(sizes: list[int]) -> None:
    pcm = silence(300) + tone(250) + silence(700) + tone(120) + silence(600)
    whole = EnergyVad(VadConfig()).feed(pcm)
    vad, pieces, start = EnergyVad(VadConfig()), [], 0
    for size in sizes * (len(pcm) // sum(sizes) + 1):
        pieces += vad.feed(pcm[start : start + size * 2])
        start += size * 2
        if start >= len(pcm):
            break
    assert pieces == whole
    assert [type(e) for e in whole] == [SpeechStarted, SpeechStopped] * 2


def test_a_constant_offset_is_silence() -> None:
    # PCM zeros sent on a g711 session decode to a constant near full scale: not speech.
    offset = np.full(24_000, -32124, dtype="<i2").tobytes()
    vad = EnergyVad(VadConfig())
    events = feed_all(vad, tone(300) + offset)
    assert [type(e) for e in events] == [SpeechStarted, SpeechStopped]
