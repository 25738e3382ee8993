"""Speech in: appends, server VAD, commits, barge-in."""

from __future__ import annotations

from azure.ai.voicelive.models import (
    AssistantMessageItem,
    OutputTextContentPart,
    ResponseCreateParams,
    ServerEventInputAudioBufferSpeechStarted,
    ServerEventInputAudioBufferSpeechStopped,
)
from emulator_helpers import append_audio, b64, sdk, silence, tone, types_of, until

from voicelive_proactive.emulator import Emulator


async def test_loud_audio_is_a_turn_with_started_stopped_committed_and_a_user_item(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"create_response": False}})
        await until(conn, "session.updated")
        await append_audio(conn, silence(1000) + tone(400) + silence(700))
        events = await until(conn, "conversation.item.created")
    names = types_of(events)
    assert names[-4:] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
    ]
    started, stopped, committed, created = events[-4:]
    assert isinstance(started, ServerEventInputAudioBufferSpeechStarted)
    assert isinstance(stopped, ServerEventInputAudioBufferSpeechStopped)
    # speech began at 1,000 ms; the start includes the 300 ms prefix padding
    assert started.audio_start_ms == 700
    # it ended at 1,400 ms and the 500 ms of silence closed the turn
    assert 1_850 <= stopped.audio_end_ms <= 1_950
    assert started.item_id == stopped.item_id == committed.item_id == created.item.id
    assert created.item.role == "user"
    assert created.item.content[0].type == "input_audio"


async def test_silence_and_quiet_noise_are_not_speech(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await append_audio(conn, silence(800) + tone(800, amplitude=200))
        await conn.input_audio_buffer.clear()
        await until(conn, "input_audio_buffer.cleared")
    assert "input_audio_buffer.speech_started" not in types_of(emu.sent[0])


async def test_a_turn_creates_a_response_by_default(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await append_audio(conn, tone(300) + silence(600))
        events = await until(conn, "response.done")
    names = types_of(events)
    assert names.index("conversation.item.created") < names.index("response.created")
    assert events[-1].response.status == "completed"


async def test_speech_interrupts_an_active_response(emu: Emulator) -> None:
    emu.pace = 1.0
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"create_response": False}})
        await until(conn, "session.updated")
        await conn.response.create(
            response=ResponseCreateParams(
                pre_generated_assistant_message=AssistantMessageItem(
                    content=[OutputTextContentPart(text="A long greeting that the user cuts off.")]
                )
            )
        )
        await until(conn, "response.audio.delta")
        await append_audio(conn, tone(200))
        events = await until(conn, "response.done")
    names = types_of(events)
    assert "input_audio_buffer.speech_started" in names
    assert names.index("input_audio_buffer.speech_started") < names.index("response.done")
    done = events[-1]
    assert done.response.status == "cancelled"
    assert done.response.status_details.reason == "turn_detected"


async def test_interrupt_response_false_lets_the_response_finish(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"turn_detection": {"interrupt_response": False, "create_response": False}}
        )
        await until(conn, "session.updated")
        emu.pace = 4.0
        await conn.response.create(
            response=ResponseCreateParams(
                pre_generated_assistant_message=AssistantMessageItem(
                    content=[OutputTextContentPart(text="Please let me finish.")]
                )
            )
        )
        await until(conn, "response.audio.delta")
        await append_audio(conn, tone(200))
        events = await until(conn, "response.done")
    assert "input_audio_buffer.speech_started" in types_of(events)
    assert events[-1].response.status == "completed"


async def test_turn_detection_null_disables_vad_and_manual_commit_works(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": None})
        await until(conn, "session.updated")
        await append_audio(conn, tone(500) + silence(700))
        await conn.input_audio_buffer.commit(event_id="evt_commit")
        events = await until(conn, "conversation.item.created")
    names = types_of(events)
    assert "input_audio_buffer.speech_started" not in names
    assert names[-2:] == ["input_audio_buffer.committed", "conversation.item.created"]
    assert "response.created" not in types_of(emu.sent[0])  # a manual commit does not reply


async def test_committing_too_little_audio_is_an_error(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.input_audio_buffer.append(audio=b64(silence(40)))
        await conn.input_audio_buffer.commit(event_id="evt_tiny")
        error = (await until(conn, "error"))[-1]
    assert error.error.code == "input_audio_buffer_commit_empty"
    assert error.error.event_id == "evt_tiny"


async def test_clear_drops_the_buffer(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": None})
        await until(conn, "session.updated")
        await append_audio(conn, silence(500))
        await conn.input_audio_buffer.clear()
        await until(conn, "input_audio_buffer.cleared")
        await conn.input_audio_buffer.commit(event_id="evt_after_clear")
        error = (await until(conn, "error"))[-1]
    assert error.error.event_id == "evt_after_clear"


async def test_a_higher_threshold_ignores_moderate_audio(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"threshold": 0.95}})
        await until(conn, "session.updated")
        await append_audio(conn, tone(400, amplitude=3000) + silence(600))
        await conn.input_audio_buffer.clear()
        await until(conn, "input_audio_buffer.cleared")
    assert "input_audio_buffer.speech_started" not in types_of(emu.sent[0])


async def test_bad_base64_audio_is_an_error(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.input_audio_buffer.append(audio="not base64!!", event_id="evt_b64")
        error = (await until(conn, "error"))[-1]
    assert error.error.param == "audio"
    assert error.error.event_id == "evt_b64"


async def test_odd_sized_appends_keep_samples_whole(emu: Emulator) -> None:
    pcm = tone(300) + silence(600)
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"create_response": False}})
        await until(conn, "session.updated")
        for start in range(0, len(pcm), 4801):  # odd chunk sizes split samples
            await conn.input_audio_buffer.append(audio=b64(pcm[start : start + 4801]))
        events = await until(conn, "input_audio_buffer.committed")
    started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
    assert started.audio_start_ms == 0


async def test_without_interrupt_response_speech_is_a_turn_but_the_reply_carries_on(
    emu: Emulator,
) -> None:
    emu.pace = 1.0
    async with sdk(emu) as conn:
        await conn.session.update(session={"turn_detection": {"interrupt_response": False}})
        await until(conn, "session.updated")
        await conn.response.create(
            response=ResponseCreateParams(
                pre_generated_assistant_message=AssistantMessageItem(
                    content=[OutputTextContentPart(text="A long reply that the user talks over.")]
                )
            )
        )
        await until(conn, "response.audio.delta")
        await append_audio(conn, tone(300) + silence(600))
        during = await until(conn, "conversation.item.created")
        refused = (await until(conn, "error"))[-1]
        rest = await until(conn, "response.done", timeout=15)
        await conn.response.create(response={"modalities": ["text"]})
        answer = await until(conn, "response.done")
    assert types_of(during)[-4:] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
    ]
    assert during[-1].item.role == "user"
    # the user's turn could not start a second response while the first was playing
    assert refused.error.code == "conversation_already_has_active_response"
    assert refused.error.event_id is None
    assert rest[-1].response.status == "completed"
    assert types_of(emu.sent[0]).count("response.created") == 2
    # the turn is in the conversation: the next response answers it
    assert answer[-1].response.status == "completed"


async def test_changing_only_interrupt_response_keeps_the_other_turn_detection_fields(
    emu: Emulator,
) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session={
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.3,
                    "silence_duration_ms": 700,
                    "prefix_padding_ms": 100,
                    "create_response": False,
                }
            }
        )
        await until(conn, "session.updated")
        await conn.session.update(session={"turn_detection": {"interrupt_response": False}})
        updated = (await until(conn, "session.updated"))[-1]
        await append_audio(conn, silence(1000) + tone(300) + silence(800))
        events = await until(conn, "conversation.item.created")
    turn = updated.session.turn_detection
    assert (turn.type, turn.threshold, turn.silence_duration_ms, turn.prefix_padding_ms) == (
        "server_vad",
        0.3,
        700,
        100,
    )
    assert (turn.create_response, turn.interrupt_response) == (False, False)
    started = next(e for e in events if e.type == "input_audio_buffer.speech_started")
    assert started.audio_start_ms == 900  # the 100 ms prefix padding still applies
    assert "response.created" not in types_of(emu.sent[0])  # create_response still false
