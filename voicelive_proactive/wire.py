"""The one place proactive speech becomes Voice Live client events.

The events are plain wire dicts in exactly the shape (and key order) the SDK's own models
serialize to; ``tests/test_wire.py`` pins them to ``ClientEventResponseCreate(...).as_dict()``
and friends. Building the SDK models instead costs about 80 µs per greeting, which was most
of the library's dispatch overhead against a hand-written loop (see docs/performance.md).

Every ``response.create`` carries ``response.metadata`` with the library's tag: the service
echoes it in ``response.created``, which proves the response is ours (see ``floor.py``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any

from .floor import TAG_KEY
from .greetings import Greeting, GreetingMode

__all__ = [
    "append_event",
    "cancel_event",
    "delete_item_event",
    "greeting_events",
    "local_item_event",
    "session_update_event",
    "truncate_event",
]


def greeting_events(greeting: Greeting, event_ids: Iterator[str]) -> list[dict[str, Any]]:
    """The events that deliver ``greeting``; the last one is always the ``response.create``.

    Spoken: one ``response.create`` carrying ``pre_generated_assistant_message``.
    Instructed: a system ``conversation.item.create``, then a ``response.create``.
    """
    if greeting.mode is GreetingMode.SPOKEN:
        event_id = next(event_ids)
        message = {
            "content": [{"text": greeting.text, "type": "text"}],
            "type": "message",
            "role": "assistant",
        }
        return [
            {
                "event_id": event_id,
                "response": {
                    "pre_generated_assistant_message": message,
                    "metadata": {TAG_KEY: event_id},
                },
                "type": "response.create",
            }
        ]
    item = {
        "content": [{"text": greeting.text, "type": "input_text"}],
        "type": "message",
        "role": "system",
    }
    item_id, create_id = next(event_ids), next(event_ids)
    return [
        {"event_id": item_id, "item": item, "type": "conversation.item.create"},
        {
            "event_id": create_id,
            "response": {"metadata": {TAG_KEY: create_id}},
            "type": "response.create",
        },
    ]


def append_event(event_id: str, pcm: bytes) -> dict[str, Any]:
    """``input_audio_buffer.append`` carrying one block of microphone audio."""
    return {
        "audio": base64.b64encode(pcm).decode("ascii"),
        "event_id": event_id,
        "type": "input_audio_buffer.append",
    }


def cancel_event(event_id: str, response_id: str) -> dict[str, Any]:
    """``response.cancel`` naming the response, so it can only ever stop that one."""
    return {"event_id": event_id, "response_id": response_id, "type": "response.cancel"}


def truncate_event(event_id: str, item_id: str, audio_end_ms: int) -> dict[str, Any]:
    """``conversation.item.truncate``: the listener heard ``audio_end_ms`` of the item."""
    return {
        "event_id": event_id,
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": audio_end_ms,
        "type": "conversation.item.truncate",
    }


def session_update_event(event_id: str, turn_detection: Mapping[str, Any]) -> dict[str, Any]:
    """``session.update`` changing only ``turn_detection`` (sent whole, with the app's other
    fields, since the service may replace the object rather than merge it)."""
    return {
        "event_id": event_id,
        "session": {"turn_detection": dict(turn_detection)},
        "type": "session.update",
    }


def local_item_event(
    event_id: str, item_id: str, text: str, previous_item_id: str | None = None
) -> dict[str, Any]:
    """``conversation.item.create``: an assistant message the caller heard from local audio
    (a prerecorded greeting), so the model knows what it said."""
    item = {
        "id": item_id,
        "content": [{"text": text, "type": "text"}],
        "type": "message",
        "role": "assistant",
    }
    event: dict[str, Any] = {"event_id": event_id, "item": item, "type": "conversation.item.create"}
    if previous_item_id is not None:
        event["previous_item_id"] = previous_item_id
    return event


def delete_item_event(event_id: str, item_id: str) -> dict[str, Any]:
    """``conversation.item.delete``: the caller never heard this item."""
    return {"event_id": event_id, "item_id": item_id, "type": "conversation.item.delete"}
