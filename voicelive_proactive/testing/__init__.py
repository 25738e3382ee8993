"""Test doubles for code built on voicelive-proactive (and for its own tests).

``FakeConnection`` stands in for the SDK connection, ``MemoryAudioIO`` for the sound device
and ``ManualClock`` for time. With the package installed, pytest also offers the
``fake_connection``, ``memory_audio`` and ``emulator`` fixtures.
"""

from .audio import MemoryAudioIO
from .clock import ManualClock
from .fake import FakeConnection
from .wire import audio_response_events

__all__ = ["FakeConnection", "ManualClock", "MemoryAudioIO", "audio_response_events"]
