from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from emulator_helpers import assert_typed

from voicelive_proactive.emulator import Emulator
from voicelive_proactive.emulator.hearing import REGISTRY


@pytest.fixture(scope="session", autouse=True)
def private_utterances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """These tests share synthesized utterances through their own directory only."""
    previous = REGISTRY.directory
    directory = tmp_path_factory.mktemp("utterances")
    REGISTRY.use_directory(directory)
    yield directory
    REGISTRY.use_directory(previous)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """An emulator at full speed. On teardown, every event it sent must be SDK-typed."""
    async with Emulator(pace=0) as emulator:
        yield emulator
    for events in emulator.sent:
        for event in events:
            assert_typed(event)
