"""Test doubles for code built on voicelive-proactive (and for its own tests).

``FakeConnection`` stands in for the SDK connection and ``MemoryAudioIO`` for the sound
device. With the package installed, pytest also offers the ``fake_connection`` and
``memory_audio`` fixtures.
"""

from .audio import MemoryAudioIO
from .fake import FakeConnection
from .wire import audio_response_events

__all__ = ["FakeConnection", "MemoryAudioIO", "audio_response_events"]
