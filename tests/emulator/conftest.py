from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from emulator_helpers import assert_typed

from voicelive_proactive.emulator import Emulator


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """An emulator at full speed. On teardown, every event it sent must be SDK-typed."""
    async with Emulator(pace=0) as emulator:
        yield emulator
    for events in emulator.sent:
        for event in events:
            assert_typed(event)
