"""Speech synthesis: eSpeak NG through the bundled wheel, or the synthetic fallback."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from emulator_helpers import pcm_of, rms, sdk, until

from voicelive_proactive.emulator import Emulator, VoiceUnavailableError, voice
from voicelive_proactive.emulator.speech import CHUNK_MS, SpeechCache, build_speech


@pytest.fixture
def no_espeak(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Behave as when the speech extra is not installed: eSpeak NG cannot load."""
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    monkeypatch.setattr(voice, "_ENGINE", [None])  # the loaded engine, if any, stays alive
    voice._synthesize.cache_clear()
    yield
    voice._synthesize.cache_clear()


def seconds(pcm: bytes) -> float:
    return len(pcm) / 2 / voice.SAMPLE_RATE


@pytest.mark.parametrize("name", ["auto", "synthetic"])
def test_speech_is_not_silent_and_grows_with_the_text(name: voice.VoiceName) -> None:
    short = voice.synthesize("Hello.", name)
    long = voice.synthesize("Hello, and welcome to the emulator. How are you today?", name)
    assert rms(short) > 300 and rms(long) > 300
    assert 0.2 < seconds(short) < seconds(long) < 10
    assert len(short) % 2 == 0


def test_espeak_is_used_when_the_wheel_is_installed() -> None:
    pytest.importorskip("espeakng_loader")
    assert voice.espeak_available()
    assert voice.synthesize("Hello there.", "espeak") != voice.synthesize(
        "Hello there.", "synthetic"
    )


def test_espeak_output_is_resampled_to_24_khz() -> None:
    pytest.importorskip("espeakng_loader")
    engine = voice._espeak()
    assert engine is not None and engine.sample_rate == 22_050
    raw = engine.synth("Testing the sample rate.")
    pcm = voice.synthesize("Testing the sample rate.", "espeak")
    # eSpeak's timing wobbles by a few samples from call to call, hence the tolerance
    assert len(pcm) // 2 == pytest.approx(raw.size * 24_000 / 22_050, rel=0.02)


def test_resample_keeps_the_duration_and_the_signal() -> None:
    t = np.arange(22_050) / 22_050
    source = (10_000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
    out = voice.resample(source, 22_050, 24_000)
    assert out.dtype == np.int16 and out.size == 24_000
    assert np.abs(out).max() == pytest.approx(10_000, rel=0.01)
    assert voice.resample(source, 24_000, 24_000) is source


def test_the_synthetic_fallback_takes_over_when_espeak_cannot_load(no_espeak: None) -> None:
    assert not voice.espeak_available()
    auto = voice.synthesize("Fallback voice.", "auto")
    assert auto == voice.synthesize("Fallback voice.", "synthetic")
    assert rms(auto) > 300
    with pytest.raises(voice.VoiceUnavailableError, match="espeakng-loader"):
        voice.synthesize("Needs eSpeak.", "espeak")


def test_the_synthetic_voice_is_deterministic_and_speaks_punctuation_only_text() -> None:
    assert voice.synthesize("Same words.", "synthetic") == voice._synthetic("Same words.").tobytes()
    assert rms(voice.synthesize("...", "synthetic")) > 100
    assert rms(voice.synthesize("...", "auto")) > 100


@pytest.mark.parametrize("text", ["", "   ", "x" * 20_001])
def test_unusable_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        voice.synthesize(text)


def test_unknown_voice_is_refused() -> None:
    with pytest.raises(ValueError, match="voice"):
        voice.synthesize("Hi", "robot")  # type: ignore[arg-type]


def test_build_speech_cuts_whole_base64_chunks() -> None:
    speech = build_speech("Chunk me please.", "synthetic")
    assert speech.chunk_ms == CHUNK_MS
    assert speech.duration_ms == len(speech.chunks) * CHUNK_MS
    assert len({len(chunk) for chunk in speech.chunks}) == 1  # padded to whole chunks


async def test_speech_cache_is_single_flight_and_bounded() -> None:
    cache = SpeechCache("synthetic", capacity=2)
    first, second = await asyncio.gather(cache.get("One."), cache.get("One."))
    assert first is second
    await cache.get("Two.")
    await cache.get("Three.")
    assert await cache.get("One.") is not first  # evicted, then rebuilt
    await cache.aclose()


async def test_an_espeak_only_emulator_refuses_to_start_without_espeak(no_espeak: None) -> None:
    emu = Emulator(voice="espeak")
    with pytest.raises(VoiceUnavailableError):
        await emu.start()
    await emu.stop()


async def test_a_synthetic_voice_emulator_speaks(no_espeak: None) -> None:
    async with Emulator(pace=0, voice="synthetic") as emu, sdk(emu) as conn:
        await conn.response.create()
        events = await until(conn, "response.done")
    assert rms(pcm_of(events)) > 300


def test_concurrent_first_use_loads_espeak_exactly_once() -> None:
    """Two engines would leave eSpeak calling the callback of the one that was dropped."""
    import threading

    if not voice.espeak_available():
        pytest.skip("eSpeak NG is not installed")
    voice._ENGINE.clear()  # in place: whatever loads now stays loaded
    barrier = threading.Barrier(8)
    engines: list[object] = []

    def first_use() -> None:
        barrier.wait()
        engines.append(voice._espeak())

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(engines) == 8 and len({id(engine) for engine in engines}) == 1
    assert len(voice._ENGINE) == 1
    assert voice.synthesize("Still speaking after a reload.", "espeak")
