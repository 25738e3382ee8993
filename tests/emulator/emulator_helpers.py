"""Shared helpers for the emulator tests: SDK connections, event collection, conformance."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.ai.voicelive.models import (
    ContentPart,
    ResponseItem,
    ResponseStatusDetails,
    ServerEvent,
    ServerEventErrorDetails,
)
from azure.core.credentials import AzureKeyCredential

from voicelive_proactive.emulator import Emulator

RATE = 24_000
LOCATED = ("response_id", "item_id", "output_index", "content_index")


@asynccontextmanager
async def sdk(emu: Emulator, **kwargs: Any) -> AsyncIterator[VoiceLiveConnection]:
    """The real SDK, connected to the emulator."""
    kwargs.setdefault("model", "gpt-realtime")
    async with connect(
        endpoint=emu.endpoint, credential=AzureKeyCredential(emu.api_key), **kwargs
    ) as conn:
        yield conn


async def until(conn: VoiceLiveConnection, stop: str, *, timeout: float = 5.0) -> list[ServerEvent]:
    """Every event up to and including the first of type ``stop``."""

    async def read() -> list[ServerEvent]:
        events = []
        while True:
            event = await conn.recv()
            events.append(event)
            if event.type == stop:
                return events

    return await asyncio.wait_for(read(), timeout)


def types_of(events: Iterable[ServerEvent | dict[str, Any]]) -> list[str]:
    return [str(e["type"]) if isinstance(e, dict) else str(e.type) for e in events]


def pcm_of(events: Iterable[ServerEvent]) -> bytes:
    return b"".join(e.delta for e in events if e.type == "response.audio.delta")


def rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def tone(ms: int, amplitude: int = 8000, freq: float = 440.0) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(RATE * ms // 1000 * 2)


def b64(pcm: bytes) -> str:
    return base64.b64encode(pcm).decode()


async def append_audio(conn: VoiceLiveConnection, pcm: bytes, chunk_ms: int = 100) -> None:
    """Stream like a microphone would: one append per chunk."""
    size = RATE * chunk_ms // 1000 * 2
    for start in range(0, len(pcm), size):
        await conn.input_audio_buffer.append(audio=b64(pcm[start : start + size]))


def assert_typed(payload: dict[str, Any]) -> ServerEvent:
    """The SDK turns this wire dict into its specific class, nested parts included."""
    event = ServerEvent._deserialize(payload, [])
    name = payload.get("type")
    assert type(event) is not ServerEvent, f"{name} deserializes to the generic ServerEvent"
    assert payload.get("event_id"), f"{name} has no event_id"
    if (
        name.endswith((".delta", ".done"))
        and name.startswith("response.")
        and name != ("response.done")
    ):
        if "output_item" in name:
            wanted: tuple[str, ...] = ("response_id", "output_index")
        elif "function_call_arguments" in name:
            wanted = ("response_id", "item_id", "output_index", "call_id")
        else:
            wanted = LOCATED
        missing = [key for key in wanted if key not in payload]
        assert not missing, f"{name} lacks {missing}"
    items = [getattr(event, "item", None)]
    response = getattr(event, "response", None)
    if response is not None:
        items += list(response.output or [])
        details = response.status_details
        assert details is None or type(details) is not ResponseStatusDetails
    parts = [getattr(event, "part", None)]
    for item in items:
        if item is None:
            continue
        assert type(item) is not ResponseItem, f"{name}: untyped item {item}"
        parts += list(getattr(item, "content", None) or [])
    for part in parts:
        assert part is None or type(part) is not ContentPart, f"{name}: untyped part {part}"
    if name == "error":
        assert isinstance(event.error, ServerEventErrorDetails)
        assert event.error.type and event.error.message
    return event


class RawClient:
    """A bare aiohttp WebSocket, for what the SDK would never send."""

    def __init__(self, http: ClientSession, ws: ClientWebSocketResponse) -> None:
        self.http = http
        self.ws = ws

    async def send(self, event: dict[str, Any] | str) -> None:
        await self.ws.send_str(event if isinstance(event, str) else json.dumps(event))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        message = await self.ws.receive(timeout=timeout)
        assert message.type is WSMsgType.TEXT, f"expected a text frame, got {message.type}"
        event: dict[str, Any] = json.loads(message.data)
        return event

    async def until(self, stop: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        events = []
        while True:
            event = await self.recv(timeout)
            events.append(event)
            if event["type"] == stop:
                return events


@asynccontextmanager
async def raw(
    emu: Emulator, *, api_version: str = "2026-07-15", **ws_kwargs: Any
) -> AsyncIterator[RawClient]:
    url = emu.endpoint.replace("http", "ws", 1) + "/voice-live/realtime"
    async with ClientSession() as http:
        ws = await http.ws_connect(
            url,
            params={"api-version": api_version},
            headers={"api-key": emu.api_key},
            **ws_kwargs,
        )
        try:
            yield RawClient(http, ws)
        finally:
            await ws.close()
