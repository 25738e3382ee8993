"""Builders for server events, so tests read as a conversation instead of raw JSON."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

__all__ = ["audio_response_events"]


def audio_response_events(
    response_id: str,
    item_id: str,
    audio_chunks: list[bytes],
    *,
    transcript: str = "",
    status: str = "completed",
    answering: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The wire events of one audio response, in the order the service sends them.

    Push them into a :class:`FakeConnection` one by one (or all at once). With
    ``answering=sent_event`` (a ``response.create`` the code under test sent), the response
    echoes that request's ``response.metadata``, as the service does: that is how the session
    knows for certain that the response is its own.
    """
    ids = {"response_id": response_id, "item_id": item_id, "output_index": 0}
    part_ids = {**ids, "content_index": 0}
    item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress"}
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": {
                "id": response_id,
                "object": "realtime.response",
                "status": "in_progress",
                "metadata": _metadata(answering),
            },
        },
        {"type": "response.output_item.added", **ids, "item": {**item, "content": []}},
        {"type": "conversation.item.created", "item": {**item, "content": []}},
        {"type": "response.content_part.added", **part_ids, "part": {"type": "audio"}},
    ]
    if transcript:
        events.append({"type": "response.audio_transcript.delta", **part_ids, "delta": transcript})
    for chunk in audio_chunks:
        events.append(
            {
                "type": "response.audio.delta",
                **part_ids,
                "delta": base64.b64encode(chunk).decode("ascii"),
            }
        )
    done_item = {**item, "status": "completed" if status == "completed" else "incomplete"}
    events += [
        {"type": "response.audio.done", **part_ids},
        {"type": "response.audio_transcript.done", **part_ids, "transcript": transcript},
        {"type": "response.content_part.done", **part_ids, "part": {"type": "audio"}},
        {"type": "response.output_item.done", **ids, "item": done_item},
        {
            "type": "response.done",
            "response": {"id": response_id, "status": status, "output": [done_item]},
        },
    ]
    events[-1]["response"]["metadata"] = _metadata(answering)
    if status == "cancelled":
        events[-1]["response"]["status_details"] = {"type": "cancelled", "reason": "turn_detected"}
    return events


def _metadata(answering: Mapping[str, Any] | None) -> Any:
    if answering is None:
        return None
    response = answering.get("response")
    return response.get("metadata") if isinstance(response, Mapping) else None
