from __future__ import annotations

import pytest
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
from azure.ai.voicelive.aio import VoiceLiveConnection
from azure.ai.voicelive.models import (
    ServerEventResponseAudioDelta,
    ServerEventSessionUpdated,
    ServerEventType,
)

from voicelive_proactive.testing import FakeConnection


async def test_is_the_sdk_connection_type() -> None:
    assert isinstance(FakeConnection(), VoiceLiveConnection)


async def test_pushed_dicts_and_models_come_out_typed_then_iteration_ends() -> None:
    fake = FakeConnection()
    fake.push({"type": "session.updated", "session": {"id": "s1"}})
    model = ServerEventResponseAudioDelta(
        {"type": "response.audio.delta", "delta": "AAEC", "response_id": "r", "item_id": "i"}
    )
    fake.push(model)
    fake.close()
    events = [event async for event in fake]
    assert isinstance(events[0], ServerEventSessionUpdated)
    assert events[0].session.id == "s1"
    assert isinstance(events[1], ServerEventResponseAudioDelta)
    assert events[1].delta == b"\x00\x01\x02"  # decoded by the SDK, as on a real connection
    assert events[1].type == ServerEventType.RESPONSE_AUDIO_DELTA


async def test_sent_is_what_the_sdk_puts_on_the_wire() -> None:
    fake = FakeConnection()
    await fake.session.update(session={"voice": "alloy"}, event_id="e1")
    await fake.response.create(additional_instructions="Be brief.", event_id="e2")
    await fake.conversation.item.truncate(item_id="i", audio_end_ms=5, content_index=0)
    assert fake.sent[0] == {
        "type": "session.update",
        "session": {"voice": "alloy"},
        "event_id": "e1",
    }
    assert fake.sent[1] == {
        "type": "response.create",
        "additional_instructions": "Be brief.",
        "event_id": "e2",
    }
    assert fake.sent_types() == ["session.update", "response.create", "conversation.item.truncate"]
    fake.clear_sent()
    assert fake.sent == []


async def test_sends_work_until_the_close_is_read_then_fail_like_the_sdk() -> None:
    fake = FakeConnection()
    fake.close()
    await fake.response.create()  # the client has not read the close frame yet
    assert [e async for e in fake] == []
    with pytest.raises(SdkConnectionError):
        await fake.response.create()


async def test_close_can_be_awaited_and_push_after_close_is_an_error() -> None:
    fake = FakeConnection()
    await fake.close()
    assert fake.closed
    with pytest.raises(RuntimeError, match="closed"):
        fake.push({"type": "session.updated"})


async def test_drop_ends_iteration_and_breaks_sends() -> None:
    fake = FakeConnection()
    fake.push({"type": "session.created", "session": {"id": "s"}})
    fake.drop()
    assert [e.type async for e in fake] == ["session.created"]
    with pytest.raises(SdkConnectionError):
        await fake.response.create()


async def test_invalid_frame_raises_the_sdk_error_from_iteration() -> None:
    fake = FakeConnection()
    fake.push_raw("{oops")
    with pytest.raises(SdkConnectionError, match="parse"):
        async for _ in fake:
            pass


async def test_fail_sends_and_heal() -> None:
    fake = FakeConnection()
    fake.fail_sends(OSError("network down"))
    with pytest.raises(SdkConnectionError, match="network down"):
        await fake.response.create()
    fake.fail_sends(None)
    await fake.response.create()
    assert fake.sent_types() == ["response.create"]


async def test_push_needs_a_type() -> None:
    with pytest.raises(ValueError, match="type"):
        FakeConnection().push({"session": {}})


async def test_wait_sent_times_out_with_what_was_sent() -> None:
    fake = FakeConnection()
    await fake.response.create()
    with pytest.raises(TimeoutError, match=r"response\.create"):
        await fake.wait_sent("session.update", timeout=0.05)
    await fake.wait_sent("response.create")


def test_asoundrc_points_the_default_device_at_a_file() -> None:
    from voicelive_proactive.testing.alsa import asoundrc

    text = asoundrc("/tmp/out.raw")
    assert 'file "/tmp/out.raw"' in text
    assert "type asym" in text
    with pytest.raises(ValueError, match="quoted"):
        asoundrc('/tmp/"x')
