"""The first-second row measures every kind of greeting, and the prerecorded one is queued
before the service has said anything."""

from __future__ import annotations

import pytest

from benchmarks.first_sample import KINDS, TEXT, _trial
from voicelive_proactive.emulator import Emulator, synthesize

pytestmark = pytest.mark.asyncio


async def test_each_kind_reaches_the_speaker_and_the_prerecorded_one_needs_no_service() -> None:
    pcm = synthesize(TEXT, voice="synthetic")
    async with Emulator(pace=0) as emu:
        results = {kind: await _trial(emu.endpoint, emu.api_key, kind, pcm) for kind in KINDS}
        created = [sum(e["type"] == "response.created" for e in events) for events in emu.sent]
    assert all("first_sample_ms" in r for r in results.values()), results
    # Only the two service-rendered greetings made a response; the prerecorded one played
    # local audio (its text went in as an item).
    assert created == [0, 1, 1]  # prerecorded, spoken, instructed (KINDS order)
