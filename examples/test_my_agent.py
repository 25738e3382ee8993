"""A pytest file to copy into your project: test your agent's greeting with no network.

The ``fake_connection`` and ``memory_audio`` fixtures come with voicelive-proactive
(its pytest plugin is registered when the package is installed). A fresh project needs only
``pip install voicelive-proactive pytest pytest-asyncio``; to run it with warnings as errors
(``pytest -W error``), also set pytest-asyncio's two options (docs/how-to/testing.md).

    pytest examples/test_my_agent.py      (or: python examples/test_my_agent.py)
"""

from __future__ import annotations

import pytest

from voicelive_proactive import (
    GreetingStatus,
    ProactiveSession,
    StaticGreeting,
    TemplateGreeting,
)
from voicelive_proactive.testing import FakeConnection, MemoryAudioIO, audio_response_events

# The tests are async: pytest-asyncio runs them. The mark makes that work in any project,
# whatever its asyncio_mode (the default, "strict", needs it; "auto" does not mind it).
pytestmark = pytest.mark.asyncio


def make_agent(
    conn: FakeConnection, audio: MemoryAudioIO, customer: dict[str, str]
) -> ProactiveSession:
    """Your code under test: how your app sets up its greeting."""
    return ProactiveSession(
        conn,
        greeting=TemplateGreeting("Hi {name}, welcome back!") | StaticGreeting("Hi, welcome!"),
        context=customer,
        audio=audio,
    )


async def test_known_customer_is_greeted_by_name(
    fake_connection: FakeConnection, memory_audio: MemoryAudioIO
) -> None:
    agent = make_agent(fake_connection, memory_audio, {"name": "Lisa"})
    fake_connection.push({"type": "session.updated", "session": {"id": "s1"}})
    fake_connection.close()
    await agent.run()

    [create] = fake_connection.sent_of("response.create")
    message = create["response"]["pre_generated_assistant_message"]
    assert message["content"][0]["text"] == "Hi Lisa, welcome back!"


async def test_new_customer_gets_the_fallback(fake_connection: FakeConnection) -> None:
    agent = make_agent(fake_connection, MemoryAudioIO(), {})
    fake_connection.push({"type": "session.updated", "session": {"id": "s1"}})
    fake_connection.close()
    outcome = await agent.run()
    assert outcome.greeting is not None and outcome.greeting.text == "Hi, welcome!"


async def test_greeting_audio_is_played(
    fake_connection: FakeConnection, memory_audio: MemoryAudioIO
) -> None:
    agent = make_agent(fake_connection, memory_audio, {"name": "Lisa"})
    speech = b"\x10\x00" * 2400
    fake_connection.push({"type": "session.updated", "session": {"id": "s1"}})
    for event in audio_response_events("r1", "i1", [speech]):
        fake_connection.push(event)
    fake_connection.close()
    outcome = await agent.run()
    assert outcome.status is GreetingStatus.SENT
    assert memory_audio.queued == speech


async def test_caller_who_speaks_first_is_not_talked_over(fake_connection: FakeConnection) -> None:
    agent = make_agent(fake_connection, MemoryAudioIO(), {"name": "Lisa"})
    fake_connection.push({"type": "input_audio_buffer.speech_started", "item_id": "u1"})
    fake_connection.push({"type": "session.updated", "session": {"id": "s1"}})
    fake_connection.close()
    outcome = await agent.run()
    assert outcome.status is GreetingStatus.SKIPPED
    assert fake_connection.sent_of("response.create") == []


if __name__ == "__main__":
    import subprocess
    import sys

    # A fresh interpreter, so pytest can rewrite the plugin's asserts.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__]
    raise SystemExit(subprocess.call(command))
