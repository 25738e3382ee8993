"""The one place a :class:`Greeting` becomes Voice Live client events.

The events are plain wire dicts in exactly the shape (and key order) the SDK's own models
serialize to; ``tests/test_wire.py`` pins them to ``ClientEventResponseCreate(...).as_dict()``
and friends. Building the SDK models instead costs about 80 µs per greeting, which was most
of the library's dispatch overhead against a hand-written loop (see docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .greetings import Greeting, GreetingMode

__all__ = ["greeting_events"]


def greeting_events(greeting: Greeting, event_ids: Iterator[str]) -> list[dict[str, Any]]:
    """The events that deliver ``greeting``; the last one is always the ``response.create``.

    Spoken: one ``response.create`` carrying ``pre_generated_assistant_message``.
    Instructed: a system ``conversation.item.create``, then a plain ``response.create``.
    """
    if greeting.mode is GreetingMode.SPOKEN:
        message = {
            "content": [{"text": greeting.text, "type": "text"}],
            "type": "message",
            "role": "assistant",
        }
        return [
            {
                "event_id": next(event_ids),
                "response": {"pre_generated_assistant_message": message},
                "type": "response.create",
            }
        ]
    item = {
        "content": [{"text": greeting.text, "type": "input_text"}],
        "type": "message",
        "role": "system",
    }
    return [
        {"event_id": next(event_ids), "item": item, "type": "conversation.item.create"},
        {"event_id": next(event_ids), "type": "response.create"},
    ]
