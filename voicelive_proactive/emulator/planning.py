"""From a session and a ``response.create`` to a :class:`ResponsePlan`: what will be said."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .audio_formats import output_format
from .checks import token_limit
from .conversation import item_text
from .model import Context, decide, estimate_tokens
from .response_params import ResponseParams
from .responses import ResponsePlan
from .tools import ToolCall

__all__ = ["PlanSettings", "build_plan"]


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """The connection's own knobs: pace and the faults that shape every response."""

    pace: float
    created_delay: float = 0.0
    stall_after_chunks: int | None = None
    stall_seconds: float = 0.0
    conversation_id: str | None = None
    cough_after_chunks: int | None = None


def build_plan(
    session: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    params: ResponseParams,
    settings: PlanSettings,
    *,
    heard: Mapping[str, str] | None = None,
) -> ResponsePlan:
    """Decide the response: the session gives what ``params`` leaves unset."""
    modalities = params.modalities or session.get("modalities") or ["text", "audio"]
    context = params.input_items if params.input_items is not None else items
    tools = params.tools if params.tools is not None else session.get("tools") or []
    choice = params.tool_choice if params.tool_choice is not None else session.get("tool_choice")
    limit_value = (
        params.max_output_tokens
        if params.max_output_tokens is not None
        else session.get("max_response_output_tokens")
    )
    decided: str | ToolCall
    if params.pre_generated is not None:
        decided, input_tokens = params.pre_generated, 0
    else:
        decided = decide(
            Context(
                items=context,
                session_instructions=session.get("instructions"),
                response_instructions=params.instructions,
                additional_instructions=params.additional_instructions,
                tools=tools,
                tool_choice=choice if choice is not None else "auto",
                heard=heard,
            )
        )
        input_tokens = _input_tokens(session, context, params, heard)
    format_name = params.output_audio_format or session.get("output_audio_format") or "pcm16"
    return ResponsePlan(
        text=decided if isinstance(decided, str) else "",
        audio="audio" in modalities,
        one_transcript_delta=params.pre_generated is not None,
        input_tokens=input_tokens,
        pace=settings.pace,
        created_delay=settings.created_delay,
        stall_after_chunks=settings.stall_after_chunks,
        stall_seconds=settings.stall_seconds,
        cough_after_chunks=settings.cough_after_chunks,
        tool_call=decided if isinstance(decided, ToolCall) else None,
        metadata=params.metadata,
        in_conversation=params.in_conversation,
        conversation_id=settings.conversation_id,
        # A pre-generated message is spoken as given: no generation for the limit to stop.
        max_output_tokens=None if params.pre_generated is not None else token_limit(limit_value),
        output_format=output_format(format_name),
        word_timestamps="word" in (session.get("output_audio_timestamp_types") or ()),
        visemes="viseme_id" in (_outputs(session.get("animation"))),
        echo={
            "voice": params.voice if params.voice is not None else session.get("voice"),
            "output_audio_format": format_name,
            "temperature": params.temperature
            if params.temperature is not None
            else session.get("temperature"),
            "max_output_tokens": limit_value if limit_value is not None else "inf",
        },
    )


def _input_tokens(
    session: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    params: ResponseParams,
    heard: Mapping[str, str] | None,
) -> int:
    words = [session.get("instructions") or "", params.instructions or ""]
    words.append(params.additional_instructions or "")
    for item in items:
        text = item_text(dict(item)) if item.get("type") == "message" else None
        if text is None and heard is not None:
            text = heard.get(str(item.get("id")))
        if text is None:
            text = str(item.get("output") or item.get("arguments") or "")
        words.append(text)
    return estimate_tokens(" ".join(words))


def _outputs(animation: object) -> Sequence[object]:
    outputs = animation.get("outputs") if isinstance(animation, Mapping) else None
    return outputs if isinstance(outputs, list) else ()
