"""Where the agent's voice goes and where the microphone comes from.

:class:`SounddeviceAudioIO` (the default) uses the sound card through PortAudio; it imports
``sounddevice`` only when built, so importing this package never needs PortAudio.
:class:`NullAudioIO` and :class:`WavAudioIO` need no sound device at all.
"""

from voicelive_proactive.audio.base import (
    BYTES_PER_MS,
    SAMPLE_RATE,
    AudioIO,
    FormatAware,
    FrameCallback,
    Pausable,
    PlayoutAware,
)
from voicelive_proactive.audio.device import SounddeviceAudioIO
from voicelive_proactive.audio.files import NullAudioIO, WavAudioIO
from voicelive_proactive.audio.formats import PCM16_24K, AudioFormat

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
