"""The real SDK ``connect()`` over a loopback WebSocket into a tiny scripted server.

This keeps the core library honest on its own; the full emulator has its own suite.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

import voicelive_proactive as vp
from voicelive_proactive.testing import MemoryAudioIO, audio_response_events

CHUNK = bytes(range(256)) * 15  # 3,840 bytes: 80 ms, not silence


class ScriptedServer:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "session.created", "session": {"id": "sess_loop"}})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            event = json.loads(msg.data)
            self.received.append(event)
            if event["type"] == "session.update":
                await ws.send_json({"type": "session.updated", "session": {"id": "sess_loop"}})
            elif event["type"] == "response.create":
                for reply in audio_response_events("resp_1", "item_1", [CHUNK, CHUNK]):
                    await ws.send_json(reply)
                await ws.close()
        return ws


@pytest.fixture
async def server() -> AsyncIterator[tuple[ScriptedServer, str]]:
    scripted = ScriptedServer()
    app = web.Application()
    app.router.add_get("/voice-live/realtime", scripted.handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield scripted, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_real_sdk_connection_greets_once_and_plays_audio(
    server: tuple[ScriptedServer, str],
) -> None:
    scripted, endpoint = server
    mem = MemoryAudioIO()
    async with connect(
        endpoint=vp.check_endpoint(endpoint),
        credential=AzureKeyCredential("test-key"),
        model="gpt-realtime",
    ) as conn:
        await conn.session.update(session={"modalities": ["audio", "text"]})
        await conn.session.update(session={"voice": "en-US-AvaNeural"})
        async with vp.ProactiveSession(
            conn, greeting=vp.TemplateGreeting("Hi {name}!"), context={"name": "Lisa"}, audio=mem
        ) as proactive:
            outcome = await proactive.run()

    creates = [e for e in scripted.received if e["type"] == "response.create"]
    assert len(creates) == 1
    message = creates[0]["response"]["pre_generated_assistant_message"]
    assert message["content"] == [{"type": "text", "text": "Hi Lisa!"}]
    assert outcome.status is vp.GreetingStatus.SENT
    assert mem.queued == CHUNK * 2
    assert proactive.metrics.ready_to_done_ms is not None
