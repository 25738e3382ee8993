"""Per-response controls: metadata, conversation "none", max_output_tokens, bad values."""

from __future__ import annotations

from typing import Any

import pytest
from azure.ai.voicelive.models import (
    AssistantMessageItem,
    InputTextContentPart,
    OutputTextContentPart,
    ResponseCreateParams,
    ResponseIncompleteDetails,
    UserMessageItem,
)
from emulator_helpers import append_audio, pcm_of, sdk, silence, tone, types_of, until

from voicelive_proactive.emulator import Emulator

LONG = (
    "Here is a rather long answer that goes on for quite a while, so that a small token "
    "budget cannot possibly cover all of it, however the budget is counted."
)


def spoken(text: str, **extra: Any) -> dict[str, Any]:
    """A pre-generated response as a wire dict (the SDK's model has no ``conversation``)."""
    params = ResponseCreateParams(
        pre_generated_assistant_message=AssistantMessageItem(
            content=[OutputTextContentPart(text=text)]
        )
    ).as_dict()
    return {"type": "response.create", "response": {**params, **extra}}


async def ask(conn: Any, text: str = LONG) -> None:
    await conn.conversation.item.create(
        item=UserMessageItem(content=[InputTextContentPart(text=text)])
    )


async def test_metadata_is_echoed_exactly_in_created_and_done(emu: Emulator) -> None:
    metadata = {"owner": "voicelive-proactive", "greeting": "g-1", "ünï": "çødé ✓", "empty": ""}
    async with sdk(emu) as conn:
        await conn.response.create(response=ResponseCreateParams(metadata=metadata))
        events = await until(conn, "response.done")
    created = next(e for e in events if e.type == "response.created")
    assert created.response.metadata == metadata
    assert events[-1].response.metadata == metadata
    wire = [e for e in emu.sent[0] if e["type"] in ("response.created", "response.done")]
    assert [list(e["response"]["metadata"].items()) for e in wire] == [list(metadata.items())] * 2


async def test_responses_without_metadata_and_vad_responses_carry_null(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create()
        await until(conn, "response.done")
        await append_audio(conn, tone(300) + silence(600))  # a user turn: server VAD answers
        await until(conn, "response.done")
    wire = [e for e in emu.sent[0] if e["type"] in ("response.created", "response.done")]
    assert len(wire) == 4
    assert all(e["response"]["metadata"] is None for e in wire)
    assert all("metadata" in e["response"] for e in wire)


@pytest.mark.parametrize(
    ("metadata", "param"),
    [
        ({f"k{i}": "v" for i in range(17)}, "response.metadata"),
        ({"k" * 65: "v"}, "response.metadata"),
        ({"key": "v" * 513}, "response.metadata.key"),
        ({"key": 3}, "response.metadata.key"),
        ("not an object", "response.metadata"),
    ],
    ids=["17-pairs", "long-key", "long-value", "number-value", "string"],
)
async def test_bad_metadata_is_refused_and_no_response_starts(
    emu: Emulator, metadata: object, param: str
) -> None:
    async with sdk(emu) as conn:
        await conn.send(
            {"type": "response.create", "event_id": "evt_meta", "response": {"metadata": metadata}}
        )
        error = (await until(conn, "error"))[-1]
    assert error.error.code in ("invalid_value", "invalid_type")
    assert error.error.param == param
    assert error.error.event_id == "evt_meta"
    assert "response.created" not in types_of(emu.sent[0])


async def test_the_limits_themselves_are_accepted(emu: Emulator) -> None:
    metadata = {f"{i:02d}" + "k" * 62: "v" * 512 for i in range(16)}
    async with sdk(emu) as conn:
        await conn.response.create(response={"metadata": metadata})
        done = (await until(conn, "response.done"))[-1]
    assert done.response.metadata == metadata


async def test_conversation_none_keeps_the_response_out_of_the_conversation(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.send(spoken("In the conversation."))
        first = await until(conn, "response.done")
        await conn.send(spoken("Out of band.", conversation="none"))
        second = await until(conn, "response.done")
        out_of_band = second[-1].response.output[0].id
        await conn.conversation.item.truncate(
            item_id=out_of_band, content_index=0, audio_end_ms=0, event_id="evt_trunc"
        )
        error = (await until(conn, "error"))[-1]
    assert first[-1].response.conversation_id is not None
    assert first[-1].response.conversation_id.startswith("conv_")
    assert "conversation.item.created" in types_of(first)
    assert second[-1].response.conversation_id is None
    assert next(e for e in second if e.type == "response.created").response.conversation_id is None
    assert "conversation.item.created" not in types_of(second)
    assert second[-1].response.output[0].content[0].transcript == "Out of band."
    assert len(pcm_of(second)) > 0  # still spoken
    items = [item["id"] for item in emu.connections[0].conversation]
    assert out_of_band not in items and len(items) == 1
    assert error.error.event_id == "evt_trunc"


async def test_commit_false_is_out_of_band_too(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(response=ResponseCreateParams(commit=False))
        events = await until(conn, "response.done")
    assert events[-1].response.conversation_id is None
    assert len(emu.connections[0].conversation) == 0


async def test_an_out_of_band_response_is_not_interrupted_by_speech(emu: Emulator) -> None:
    emu.pace = 1.0
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"create_response": False}})
        await until(conn, "session.updated")
        await conn.send(spoken(LONG, conversation="none"))
        await until(conn, "response.audio.delta")
        await append_audio(conn, tone(300) + silence(600))
        await until(conn, "conversation.item.created")  # the user's turn is committed
        await conn.response.cancel()
        done = (await until(conn, "response.done"))[-1]
    assert done.response.status_details.reason == "client_cancelled"  # not turn_detected


async def test_an_invalid_conversation_value_is_refused(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.send(
            {"type": "response.create", "event_id": "e1", "response": {"conversation": "other"}}
        )
        error = (await until(conn, "error"))[-1]
    assert (error.error.param, error.error.event_id) == ("response.conversation", "e1")


async def test_max_output_tokens_stops_the_response_as_incomplete(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await ask(conn)
        await conn.response.create()
        full = await until(conn, "response.done")
        await conn.response.create(response=ResponseCreateParams(max_output_tokens=20))
        cut = await until(conn, "response.done")
    done = cut[-1].response
    assert done.status == "incomplete"
    assert isinstance(done.status_details, ResponseIncompleteDetails)
    assert done.status_details.reason == "max_output_tokens"
    assert done.output[0].status == "incomplete"
    assert done.usage.output_tokens <= 20
    assert done.max_output_tokens == 20
    assert 0 < len(pcm_of(cut)) < len(pcm_of(full))
    heard = next(e for e in cut if e.type == "response.audio_transcript.done").transcript
    said = full[-1].response.output[0].content[0].transcript
    assert heard and said.startswith(heard) and len(heard) < len(said)
    assert full[-1].response.status == "completed"
    assert full[-1].response.usage.output_tokens > 20


async def test_a_pre_generated_message_is_spoken_whole_whatever_the_limit(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.send(spoken("Short and fixed.", max_output_tokens=1))
        done = (await until(conn, "response.done"))[-1]
    assert done.response.status == "completed"
    assert done.response.output[0].content[0].transcript == "Short and fixed."


async def test_max_output_tokens_cuts_a_model_reply_word_by_word(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await ask(conn)
        await conn.response.create(response={"modalities": ["text"], "max_output_tokens": 6})
        events = await until(conn, "response.done")
    done = events[-1].response
    text = next(e for e in events if e.type == "response.text.done").text
    deltas = "".join(e.delta for e in events if e.type == "response.text.delta")
    assert done.status == "incomplete"
    assert text and deltas.rstrip() == text
    assert done.usage.output_tokens <= 6
    assert done.output[0].content[0].text == text


async def test_session_max_response_output_tokens_applies_and_inf_lifts_it(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"max_response_output_tokens": 3})
        await until(conn, "session.updated")
        await ask(conn)
        await conn.response.create()
        limited = (await until(conn, "response.done"))[-1]
        await conn.response.create(response={"max_output_tokens": "inf"})
        lifted = (await until(conn, "response.done"))[-1]
    assert limited.response.status == "incomplete"
    assert limited.response.usage.output_tokens <= 3
    assert lifted.response.status == "completed"


@pytest.mark.parametrize(
    ("response", "param"),
    [
        ({"max_output_tokens": 0}, "response.max_output_tokens"),
        ({"max_output_tokens": 5000}, "response.max_output_tokens"),
        ({"max_output_tokens": "lots"}, "response.max_output_tokens"),
        ({"temperature": 2.0}, "response.temperature"),
        ({"voice": "nobody"}, "response.voice"),
        ({"output_audio_format": "mp3"}, "response.output_audio_format"),
        ({"tool_choice": "maybe"}, "response.tool_choice"),
        ({"modalities": []}, "response.modalities"),
    ],
)
async def test_values_the_service_rejects_are_invalid_value_errors(
    emu: Emulator, response: dict[str, Any], param: str
) -> None:
    async with sdk(emu) as conn:
        await conn.send({"type": "response.create", "event_id": "evt_v", "response": response})
        error = (await until(conn, "error"))[-1]
    assert error.error.param == param
    assert error.error.code == "invalid_value"
    assert error.error.event_id == "evt_v"
    assert "response.created" not in types_of(emu.sent[0])
