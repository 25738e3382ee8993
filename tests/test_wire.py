"""The greeting's wire events are exactly what the SDK's own models would send."""

from __future__ import annotations

import itertools
import json

from azure.ai.voicelive.models import (
    AssistantMessageItem,
    ClientEventConversationItemCreate,
    ClientEventResponseCreate,
    InputTextContentPart,
    OutputTextContentPart,
    ResponseCreateParams,
    SystemMessageItem,
)

import voicelive_proactive as vp
from voicelive_proactive.wire import greeting_events

TEXT = 'Hi "Lisa" — welcome back!\nHow can I help?'


def ids() -> itertools.count[int]:
    return itertools.count(1)


def test_spoken_matches_the_sdk_model_byte_for_byte() -> None:
    [event] = greeting_events(vp.Greeting.spoken(TEXT), map("e{}".format, ids()))
    message = AssistantMessageItem(content=[OutputTextContentPart(text=TEXT)])
    sdk = ClientEventResponseCreate(
        event_id="e1", response=ResponseCreateParams(pre_generated_assistant_message=message)
    ).as_dict()
    assert json.dumps(event) == json.dumps(sdk)


def test_instructed_matches_the_sdk_models_byte_for_byte() -> None:
    item_event, create = greeting_events(vp.Greeting.instructed(TEXT), map("e{}".format, ids()))
    item = SystemMessageItem(content=[InputTextContentPart(text=TEXT)])
    assert json.dumps(item_event) == json.dumps(
        ClientEventConversationItemCreate(event_id="e1", item=item).as_dict()
    )
    assert json.dumps(create) == json.dumps(ClientEventResponseCreate(event_id="e2").as_dict())
