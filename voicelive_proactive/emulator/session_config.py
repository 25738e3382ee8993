"""Session configuration: defaults, field-by-field merging, and API-version rules."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, Final

from .events import clone

__all__ = [
    "DEFAULT_API_VERSION",
    "PRE_GENERATED_MIN_VERSION",
    "default_session",
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


def session_problem(session: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(param, message)`` for a value the emulator cannot act on, else None."""
    turn_detection = session.get("turn_detection")
    if turn_detection is not None:
        if not isinstance(turn_detection, Mapping):
            return "session.turn_detection", "turn_detection must be an object or null"
        kind = turn_detection.get("type")
        if kind not in _TURN_DETECTION_TYPES:
            return "session.turn_detection.type", f"unsupported turn_detection type {kind!r}"
        threshold = turn_detection.get("threshold")
        if threshold is not None and not (_is_number(threshold) and 0.0 <= threshold <= 1.0):
            return "session.turn_detection.threshold", "threshold must be a number in 0..1"
        for name in ("prefix_padding_ms", "silence_duration_ms"):
            value = turn_detection.get(name)
            if value is not None and not (_is_number(value) and 0 <= value <= 10_000):
                return f"session.turn_detection.{name}", f"{name} must be 0..10000"
    rate = session.get("input_audio_sampling_rate")
    if rate is not None and rate not in (8_000, 16_000, 24_000):
        return (
            "session.input_audio_sampling_rate",
            "input_audio_sampling_rate must be 8000, 16000 or 24000",
        )
    modalities = session.get("modalities")
    if modalities is not None and not (
        isinstance(modalities, list) and set(modalities) <= {"text", "audio", "avatar", "animation"}
    ):
        return "session.modalities", "modalities must be a list of 'text' and 'audio'"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
