"""Handshake and session configuration, through the real SDK."""

from __future__ import annotations

from azure.ai.voicelive.models import (
    RequestSession,
    ServerEventSessionCreated,
    ServerEventSessionUpdated,
    ServerVad,
)
from emulator_helpers import sdk, until

from voicelive_proactive.emulator import Emulator


async def test_session_created_comes_first_with_an_id_and_defaults(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        first = await conn.recv()
    assert isinstance(first, ServerEventSessionCreated)
    assert first.session.id and first.session.id.startswith("sess_")
    assert first.session.model == "gpt-realtime"
    assert first.session.turn_detection.type == "server_vad"
    assert first.session.input_audio_format == "pcm16"
    assert emu.connections[0].session_id == first.session.id


async def test_every_session_update_is_answered_with_the_merged_config(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        created = await conn.recv()
        await conn.session.update(
            session=RequestSession(
                instructions="Be brief.", turn_detection=ServerVad(threshold=0.7)
            )
        )
        first = (await until(conn, "session.updated"))[-1]
        await conn.session.update(session={"turn_detection": {"silence_duration_ms": 900}})
        second = (await until(conn, "session.updated"))[-1]
    assert isinstance(first, ServerEventSessionUpdated)
    assert first.session.id == second.session.id == created.session.id
    assert first.session.instructions == "Be brief."
    # nested objects merge field by field; untouched fields keep their values
    turn = second.session.turn_detection
    assert (turn.threshold, turn.silence_duration_ms, turn.prefix_padding_ms) == (0.7, 900, 300)
    assert second.session.instructions == "Be brief."
    assert emu.connections[0].session["turn_detection"]["silence_duration_ms"] == 900


async def test_session_update_can_switch_turn_detection_off_and_not_change_the_id(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": None, "id": "sess_hijack"})
        updated = (await until(conn, "session.updated"))[-1]
    assert updated.session.turn_detection is None
    assert updated.session.id != "sess_hijack"


async def test_invalid_session_values_are_errors_naming_the_event(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"turn_detection": {"type": "server_vad", "threshold": 7}}, event_id="evt_bad"
        )
        error = (await until(conn, "error"))[-1]
    assert error.error.param == "session.turn_detection.threshold"
    assert error.error.event_id == "evt_bad"
    assert emu.connections[0].session["turn_detection"]["threshold"] == 0.5
    assert "session.updated" not in [e["type"] for e in emu.sent[0]]


async def test_model_query_parameter_becomes_the_session_model(emu: Emulator) -> None:
    async with sdk(emu, model="gpt-4o-mini-realtime") as conn:
        created = await conn.recv()
    assert created.session.model == "gpt-4o-mini-realtime"
