"""pytest plugin (registered through the ``pytest11`` entry point): fixtures for users' tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

from .audio import MemoryAudioIO
from .fake import FakeConnection

if TYPE_CHECKING:
    from voicelive_proactive.emulator import Emulator


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


try:
    import pytest_asyncio
except ImportError:  # the emulator fixture is async: it needs pytest-asyncio

    @pytest.fixture
    def emulator() -> None:
        """Needs pytest-asyncio (``pip install pytest-asyncio``)."""
        pytest.fail("the emulator fixture needs pytest-asyncio: pip install pytest-asyncio")

else:

    @pytest_asyncio.fixture
    async def emulator() -> AsyncIterator[Emulator]:  # type: ignore[misc]  # see the fallback
        """A running Voice Live emulator on loopback (audio as fast as possible), stopped after
        the test. Connect with ``connect(endpoint=emulator.endpoint,
        credential=AzureKeyCredential(emulator.api_key), model="gpt-realtime")``."""
        from voicelive_proactive.emulator import Emulator

        async with Emulator(pace=0) as running:
            yield running
