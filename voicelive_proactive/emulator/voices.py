"""Which ``voice`` values the emulator takes (it speaks every one with its own voice).

The rules follow the SDK 1.3.1 voice models: a string is an OpenAI voice name; an object has a
``type`` of ``openai``, ``azure-standard``, ``azure-custom``, ``azure-personal``,
``azure-realtime-native`` or ``avatar-voice-sync`` and a non-empty ``name``. Azure standard names
must look like Azure neural voice names (``en-US-AvaNeural``,
``en-us-emma:DragonHDLatestNeural``); the emulator cannot know the service's whole voice list,
so any such name is taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from .checks import Problem, any_problem, is_number

__all__ = ["OPENAI_VOICES", "voice_problem"]

OPENAI_VOICES: Final = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
)
_AZURE_NAME: Final = re.compile(
    r"[a-z]{2,3}(?:-[a-z0-9]{2,4}){1,2}-[a-z0-9]+(?::[a-z0-9]+)?", re.IGNORECASE
)
_TYPES: Final = (
    "openai",
    "azure-standard",
    "azure-custom",
    "azure-personal",
    "azure-realtime-native",
    "avatar-voice-sync",
)


def is_azure_voice_name(name: str) -> bool:
    return _AZURE_NAME.fullmatch(name) is not None and name.lower().endswith("neural")


def voice_problem(voice: object, param: str) -> Problem | None:
    if voice is None:
        return None
    if isinstance(voice, str):
        if voice.lower() in OPENAI_VOICES or is_azure_voice_name(voice):
            return None
        return _unknown(voice, param)
    if not isinstance(voice, Mapping):
        return Problem("invalid_type", f"'{param}' must be a voice name or object.", param)
    kind = voice.get("type")
    name = voice.get("name")
    if kind not in _TYPES:
        supported = ", ".join(f"'{each}'" for each in _TYPES)
        return Problem(
            "invalid_value",
            f"Invalid value: {kind!r}. Supported values are: {supported}.",
            f"{param}.type",
        )
    if not isinstance(name, str) or not name.strip():
        return Problem("missing_required_parameter", "Voice name cannot be empty.", f"{param}.name")
    if kind == "openai" and name.lower() not in OPENAI_VOICES:
        return _unknown(name, f"{param}.name")
    if kind == "azure-standard" and not is_azure_voice_name(name):
        return _unknown(name, f"{param}.name")
    if kind == "azure-custom" and not voice.get("endpoint_id"):
        return Problem(
            "missing_required_parameter",
            "An azure-custom voice needs its 'endpoint_id'.",
            f"{param}.endpoint_id",
        )
    temperature = voice.get("temperature")
    return any_problem(
        None
        if temperature is None or (is_number(temperature) and 0.0 <= float(str(temperature)) <= 1.0)
        else Problem(
            "invalid_value",
            "Temperature must be between 0.0 and 1.0.",
            f"{param}.temperature",
        )
    )


def _unknown(name: str, param: str) -> Problem:
    known = ", ".join(sorted(OPENAI_VOICES))
    return Problem(
        "invalid_value",
        f"Unknown voice {name[:100]!r}: use an OpenAI voice ({known}) or an Azure voice such "
        "as {'type': 'azure-standard', 'name': 'en-US-AvaNeural'}.",
        param,
    )
