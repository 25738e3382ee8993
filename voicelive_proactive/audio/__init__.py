"""Where the agent's voice goes and where the microphone comes from.

:class:`SounddeviceAudioIO` (the default) uses the sound card through PortAudio; it imports
``sounddevice`` only when built, so importing this package never needs PortAudio.
:class:`NullAudioIO` and :class:`WavAudioIO` need no sound device at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voicelive_proactive.audio.base import (
    BYTES_PER_MS,
    SAMPLE_RATE,
    AudioIO,
    FormatAware,
    FrameCallback,
    Pausable,
    PlayoutAware,
)
from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat

if TYPE_CHECKING:
    from voicelive_proactive.audio.device import SounddeviceAudioIO
    from voicelive_proactive.audio.files import NullAudioIO, WavAudioIO

__all__ = [
    "BYTES_PER_MS",
    "PCM16_24K",
    "SAMPLE_RATE",
    "AudioFormat",
    "AudioIO",
    "FormatAware",
    "FrameCallback",
    "NullAudioIO",
    "Pausable",
    "PlayoutAware",
    "SounddeviceAudioIO",
    "WavAudioIO",
]

# The backends load on first use: an app that brings its own audio (or none) never pays for
# the device and file machinery.
_LAZY = {
    "SounddeviceAudioIO": "voicelive_proactive.audio.device",
    "NullAudioIO": "voicelive_proactive.audio.files",
    "WavAudioIO": "voicelive_proactive.audio.files",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
