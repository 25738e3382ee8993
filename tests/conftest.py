from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from voicelive_proactive.testing import FakeConnection

Deliver = Callable[..., Any]


async def deliver(proactive: Any, fake: FakeConnection, *events: dict[str, Any]) -> None:
    """Push wire events through the fake (so the SDK deserializes them) into handle()."""
    for event in events:
        fake.push(event)
        await proactive.handle(await fake.recv())


@pytest.fixture
def session_updated() -> dict[str, Any]:
    return {"type": "session.updated", "session": {"id": "sess_1"}}
