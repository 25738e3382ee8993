"""Text to 24 kHz PCM16 speech: eSpeak NG when its wheel is installed, a synthetic voice otherwise.

eSpeak NG comes from the optional ``espeakng-loader`` wheel (the ``speech`` extra), driven
through ctypes. The system ``espeak-ng`` is never needed. eSpeak keeps global state and is not
thread-safe, so every call into it holds one process-wide lock.

Both voices say where each word starts (eSpeak's word events, the synthetic voice's own
syllables), so :func:`speak` knows where every word of the text lies in its audio
(:mod:`.alignment`): the word timestamps are the voice's, not a guess.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import re
import threading
import zlib
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .alignment import WordSpan, align
from .hearing import REGISTRY
from .options import VOICES, VoiceName

__all__ = [
    "MAX_TEXT_CHARS",
    "SAMPLE_RATE",
    "VOICES",
    "Spoken",
    "VoiceName",
    "VoiceUnavailableError",
    "espeak_available",
    "resample",
    "speak",
    "synthesize",
]

log = logging.getLogger(__name__)

SAMPLE_RATE: Final = 24_000
"""Voice Live's ``pcm16``: 24 kHz, mono, 16-bit little-endian."""


# Below this RMS eSpeak has produced (near) silence, e.g. for text that is only punctuation.
_SILENCE_RMS: Final = 50.0
_ESPEAK_MISSING: Final = (
    "voice='espeak' needs eSpeak NG: pip install 'voicelive-proactive[speech]' (espeakng-loader)"
)
MAX_TEXT_CHARS: Final = 20_000

Int16Array = npt.NDArray[np.int16]
Marks = list[tuple[int, int]]
"""``(character index, sample)``: where each word of the text starts in the audio."""


class VoiceUnavailableError(RuntimeError):
    """``voice="espeak"`` was asked for, but eSpeak NG cannot be loaded."""


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` (speak_lib.h); a list of them ends with type 0."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # characters from the start of the text, 1-based
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # samples from the start of the synthesis
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_ESPEAK_LOCK = threading.Lock()


class _Espeak:
    """The bundled libespeak-ng in synchronous mode: espeak_Synth returns once all audio is out."""

    _AUDIO_OUTPUT_SYNCHRONOUS: Final = 2
    _POS_CHARACTER: Final = 1
    _CHARS_UTF8: Final = 1
    _EVENT_LIST_TERMINATED: Final = 0
    _EVENT_WORD: Final = 1

    def __init__(self) -> None:
        import espeakng_loader  # optional: the "speech" extra

        lib: Any = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        data_path = espeakng_loader.get_data_path().encode()
        rate = int(lib.espeak_Initialize(self._AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0))
        if rate <= 0:
            raise OSError(f"espeak_Initialize failed ({rate})")
        self._chunks: list[bytes] = []
        self._marks: Marks = []
        # ctypes frees a callback object that is no longer referenced; keep it alive.
        self._callback = _SYNTH_CALLBACK(self._on_samples)
        lib.espeak_SetSynthCallback(self._callback)
        if lib.espeak_SetVoiceByName(b"en-us") != 0 and lib.espeak_SetVoiceByName(b"en") != 0:
            raise OSError("eSpeak NG has no English voice")
        self._lib = lib
        self.sample_rate = rate

    def _on_samples(self, wav: Any, count: int, events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        index = 0
        while events and events[index].type != self._EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == self._EVENT_WORD:
                self._marks.append((event.text_position - 1, event.sample))
            index += 1
        return 0  # 0 = keep going

    def synth(self, text: str) -> Int16Array:
        return self.synth_marked(text)[0]

    def synth_marked(self, text: str) -> tuple[Int16Array, Marks]:
        """The speech, and where each word starts in it (eSpeak's word events)."""
        data = text.encode("utf-8") + b"\0"
        with _ESPEAK_LOCK:
            self._chunks, self._marks = [], []
            status = self._lib.espeak_Synth(
                data, len(data), 0, self._POS_CHARACTER, 0, self._CHARS_UTF8, None, None
            )
            pcm = b"".join(self._chunks)
            marks, self._chunks, self._marks = self._marks, [], []
        if status != 0:
            raise OSError(f"espeak_Synth failed ({status})")
        return np.frombuffer(pcm, dtype="<i2").astype(np.int16), marks


_ENGINE: list[_Espeak | None] = []  # loaded once: [] until then, [engine or None] after


def _espeak() -> _Espeak | None:
    # Exactly once, under the lock: a second engine would register its own synth callback
    # with the library and, once garbage-collected, leave eSpeak calling freed memory.
    with _ESPEAK_LOCK:
        if not _ENGINE:
            try:
                _ENGINE.append(_Espeak())
            except (ImportError, OSError, RuntimeError, AttributeError) as exc:
                log.info("eSpeak NG unavailable (%s); the emulator uses its synthetic voice", exc)
                _ENGINE.append(None)
        return _ENGINE[0]


def espeak_available() -> bool:
    """True when the bundled eSpeak NG loads and initialises."""
    return _espeak() is not None


def resample(samples: Int16Array, src_rate: int, dst_rate: int) -> Int16Array:
    """Linear-interpolation resampling; plenty for a test voice."""
    if src_rate == dst_rate or samples.size == 0:
        return samples
    count = round(samples.size * dst_rate / src_rate)
    positions = np.arange(count, dtype=np.float64) * (src_rate / dst_rate)
    out = np.interp(positions, np.arange(samples.size), samples.astype(np.float64))
    return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


# Vowel-ish (F1, F2) pairs in Hz; a syllable picks one by hash, so the voice is deterministic.
_FORMANTS: Final = ((730, 1090), (530, 1840), (270, 2290), (570, 840), (300, 870), (640, 1190))
_WORD = re.compile(r"[^\W_]+|[.!?;:,]")


def _syllable(seed: int, index: int) -> npt.NDArray[np.float64]:
    duration = 0.16 + (seed % 7) * 0.01
    t = np.arange(int(SAMPLE_RATE * duration)) / SAMPLE_RATE
    f0 = 115.0 + (seed >> 3) % 50 - 4.0 * (index % 4)
    f1, f2 = _FORMANTS[(seed >> 9) % len(_FORMANTS)]
    harmonics = np.arange(1, int(3800 // f0) + 1, dtype=np.float64)[:, None] * f0
    gain = (
        1.0 / (1.0 + ((harmonics - f1) / 110.0) ** 2)
        + 0.6 / (1.0 + ((harmonics - f2) / 160.0) ** 2)
        + 0.04
    )
    # A slight pitch glide makes it sound less like an organ.
    glide = 1.0 + 0.06 * (t / duration - 0.5)
    wave = (gain * np.sin(2 * np.pi * harmonics * glide * t)).sum(axis=0)
    envelope = np.sin(np.pi * t / duration) ** 0.7
    peak = float(np.abs(wave).max()) or 1.0
    result: npt.NDArray[np.float64] = wave / peak * envelope
    return result


def _synthetic(text: str) -> Int16Array:
    """Formant-ish tones, one per syllable, with pauses at word gaps and punctuation."""
    return _synthetic_marked(text)[0]


def _synthetic_marked(text: str) -> tuple[Int16Array, Marks]:
    """The synthetic voice, and where each word's first syllable starts."""
    pieces: list[npt.NDArray[np.float64]] = []
    marks: Marks = []
    length = 0
    for position, match in enumerate(_WORD.finditer(text)):
        token = match.group()
        if token in ".!?;:,":
            pause = 0.22 if token in ".!?" else 0.12
            pieces.append(np.zeros(int(SAMPLE_RATE * pause)))
            length += pieces[-1].size
            continue
        marks.append((match.start(), length))
        seed = zlib.crc32(f"{position}:{token}".encode())
        vowel_groups = len(re.findall(r"[aeiouy]+", token.lower()))
        syllables = vowel_groups or max(1, len(token) // 3)
        for index in range(syllables):
            pieces.append(_syllable(seed + 7919 * index, index))
            length += pieces[-1].size
        pieces.append(np.zeros(int(SAMPLE_RATE * 0.05)))
        length += pieces[-1].size
    if not any(piece.any() for piece in pieces):
        # Only punctuation: still say something, the service never answers with silence.
        pieces.insert(0, _syllable(zlib.crc32(text.encode()), 0))
        marks = [(0, 0)]
    audio = np.concatenate(pieces) * 11_000.0
    return np.clip(np.rint(audio), -32768, 32767).astype(np.int16), marks


def _rms(samples: Int16Array) -> float:
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


@dataclass(frozen=True, slots=True)
class Spoken:
    """A text's speech (24 kHz mono PCM16) and where each of its words lies in it."""

    text: str
    pcm: bytes
    words: tuple[WordSpan, ...]
    """Every whitespace-separated word of ``text``, in samples of ``pcm``."""


@functools.lru_cache(maxsize=64)
def _synthesize(text: str, voice: VoiceName) -> Spoken:
    samples: Int16Array | None = None
    marks: Marks = []
    engine = None if voice == "synthetic" else _espeak()
    if voice == "espeak" and engine is None:
        raise VoiceUnavailableError(_ESPEAK_MISSING)
    if engine is not None:
        try:
            spoken, found = engine.synth_marked(text)
        except OSError as exc:
            log.warning("eSpeak NG failed (%s); using the synthetic voice", exc)
        else:
            if _rms(spoken) >= _SILENCE_RMS:
                samples = resample(spoken, engine.sample_rate, SAMPLE_RATE)
                # Resampling keeps the timeline: source sample s is output sample s * 24/22.05.
                scale = SAMPLE_RATE / engine.sample_rate
                marks = [(char, round(sample * scale)) for char, sample in found]
    if samples is None:
        samples, marks = _synthetic_marked(text)
    return Spoken(text, samples.astype("<i2").tobytes(), align(text, samples, marks))


def _check(text: str, voice: VoiceName) -> None:
    if voice not in VOICES:
        raise ValueError(f"voice must be one of {VOICES}, not {voice!r}")
    if not text.strip():
        raise ValueError("cannot synthesize empty or whitespace-only text")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text is longer than {MAX_TEXT_CHARS} characters")


def speak(text: str, voice: VoiceName = "auto") -> Spoken:
    """Like :func:`synthesize`, and also where each word of ``text`` lies in the audio."""
    _check(text, voice)
    spoken = _synthesize(text, voice)
    # What the emulator has said, it can recognize when a client plays it back.
    REGISTRY.add(text, spoken.pcm, SAMPLE_RATE, voice)
    return spoken


def synthesize(text: str, voice: VoiceName = "auto") -> bytes:
    """Speak ``text`` as 24 kHz mono PCM16 (little-endian). Never silent; cached by text.

    ``voice``: ``"auto"`` uses eSpeak NG when it loads and the synthetic voice otherwise,
    ``"espeak"`` insists on eSpeak NG (VoiceUnavailableError if missing), ``"synthetic"``
    never touches eSpeak. Blocking: call it off the event loop for long texts.
    """
    return speak(text, voice).pcm
