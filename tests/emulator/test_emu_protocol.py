"""What a misbehaving client gets: bad frames, oversized frames, bad credentials."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from azure.ai.voicelive.aio import ConnectionError as VoiceLiveConnectionError
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AccessToken, AzureKeyCredential
from emulator_helpers import assert_typed, raw, sdk, until

from voicelive_proactive.emulator import Emulator


class StaticToken:
    """The smallest async token credential the SDK accepts."""

    def __init__(self, token: str) -> None:
        self.token = token

    async def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(self.token, 2_000_000_000)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> StaticToken:
        return self

    async def __aexit__(self, *args: object) -> None:
        pass


async def test_invalid_json_is_an_error_and_the_connection_stays_open(emu: Emulator) -> None:
    async with raw(emu) as client:
        assert (await client.recv())["type"] == "session.created"
        await client.send("{not json")
        error = await client.recv()
        await client.send(["a", "list"].__repr__())
        second = await client.recv()
        await client.send({"type": "session.update", "session": {"instructions": "still here"}})
        updated = await client.recv()
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["code"] == "invalid_json"
    assert second["error"]["code"] == "invalid_json"
    assert updated["type"] == "session.updated"
    assert updated["session"]["instructions"] == "still here"


@pytest.mark.parametrize(
    "frame",
    [
        "[" * 50_000 + "]" * 50_000,
        '{"type":"session.update","session":' + '{"a":' * 5_000 + "1" + "}" * 5_001,
        '{"type":"session.update","session":{"x":' + "[" * 500 + "]" * 500 + "}}",
    ],
    ids=["brackets", "deep-objects", "deep-but-parseable"],
)
async def test_deeply_nested_json_is_invalid_json_and_the_connection_stays_open(
    emu: Emulator, frame: str
) -> None:
    async with raw(emu) as client:
        await client.recv()
        await client.send(frame)
        error = await client.recv()
        await client.send({"type": "session.update", "session": {"instructions": "alive"}})
        updated = await client.recv()
    assert error["type"] == "error"
    assert error["error"]["code"] == "invalid_json"
    assert updated["type"] == "session.updated"
    assert updated["session"]["instructions"] == "alive"
    assert "x" not in updated["session"] and "a" not in updated["session"]
    assert not emu.connections[0].received[-1]["session"].get("x")


async def test_unknown_event_type_is_an_error_naming_the_event(emu: Emulator) -> None:
    async with raw(emu) as client:
        await client.recv()
        await client.send({"type": "session.explode", "event_id": "evt_boom"})
        error = await client.recv()
        await client.send({"event_id": "evt_typeless"})
        typeless = await client.recv()
        await client.send({"type": "response.create"})
        created = await client.until("response.done")
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["param"] == "type"
    assert error["error"]["event_id"] == "evt_boom"
    assert typeless["error"]["event_id"] == "evt_typeless"
    assert created[-1]["response"]["status"] == "completed"


async def test_binary_frames_are_errors(emu: Emulator) -> None:
    async with raw(emu) as client:
        await client.recv()
        await client.ws.send_bytes(b"\x00\x01")
        error = await client.recv()
    assert error["type"] == "error"
    assert_typed(error)


async def test_oversized_frames_close_the_socket_with_1009() -> None:
    async with Emulator(pace=0, max_frame_bytes=64 * 1024) as emu, raw(emu) as client:
        await client.recv()
        await client.send({"type": "input_audio_buffer.append", "audio": "A" * 100_000})
        message = await client.ws.receive(timeout=5)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert client.ws.close_code == 1009
        await emu.wait_for(lambda: emu.connections[0].closed)


async def test_frames_up_to_the_limit_are_fine() -> None:
    async with Emulator(pace=0, max_frame_bytes=64 * 1024) as emu, sdk(emu) as conn:
        await conn.input_audio_buffer.append(audio="A" * 60_000)
        await conn.input_audio_buffer.clear()
        await until(conn, "input_audio_buffer.cleared")


async def test_wrong_key_is_refused_before_the_upgrade(emu: Emulator) -> None:
    with pytest.raises(VoiceLiveConnectionError, match="401"):
        async with connect(
            endpoint=emu.endpoint, credential=AzureKeyCredential("wrong"), model="gpt-realtime"
        ):
            pass
    assert emu.connections == ()


async def test_missing_credentials_are_refused(emu: Emulator) -> None:
    url = emu.endpoint + "/voice-live/realtime"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 401


async def test_a_known_bearer_token_is_accepted_and_an_unknown_one_is_not() -> None:
    async with Emulator(pace=0, bearer_tokens=["tok-123"]) as emu:
        async with connect(
            endpoint=emu.endpoint, credential=StaticToken("tok-123"), model="gpt-realtime"
        ) as conn:
            assert (await conn.recv()).type == "session.created"
        with pytest.raises(VoiceLiveConnectionError):
            async with connect(endpoint=emu.endpoint, credential=StaticToken("tok-999")):
                pass


async def _upgrade_status(emu: Emulator, header: bytes) -> bytes:
    """The status line a hand-written upgrade request gets (any header bytes allowed)."""
    port = int(emu.endpoint.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"GET /voice-live/realtime?api-version=2026-07-15 HTTP/1.1\r\nHost: localhost\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + header + b"\r\n\r\n"
        )
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


@pytest.mark.parametrize(
    "header",
    [
        b"api-key: \xff\xfe\x80not-utf8",
        b"Authorization: Bearer \xc3\x28\xa0\xa1",
        b"api-key: \xed\xa0\x80",  # an encoded surrogate
    ],
    ids=["api-key", "bearer", "surrogate"],
)
async def test_credentials_that_are_not_utf8_are_401_not_500(header: bytes) -> None:
    async with Emulator(pace=0, bearer_tokens=["tok-123"]) as emu:
        status = await _upgrade_status(emu, header)
        good = await _upgrade_status(emu, b"api-key: " + emu.api_key.encode())
    assert status.startswith(b"HTTP/1.1 401"), status
    assert good.startswith(b"HTTP/1.1 101"), good


async def test_a_plain_http_request_is_told_to_upgrade(emu: Emulator) -> None:
    url = emu.endpoint + "/voice-live/realtime"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"api-key": emu.api_key}) as response,
    ):
        assert response.status == 426


async def test_an_unparseable_api_version_is_a_bad_request(emu: Emulator) -> None:
    with pytest.raises(VoiceLiveConnectionError, match="400"):
        async with sdk(emu, api_version="latest"):
            pass


async def test_output_audio_buffer_clear_is_an_error_without_an_avatar(emu: Emulator) -> None:
    async with sdk(emu) as conn:
        await conn.output_audio_buffer.clear(event_id="evt_clear")
        error = (await until(conn, "error"))[-1]
    assert error.error.event_id == "evt_clear"
