"""Honesty: what the emulator takes but cannot do is a warning; unknown values are errors."""

from __future__ import annotations

from typing import Any

import pytest
from azure.ai.voicelive.models import (
    Animation,
    AudioEchoCancellation,
    AudioNoiseReduction,
    AzureStandardVoice,
    RequestSession,
    ServerEventWarning,
)
from emulator_helpers import append_audio, sdk, silence, tone, types_of, until

from voicelive_proactive.emulator import Emulator


async def warnings_for(emu: Emulator, session: Any) -> list[ServerEventWarning]:
    async with sdk(emu) as conn:
        await conn.session.update(session=session)
        await until(conn, "session.updated")
        await conn.session.update(session={"instructions": "next"})  # warnings came before
        events = await until(conn, "session.updated")
    return [event for event in events if event.type == "warning"]


@pytest.mark.parametrize(
    ("session", "param"),
    [
        ({"avatar": {"character": "lisa"}}, "session.avatar"),
        (
            RequestSession(
                input_audio_noise_reduction=AudioNoiseReduction(type="azure_deep_noise_suppression")
            ),
            "session.input_audio_noise_reduction",
        ),
        (
            RequestSession(input_audio_echo_cancellation=AudioEchoCancellation()),
            "session.input_audio_echo_cancellation",
        ),
        (
            {
                "turn_detection": {
                    "type": "server_vad",
                    "end_of_utterance_detection": {"model": "semantic_detection_v1"},
                }
            },
            "session.turn_detection.end_of_utterance_detection",
        ),
        (
            {"turn_detection": {"type": "server_vad", "auto_truncate": True}},
            "session.turn_detection.auto_truncate",
        ),
        (
            {
                "tools": [
                    {
                        "type": "mcp",
                        "server_label": "docs",
                        "server_url": "https://example.invalid/mcp",
                    }
                ]
            },
            "session.tools[0]",
        ),
        (RequestSession(animation=Animation(outputs=["blendshapes"])), "session.animation.outputs"),
        (
            RequestSession(voice=AzureStandardVoice(name="en-US-AvaNeural", rate="1.2")),
            "session.voice.rate",
        ),
        (
            {"interim_response": {"type": "static_interim_response", "texts": ["One moment."]}},
            "session.interim_response",
        ),
        (
            {
                "input_audio_transcription": {
                    "model": "azure-speech",
                    "custom_speech": {"en-US": "id"},
                }
            },
            "session.input_audio_transcription.custom_speech",
        ),
        ({"include": ["item.input_audio_transcription.logprobs"]}, "session.include"),
    ],
    ids=[
        "avatar",
        "noise",
        "echo",
        "eou",
        "auto-truncate",
        "mcp",
        "blendshapes",
        "voice-rate",
        "interim",
        "custom-speech",
        "include",
    ],
)
async def test_settings_it_cannot_act_on_are_warnings_naming_them(
    emu: Emulator, session: Any, param: str
) -> None:
    warnings = await warnings_for(emu, session)
    assert [w.warning.param for w in warnings] == [param]
    assert isinstance(warnings[0], ServerEventWarning)
    assert warnings[0].warning.code == "not_emulated" and warnings[0].warning.message
    sent = types_of(emu.sent[0])
    assert sent.index("session.updated") < sent.index("warning")  # the update still applied


async def test_settings_it_acts_on_give_no_warning(emu: Emulator) -> None:
    session = {
        "instructions": "Be brief.",
        "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
        "input_audio_format": "g711_ulaw",
        "output_audio_format": "pcm16_16000hz",
        "turn_detection": {"type": "azure_semantic_vad", "speech_duration_ms": 100},
        "input_audio_transcription": {"model": "whisper-1", "phrase_list": ["Contoso"]},
        "tools": [{"type": "function", "name": "get_time"}],
        "tool_choice": "auto",
        "temperature": 0.7,
        "max_response_output_tokens": 500,
        "animation": {"outputs": ["viseme_id"]},
        "output_audio_timestamp_types": ["word"],
    }
    assert await warnings_for(emu, session) == []


async def test_response_settings_it_cannot_act_on_are_warnings_too(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create(
            response={
                "tools": [{"type": "mcp", "server_label": "x", "server_url": "https://x.invalid"}],
                "voice": {"type": "azure-standard", "name": "en-US-AvaNeural", "pitch": "+10%"},
            }
        )
        events = await until(conn, "response.done")
    warned = [e.warning.param for e in events if e.type == "warning"]
    assert warned == ["response.voice.pitch", "response.tools[0]"]
    names = types_of(events)
    assert names.index("warning") < names.index("response.created")


async def test_word_timestamps_and_visemes_follow_the_audio(emu: Emulator) -> None:
    text = "Hello Lisa, welcome back to Contoso."
    async with sdk(emu) as conn:
        await conn.session.update(
            session=RequestSession(
                animation=Animation(outputs=["viseme_id"]),
                output_audio_timestamp_types=["word"],
            )
        )
        await until(conn, "session.updated")
        await conn.response.create(
            response={
                "pre_generated_assistant_message": {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": text}],
                }
            }
        )
        events = await until(conn, "response.done")
    audio_ms = sum(len(e.delta) for e in events if e.type == "response.audio.delta") // 48
    words = [e for e in events if e.type == "response.audio_timestamp.delta"]
    assert [w.text for w in words] == text.split()
    assert all(w.timestamp_type == "word" for w in words)
    offsets = [w.audio_offset_ms for w in words]
    assert offsets == sorted(offsets) and offsets[0] < 100
    assert audio_ms - 100 < offsets[-1] + words[-1].audio_duration_ms <= audio_ms
    visemes = [e for e in events if e.type == "response.animation_viseme.delta"]
    assert all(0 <= v.viseme_id <= 21 for v in visemes)
    assert [v.audio_offset_ms for v in visemes] == sorted(v.audio_offset_ms for v in visemes)
    assert visemes[-1].viseme_id == 0 and visemes[-1].audio_offset_ms == audio_ms
    names = types_of(events)
    assert names.index("response.audio_timestamp.done") < names.index("response.audio.done")
    assert names.index("response.animation_viseme.done") < names.index("response.audio.done")
    # a word is announced before the audio chunk it starts in
    second_chunk = [i for i, name in enumerate(names) if name == "response.audio.delta"][1]
    assert names.index("response.audio_timestamp.delta") < second_chunk


async def test_no_timestamps_or_visemes_unless_asked(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.response.create()
        events = await until(conn, "response.done")
    assert not any("timestamp" in name or "viseme" in name for name in types_of(events))


async def test_speech_duration_ms_sets_how_much_speech_starts_a_turn(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.session.update(
            session={"turn_detection": {"type": "server_vad", "speech_duration_ms": 400}}
        )
        await until(conn, "session.updated")
        await append_audio(conn, tone(300) + silence(700))  # shorter than 400 ms
        await append_audio(conn, tone(500) + silence(700))
        events = await until(conn, "input_audio_buffer.speech_started")
    assert types_of(emu.sent[0]).count("input_audio_buffer.speech_started") == 1
    assert events[-1].audio_start_ms >= 1000 - 300


async def test_cancel_previous_replaces_the_active_response(emu: Emulator) -> None:
    emu.pace = 1.0
    async with sdk(emu) as conn:
        await conn.response.create(response={"metadata": {"n": "1"}})
        await until(conn, "response.audio.delta")
        await conn.response.create(response={"metadata": {"n": "2"}, "cancel_previous": True})
        first = (await until(conn, "response.done"))[-1]
        second = (await until(conn, "response.done"))[-1]
    assert (first.response.metadata, first.response.status) == ({"n": "1"}, "cancelled")
    assert first.response.status_details.reason == "client_cancelled"
    assert (second.response.metadata, second.response.status) == ({"n": "2"}, "completed")
    assert "error" not in types_of(emu.sent[0])


async def test_append_input_items_join_the_conversation_first(emu: Emulator) -> None:
    item: dict[str, Any] = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Where is my parcel?"}],
    }
    async with sdk(emu) as conn:
        await conn.response.create(response={"append_input_items": [item]})
        events = await until(conn, "response.done")
    names = types_of(events)
    assert names.index("conversation.item.created") < names.index("response.created")
    assert "Where is my parcel?" in events[-1].response.output[0].content[0].transcript
    assert [i["role"] for i in emu.connections[0].conversation] == ["user", "assistant"]
