"""Session configuration: defaults, field-by-field merging, and API-version rules."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, Final

from .audio_formats import input_problem, output_format_problem
from .checks import (
    Problem,
    any_problem,
    is_number,
    max_tokens_problem,
    metadata_problem,
    string_problem,
    temperature_problem,
)
from .events import clone
from .tools import tool_choice_problem, tools_problem
from .voices import voice_problem

__all__ = [
    "DEFAULT_API_VERSION",
    "PRE_GENERATED_MIN_VERSION",
    "default_session",
    "effective_session",
    "merge_session",
    "parse_api_version",
    "session_problem",
]

DEFAULT_API_VERSION: Final = "2026-07-15"
"""What the SDK sends when the caller does not choose; used when a raw client sends none."""

PRE_GENERATED_MIN_VERSION: Final = datetime.date(2026, 1, 1)
"""``response.pre_generated_assistant_message`` needs 2026-01-01-preview or later."""

_VERSION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:-preview)?$")
_TURN_DETECTION_TYPES: Final = frozenset(
    {"server_vad", "azure_semantic_vad", "azure_semantic_vad_en", "azure_semantic_vad_multilingual"}
)

_DEFAULT_SESSION: Final[dict[str, Any]] = {
    "object": "realtime.session",
    "model": "gpt-realtime",
    "modalities": ["text", "audio"],
    "instructions": "",
    "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
    "input_audio_format": "pcm16",
    "output_audio_format": "pcm16",
    "input_audio_sampling_rate": 24_000,
    "input_audio_transcription": None,
    "turn_detection": {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "create_response": True,
        "interrupt_response": True,
        "auto_truncate": False,
    },
    "tools": [],
    "tool_choice": "auto",
    "temperature": 0.8,
    "max_response_output_tokens": "inf",
}


def parse_api_version(value: str) -> datetime.date | None:
    """``2026-01-01-preview`` -> date(2026, 1, 1); None when it is not a dated version."""
    match = _VERSION.match(value)
    if match is None:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def default_session(session_id: str, model: str | None = None) -> dict[str, Any]:
    """The configuration a new connection starts with (sent in ``session.created``)."""
    session: dict[str, Any] = clone(_DEFAULT_SESSION)
    if model:
        session["model"] = model
    return {"id": session_id, **session}


def merge_session(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Merge field by field: nested objects merge, anything else (null, lists) replaces.

    The session id cannot be changed by the client.
    """
    merged = _merge(current, update)
    merged["id"] = current["id"]
    return merged


def _merge(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = clone(value)
    return merged


def session_problem(session: Mapping[str, Any]) -> Problem | None:
    """What the service would refuse in a merged session, else None."""
    modalities = session.get("modalities")
    tools = session.get("tools")
    return any_problem(
        _turn_detection_problem(session.get("turn_detection")),
        input_problem(session),
        output_format_problem(session.get("output_audio_format"), "session.output_audio_format"),
        None
        if modalities is None
        or (
            isinstance(modalities, list)
            and set(modalities) <= {"text", "audio", "avatar", "animation"}
        )
        else Problem(
            "invalid_value",
            "modalities must be a list of 'text', 'audio', 'avatar' and 'animation'",
            "session.modalities",
        ),
        string_problem(session.get("instructions"), "session.instructions"),
        voice_problem(session.get("voice"), "session.voice"),
        temperature_problem(session.get("temperature"), "session.temperature"),
        max_tokens_problem(
            session.get("max_response_output_tokens"), "session.max_response_output_tokens"
        ),
        tools_problem(tools, "session.tools"),
        tool_choice_problem(session.get("tool_choice"), "session.tool_choice"),
        _transcription_problem(session.get("input_audio_transcription")),
        metadata_problem(session.get("metadata"), "session.metadata"),
    )


def _turn_detection_problem(turn_detection: object) -> Problem | None:
    if turn_detection is None:
        return None
    param = "session.turn_detection"
    if not isinstance(turn_detection, Mapping):
        return Problem("invalid_type", "turn_detection must be an object or null", param)
    kind = turn_detection.get("type")
    if kind not in _TURN_DETECTION_TYPES:
        supported = ", ".join(f"'{name}'" for name in sorted(_TURN_DETECTION_TYPES))
        return Problem(
            "invalid_value",
            f"Invalid value: {kind!r}. Supported values are: {supported}.",
            f"{param}.type",
        )
    threshold = turn_detection.get("threshold")
    if threshold is not None and not (is_number(threshold) and 0.0 <= threshold <= 1.0):
        return Problem("invalid_value", "threshold must be a number in 0..1", f"{param}.threshold")
    for name in ("prefix_padding_ms", "silence_duration_ms", "speech_duration_ms"):
        value = turn_detection.get(name)
        if value is not None and not (is_number(value) and 0 <= value <= 10_000):
            return Problem("invalid_value", f"{name} must be 0..10000", f"{param}.{name}")
    for name in ("create_response", "interrupt_response", "auto_truncate"):
        value = turn_detection.get(name)
        if value is not None and not isinstance(value, bool):
            return Problem("invalid_type", f"{name} must be a boolean", f"{param}.{name}")
    return None


def _transcription_problem(options: object) -> Problem | None:
    param = "session.input_audio_transcription"
    if options is None:
        return None
    if not isinstance(options, Mapping):
        return Problem("invalid_type", "input_audio_transcription must be an object or null", param)
    model = options.get("model")
    if not isinstance(model, str) or not model.strip():
        return Problem(
            "missing_required_parameter",
            "input_audio_transcription needs a 'model' (e.g. 'whisper-1' or 'azure-speech').",
            f"{param}.model",
        )
    return string_problem(options.get("language"), f"{param}.language")


def effective_session(session: Mapping[str, Any], pcm_rate: int) -> dict[str, Any]:
    """The session as the service reports it: g711 input is 8 kHz, PCM input at ``pcm_rate``."""
    result = dict(session)
    kind = result.get("input_audio_format") or "pcm16"
    result["input_audio_sampling_rate"] = 8_000 if kind in ("g711_ulaw", "g711_alaw") else pcm_rate
    return result
