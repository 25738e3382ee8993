"""Synthesized stand-ins for the recorded audio the SDK's live tests read from ``tests/asset``.

The sdist ships the tests but not their recordings (upstream keeps those in a separate assets
repository). Each stand-in here is synthesized speech, laid out to keep what the tests rely on:

* the file format: WAV with its header (the tests send the whole file, header included, as
  ``input_audio_buffer.append`` audio, exactly as they do with the originals), raw G.711, MP3;
* the sample rate a file name or test states (``largest_lake.16kHz.wav``, ``..._24kHz.wav``);
* the speech timeline a test asserts: ``largest_lake.*`` speech starts at once and ends at
  1.48 s, so that a 200 ms end-of-turn silence closes it at ``audio_end_ms == 1680`` as the
  test expects; ``4-1.wav`` holds two utterances (two ``speech_started``); the filler file
  holds only filler words.

The words are what the tests imply (a transcript the test asserts, a weather question about
Beijing); no emulator ever sees this text, only the audio.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from voicelive_proactive.audio.formats import pcm16_to_alaw, pcm16_to_ulaw, resample_pcm16
from voicelive_proactive.emulator import synthesize
from voicelive_proactive.emulator.voice import espeak_available

__all__ = [
    "ASSETS",
    "AssetSpec",
    "Segment",
    "build_assets",
    "install_assets",
    "render_pcm16",
]

SYNTH_RATE = 24_000  # synthesize() speaks 24 kHz mono PCM16
FRAME_MS = 20
# Speech is "on" where a 20 ms frame is at least -35 dBFS RMS: what a server VAD at its default
# threshold (0.5) counts as speech. Trimming and timing use the same measure.
VOICED_RMS = 32768 * 10 ** (-35 / 20)
# Voiced frames are brought to -20 dBFS RMS: ordinary, clearly audible speech.
TARGET_RMS = 32768 * 10 ** (-20 / 20)

Container = Literal["wav", "raw", "mp3"]
Encoding = Literal["pcm16", "g711_ulaw", "g711_alaw"]
Int16Array = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class Segment:
    """``seconds`` of silence (``text`` None) or of ``text`` spoken.

    Speech with ``seconds`` None keeps the voice's own pace; with a number, the utterance is
    time-scaled so its voiced part lasts exactly that long.
    """

    text: str | None
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class AssetSpec:
    name: str
    segments: tuple[Segment, ...]
    sample_rate: int = SYNTH_RATE
    container: Container = "wav"
    encoding: Encoding = "pcm16"
    why: str = ""

    def describe(self) -> str:
        """E.g. ``WAV, PCM16 24 kHz`` or ``raw G.711 A-law 8 kHz``."""
        codec = {"pcm16": "PCM16", "g711_ulaw": "G.711 mu-law", "g711_alaw": "G.711 A-law"}
        container = {"wav": "WAV,", "raw": "raw", "mp3": "MP3,"}[self.container]
        codec_name = "mono" if self.container == "mp3" else codec[self.encoding]
        return f"{container} {codec_name} {self.sample_rate / 1000:g} kHz"


def _silence(seconds: float) -> Segment:
    return Segment(None, seconds)


_LAKE = "What's the largest lake in the world?"
# 0.1 s of room tone, 1.38 s of speech (ending at 1.48 s), 0.2 s of tail.
_LAKE_TIMELINE = (_silence(0.1), Segment(_LAKE, 1.38), _silence(0.2))
_WEATHER = "What's the weather like in Beijing today?"
_WEATHER_TIMELINE = (_silence(0.2), Segment(_WEATHER), _silence(0.4))

ASSETS: tuple[AssetSpec, ...] = (
    AssetSpec(
        "largest_lake.wav",
        _LAKE_TIMELINE,
        why="the transcription test asserts this sentence; VAD tests time its speech",
    ),
    *(
        AssetSpec(
            f"largest_lake.{rate // 1000}kHz.wav",
            _LAKE_TIMELINE,
            sample_rate=rate,
            why="input_audio_sampling_rate tests: speech_started at 0 ms, speech_stopped "
            "at 1680 +- 50 ms with a 200 ms silence",
        )
        for rate in (8_000, 16_000, 44_100)
    ),
    AssetSpec(
        "largest_lake.ulaw",
        _LAKE_TIMELINE,
        sample_rate=8_000,
        container="raw",
        encoding="g711_ulaw",
        why="input_audio_format g711_ulaw: raw 8 kHz mu-law",
    ),
    AssetSpec(
        "largest_lake.alaw",
        _LAKE_TIMELINE,
        sample_rate=8_000,
        container="raw",
        encoding="g711_alaw",
        why="input_audio_format g711_alaw: raw 8 kHz A-law",
    ),
    AssetSpec(
        "ask_weather.wav",
        _WEATHER_TIMELINE,
        why="tool tests expect get_weather/get_time with location Beijing",
    ),
    AssetSpec(
        "ask_weather.mp3",
        _WEATHER_TIMELINE,
        container="mp3",
        why="the no-turn-detection test sends the MP3 file's bytes as audio",
    ),
    AssetSpec(
        "4-1.wav",
        (
            _silence(0.3),
            Segment("I like to read books in the park on sunny days."),
            _silence(1.2),
            Segment("My brother plays the guitar every evening."),
            _silence(0.6),
        ),
        why="two utterances: the VAD tests count exactly two speech_started events",
    ),
    AssetSpec(
        "filler_word_24kHz.wav",
        (
            _silence(0.3),
            Segment("Um"),
            _silence(0.7),
            Segment("Uh"),
            _silence(0.7),
            Segment("Hmm"),
            _silence(0.6),
        ),
        why="only filler words: with remove_filler_words no speech_started is expected",
    ),
    AssetSpec(
        "audio_overlap.wav",
        (
            _silence(0.2),
            Segment("Hi, the money from my QR code payments has not reached my bank account."),
            _silence(0.5),
        ),
        why="read only by a test the SDK marks skip; provided so the asset set is complete",
    ),
)


def _frame_rms(samples: Int16Array) -> npt.NDArray[np.float64]:
    frame = SYNTH_RATE * FRAME_MS // 1000
    usable = samples.size // frame * frame
    frames = samples[:usable].astype(np.float64).reshape(-1, frame)
    rms: npt.NDArray[np.float64] = np.sqrt(np.mean(frames**2, axis=1))
    return rms


def _voiced_part(samples: Int16Array) -> Int16Array:
    """``samples`` from the first to the last voiced frame, brought to speech level."""
    rms = _frame_rms(samples)
    if rms.size == 0 or rms.max() == 0:
        raise ValueError("the synthesized speech is silent")
    # The level of the active frames (within 30 dB of the loudest) sets the gain ...
    active = rms[rms >= rms.max() * 10 ** (-30 / 20)]
    gain = TARGET_RMS / float(np.sqrt(np.mean(active**2)))
    # ... and, at that level, the voiced span is what a default server VAD counts as speech.
    voiced = np.flatnonzero(rms * gain >= VOICED_RMS)
    frame = SYNTH_RATE * FRAME_MS // 1000
    part = samples[voiced[0] * frame : (voiced[-1] + 1) * frame].astype(np.float64) * gain
    return np.clip(np.rint(part), -32768, 32767).astype(np.int16)


def _speech(text: str, seconds: float | None) -> Int16Array:
    raw = np.frombuffer(synthesize(text), dtype="<i2").astype(np.int16)
    voiced = _voiced_part(raw)
    if seconds is None:
        return voiced
    # Time-scale by resampling: played at 24 kHz, the clip then lasts `seconds`.
    pretend_rate = round(SYNTH_RATE * voiced.size / (seconds * SYNTH_RATE))
    scaled = resample_pcm16(voiced.astype("<i2").tobytes(), pretend_rate, SYNTH_RATE)
    out = np.frombuffer(scaled, dtype="<i2").astype(np.int16)
    target = round(seconds * SYNTH_RATE)
    return np.pad(out, (0, max(0, target - out.size)))[:target]


def render_pcm16(segments: Sequence[Segment], sample_rate: int) -> bytes:
    """The timeline as mono PCM16 at ``sample_rate``."""
    pieces: list[Int16Array] = []
    for segment in segments:
        if segment.text is None:
            pieces.append(np.zeros(round((segment.seconds or 0.0) * SYNTH_RATE), dtype=np.int16))
        else:
            pieces.append(_speech(segment.text, segment.seconds))
    pcm = np.concatenate(pieces).astype("<i2").tobytes()
    return resample_pcm16(pcm, SYNTH_RATE, sample_rate)


def _wav(pcm: bytes, sample_rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm)
    return buffer.getvalue()


_MP3_SCRIPT = (
    "import sys, soundfile\n"
    "data, rate = soundfile.read(sys.argv[1], dtype='int16')\n"
    "soundfile.write(sys.argv[2], data, rate, format='MP3')\n"
)


def _mp3(pcm: bytes, sample_rate: int, encoder_python: Path) -> bytes:
    """MP3 through soundfile (libsndfile), which lives in the SDK tests' venv."""
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.wav", Path(tmp) / "out.mp3"
        source.write_bytes(_wav(pcm, sample_rate))
        command = [str(encoder_python), "-c", _MP3_SCRIPT, str(source), str(target)]
        subprocess.run(command, check=True)
        return target.read_bytes()


def _encode(spec: AssetSpec, pcm: bytes, encoder_python: Path) -> bytes:
    if spec.encoding == "g711_ulaw":
        body = pcm16_to_ulaw(pcm)
    elif spec.encoding == "g711_alaw":
        body = pcm16_to_alaw(pcm)
    else:
        body = pcm
    if spec.container == "wav":
        return _wav(body, spec.sample_rate)
    if spec.container == "mp3":
        return _mp3(body, spec.sample_rate, encoder_python)
    return body


def _digest(specs: Sequence[AssetSpec], engine: str) -> str:
    payload = json.dumps([asdict(spec) for spec in specs], sort_keys=True) + engine
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def voice_engine() -> str:
    return "espeak-ng" if espeak_available() else "synthetic"


def build_assets(
    cache_dir: Path, encoder_python: Path, specs: Sequence[AssetSpec] = ASSETS
) -> Path:
    """Synthesize every asset once into ``cache_dir`` (reused while the specs are the same)."""
    folder = cache_dir / f"assets-{_digest(specs, voice_engine())}"
    done = folder / ".complete"
    if done.is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        pcm = render_pcm16(spec.segments, spec.sample_rate)
        (folder / spec.name).write_bytes(_encode(spec, pcm, encoder_python))
    done.write_text(voice_engine() + "\n")
    return folder


def install_assets(folder: Path, asset_dir: Path) -> list[str]:
    """Copy the synthesized assets into the tests' ``asset`` folder; returns their names."""
    asset_dir.mkdir(parents=True, exist_ok=True)
    names = sorted(path.name for path in folder.iterdir() if not path.name.startswith("."))
    for name in names:
        shutil.copyfile(folder / name, asset_dir / name)
    return names
