"""Every injectable fault, seen from the real SDK."""

from __future__ import annotations

import itertools
import time

import pytest
from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError
from azure.ai.voicelive.models import InputTextContentPart, SystemMessageItem
from emulator_helpers import pcm_of, sdk, types_of, until

from voicelive_proactive.emulator import Emulator, Faults


async def test_drop_after_events_aborts_the_socket(emu: Emulator) -> None:
    emu.faults.drop_after_events = 3
    async with sdk(emu) as conn:
        await conn.response.create()
        events = [event async for event in conn]  # ends when the socket drops
    assert len(events) == 3
    assert types_of(events) == ["session.created", "response.created", "response.output_item.added"]
    await emu.wait_for(lambda: emu.connections[0].closed)


async def test_drop_after_the_nth_event_of_a_type_cuts_a_response_mid_audio(emu: Emulator) -> None:
    emu.faults.drop_after = ("response.audio.delta", 2)
    async with sdk(emu) as conn:
        await conn.response.create()
        events = [event async for event in conn]  # ends when the socket drops
    assert types_of(events).count("response.audio.delta") == 2
    assert types_of(events)[-1] == "response.audio.delta"
    assert "response.done" not in types_of(events)
    await emu.wait_for(lambda: emu.connections[0].closed)


async def test_drop_after_counts_only_its_own_type(emu: Emulator) -> None:
    emu.faults.drop_after = ("response.done", 2)
    async with sdk(emu) as conn:
        await conn.response.create(response={"modalities": ["text"]})
        first = await until(conn, "response.done")
        await conn.response.create(response={"modalities": ["text"]})
        rest = [event async for event in conn]
    assert first[-1].response.status == "completed"
    assert types_of(rest)[-1] == "response.done"
    assert len([e for e in emu.sent[0] if e["type"] == "response.done"]) == 2
    await emu.wait_for(lambda: emu.connections[0].closed)


async def test_faults_apply_per_connection_and_can_change_between_them(emu: Emulator) -> None:
    emu.faults.drop_after_events = 1
    async with sdk(emu) as conn:
        assert len([event async for event in conn]) == 1
    emu.faults.drop_after_events = None
    async with sdk(emu) as conn:
        await conn.response.create()
        assert (await until(conn, "response.done"))[-1].response.status == "completed"


async def test_session_updated_delay(emu: Emulator) -> None:
    emu.faults.session_updated_delay = 0.3
    async with sdk(emu) as conn:
        await conn.recv()
        started = time.perf_counter()
        await conn.session.update(session={"instructions": "slow"})
        await until(conn, "session.updated")
        assert time.perf_counter() - started >= 0.28


async def test_a_delayed_session_updated_does_not_block_other_events(emu: Emulator) -> None:
    emu.faults.session_updated_delay = 0.3
    async with sdk(emu) as conn:
        await conn.session.update(session={"instructions": "slow"})
        await conn.conversation.item.create(
            item=SystemMessageItem(content=[InputTextContentPart(text="Meanwhile.")])
        )
        events = await until(conn, "session.updated")
    names = types_of(events)
    assert names.index("conversation.item.created") < names.index("session.updated")


async def test_session_updated_repeat(emu: Emulator) -> None:
    emu.faults.session_updated_repeat = 2
    async with sdk(emu) as conn:
        await conn.session.update(session={"instructions": "again"})
        await conn.response.create(response={"modalities": ["text"]})
        events = await until(conn, "response.done")
    assert types_of(events).count("session.updated") == 3
    ids = {e.event_id for e in events if e.type == "session.updated"}
    assert len(ids) == 3


async def test_response_errors_answer_the_nth_response_create(emu: Emulator) -> None:
    emu.faults.response_errors = {2: ("rate_limit_exceeded", "Slow down.")}
    async with sdk(emu) as conn:
        await conn.response.create(event_id="evt_1")
        assert (await until(conn, "response.done"))[-1].response.status == "completed"
        await conn.response.create(event_id="evt_2")
        error = (await until(conn, "error"))[-1]
        await conn.response.create(event_id="evt_3")
        assert (await until(conn, "response.done"))[-1].response.status == "completed"
    assert (error.error.code, error.error.message) == ("rate_limit_exceeded", "Slow down.")
    assert error.error.event_id == "evt_2"
    assert types_of(emu.sent[0]).count("response.created") == 2


async def test_response_created_delay(emu: Emulator) -> None:
    emu.faults.response_created_delay = 0.25
    async with sdk(emu) as conn:
        await conn.recv()
        started = time.perf_counter()
        await conn.response.create()
        await until(conn, "response.created")
        assert time.perf_counter() - started >= 0.23
        await conn.response.create(event_id="evt_meanwhile")
        error = (await until(conn, "error"))[-1]
        assert error.error.code == "conversation_already_has_active_response"


async def test_cancel_during_the_response_created_delay(emu: Emulator) -> None:
    emu.faults.response_created_delay = 5.0
    async with sdk(emu) as conn:
        await conn.response.create()
        await emu.wait_received("response.create")
        await conn.response.cancel()
        events = await until(conn, "response.done", timeout=2)
    assert types_of(events)[-2:] == ["response.created", "response.done"]
    assert events[-1].response.status == "cancelled"


async def test_stall_audio_pauses_after_n_chunks(emu: Emulator) -> None:
    emu.faults.stall_audio_after_chunks = 2
    emu.faults.stall_audio_seconds = 0.4
    async with sdk(emu) as conn:
        await conn.response.create()
        arrivals = []
        while True:
            event = await conn.recv()
            if event.type == "response.audio.delta":
                arrivals.append(time.perf_counter())
            if event.type == "response.done":
                break
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert gaps[1] >= 0.35  # between chunk 2 and chunk 3
    assert max(gaps[:1] + gaps[2:]) < 0.2


async def test_a_cancel_ends_a_stall_at_once(emu: Emulator) -> None:
    emu.faults.stall_audio_after_chunks = 1
    emu.faults.stall_audio_seconds = 30.0
    async with sdk(emu) as conn:
        await conn.response.create()
        first = await until(conn, "response.audio.delta")
        await conn.response.cancel()
        rest = await until(conn, "response.done", timeout=2)
    assert rest[-1].response.status == "cancelled"
    assert len(pcm_of(first + rest)) == 4800


async def test_reject_status_refuses_the_upgrade(emu: Emulator) -> None:
    emu.faults.reject_status = 503
    with pytest.raises(VoiceLiveConnectionError, match="503"):
        async with sdk(emu):
            pass


def test_invalid_faults_are_refused_up_front() -> None:
    with pytest.raises(ValueError, match="drop_after_events"):
        Faults(drop_after_events=0)
    with pytest.raises(ValueError, match="response_errors"):
        Faults(response_errors={0: ("code", "message")})
    with pytest.raises(ValueError, match="reject_status"):
        Faults(reject_status=200)
    with pytest.raises(ValueError, match="stall_audio_seconds"):
        Faults(stall_audio_seconds=-1)
    with pytest.raises(ValueError, match="vad_response_before_create"):
        Faults(vad_response_before_create=0)
    for bad in (("response.done", 0), ("", 1), ("response.done", True), ("response.done",)):
        with pytest.raises(ValueError, match="drop_after"):
            Faults(drop_after=bad)  # type: ignore[arg-type]


async def test_faults_passed_to_the_constructor_are_used() -> None:
    async with Emulator(pace=0, faults=Faults(drop_after_events=1)) as emu, sdk(emu) as conn:
        assert types_of([event async for event in conn]) == ["session.created"]


async def test_faults_made_invalid_after_construction_refuse_the_connection(
    emu: Emulator,
) -> None:
    emu.faults.session_updated_repeat = -1
    with pytest.raises(VoiceLiveConnectionError, match="500"):
        async with sdk(emu):
            pass


@pytest.mark.parametrize("nth", [1, 2])
async def test_vad_response_before_create_wins_the_race(emu: Emulator, nth: int) -> None:
    emu.pace = 1.0  # the service's response is still speaking when the create is answered
    emu.faults.vad_response_before_create = nth
    mine = {"owner": "app", "attempt": str(nth)}
    async with sdk(emu) as conn:
        for _ in range(nth - 1):
            await conn.response.create(response={"modalities": ["text"]})
            assert (await until(conn, "response.done"))[-1].response.status == "completed"
        await conn.response.create(response={"metadata": mine}, event_id="evt_mine")
        events = await until(conn, "error")
        await conn.response.cancel()
        after = await until(conn, "response.done")
    names = types_of(events)
    created = [e for e in events if e.type == "response.created"]
    assert len(created) == 1 and created[0].response.metadata is None
    assert names.index("response.created") < names.index("error")
    error = events[-1]
    assert error.error.code == "conversation_already_has_active_response"
    assert error.error.event_id == "evt_mine"
    assert created[0].response.id in error.error.message
    done = after[-1].response
    assert done.id == created[0].response.id and done.metadata is None
    # the client's own response never started
    wire = [e for e in emu.sent[0] if e["type"] == "response.created"]
    assert all(e["response"]["metadata"] != mine for e in wire)
    assert len(wire) == nth


async def test_vad_response_before_create_is_a_whole_audio_response(emu: Emulator) -> None:
    emu.faults.vad_response_before_create = 1
    async with sdk(emu) as conn:
        await conn.response.create(event_id="evt_late")
        events = await until(conn, "response.done")
        await conn.response.create(response={"metadata": {"try": "again"}})
        retry = await until(conn, "response.done")
    assert events[-1].response.status == "completed"
    assert len(pcm_of(events)) > 0
    assert [e.error.event_id for e in events if e.type == "error"] == ["evt_late"]
    assert retry[-1].response.metadata == {"try": "again"}
