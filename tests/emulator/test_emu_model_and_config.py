"""The stand-in model's replies and the session-config rules."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from voicelive_proactive.emulator.model import estimate_tokens, reply_text
from voicelive_proactive.emulator.session_config import (
    default_session,
    merge_session,
    parse_api_version,
    session_problem,
)


def item(role: str, text: str | None) -> dict[str, Any]:
    part = (
        {"type": "input_audio", "transcript": None}
        if text is None
        else {"type": "input_text", "text": text}
    )
    return {"type": "message", "role": role, "content": [part]}


@pytest.mark.parametrize(
    ("items", "kwargs", "expected"),
    [
        (
            [item("system", 'Greet the user warmly. The user\'s name is "Lisa".')],
            {},
            "Hello Lisa! I'm your assistant. How can I help you today?",
        ),
        (
            [item("system", "Greet the user.")],
            {},
            "Hello! I'm your assistant. How can I help you today?",
        ),
        (
            [],
            {"additional_instructions": "Welcome back the user, whose name is Sam."},
            "Welcome back, Sam! How can I help you today?",
        ),
        ([], {"additional_instructions": 'Say exactly: "Good morning."'}, "Good morning."),
        (
            [item("user", "Where is my order?")],
            {},
            'You said: "Where is my order?". How can I help with that?',
        ),
        ([item("user", None)], {}, "I heard you. Could you tell me a little more?"),
        ([item("system", "Use a formal tone.")], {}, "Understood. How can I help you today?"),
        ([], {}, "Hello! I'm your assistant. How can I help you today?"),
        (
            [],
            {"session_instructions": "You are a bank. The customer is called Ana."},
            "Hello Ana! I'm your assistant. How can I help you today?",
        ),
        # a user turn after the greeting instruction: answer the user
        (
            [item("system", "Greet."), item("user", "Hi")],
            {},
            'You said: "Hi". How can I help with that?',
        ),
    ],
)
def test_reply_text(items: list[dict[str, Any]], kwargs: dict[str, Any], expected: str) -> None:
    assert reply_text(items, **kwargs) == expected
    assert reply_text(items, **kwargs) == expected  # deterministic


def test_long_user_text_is_shortened_in_the_echo() -> None:
    reply = reply_text([item("user", "word " * 100)])
    assert len(reply) < 260 and reply.count("...") == 1


def test_estimate_tokens() -> None:
    assert estimate_tokens(None) == estimate_tokens("") == 0
    assert estimate_tokens("one two three") == 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-07-15", datetime.date(2026, 7, 15)),
        ("2026-01-01-preview", datetime.date(2026, 1, 1)),
        ("2025-10-01", datetime.date(2025, 10, 1)),
        ("2025-13-01", None),
        ("latest", None),
    ],
)
def test_parse_api_version(value: str, expected: datetime.date | None) -> None:
    assert parse_api_version(value) == expected


def test_merge_is_field_by_field_and_keeps_the_id() -> None:
    base = default_session("sess_1", "gpt-realtime")
    merged = merge_session(
        base,
        {
            "id": "other",
            "voice": "alloy",
            "turn_detection": {"threshold": 0.2},
            "tools": [{"x": 1}],
        },
    )
    assert merged["id"] == "sess_1"
    assert merged["voice"] == "alloy"
    assert merged["turn_detection"]["threshold"] == 0.2
    assert merged["turn_detection"]["silence_duration_ms"] == 500
    assert merged["tools"] == [{"x": 1}]
    assert base["turn_detection"]["threshold"] == 0.5  # the original is untouched
    assert merge_session(merged, {"turn_detection": None})["turn_detection"] is None


@pytest.mark.parametrize(
    ("update", "param"),
    [
        ({"turn_detection": "on"}, "session.turn_detection"),
        ({"turn_detection": {"type": "magic"}}, "session.turn_detection.type"),
        ({"turn_detection": {"threshold": True}}, "session.turn_detection.threshold"),
        (
            {"turn_detection": {"silence_duration_ms": -5}},
            "session.turn_detection.silence_duration_ms",
        ),
        ({"input_audio_sampling_rate": 48_000}, "session.input_audio_sampling_rate"),
        ({"input_audio_format": "mp3"}, "session.input_audio_format"),
        ({"output_audio_format": "pcm16_12345hz"}, "session.output_audio_format"),
        ({"modalities": "audio"}, "session.modalities"),
        ({"temperature": 0.5}, "session.temperature"),
        ({"temperature": 1.3}, "session.temperature"),
        ({"max_response_output_tokens": 0}, "session.max_response_output_tokens"),
        ({"max_response_output_tokens": 4097}, "session.max_response_output_tokens"),
        ({"voice": "alloyy"}, "session.voice"),
        ({"voice": {"type": "azure-standard", "name": "Ava"}}, "session.voice.name"),
        ({"voice": {"type": "openai", "name": "nova9"}}, "session.voice.name"),
        ({"voice": {"type": "robot", "name": "x"}}, "session.voice.type"),
        (
            {"voice": {"type": "azure-standard", "name": "en-US-AvaNeural", "temperature": 2}},
            "session.voice.temperature",
        ),
        ({"tools": [{"type": "function", "name": "bad name"}]}, "session.tools[0].name"),
        ({"tools": [{"type": "code_interpreter"}]}, "session.tools[0].type"),
        ({"tool_choice": "sometimes"}, "session.tool_choice"),
        ({"tool_choice": {"type": "function"}}, "session.tool_choice.name"),
        (
            {"input_audio_transcription": {"language": "en"}},
            "session.input_audio_transcription.model",
        ),
        (
            {"turn_detection": {"interrupt_response": "no"}},
            "session.turn_detection.interrupt_response",
        ),
    ],
)
def test_session_problems(update: dict[str, Any], param: str) -> None:
    merged = merge_session(default_session("s"), update)
    problem = session_problem(merged)
    assert problem is not None and problem.param == param


@pytest.mark.parametrize(
    "update",
    [
        {"input_audio_sampling_rate": 44_100},
        {"input_audio_sampling_rate": 8_000, "input_audio_format": "g711_alaw"},
        {"output_audio_format": "pcm16_44100hz"},
        {"temperature": 0.6},
        {"temperature": 1.2},
        {"max_response_output_tokens": "inf"},
        {"max_response_output_tokens": 4096},
        {"voice": "alloy"},
        {"voice": {"type": "azure-standard", "name": "en-us-emma:DragonHDLatestNeural"}},
        {"voice": {"type": "azure-standard", "name": "en-US-AvaMultilingualNeural", "rate": "1.2"}},
        {"tool_choice": {"type": "function", "name": "get_time"}},
        {"tool_choice": {"type": "function", "function": {"name": "get_time"}}},
        {"input_audio_transcription": {"model": "gpt-4o-transcribe-diarize"}},
        {
            "turn_detection": {
                "type": "azure_semantic_vad",
                "speech_duration_assistant_speaking_ms": 800,
            }
        },
    ],
)
def test_values_the_service_takes_are_fine(update: dict[str, Any]) -> None:
    assert session_problem(merge_session(default_session("s"), update)) is None


def test_the_default_session_is_fine() -> None:
    assert session_problem(default_session("s")) is None
