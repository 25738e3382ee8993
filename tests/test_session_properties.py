"""Random interleavings of server events never break the rules of behaviour."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voicelive_proactive as vp
from voicelive_proactive.testing import FakeConnection, MemoryAudioIO

ACTIONS = st.lists(
    st.sampled_from(
        [
            "session.updated",
            "speech_started",
            "server_response",  # server-initiated response.created (e.g. VAD)
            "response.done",
            "audio",
            "unrelated_error",
            "reject_greeting",
            "busy_reject_greeting",
            "accept_greeting",
        ]
    ),
    max_size=40,
)


@dataclass
class Server:
    """Just enough of the service to know what is legal and what the client did."""

    active: str | None = None
    unanswered: list[str] = field(default_factory=list)
    user_spoke: bool = False
    accepted_greetings: int = 0
    n: int = 0

    def next_id(self) -> str:
        self.n += 1
        return f"r{self.n}"


def check_new_sends(fake: FakeConnection, seen: int, server: Server) -> int:
    for event in fake.sent[seen:]:
        if event["type"] == "response.create":
            assert server.active is None, "greeting sent while a response was active"
            assert not server.unanswered, "greeting sent while another was unanswered"
            assert not server.user_spoke, "greeting sent after the user spoke first"
            server.unanswered.append(event["event_id"])
        assert event.get("event_id"), "every sent event carries an event_id"
    return len(fake.sent)


async def play(actions: list[str]) -> None:
    fake, server = FakeConnection(), Server()
    mem = MemoryAudioIO()
    proactive = vp.ProactiveSession(fake, greeting="Hello!", audio=mem)
    seen = 0
    for action in actions:
        event: dict[str, object] | None = None
        if action == "session.updated":
            event = {"type": "session.updated", "session": {"id": "s"}}
        elif action == "speech_started":
            server.user_spoke = True
            event = {"type": "input_audio_buffer.speech_started", "item_id": "u"}
        elif action == "server_response" and server.active is None and not server.unanswered:
            server.active = server.next_id()
            event = {"type": "response.created", "response": {"id": server.active}}
        elif action == "response.done" and server.active is not None:
            event = {
                "type": "response.done",
                "response": {"id": server.active, "status": "completed"},
            }
            server.active = None
        elif action == "audio" and server.active is not None:
            event = {
                "type": "response.audio.delta",
                "response_id": server.active,
                "item_id": "i",
                "delta": base64.b64encode(b"\x00\x01" * 240).decode(),
            }
        elif action == "unrelated_error":
            event = {"type": "error", "error": {"code": "x", "message": "m", "event_id": "other"}}
        elif action in ("reject_greeting", "busy_reject_greeting") and server.unanswered:
            code = (
                "conversation_already_has_active_response" if action.startswith("busy") else "bad"
            )
            event = {
                "type": "error",
                "error": {"code": code, "message": "m", "event_id": server.unanswered.pop(0)},
            }
        elif action == "accept_greeting" and server.unanswered and server.active is None:
            server.unanswered.pop(0)
            server.accepted_greetings += 1
            server.active = server.next_id()
            event = {"type": "response.created", "response": {"id": server.active}}
        if event is None:
            continue
        fake.push(event)
        await proactive.handle(await fake.recv())
        seen = check_new_sends(fake, seen, server)
        assert server.accepted_greetings + len(server.unanswered) <= 1, "more than one greeting"
    await proactive.aclose()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ACTIONS)
def test_random_interleavings_keep_the_rules(actions: list[str]) -> None:
    asyncio.run(play(actions))
