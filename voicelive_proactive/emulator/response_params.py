"""``response.create`` read and checked: what one response is asked to do.

The service takes the per-response fields of ``ResponseCreateParams`` (SDK 1.3.1) plus the
OpenAI Realtime ``conversation`` field, and falls back to the session for what is not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .audio_formats import output_format_problem
from .checks import (
    Problem,
    any_problem,
    max_tokens_problem,
    metadata_problem,
    string_problem,
    temperature_problem,
)
from .conversation import item_problem
from .tools import tool_choice_problem, tools_problem
from .voices import voice_problem

__all__ = ["ResponseParams", "parse_response_create", "pre_generated_text"]

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class ResponseParams:
    """One response's settings; ``None`` means "as the session says"."""

    modalities: list[str] | None = None
    instructions: str | None = None
    additional_instructions: str | None = None
    metadata: dict[str, str] | None = None
    """Echoed exactly in ``response.created`` and ``response.done`` (null when not given)."""
    in_conversation: bool = True
    """False for ``conversation: "none"`` (or ``commit: false``): an out-of-band response."""
    max_output_tokens: int | str | None = None
    pre_generated: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    input_items: list[dict[str, Any]] | None = None
    """Context for this response instead of the conversation (``input_items``)."""
    append_input_items: list[dict[str, Any]] | None = None
    """Items added to the conversation before the response is generated."""
    cancel_previous: bool = False
    """Explicit ``cancel_previous: true``: cancel an active response instead of refusing."""
    voice: Any = None
    output_audio_format: str | None = None
    temperature: float | None = None


def parse_response_create(event: Mapping[str, Any]) -> ResponseParams | Problem:
    """The params of a ``response.create`` event, or the problem to report."""
    params = event.get("response")
    additional = event.get("additional_instructions")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        return Problem("invalid_type", "Invalid type for 'response'.", "response")
    if not isinstance(additional, (str, type(None))):
        return Problem(
            "invalid_type", "Invalid type for 'additional_instructions'.", "additional_instructions"
        )
    problem = _problem(params)
    if problem is not None:
        return problem
    pre_generated = params.get("pre_generated_assistant_message")
    spoken = pre_generated_text(pre_generated) if pre_generated is not None else None
    if pre_generated is not None and spoken is None:
        return Problem(
            "invalid_value",
            "pre_generated_assistant_message must be an assistant message with exactly one "
            "non-empty text part.",
            "response.pre_generated_assistant_message",
        )
    metadata = params.get("metadata")
    return ResponseParams(
        modalities=params.get("modalities"),
        instructions=params.get("instructions"),
        additional_instructions=additional,
        metadata=dict(metadata) if metadata is not None else None,
        in_conversation=params.get("conversation", "auto") != "none"
        and params.get("commit", True) is not False,
        max_output_tokens=params.get("max_output_tokens"),
        pre_generated=spoken,
        tools=params.get("tools"),
        tool_choice=params.get("tool_choice"),
        input_items=params.get("input_items"),
        append_input_items=params.get("append_input_items"),
        cancel_previous=params.get("cancel_previous") is True,
        voice=params.get("voice"),
        output_audio_format=params.get("output_audio_format"),
        temperature=params.get("temperature"),
    )


def _problem(params: Mapping[str, Any]) -> Problem | None:
    conversation = params.get("conversation")
    commit = params.get("commit")
    modalities = params.get("modalities")
    return any_problem(
        metadata_problem(params.get("metadata"), "response.metadata"),
        None
        if conversation in (None, "auto", "none")
        else Problem(
            "invalid_value",
            f"Invalid value: {conversation!r}. Supported values are: 'auto' and 'none'.",
            "response.conversation",
        ),
        None
        if commit is None or isinstance(commit, bool)
        else Problem("invalid_type", "'response.commit' must be a boolean.", "response.commit"),
        None
        if modalities is None
        or (
            isinstance(modalities, list)
            and modalities
            and set(modalities) <= {"text", "audio", "animation", "avatar"}
        )
        else Problem(
            "invalid_value",
            "'response.modalities' must be a non-empty list of 'text' and 'audio'.",
            "response.modalities",
        ),
        string_problem(params.get("instructions"), "response.instructions"),
        max_tokens_problem(params.get("max_output_tokens"), "response.max_output_tokens"),
        temperature_problem(params.get("temperature"), "response.temperature"),
        tools_problem(params.get("tools"), "response.tools"),
        tool_choice_problem(params.get("tool_choice"), "response.tool_choice"),
        voice_problem(params.get("voice"), "response.voice"),
        output_format_problem(params.get("output_audio_format"), "response.output_audio_format"),
        _items_problem(params.get("input_items"), "response.input_items"),
        _items_problem(params.get("append_input_items"), "response.append_input_items"),
        None
        if params.get("cancel_previous") is None or isinstance(params.get("cancel_previous"), bool)
        else Problem(
            "invalid_type",
            "'response.cancel_previous' must be a boolean.",
            "response.cancel_previous",
        ),
    )


def _items_problem(items: object, param: str) -> Problem | None:
    if items is None:
        return None
    if not isinstance(items, list):
        return Problem("invalid_type", f"'{param}' must be a list of items.", param)
    for index, item in enumerate(items):
        found = item_problem(item)
        if found is not None:
            where, message = found
            return Problem("invalid_value", message, f"{param}[{index}]{where[4:]}")
    return None


def pre_generated_text(message: object) -> str | None:
    """The text of a valid pre-generated message: an assistant message with ONE text part."""
    if not isinstance(message, Mapping) or message.get("role") != "assistant":
        return None
    if message.get("type", "message") != "message":
        return None
    content = message.get("content")
    if not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], Mapping):
        return None
    part = content[0]
    text = part.get("text")
    if part.get("type") != "text" or not isinstance(text, str) or not text.strip():
        return None
    return text
