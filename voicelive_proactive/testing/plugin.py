"""pytest plugin (registered through the ``pytest11`` entry point): fixtures for users' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .audio import MemoryAudioIO
from .fake import FakeConnection


@pytest.fixture
def fake_connection() -> FakeConnection:
    """A fresh :class:`FakeConnection` for each test."""
    return FakeConnection()


@pytest.fixture
def memory_audio() -> Iterator[MemoryAudioIO]:
    """A fresh :class:`MemoryAudioIO`, closed after the test."""
    audio = MemoryAudioIO()
    yield audio
    audio.close()
