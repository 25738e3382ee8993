"""The greeting's wire events are exactly what the SDK's own models would send."""

from __future__ import annotations

import itertools
import json

from azure.ai.voicelive.models import (
    AssistantMessageItem,
    ClientEventConversationItemCreate,
    ClientEventConversationItemTruncate,
    ClientEventInputAudioBufferAppend,
    ClientEventResponseCancel,
    ClientEventResponseCreate,
    ClientEventSessionUpdate,
    InputTextContentPart,
    OutputTextContentPart,
    RequestSession,
    ResponseCreateParams,
    ServerVad,
    SystemMessageItem,
)

import voicelive_proactive as vp
from voicelive_proactive.floor import TAG_KEY
from voicelive_proactive.wire import (
    append_event,
    cancel_event,
    greeting_events,
    session_update_event,
    truncate_event,
)

TEXT = 'Hi "Lisa" — welcome back!\nHow can I help?'


def ids() -> itertools.count[int]:
    return itertools.count(1)


def test_spoken_matches_the_sdk_model_byte_for_byte() -> None:
    [event] = greeting_events(vp.Greeting.spoken(TEXT), map("e{}".format, ids()))
    message = AssistantMessageItem(content=[OutputTextContentPart(text=TEXT)])
    sdk = ClientEventResponseCreate(
        event_id="e1",
        response=ResponseCreateParams(
            pre_generated_assistant_message=message, metadata={TAG_KEY: "e1"}
        ),
    ).as_dict()
    assert json.dumps(event) == json.dumps(sdk)


def test_instructed_matches_the_sdk_models_byte_for_byte() -> None:
    item_event, create = greeting_events(vp.Greeting.instructed(TEXT), map("e{}".format, ids()))
    item = SystemMessageItem(content=[InputTextContentPart(text=TEXT)])
    assert json.dumps(item_event) == json.dumps(
        ClientEventConversationItemCreate(event_id="e1", item=item).as_dict()
    )
    sdk = ClientEventResponseCreate(
        event_id="e2", response=ResponseCreateParams(metadata={TAG_KEY: "e2"})
    ).as_dict()
    assert json.dumps(create) == json.dumps(sdk)


def test_control_events_match_the_sdk_models() -> None:
    assert json.dumps(append_event("e0", b"\x01\x02")) == json.dumps(
        ClientEventInputAudioBufferAppend(audio="AQI=", event_id="e0").as_dict()
    )
    assert json.dumps(cancel_event("e1", "r1")) == json.dumps(
        ClientEventResponseCancel(event_id="e1", response_id="r1").as_dict()
    )
    assert json.dumps(truncate_event("e2", "i1", 250)) == json.dumps(
        ClientEventConversationItemTruncate(
            event_id="e2", item_id="i1", content_index=0, audio_end_ms=250
        ).as_dict()
    )
    detection = {"type": "server_vad", "interrupt_response": False}
    assert (
        session_update_event("e3", detection)
        == ClientEventSessionUpdate(
            event_id="e3",
            session=RequestSession(turn_detection=ServerVad(interrupt_response=False)),
        ).as_dict()
    )
