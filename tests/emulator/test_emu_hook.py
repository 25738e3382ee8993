"""The emulator's arrival hook: every client event, stamped when its frame came off the socket."""

from __future__ import annotations

import time
from typing import Any

import pytest
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

from voicelive_proactive.emulator import Emulator


async def test_every_client_event_reaches_the_hook_in_order_even_unrecorded() -> None:
    seen: list[tuple[str, str, int]] = []

    def hook(session_id: str, event: dict[str, Any], received_ns: int) -> None:
        seen.append((session_id, event["type"], received_ns))

    before = time.monotonic_ns()
    async with (
        Emulator(pace=0, record=False, on_client_event=hook) as emu,
        connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential(emu.api_key), model="m"
        ) as conn,
    ):
        await conn.session.update(session={"modalities": ["text", "audio"]})
        await conn.response.create()
        await emu.wait_for(lambda: len(seen) >= 2)
    assert [kind for _, kind, _ in seen] == ["session.update", "response.create"]
    assert seen[0][0] == seen[1][0] and seen[0][0].startswith("sess")
    assert before <= seen[0][2] <= seen[1][2] <= time.monotonic_ns()


async def test_a_failing_hook_costs_the_session_nothing() -> None:
    def broken(session_id: str, event: dict[str, Any], received_ns: int) -> None:
        raise RuntimeError("benchmark bug")

    async with (
        Emulator(pace=0, on_client_event=broken) as emu,
        connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential(emu.api_key), model="m"
        ) as conn,
    ):
        await conn.session.update(session={"modalities": ["text", "audio"]})
        await emu.wait_sent("session.updated")


def test_the_hook_must_be_callable() -> None:
    with pytest.raises(ValueError, match="on_client_event"):
        Emulator(on_client_event="print")  # type: ignore[arg-type]
