"""Settings the emulator accepts but cannot act on: each gets a ``warning`` event naming it.

A test that relies on one of these would otherwise pass while the emulator silently did
nothing. The service itself would act on them, so they are not errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, NamedTuple

__all__ = ["WARNING_CODE", "NotEmulated", "response_warnings", "session_warnings"]

WARNING_CODE: Final = "not_emulated"

_VOICE_FIELDS: Final = (
    "rate",
    "pitch",
    "volume",
    "style",
    "locale",
    "prefer_locales",
    "custom_lexicon_url",
    "custom_text_normalization_url",
)


class NotEmulated(NamedTuple):
    message: str
    param: str
    code: str = WARNING_CODE

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code, "param": self.param}


def _set(value: object) -> bool:
    return value is not None and value is not False and value != [] and value != {}


def session_warnings(update: Mapping[str, Any]) -> list[NotEmulated]:
    """What in this ``session.update`` the emulator will not do."""
    found: list[NotEmulated] = []
    add = found.append
    if _set(update.get("avatar")):
        add(
            NotEmulated("The emulator renders no avatar: no video and no WebRTC.", "session.avatar")
        )
    modalities = update.get("modalities")
    if isinstance(modalities, list) and "avatar" in modalities:
        add(NotEmulated("The emulator produces no avatar output.", "session.modalities"))
    animation = update.get("animation")
    if isinstance(animation, Mapping):
        outputs = animation.get("outputs")
        for output in outputs if isinstance(outputs, list) else ():
            if output != "viseme_id":
                add(
                    NotEmulated(
                        f"The emulator produces no {output!r} animation (viseme_id only).",
                        "session.animation.outputs",
                    )
                )
    timestamps = update.get("output_audio_timestamp_types")
    for kind in timestamps if isinstance(timestamps, list) else ():
        if kind != "word":
            add(
                NotEmulated(
                    f"The emulator gives no {kind!r} timestamps (word only).",
                    "session.output_audio_timestamp_types",
                )
            )
    if _set(update.get("input_audio_noise_reduction")):
        add(
            NotEmulated(
                "The emulator does not suppress noise: audio reaches the VAD as sent.",
                "session.input_audio_noise_reduction",
            )
        )
    if _set(update.get("input_audio_echo_cancellation")):
        add(
            NotEmulated(
                "The emulator does not cancel echo: its own speech played back is heard.",
                "session.input_audio_echo_cancellation",
            )
        )
    found += _turn_detection_warnings(update.get("turn_detection"))
    found += _voice_warnings(update.get("voice"), "session.voice")
    found += _tool_warnings(update.get("tools"), "session.tools")
    if _set(update.get("interim_response")):
        add(
            NotEmulated(
                "The emulator speaks no interim responses.",
                "session.interim_response",
            )
        )
    transcription = update.get("input_audio_transcription")
    if isinstance(transcription, Mapping) and _set(transcription.get("custom_speech")):
        add(
            NotEmulated(
                "The emulator has no custom speech models; it recognizes only speech it "
                "synthesized (see input_audio_transcription.phrase_list).",
                "session.input_audio_transcription.custom_speech",
            )
        )
    include = update.get("include")
    if isinstance(include, list) and include:
        add(
            NotEmulated(
                "The emulator adds no extra fields (logprobs and the like).", "session.include"
            )
        )
    return found


def _turn_detection_warnings(turn_detection: object) -> list[NotEmulated]:
    if not isinstance(turn_detection, Mapping):
        return []
    param = "session.turn_detection"
    found: list[NotEmulated] = []
    if _set(turn_detection.get("end_of_utterance_detection")):
        found.append(
            NotEmulated(
                "The emulator ends a turn after silence_duration_ms of silence only; there is "
                "no semantic end-of-utterance detection.",
                f"{param}.end_of_utterance_detection",
            )
        )
    if turn_detection.get("auto_truncate") is True:
        found.append(
            NotEmulated(
                "The emulator does not truncate interrupted replies by itself; send "
                "conversation.item.truncate.",
                f"{param}.auto_truncate",
            )
        )
    return found


def _voice_warnings(voice: object, param: str) -> list[NotEmulated]:
    if not isinstance(voice, Mapping):
        return []
    return [
        NotEmulated(
            f"The emulator's voice ignores {name!r}: every voice sounds the same.",
            f"{param}.{name}",
        )
        for name in _VOICE_FIELDS
        if _set(voice.get(name))
    ]


def _tool_warnings(tools: object, param: str) -> list[NotEmulated]:
    if not isinstance(tools, list):
        return []
    return [
        NotEmulated(
            "The emulator contacts no MCP server and never calls its tools.",
            f"{param}[{index}]",
        )
        for index, tool in enumerate(tools)
        if isinstance(tool, Mapping) and tool.get("type") == "mcp"
    ]


def response_warnings(params: Mapping[str, Any]) -> list[NotEmulated]:
    """What in a ``response.create``'s ``response`` the emulator will not do."""
    found = _voice_warnings(params.get("voice"), "response.voice")
    found += _tool_warnings(params.get("tools"), "response.tools")
    if _set(params.get("interim_response")):
        found.append(
            NotEmulated("The emulator speaks no interim responses.", "response.interim_response")
        )
    if _set(params.get("invoke_input")):
        found.append(NotEmulated("The emulator hosts no agent to invoke.", "response.invoke_input"))
    return found
