"""The one place a :class:`Greeting` becomes Voice Live client events (SDK models)."""

from __future__ import annotations

from collections.abc import Iterator

from azure.ai.voicelive.models import (
    AssistantMessageItem,
    ClientEvent,
    ClientEventConversationItemCreate,
    ClientEventResponseCreate,
    InputTextContentPart,
    OutputTextContentPart,
    ResponseCreateParams,
    SystemMessageItem,
)

from .greetings import Greeting, GreetingMode

__all__ = ["greeting_events"]


def greeting_events(greeting: Greeting, event_ids: Iterator[str]) -> list[ClientEvent]:
    """The events that deliver ``greeting``; the last one is always the ``response.create``.

    Spoken: one ``response.create`` carrying ``pre_generated_assistant_message``.
    Instructed: a system ``conversation.item.create``, then a plain ``response.create``.
    """
    if greeting.mode is GreetingMode.SPOKEN:
        message = AssistantMessageItem(content=[OutputTextContentPart(text=greeting.text)])
        return [
            ClientEventResponseCreate(
                event_id=next(event_ids),
                response=ResponseCreateParams(pre_generated_assistant_message=message),
            )
        ]
    item = SystemMessageItem(content=[InputTextContentPart(text=greeting.text)])
    return [
        ClientEventConversationItemCreate(event_id=next(event_ids), item=item),
        ClientEventResponseCreate(event_id=next(event_ids)),
    ]
